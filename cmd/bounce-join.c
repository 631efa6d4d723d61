/* bounce-join: attach the recipient list's columns (token, view URL, name, ...) to each
 * bounce record, matching the record's address against the list's e-mail column. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "tsv.h"
#include "util.h"

static const char *csvflag;
static const char *fieldflag = "recipient";
static const char *keyflag;
static int delimflag;
static bool lenientflag;
static bool statsflag;
static bool vflag;

enum { OPT_LENIENT = 256, OPT_STATS, OPT_VERSION };

static const struct option longopts[] = {
	{ "csv", required_argument, NULL, 'c' },
	{ "delimiter", required_argument, NULL, 'd' },
	{ "field", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "key", required_argument, NULL, 'k' },
	{ "lenient", no_argument, NULL, OPT_LENIENT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "unmatched", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

struct counts {
	unsigned long long in, out, matched, unmatched, bad;
};

/* The state of the join across inputs: the list, the output columns, the first header. */
struct join {
	const struct csvin_table *csv;
	const char **owned;        /* the list's columns, then "matched" */
	size_t nowned;
	const char **vals;
	size_t *lens;
	char **header;             /* the first input's columns: later inputs must match */
	size_t nheader;
	struct counts n;
};

static void usage(FILE *fp);

/* -d takes one character; "\t" and "tab" spell a TAB, which is awkward to type. */
static int
parse_delim(const char *s)
{
	if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0)
		return '\t';
	if (strlen(s) != 1 || *s == '"' || *s == '\n' || *s == '\r')
		return -1;
	return (unsigned char)*s;
}

static int
load_csv(struct csvin_table *t)
{
	struct csvin_opts o = { .delim = delimflag, .key = keyflag, .lenient = lenientflag };
	FILE *fp;
	int status;

	fp = strcmp(csvflag, "-") == 0 ? stdin : fopen(csvflag, "r");
	if (fp == NULL) {
		rb_warn_at(csvflag, 0, "cannot open:");
		return RB_EXIT_FATAL;
	}
	status = csvin_load(t, fp, rb_display_name(csvflag), &o);
	if (fp != stdin)
		fclose(fp);
	if (status == RB_EXIT_BADINPUT) {
		if (lenientflag)
			rb_warn_at(t->name, 0, "%llu bad row%s skipped", t->nbad, t->nbad == 1 ? "" : "s");
		else
			rb_warn_at(t->name, 0, "%llu bad row%s; nothing joined (--lenient skips them)",
				t->nbad, t->nbad == 1 ? "" : "s");
	}
	return status;
}

/* Values for an unmatched record: empty, except where a column of the list replaces one
 * the record already has, which keeps its value (there is nothing to replace it with). */
static void
set_unmatched(struct join *j, const struct tsv_plan *p, const struct tsv_reader *r)
{
	for (size_t k = 0; k + 1 < j->nowned; k++) {
		j->vals[k] = p->slot[k] >= 0 ? r->field[p->slot[k]] : "";
		j->lens[k] = p->slot[k] >= 0 ? r->flen[p->slot[k]] : 0;
	}
	j->vals[j->nowned - 1] = "0";
	j->lens[j->nowned - 1] = 1;
}

/* Values for a record matched with a row; the record's own join column is never replaced. */
static void
set_matched(struct join *j, const struct tsv_plan *p, const struct tsv_reader *r, ssize_t key,
	uint32_t row)
{
	csvin_row(j->csv, row, j->vals, j->lens);
	for (size_t k = 0; k + 1 < j->nowned; k++)
		if (key >= 0 && p->slot[k] == key) {
			j->vals[k] = r->field[key];
			j->lens[k] = r->flen[key];
		}
	j->vals[j->nowned - 1] = "1";
	j->lens[j->nowned - 1] = 1;
}

/* A list this large (slots) no longer fits the caches, and each lookup would wait on
 * memory twice, for the slot and for the row. */
#define JOIN_AHEAD_SLOTS (1u << 16)
/* How many records ahead the slots are asked for; the rows are asked for half as far. */
#define JOIN_AHEAD 8

/* The lines after the current record whose slots were asked for, oldest first, in a ring. */
struct ahead {
	unsigned long long lineno; /* the record current when last called */
	unsigned long long cursor; /* stream offset of the first line not looked at yet */
	size_t first, n;
	uint32_t hash[JOIN_AHEAD];
	bool has[JOIN_AHEAD];
};

/* The key field of a raw record line (escapes left as they are: it is only a hint). */
static bool
raw_field(const char *line, const char *end, size_t col, const char **f, size_t *len)
{
	const char *tab;

	for (size_t i = 0; i < col; i++) {
		if ((tab = memchr(line, '\t', (size_t)(end - line))) == NULL)
			return false;
		line = tab + 1;
	}
	tab = memchr(line, '\t', (size_t)(end - line));
	*f = line;
	*len = (size_t)((tab ? tab : end) - line);
	return true;
}

