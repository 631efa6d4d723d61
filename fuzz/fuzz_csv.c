/* Fuzz the recipient-list loader: the input is a CSV file, loaded strictly or leniently,
 * the delimiter detected or forced (the input's length picks which: each load sets up a
 * 4 MB arena, so one load per input keeps the runs fast); then every loaded address must
 * be found again by the join's lookup. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every row with an address is on the lookup chain of that address; the rows the lookup
 * cannot find are exactly the ones counted as having no address. */
static void
check_lookup(const struct csvin_table *t)
{
	const char **vals;
	size_t *lens;
	unsigned long long notfound = 0;

	if (t->ncols == 0 || t->keycol >= t->ncols)
		abort();
	vals = rb_xcalloc(t->ncols, sizeof *vals);
	lens = rb_xcalloc(t->ncols, sizeof *lens);
	for (uint32_t row = 0; row < t->nrows; row++) {
		uint32_t r;

		csvin_row(t, row, vals, lens);
		for (size_t i = 0; i < t->ncols; i++)
			if (vals[i] == NULL || strlen(vals[i]) > lens[i])
				abort();
		r = csvin_find(t, vals[t->keycol], lens[t->keycol]);
		if (r == CSVIN_NONE) {
			notfound++;
			continue;
		}
		while (r != CSVIN_NONE && r != row)
			r = csvin_next(t, r);
		if (r != row)
			abort();
	}
	if (notfound != t->nnokey)
		abort();
	/* Lookups of things that were never loaded. */
	(void)csvin_find(t, "", 0);
	(void)csvin_find(t, "  \t ", 4);
	(void)csvin_find(t, "nobody@example.invalid", 22);
	free(vals);
	free(lens);
}

static void
load(const uint8_t *data, size_t size, const struct csvin_opts *o)
{
	struct csvin_table t;
	FILE *fp = fmemopen((void *)data, size, "r");
	int rc;

	if (fp == NULL)
		return;
	memset(&t, 0, sizeof t);
	rc = csvin_load(&t, fp, "fuzz.csv", o);
	if (rc == RB_EXIT_OK || (rc == RB_EXIT_BADINPUT && o->lenient))
		check_lookup(&t);
	csvin_free(&t);
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct csvin_opts opts[] = {
		{ 0, NULL, true },
		{ 0, NULL, false },
		{ ';', "E-Mail Address", true },
		{ '\t', "token", true },
	};

	if (size == 0)
		return 0;
	load(data, size, &opts[size % (sizeof opts / sizeof opts[0])]);
	return 0;
}
