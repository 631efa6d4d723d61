/* Unit tests for the record stream: escaping round trips, header checks, pass-through plans. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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

/* Every record of a stream read chunk bytes at a time, as "lineno:f1|f2|...;" and the
 * counts at the end. */
static char *
read_all(const char *text, size_t len, size_t chunk)
{
	struct tsv_reader r;
	struct rb_buf out = { 0 };
	FILE *fp = fmemopen((void *)text, len, "r");
	int rc = tsv_open_size(&r, fp, "chunked", chunk);

	rb_buf_printf(&out, "open %d;", rc);
	while (rc > 0 && (rc = tsv_read(&r)) > 0) {
		rb_buf_printf(&out, "%llu:", r.lineno);
		for (size_t i = 0; i < r.ncols; i++) {
			CHECK_INT(strlen(r.field[i]), r.flen[i]);
			rb_buf_printf(&out, "%s%s", i ? "|" : "", r.field[i]);
		}
		rb_buf_adds(&out, ";");
	}
	rb_buf_printf(&out, "end %d records %llu bad %llu", rc, r.nrecords, r.nbad);
	tsv_close(&r);
	fclose(fp);
	return out.data;
}

/* Records are split in place in the read buffer and copied only when they span a refill:
 * every chunk size, down to one byte, must give the same records, wherever the refills
 * fall (inside a field, on a TAB, between a backslash and its letter, on the LF, right
 * at the end of a record, inside a CR LF). */
static void
test_refill_boundaries(void)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "a\tb\n1\t2\n", "open 1;2:1|2;end 0 records 1 bad 0" },
		{ "a\tb\n1\t2", "open 1;2:1|2;end 0 records 1 bad 0" },
		{ "a\tb\nlonger field\tx\\ty\\\\z\\n\n\t\nlast\tno newline",
		  "open 1;2:longer field|x\ty\\z\n;3:|;4:last|no newline;end 0 records 3 bad 0" },
		{ "a\tb\n\\\\\t\\r\nbad\\q\tx\none field\nok\tok\n",
		  "open 1;2:\\|\r;5:ok|ok;end 0 records 2 bad 2" },
		{ "a\tb\r\n1\t2\r\n3\t4\r\n", "open 1;2:1|2;3:3|4;end 0 records 2 bad 0" },
		{ "a\tb\n1\t2\n\n", "open 1;2:1|2;end 0 records 1 bad 1" },
		{ "a\tb\ndangling\t\\", "open 1;end 0 records 0 bad 1" },
		{ "only_header", "open 1;end 0 records 0 bad 0" },
		{ "", "open 0;end 0 records 0 bad 0" },
	};
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	/* The bad records are reported at every size: keep the reports out of the test log. */
	dup2(null, STDERR_FILENO);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].text);

		for (size_t chunk = 1; chunk <= len + 2; chunk++) {
			char *got = read_all(cases[i].text, len, chunk);

			CHECK_STR(got, cases[i].want);
			free(got);
		}
		char *got = read_all(cases[i].text, len, 64u << 10);
		CHECK_STR(got, cases[i].want);
		free(got);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
}

/* A record over TSV_MAX_LINE is skipped without being held whole, and the reader goes on
 * with the next one, whether or not the long line ends the stream. */
static void
test_long_line(void)
{
	size_t big = TSV_MAX_LINE + 100, len = 0;
	char *text = rb_xmalloc(big + 64);
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	dup2(null, STDERR_FILENO);
	len += (size_t)sprintf(text, "a\tb\n1\t2\n");
	memset(text + len, 'x', big);
	len += big;
	len += (size_t)sprintf(text + len, "\n3\t4\n");
	for (size_t chunk = 4093; chunk <= 4099; chunk++) {
		char *got = read_all(text, len, chunk);
		CHECK_STR(got, "open 1;2:1|2;4:3|4;end 0 records 2 bad 1");
		free(got);
	}
	/* Exactly TSV_MAX_LINE bytes is allowed. */
	len = (size_t)sprintf(text, "a\n");
	memset(text + len, 'y', TSV_MAX_LINE);
	len += TSV_MAX_LINE;
	{
		char *got = read_all(text, len, 65536);
		CHECK_INT(strlen(got), TSV_MAX_LINE + strlen("open 1;2:;end 0 records 1 bad 0"));
		free(got);
	}
	/* Over it, at the end of the stream without a LF. */
	len = (size_t)sprintf(text, "a\n");
	memset(text + len, 'y', TSV_MAX_LINE + 1);
	len += TSV_MAX_LINE + 1;
	{
		char *got = read_all(text, len, 65536);
		CHECK_STR(got, "open 1;end 0 records 0 bad 1");
		free(got);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	free(text);
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
	test_refill_boundaries();
	test_long_line();
	test_headers();
	test_plan();
	return unit_done("tsv");
}