/* Called once a record: look at one more line ahead and ask for its slot, and ask for the
 * row of the line half as far, whose slot was asked for JOIN_AHEAD / 2 records ago.  When
 * lines were skipped, it starts again after the current record. */
static void
prefetch_ahead(const struct join *j, struct ahead *a, const struct tsv_reader *r, size_t key)
{
	size_t len;
	unsigned long long off;
	const char *p = tsv_ahead(r, &len, &off), *end = p + len, *q;

	if (r->lineno != a->lineno + 1 || a->cursor < off || a->cursor > off + len) {
		a->cursor = off;
		a->first = a->n = 0;
	} else if (a->n > 0) { /* the oldest line is the current record */
		a->first = (a->first + 1) % JOIN_AHEAD;
		a->n--;
	}
	a->lineno = r->lineno;
	for (q = p + (a->cursor - off); a->n < JOIN_AHEAD; a->n++) {
		const char *nl = memchr(q, '\n', (size_t)(end - q)), *f;
		size_t k = (a->first + a->n) % JOIN_AHEAD, flen;

		if (nl == NULL)
			break;
		a->has[k] = raw_field(q, nl, key, &f, &flen) && csvin_hint(j->csv, f, flen, &a->hash[k]);
		q = nl + 1;
	}
	a->cursor = off + (unsigned long long)(q - p);
	if (a->n > JOIN_AHEAD / 2) {
		size_t k = (a->first + JOIN_AHEAD / 2) % JOIN_AHEAD;

		if (a->has[k])
			csvin_hint_row(j->csv, a->hash[k]);
	}
}

static int
write_record(struct join *j, const struct tsv_plan *p, const struct tsv_reader *r)
{
	if (tsv_plan_write(p, r, j->vals, j->lens, stdout) < 0) {
		rb_warn("write error on stdout:");
		return -1;
	}
	j->n.out++;
	return 0;
}

/* Join one record stream.  Returns the exit status it deserves. */
static int
join_stream(struct join *j, FILE *fp, const char *name)
{
	struct tsv_reader r;
	struct tsv_plan p;
	struct ahead ahead = { 0 };
	ssize_t key;
	int rc, status = RB_EXIT_OK;

	rc = tsv_open(&r, fp, name);
	if (rc <= 0) {
		tsv_close(&r);
		return rc < 0 ? RB_EXIT_BADINPUT : RB_EXIT_OK;
	}
	key = tsv_column(&r, fieldflag);
	if (key < 0) {
		rb_warn_at(name, 1, "no column \"%s\" to join on", fieldflag);
		tsv_close(&r);
		return RB_EXIT_FATAL;
	}
	tsv_plan_init(&p, &r, j->owned, j->nowned);
	if (j->header == NULL) {
		j->nheader = r.ncols;
		j->header = rb_xcalloc(r.ncols, sizeof *j->header);
		for (size_t i = 0; i < r.ncols; i++)
			j->header[i] = rb_xstrdup(r.cols[i]);
		if (tsv_plan_write_header(&p, &r, stdout) < 0) {
			rb_warn("write error on stdout:");
			status = RB_EXIT_FATAL;
		}
	} else if (!tsv_same_header(&r, j->header, j->nheader)) {
		rb_warn_at(name, 1, "columns differ from the first input's; skipped");
		status = RB_EXIT_BADINPUT;
	}
	while (status == RB_EXIT_OK && (rc = tsv_read(&r)) > 0) {
		uint32_t row;

		if (j->csv->nslots >= JOIN_AHEAD_SLOTS)
			prefetch_ahead(j, &ahead, &r, (size_t)key);
		row = csvin_find(j->csv, r.field[key], r.flen[key]);

		if (row == CSVIN_NONE) {
			j->n.unmatched++;
			set_unmatched(j, &p, &r);
			if (write_record(j, &p, &r) < 0)
				status = RB_EXIT_FATAL;
			continue;
		}
		j->n.matched++;
		for (; row != CSVIN_NONE && !vflag && status == RB_EXIT_OK; row = csvin_next(j->csv, row)) {
			set_matched(j, &p, &r, key, row);
			if (write_record(j, &p, &r) < 0)
				status = RB_EXIT_FATAL;
		}
	}
	if (rc < 0 && status == RB_EXIT_OK)
		status = RB_EXIT_BADINPUT;
	if (r.nbad > 0 && status == RB_EXIT_OK)
		status = RB_EXIT_BADINPUT;
	j->n.in += r.nrecords + r.nbad;
	j->n.bad += r.nbad;
	tsv_plan_free(&p);
	tsv_close(&r);
	return status;
}

