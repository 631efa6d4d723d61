/* Unit tests for the record stream: escaping round trips, header checks, pass-through plans. */
#include <stdlib.h>

#include "tsv.h"
#include "unit.h"
#include "util.h"

static char *
escape(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	tsv_write_field(fp, s, strlen(s));
	fclose(fp);
	return out;
}

static void
test_escape_table(void)
{
	static const struct { const char *raw, *esc; } cases[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "a\tb", "a\\tb" },
		{ "line\nbreak", "line\\nbreak" },
		{ "cr\rhere", "cr\\rhere" },
		{ "back\\slash", "back\\\\slash" },
		{ "\\t is not a tab", "\\\\t is not a tab" },
		{ "\t\n\r\\", "\\t\\n\\r\\\\" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *e = escape(cases[i].raw);
		CHECK_STR(e, cases[i].esc);
		ssize_t n = tsv_unescape(e, strlen(e));
		CHECK_INT(n, (long long)strlen(cases[i].raw));
		CHECK_STR(e, cases[i].raw);
		free(e);
	}
}

static void
test_bad_escapes(void)
{
	static const char *const bad[] = { "ends\\", "\\x41", "a\\ b" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *s = rb_xstrdup(bad[i]);
		CHECK_INT(tsv_unescape(s, strlen(s)), -1);
		free(s);
	}
}

static FILE *
stream(const char *text)
{
	return fmemopen((void *)text, strlen(text), "r");
}

static void
test_reader(void)
{
	struct tsv_reader r;
	FILE *fp = stream("a\tb\tc\n1\t2\t3\nbad\trow\nx\\ty\t\t\\\\\nlast\tno\tnewline");

	CHECK_INT(tsv_open(&r, fp, "test"), 1);
	CHECK_INT(r.ncols, 3);
	CHECK_INT(tsv_column(&r, "b"), 1);
	CHECK_INT(tsv_column(&r, "missing"), -1);
	CHECK_INT(tsv_read(&r), 1);
	CHECK_STR(r.field[2], "3");
	CHECK_INT(tsv_read(&r), 1); /* the 2-field record is skipped and counted */
	CHECK_INT(r.nbad, 1);
	CHECK_STR(r.field[0], "x\ty");
	CHECK_STR(r.field[1], "");
	CHECK_STR(r.field[2], "\\");
	CHECK_INT(r.lineno, 4);
	CHECK_INT(tsv_read(&r), 1);
	CHECK_STR(r.field[2], "newline");
	CHECK_INT(tsv_read(&r), 0);
	CHECK_INT(r.nrecords, 3);
	CHECK_STR(tsv_get(&r, -1), "");
	tsv_close(&r);
	fclose(fp);
}

static void
test_headers(void)
{
	static const struct { const char *text; int want; } cases[] = {
		{ "", 0 },
		{ "ok_name\tother\n", 1 },
		{ "Bad Name\n", -1 },
		{ "dup\tdup\n", -1 },
		{ "a\t\tb\n", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tsv_reader r;
		FILE *fp = stream(cases[i].text);
		CHECK_INT(tsv_open(&r, fp, "hdr"), cases[i].want);
		tsv_close(&r);
		fclose(fp);
	}
}

static void
test_plan(void)
{
	static const char *const owned[] = { "reason", "rule" };
	struct tsv_reader r;
	struct tsv_plan p;
	char *out = NULL;
	size_t len = 0;
	FILE *fp = stream("recipient\treason\tx\na@b\told\tkeep\\tme\n");
	FILE *o = open_memstream(&out, &len);
	const char *vals[] = { "userunknown", "r1" };

	CHECK_INT(tsv_open(&r, fp, "plan"), 1);
	tsv_plan_init(&p, &r, owned, 2);
	tsv_plan_write_header(&p, &r, o);
	CHECK_INT(tsv_read(&r), 1);
	tsv_plan_write(&p, &r, vals, NULL, o);
	fclose(o);
	CHECK_STR(out, "recipient\treason\tx\trule\na@b\tuserunknown\tkeep\\tme\tr1\n");
	free(out);
	tsv_plan_free(&p);
	tsv_close(&r);
	fclose(fp);
}

int
main(int argc, char **argv)
{
	(void)argc;
	rb_init(argv[0]);
	test_escape_table();
	test_bad_escapes();
	test_reader();
	test_headers();
	test_plan();
	return unit_done("tsv");
}
