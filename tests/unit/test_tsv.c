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

/* The obvious escaper, byte by byte, to hold the fast one to. */
static void
naive_escape(struct rb_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		switch (s[i]) {
		case '\\': rb_buf_adds(b, "\\\\"); break;
		case '\t': rb_buf_adds(b, "\\t"); break;
		case '\n': rb_buf_adds(b, "\\n"); break;
		case '\r': rb_buf_adds(b, "\\r"); break;
		default: rb_buf_addc(b, s[i]); break;
		}
}

/* The writer looks at sixteen or eight bytes at a time: every byte value, at every position
 * of strings long enough to fill a few of them and a tail, is escaped as byte by byte. */
static void
test_escape_every_byte(void)
{
	char s[40];
	int bad = 0;

	for (size_t len = 1; len <= sizeof s; len++)
		for (size_t pos = 0; pos < len; pos++)
			for (int c = 0; c < 256; c++) {
				struct rb_buf want = { 0 };
				char *out = NULL;
				size_t outlen = 0;
				FILE *fp = open_memstream(&out, &outlen);

				memset(s, 'a' + (int)(len % 26), sizeof s);
				s[pos] = (char)c;
				if (pos + 3 < len)
					s[pos + 3] = '\r';
				naive_escape(&want, s, len);
				tsv_write_field(fp, s, len);
				fclose(fp);
				if (outlen != want.len || memcmp(out, want.data, outlen) != 0)
					bad++;
				free(out);
				rb_buf_free(&want);
			}
	CHECK_INT(bad, 0);
}

/* Both versions of the writer's scan find the first byte to escape, as a byte by byte look
 * does: every byte value at every position, with a second special byte after it. */
static void
test_scan_special(void)
{
	char a[48 + TSV_SCAN_PAD], b[48 + TSV_SCAN_PAD];
	int bad = 0;

	for (size_t len = 0; len <= 48; len++)
		for (size_t pos = 0; pos <= len; pos++)
			for (int c = 0; c < 256; c++) {
				size_t want = len;

				memset(a, 'a', sizeof a);
				if (pos < len)
					a[pos] = (char)c;
				if (pos + 5 < len)
					a[pos + 5] = '\\';
				for (size_t i = 0; i < len && want == len; i++)
					if (a[i] == '\\' || a[i] == '\t' || a[i] == '\n' || a[i] == '\r')
						want = i;
				memcpy(b, a, sizeof b);
				if (tsv_scan_special_portable(a, len) != want ||
				    tsv_scan_special_simd(b, len) != want)
					bad++;
				if (pos == len)
					break;
			}
	CHECK_INT(bad, 0);
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

/* A record is escaped into one buffer: escapes in passed-through and owned fields, values
 * with explicit lengths (holding a NUL), a replaced last column, a record bigger than the
 * buffer was. */
static void
test_plan_escapes(void)
{
	static const char *const owned[] = { "x", "added" };
	struct tsv_reader r;
	struct tsv_plan p;
	char *out = NULL, *big = rb_xmalloc(100001);
	size_t len = 0;
	FILE *fp = stream("recipient\tx\na\\tb\told\nc\td\n");
	FILE *o = open_memstream(&out, &len);
	const char *vals[] = { "new\nline", "nul\0in" };
	const size_t lens[] = { 8, 6 };

	memset(big, '\t', 100000);
	big[100000] = '\0';
	CHECK_INT(tsv_open(&r, fp, "plan"), 1);
	tsv_plan_init(&p, &r, owned, 2);
	CHECK_INT(tsv_read(&r), 1);
	CHECK_INT(tsv_plan_write(&p, &r, vals, lens, o), 0);
	CHECK_INT(tsv_read(&r), 1);
	vals[0] = big;
	CHECK_INT(tsv_plan_write(&p, &r, vals, NULL, o), 0);
	fclose(o);
	CHECK_INT(len, 22 + 200007);
	CHECK(memcmp(out, "a\\tb\tnew\\nline\tnul\0in\nc\t\\t\\t", 28) == 0);
	CHECK(memcmp(out + len - 7, "\\t\tnul\n", 7) == 0);
	free(out);
	free(big);
	tsv_plan_free(&p);
	tsv_close(&r);
	fclose(fp);
}

/* Passed-through fields of a record with nothing to escape are copied in runs around the
 * replaced columns; a record with an escape or a raw CR is escaped field by field. */
static void
test_plan_runs(void)
{
	static const char *const owned[] = { "b", "z" };
	static const struct { const char *in, *out; } cases[] = {
		{ "1\t2\t3\t4\n", "1\tB\t3\t4\tZ\n" },
		{ "\t\t\t\n", "\tB\t\t\tZ\n" },
		{ "x\\\\y\t2\tc\rr\t\\t\n", "x\\\\y\tB\tc\\rr\t\\t\tZ\n" },
		{ "cr\rin\t2\t3\tlast\r\n", "cr\\rin\tB\t3\tlast\tZ\n" },
	};
	const char *vals[] = { "B", "Z" };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tsv_reader r;
		struct tsv_plan p;
		struct rb_buf text = { 0 };
		char *out = NULL;
		size_t len = 0;
		FILE *o = open_memstream(&out, &len), *fp;

		rb_buf_adds(&text, "a\tb\tc\td\n");
		rb_buf_adds(&text, cases[i].in);
		fp = stream(text.data);
		CHECK_INT(tsv_open(&r, fp, "runs"), 1);
		tsv_plan_init(&p, &r, owned, 2);
		CHECK_INT(tsv_read(&r), 1);
		CHECK_INT(tsv_plan_write(&p, &r, vals, NULL, o), 0);
		fclose(o);
		CHECK_STR(out, cases[i].out);
		free(out);
		tsv_plan_free(&p);
		tsv_close(&r);
		fclose(fp);
		rb_buf_free(&text);
	}
}

/* A later input must have the first input's columns, in the same order. */
static void
test_same_header(void)
{
	static const struct { const char *text; bool want; } cases[] = {
		{ "a\tb\tc\n", true },
		{ "a\tb\n", false },
		{ "a\tb\tc\td\n", false },
		{ "a\tc\tb\n", false },
		{ "a\tb\tcc\n", false },
	};
	char *first[] = { "a", "b", "c" };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tsv_reader r;
		FILE *fp = fmemopen((void *)cases[i].text, strlen(cases[i].text), "r");

		CHECK_INT(tsv_open(&r, fp, "same"), 1);
		CHECK(tsv_same_header(&r, first, 3) == cases[i].want);
		tsv_close(&r);
		fclose(fp);
	}
}

int
main(int argc, char **argv)
{
	(void)argc;
	rb_init(argv[0]);
	test_escape_table();
	test_escape_every_byte();
	test_scan_special();
	test_bad_escapes();
	test_reader();
	test_refill_boundaries();
	test_long_line();
	test_headers();
	test_plan();
	test_plan_escapes();
	test_plan_runs();
	test_same_header();
	return unit_done("tsv");
}