/* The join's output columns: the list's, then "matched"; the values are set per record. */
static void
join_init(struct join *j, const struct csvin_table *csv)
{
	memset(j, 0, sizeof *j);
	j->csv = csv;
	j->nowned = csv->ncols + 1;
	j->owned = rb_xcalloc(j->nowned, sizeof *j->owned);
	for (size_t i = 0; i < csv->ncols; i++)
		j->owned[i] = csv->cols[i];
	j->owned[csv->ncols] = "matched";
	j->vals = rb_xcalloc(j->nowned, sizeof *j->vals);
	j->lens = rb_xcalloc(j->nowned, sizeof *j->lens);
}

static void
join_free(struct join *j)
{
	for (size_t i = 0; i < j->nheader; i++)
		free(j->header[i]);
	free(j->header);
	free(j->owned);
	free(j->vals);
	free(j->lens);
}

/* Whether the record inputs include stdin: none given, or "-" among them. */
static bool
reads_stdin(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			return true;
	return argc == 0;
}

/* --stats, in the order of bounce-join(1): the list, then the records; records in =
 * matched + unmatched + malformed, as in the other filters, and a record matching n rows
 * comes out n times (once under -v). */
static void
print_stats(const struct csvin_table *t, const struct counts *n)
{
	rb_stat("csv rows loaded", t->nrows);
	rb_stat("csv rows skipped", t->nbad);
	rb_stat("csv rows without address", t->nnokey);
	rb_stat("records in", n->in);
	rb_stat("matched", n->matched);
	rb_stat("unmatched", n->unmatched);
	rb_stat("records out", n->out);
	rb_stat("malformed", n->bad);
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct csvin_table csv = { 0 }; /* freed even when the list could not be opened */
	struct join j;
	int c, status;

	rb_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:d:f:hk:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': csvflag = optarg; break;
		case 'd':
			if ((delimflag = parse_delim(optarg)) < 0) {
				rb_warn("-d wants one character other than a quote or a line end, not \"%s\"", optarg);
				usage(stderr);
				return RB_EXIT_FATAL;
			}
			break;
		case 'f': fieldflag = optarg; break;
		case 'h': usage(stdout); return rb_finish(RB_EXIT_OK);
		case 'k': keyflag = optarg; break;
		case 'v': vflag = true; break;
		case OPT_LENIENT: lenientflag = true; break;
		case OPT_STATS: statsflag = true; break;
		case OPT_VERSION: rb_print_version(); return rb_finish(RB_EXIT_OK);
		default: usage(stderr); return RB_EXIT_FATAL;
		}
	}
	argc -= optind;
	argv += optind;
	if (csvflag == NULL) {
		rb_warn("the recipient list is missing: -c FILE");
		usage(stderr);
		return RB_EXIT_FATAL;
	}
	if (strcmp(csvflag, "-") == 0 && reads_stdin(argc, argv)) {
		rb_warn("-c - reads the list from stdin, so the records must come from files");
		usage(stderr);
		return RB_EXIT_FATAL;
	}

	status = load_csv(&csv);
	if (status == RB_EXIT_FATAL) {
		csvin_free(&csv);
		return status;
	}
	if (status == RB_EXIT_BADINPUT && !lenientflag) {
		/* A refused list joins nothing: the run could not be done. */
		status = rb_finish(RB_EXIT_FATAL);
		if (statsflag)
			print_stats(&csv, &(struct counts){ 0 });
		csvin_free(&csv);
		return status;
	}

	/* Several writes per field: a larger buffer, and no lock taken on each (one thread). */
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	join_init(&j, &csv);

	for (int i = 0; i < (argc ? argc : 1) && status != RB_EXIT_FATAL; i++) {
		const char *path = argc ? argv[i] : "-";
		FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");

		if (fp == NULL) {
			rb_warn_at(path, 0, "cannot open:");
			status = rb_worse(status, RB_EXIT_BADINPUT);
			continue;
		}
		status = rb_worse(status, join_stream(&j, fp, rb_display_name(path)));
		if (fp != stdin)
			fclose(fp);
	}

	status = rb_finish(status);
	if (statsflag)
		print_stats(&csv, &j.n);
	join_free(&j);
	csvin_free(&csv);
	return status;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s -c FILE [-v] [-d CHAR] [-f COLUMN] [-k NAME] [--lenient] [--stats] [FILE ...]\n"
		"Append the recipient list's columns and \"matched\" to each record (TSV, stdin or FILEs).\n"
		"  -c, --csv FILE        the recipient list (CSV; \",\" \";\" or TAB, detected)\n"
		"  -d, --delimiter CHAR  the list's delimiter (\"\\t\" or \"tab\" for TAB)\n"
		"  -f, --field COLUMN    the record column to join on (default recipient)\n"
		"  -k, --key NAME        the list's e-mail column (default: found by its name)\n"
		"  -v, --unmatched       only the records the list has no row for\n"
		"      --lenient         skip bad rows of the list instead of refusing it\n"
		"      --stats           print the counts of the list and the records on stderr\n"
		"  -h, --help            this help\n"
		"      --version         print the version\n",
		rb_progname());
}
