/* Fuzz the record stream reader: any bytes as a TSV stream through tsv_open and tsv_read,
 * then a round trip through the writer.  What the writer produces must read back to the
 * same records and write out byte for byte the same again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsv.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read every record of in and write header and records to a new memory stream.
 * Returns the number of records, or -1 when the stream had no usable header. */
static long long
copy_stream(FILE *in, const char *name, char **out, size_t *outlen)
{
	struct tsv_reader r;
	struct tsv_plan plan;
	static const char *const owned[] = { "reason", "source" };
	static const char *const vals[] = { "userunknown", "copy" };
	FILE *fp;
	long long n = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	rc = tsv_open(&r, in, name);
	if (rc <= 0) {
		tsv_close(&r);
		return -1;
	}
	fp = open_memstream(out, outlen);
	if (fp == NULL)
		abort();
	tsv_plan_init(&plan, &r, owned, 2);
	if (tsv_plan_write_header(&plan, &r, fp) < 0)
		abort();
	while ((rc = tsv_read(&r)) == 1) {
		/* Exercise the lookups a filter makes. */
		(void)tsv_get(&r, tsv_column(&r, "recipient"));
		(void)tsv_get(&r, (ssize_t)r.ncols);
		if (tsv_plan_write(&plan, &r, vals, NULL, fp) < 0)
			abort();
		n++;
	}
	if (rc < 0)
		abort(); /* a memory stream cannot fail to read */
	if ((unsigned long long)n != r.nrecords)
		abort();
	tsv_plan_free(&plan);
	tsv_close(&r);
	if (fclose(fp) != 0)
		abort();
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in;
	char *a, *b;
	size_t alen, blen;
	long long na, nb;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (in == NULL)
		return 0;
	na = copy_stream(in, "fuzz", &a, &alen);
	fclose(in);
	if (na >= 0) {
		/* The writer's output is well-formed: every record reads back. */
		in = fmemopen(a, alen, "r");
		if (in == NULL)
			abort();
		nb = copy_stream(in, "copy", &b, &blen);
		fclose(in);
		if (nb != na || blen != alen || memcmp(a, b, alen) != 0)
			abort();
		free(b);
	}
	free(a);
	return 0;
}
