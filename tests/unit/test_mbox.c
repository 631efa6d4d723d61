/* Unit tests for the archive reader: splitting rules, quoting, line ends, gzip, Maildir and
 * directories, offsets and sources, the filter, the size limit, and a split/join round trip.
 * Inputs are the fixtures in tests/fixtures/mbox/ or files written to a temporary directory. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mbox.h"
#include "unit.h"
#include "util.h"

#define MAXMSG 8

static char tmpdir[] = "/tmp/test_mbox.XXXXXX";
static const char *fixtures = "tests/fixtures/mbox";

/* What one read of an input returned, copied out of the reader. */
struct got {
	int n;
	int rc;
	char *data[MAXMSG];
	char *source[MAXMSG];
	unsigned long long offset[MAXMSG];
	size_t hdr_len[MAXMSG];
	bool truncated[MAXMSG], skipped[MAXMSG];
	struct mbox_stats stats;
};

struct opts {
	unsigned long long start;
	size_t window;
	size_t max_msg;
	mbox_filter_fn filter;
	void *arg;
};

static void
got_free(struct got *g)
{
	for (int i = 0; i < g->n && i < MAXMSG; i++) {
		free(g->data[i]);
		free(g->source[i]);
	}
	memset(g, 0, sizeof *g);
}

static int
read_input(const char *path, const struct opts *o, struct got *g)
{
	struct mbox_reader *r = o && o->start ? mbox_open_at(path, o->start) : mbox_open(path);
	struct mbox_msg m;

	memset(g, 0, sizeof *g);
	if (r == NULL)
		return g->rc = -2;
	if (o && o->window)
		mbox_set_window(r, o->window);
	if (o && o->max_msg)
		mbox_set_max_msg(r, o->max_msg);
	if (o && o->filter)
		mbox_set_filter(r, o->filter, o->arg);
	while ((g->rc = mbox_next(r, &m)) == 1) {
		if (g->n < MAXMSG) {
			CHECK(m.data[m.len] == '\0');
			CHECK(m.hdr_len <= m.len);
			g->data[g->n] = rb_xstrndup(m.data, m.len);
			g->source[g->n] = rb_xstrdup(m.source);
			g->offset[g->n] = m.offset;
			g->hdr_len[g->n] = m.hdr_len;
			g->truncated[g->n] = m.truncated;
			g->skipped[g->n] = m.body_skipped;
		}
		g->n++;
	}
	g->stats = *mbox_get_stats(r);
	mbox_close(r);
	return g->rc;
}

static char *
tmp_path(const char *name)
{
	char *p = rb_xmalloc(strlen(tmpdir) + strlen(name) + 2);
	sprintf(p, "%s/%s", tmpdir, name);
	return p;
}

static char *
write_file(const char *name, const char *data, size_t len)
{
	char *path = tmp_path(name);
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static char *
write_gz(const char *name, const char *data, size_t len)
{
	char *path = tmp_path(name);
	gzFile gz = gzopen(path, "wb");

	if (gz == NULL || (len > 0 && gzwrite(gz, data, (unsigned)len) != (int)len) ||
	    gzclose(gz) != Z_OK) {
		fprintf(stderr, "%s: cannot write\n", path);
		exit(2);
	}
	return path;
}

static struct rb_buf
slurp(const char *path)
{
	struct rb_buf b = { 0 };
	char chunk[65536];
	size_t n;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL) {
		perror(path);
		exit(2);
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		rb_buf_add(&b, chunk, n);
	fclose(fp);
	return b;
}

/* The same text with other line ends: "\r\n" or "\r" for each "\n". */
static char *
with_line_ends(const char *text, const char *eol)
{
	struct rb_buf b = { 0 };

	rb_buf_add(&b, "", 0);
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			rb_buf_adds(&b, eol);
		else
			rb_buf_addc(&b, *p);
	}
	return b.data;
}

/* ---- splitting: one line a case, each also run with CRLF and CR line ends ---- */

#define ENV "From a@example.org Mon Nov  3 10:00:00 2025\n"

static const struct split_case {
	const char *name;
	const char *input;
	int n;
	const char *want[4];
	unsigned long long off[4]; /* for LF line ends */
} split_cases[] = {
	{ "empty file", "", 0, { NULL }, { 0 } },
	{ "single message", "Subject: a\n\nbody\n", 1, { "Subject: a\n\nbody\n" }, { 0 } },
	{ "single, no final newline", "Subject: a\n\nbody", 1, { "Subject: a\n\nbody" }, { 0 } },
	{ "single, From later", "Subject: a\n\nx\n\nFrom b\n", 1, { "Subject: a\n\nx\n\nFrom b\n" },
		{ 0 } },
	{ "one mbox message", ENV "Subject: a\n\nbody\n\n", 1, { "Subject: a\n\nbody\n" }, { 0 } },
	{ "two messages", ENV "S: a\n\nA\n\n" ENV "S: b\n\nB\n\n", 2, { "S: a\n\nA\n", "S: b\n\nB\n" },
		{ 0, 53 } },
	{ "missing final newline", ENV "S: a\n\nA\n\n" ENV "S: b\n\nB", 2,
		{ "S: a\n\nA\n", "S: b\n\nB" }, { 0, 53 } },
	{ "final newline but no blank line", ENV "S: a\n\nA\n", 1, { "S: a\n\nA\n" }, { 0 } },
	{ "From in body, no blank line before", ENV "S: a\n\nA\nFrom here on\n\n", 1,
		{ "S: a\n\nA\nFrom here on\n" }, { 0 } },
	{ "envelope-like line, no header after", ENV "S: a\n\nA\n" ENV "not a header\n\n", 1,
		{ "S: a\n\nA\n" ENV "not a header\n" }, { 0 } },
	{ "envelope line and header, no blank line", ENV "S: a\n\nA\n" ENV "S: b\n\nB\n", 2,
		{ "S: a\n\nA\n", "S: b\n\nB\n" }, { 0, 52 } },
	{ "envelope with time zone", ENV "S: a\n\nA\n"
		"From b@x Tue Nov  4 11:30 +0100 2025\nS: b\n\nB\n", 2,
		{ "S: a\n\nA\n", "S: b\n\nB\n" }, { 0, 52 } },
	{ "From line without a date", ENV "S: a\n\nA\nFrom b@x\nS: b\n", 1,
		{ "S: a\n\nA\nFrom b@x\nS: b\n" }, { 0 } },
	{ "two empty lines before", ENV "S: a\n\nA\n\n\n" ENV "S: b\n\n", 2,
		{ "S: a\n\nA\n\n", "S: b\n" }, { 0, 54 } },
	{ "header only, then separator", ENV "S: a\n\n" ENV "S: b\n", 2, { "S: a\n", "S: b\n" },
		{ 0, 50 } },
	{ "empty message", ENV "\n" ENV "S: b\n\nB\n", 2, { "", "S: b\n\nB\n" }, { 0, 45 } },
	{ "envelope line only", "From a@example.org Mon Nov  3 10:00:00 2025", 1, { "" }, { 0 } },
	{ "mboxrd quoting", ENV "S: a\n\n>From x\n>>From y\n>>>From z\n> From k\n>Fromage\n\n", 1,
		{ "S: a\n\nFrom x\n>From y\n>>From z\n> From k\n>Fromage\n" }, { 0 } },
	{ "quoting only at line start", ENV "S: a\n\na >From b\n\n", 1, { "S: a\n\na >From b\n" },
		{ 0 } },
	{ "quoted From first in body", ENV "S: a\n\n>From x\n", 1, { "S: a\n\nFrom x\n" }, { 0 } },
	{ "blank line then unquoted From", ENV "S: a\n\nA\n\nFrom me, hello\n", 2,
		{ "S: a\n\nA\n", "" }, { 0, 53 } },
};

static void
test_split_table(void)
{
	static const char *const eols[] = { "\n", "\r\n", "\r" };

	for (size_t i = 0; i < sizeof split_cases / sizeof split_cases[0]; i++) {
		const struct split_case *c = &split_cases[i];
		for (size_t e = 0; e < 3; e++) {
			char *text = with_line_ends(c->input, eols[e]);
			char *path = write_file("split", text, strlen(text));
			struct got g;
			read_input(path, NULL, &g);
			unit_checks++;
			if (g.rc != 0 || g.n != c->n) {
				unit_failures++;
				fprintf(stderr, "%s (eol %zu): rc %d, %d messages, want %d\n", c->name,
					e, g.rc, g.n, c->n);
			}
			for (int k = 0; k < g.n && k < c->n; k++) {
				unit_checks++;
				if (strcmp(g.data[k], c->want[k]) != 0) {
					unit_failures++;
					fprintf(stderr, "%s (eol %zu): message %d is \"%s\", want \"%s\"\n",
						c->name, e, k, g.data[k], c->want[k]);
				}
				if (e == 0)
					CHECK_INT(g.offset[k], c->off[k]);
			}
			CHECK_INT(g.stats.messages, c->n);
			CHECK_INT(g.stats.bytes, strlen(text));
			got_free(&g);
			free(path);
			free(text);
		}
	}
}

/* ---- the fixture files ---- */

static char *
fixture(const char *name)
{
	char *p = rb_xmalloc(strlen(fixtures) + strlen(name) + 2);
	sprintf(p, "%s/%s", fixtures, name);
	return p;
}

static void
test_mboxrd_fixture(void)
{
	char *path = fixture("mboxrd.mbox"), src[512];
	struct got g;

	CHECK_INT(read_input(path, NULL, &g), 0);
	CHECK_INT(g.n, 3);
	CHECK_STR(g.data[0],
		"From: alice@example.org\nSubject: quoting\n\n"
		"From the start of a line, quoted once.\n"
		">From a line that began with \">From \".\n"
		" >From not at the start of a line: kept.\n"
		">>From three levels.\n");
	CHECK_INT(g.hdr_len[0], 42);
	CHECK(strstr(g.data[1], "\nFrom here on the text is not a separator") != NULL);
	CHECK_STR(g.data[2], "From: bob@example.org\nSubject: last, no final newline\n\ndone.");
	static const unsigned long long offs[] = { 0, 234, 449 };
	for (int i = 0; i < 3; i++) {
		CHECK_INT(g.offset[i], offs[i]);
		snprintf(src, sizeof src, "%s:%llu", path, offs[i]);
		CHECK_STR(g.source[i], src);
	}
	got_free(&g);

	/* Starting at the second message: the offsets stay absolute. */
	struct opts o = { .start = 234 };
	CHECK_INT(read_input(path, &o, &g), 0);
	CHECK_INT(g.n, 2);
	CHECK_INT(g.offset[0], 234);
	CHECK_INT(g.offset[1], 449);
	snprintf(src, sizeof src, "%s:449", path);
	CHECK_STR(g.source[1], src);
	got_free(&g);

	/* Past the end: reported, no reader. */
	o.start = 100000;
	CHECK_INT(read_input(path, &o, &g), -2);
	free(path);
}

static void
test_single_fixture(void)
{
	char *path = fixture("single.eml");
	struct got g;

	CHECK_INT(read_input(path, NULL, &g), 0);
	CHECK_INT(g.n, 1);
	CHECK_STR(g.source[0], path);
	CHECK_INT(g.offset[0], 0);
	CHECK(strstr(g.data[0], "\n>From is not unquoted") != NULL);
	CHECK_INT(g.hdr_len[0], strstr(g.data[0], "\n\n") + 2 - g.data[0]);
	CHECK_INT(g.stats.files, 1);
	got_free(&g);

	/* The same file as stdin. */
	int saved = dup(STDIN_FILENO);
	FILE *fp = freopen(path, "rb", stdin);
	CHECK(fp != NULL);
	CHECK_INT(read_input("-", NULL, &g), 0);
	CHECK_INT(g.n, 1);
	CHECK_STR(g.source[0], "stdin");
	got_free(&g);
	dup2(saved, STDIN_FILENO);
	close(saved);
	free(path);
}

static void
test_maildir(void)
{
	char *path = fixture("maildir");
	static const char *const order[] = {
		"new/1700000001.M1P1.host", "new/1700000002.M1P1.host",
		"cur/1600000000.M1P1.host:2,S", "cur/1600000001.M1P1.host:2,S",
	};
	struct got g;

	CHECK_INT(read_input(path, NULL, &g), 0);
	CHECK_INT(g.n, 4);
	for (int i = 0; i < 4 && i < g.n; i++) {
		char want[512];
		snprintf(want, sizeof want, "%s/%s", path, order[i]);
		CHECK_STR(g.source[i], want);
		CHECK_INT(g.offset[i], 0);
	}
	CHECK_STR(g.data[0], "From: a@example.org\nSubject: new 0\n\nnew zero\n");
	/* A Maildir file is one message; an envelope line at its top is dropped. */
	CHECK_STR(g.data[3], "From: b@example.org\nSubject: cur 1\n\ncur one\n");
	CHECK_INT(g.stats.files, 4);
	CHECK_INT(g.stats.errors, 0);
	got_free(&g);
	free(path);
}

/* ---- directories, gzip ---- */

static const char two_msgs[] = ENV "S: a\n\nA\n\n" ENV "S: b\n\nB\n\n";

static void
test_directory(void)
{
	char *dir = tmp_path("dir");
	char *files[6];
	struct got g;

	CHECK_INT(mkdir(dir, 0700), 0);
	files[0] = write_file("dir/a.eml", "Subject: a\n\nA\n", 14);
	files[1] = write_gz("dir/b.eml.gz", "Subject: b\r\n\r\nB\r\n", 17);
	files[2] = write_file("dir/c", two_msgs, sizeof two_msgs - 1);
	files[3] = write_file("dir/.hidden", "Subject: h\n\n", 12);
	files[4] = write_file("dir/d.eml", "Subject: d\n\nD\n", 14);
	files[5] = tmp_path("dir/sub");
	CHECK_INT(mkdir(files[5], 0700), 0);

	CHECK_INT(read_input(dir, NULL, &g), 0);
	CHECK_INT(g.n, 5);
	char want[512];
	snprintf(want, sizeof want, "%s/a.eml", dir);
	CHECK_STR(g.source[0], want);
	CHECK_STR(g.data[1], "Subject: b\n\nB\n");
	snprintf(want, sizeof want, "%s/c:53", dir);
	CHECK_STR(g.source[3], want);
	CHECK_STR(g.data[4], "Subject: d\n\nD\n");
	CHECK_INT(g.stats.files, 4);
	got_free(&g);

	/* A file that cannot be read (removed after the listing) is reported and skipped. */
	struct mbox_reader *r = mbox_open(dir);
	struct mbox_msg m;
	int n = 0, rc;
	unlink(files[2]);
	fprintf(stderr, "(an error about %s is expected)\n", files[2]);
	while ((rc = mbox_next(r, &m)) == 1)
		n++;
	CHECK_INT(rc, -1);
	CHECK_INT(n, 3);
	CHECK_INT(mbox_get_stats(r)->errors, 1);
	mbox_close(r);

	/* A dangling symlink in the directory: reported when its turn comes, the others read. */
	char *dangling = tmp_path("dir/b2.eml");
	char *nowhere = tmp_path("nowhere");
	CHECK_INT(symlink(nowhere, dangling), 0);
	fprintf(stderr, "(an error about %s is expected)\n", dangling);
	CHECK_INT(read_input(dir, NULL, &g), -1);
	CHECK_INT(g.n, 3);
	CHECK_STR(g.data[2], "Subject: d\n\nD\n");
	CHECK_INT(g.stats.errors, 1);
	got_free(&g);
	unlink(dangling);
	free(dangling);
	free(nowhere);

	/* An offset needs a file. */
	struct opts o = { .start = 5 };
	CHECK_INT(read_input(dir, &o, &g), -2);
	for (int i = 0; i < 6; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	rmdir(files[5]);
	rmdir(dir);
	free(dir);
}

static void
test_gzip(void)
{
	struct got g;
	char want[512];

	/* One member, and the same mbox as two concatenated members. */
	char *one = write_gz("one.gz", two_msgs, sizeof two_msgs - 1);
	CHECK_INT(read_input(one, NULL, &g), 0);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.data[1], "S: b\n\nB\n");
	snprintf(want, sizeof want, "%s:53", one);
	CHECK_STR(g.source[1], want);
	CHECK_INT(g.stats.bytes, sizeof two_msgs - 1);
	got_free(&g);

	struct opts o = { .start = 53 };
	CHECK_INT(read_input(one, &o, &g), 0);
	CHECK_INT(g.n, 1);
	CHECK_INT(g.offset[0], 53);
	got_free(&g);

	char *half1 = write_gz("h1.gz", two_msgs, 53);
	char *half2 = write_gz("h2.gz", two_msgs + 53, sizeof two_msgs - 1 - 53);
	struct rb_buf cat = slurp(half1), b2 = slurp(half2);
	rb_buf_add(&cat, b2.data, b2.len);
	char *both = write_file("both.gz", cat.data, cat.len);
	CHECK_INT(read_input(both, NULL, &g), 0);
	CHECK_INT(g.n, 2);
	CHECK_INT(g.offset[1], 53);
	CHECK_STR(g.data[0], "S: a\n\nA\n");
	got_free(&g);

	/* Garbage after a member: reported; the messages before it are whole. */
	rb_buf_adds(&cat, "garbage");
	char *garbage = write_file("garbage.gz", cat.data, cat.len);
	fprintf(stderr, "(an error about %s is expected)\n", garbage);
	CHECK_INT(read_input(garbage, NULL, &g), -1);
	CHECK_INT(g.n, 2);
	CHECK(!g.truncated[1]);
	CHECK_STR(g.data[1], "S: b\n\nB\n");
	CHECK_INT(g.stats.errors, 1);
	got_free(&g);

	/* Truncated: the first message comes whole, the broken one is cut, then -1. */
	struct rb_buf big = { 0 };
	rb_buf_adds(&big, ENV "S: a\n\nA\n\n" ENV "S: b\n\n");
	uint32_t x = 1;
	for (int i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		rb_buf_printf(&big, "line %u\n", x);
	}
	char *full = write_gz("full.gz", big.data, big.len);
	struct rb_buf z = slurp(full);
	char *cut = write_file("cut.gz", z.data, z.len / 2);
	fprintf(stderr, "(an error about %s is expected)\n", cut);
	CHECK_INT(read_input(cut, NULL, &g), -1);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.data[0], "S: a\n\nA\n");
	CHECK(!g.truncated[0]);
	CHECK(g.truncated[1]);
	CHECK(g.stats.errors == 1 && g.stats.truncated == 1);
	CHECK(g.stats.bytes > 53 && g.stats.bytes < big.len);
	got_free(&g);

	char *paths[] = { one, half1, half2, both, garbage, full, cut };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	rb_buf_free(&cat);
	rb_buf_free(&b2);
	rb_buf_free(&big);
	rb_buf_free(&z);
}

/* ---- the filter ---- */

struct filter_log {
	int calls;
	char seen[4][64];
};

static bool
skip_marked(const char *hdr, size_t len, void *arg)
{
	struct filter_log *log = arg;
	if (log->calls < 4)
		snprintf(log->seen[log->calls], sizeof log->seen[0], "%.*s", (int)len, hdr);
	log->calls++;
	return memmem(hdr, len, "X-Skip: yes\n", 12) == NULL;
}

static void
test_filter(void)
{
	static const char text[] =
		ENV "S: a\nX-Skip: yes\n\nbody a\n>From quoted\n\n"
		ENV "S: b\n\nbody b\n\n"
		ENV "X-Skip: yes\n";
	char *path = write_file("filter", text, sizeof text - 1);
	struct filter_log log = { 0 };
	struct opts o = { .filter = skip_marked, .arg = &log };
	struct got g;

	CHECK_INT(read_input(path, &o, &g), 0);
	CHECK_INT(g.n, 3);
	CHECK_INT(log.calls, 3);
	CHECK_STR(log.seen[0], "S: a\nX-Skip: yes\n\n");
	CHECK_STR(log.seen[2], "X-Skip: yes\n");
	CHECK(g.skipped[0] && !g.skipped[1] && g.skipped[2]);
	CHECK_STR(g.data[0], "S: a\nX-Skip: yes\n\n");
	CHECK_INT(g.hdr_len[0], 18);
	CHECK_STR(g.data[1], "S: b\n\nbody b\n");
	CHECK_INT(g.offset[1], 83);
	CHECK_STR(g.data[2], "X-Skip: yes\n");
	got_free(&g);
	unlink(path);
	free(path);
}

/* ---- size limits ---- */

static void
test_limits(void)
{
	struct got g;

	/* A message over MBOX_MAX_MSG keeps its first MBOX_MAX_MSG bytes; the next is whole. */
	struct rb_buf b = { 0 };
	rb_buf_adds(&b, ENV "Subject: big\n\n");
	rb_buf_reserve(&b, (9u << 20) + 200);
	while (b.len < (9u << 20))
		rb_buf_adds(&b, "0123456789012345678901234567890123456789012345678901234567890123456\r\n");
	rb_buf_adds(&b, "\n" ENV "Subject: small\n\nx\n");
	char *path = write_file("big", b.data, b.len);
	CHECK_INT(read_input(path, NULL, &g), 0);
	CHECK_INT(g.n, 2);
	CHECK(g.truncated[0] && !g.truncated[1]);
	CHECK_INT(strlen(g.data[0]), MBOX_MAX_MSG);
	CHECK_INT(g.hdr_len[0], 14);
	CHECK(strchr(g.data[0], '\r') == NULL);
	CHECK_STR(g.data[1], "Subject: small\n\nx\n");
	CHECK_INT(g.stats.truncated, 1);
	got_free(&g);
	unlink(path);
	free(path);

	/* One 9 MB line without a line end, read through a small window. */
	rb_buf_clear(&b);
	rb_buf_adds(&b, ENV "Subject: long line\n\n");
	while (b.len < (9u << 20))
		rb_buf_adds(&b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	path = write_file("longline", b.data, b.len);
	struct opts o = { .window = 1024 };
	CHECK_INT(read_input(path, &o, &g), 0);
	CHECK_INT(g.n, 1);
	CHECK(g.truncated[0]);
	CHECK_INT(strlen(g.data[0]), MBOX_MAX_MSG);
	got_free(&g);
	unlink(path);
	free(path);

	/* A smaller limit as a reader option; a limit hit inside the header block. */
	static const char text[] = ENV "S: a\n\n0123456789\n\n" ENV "S: 0123456789\n\nB\n";
	path = write_file("limit", text, sizeof text - 1);
	o = (struct opts){ .max_msg = 10 };
	CHECK_INT(read_input(path, &o, &g), 0);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.data[0], "S: a\n\n0123");
	CHECK(g.truncated[0]);
	CHECK_INT(g.hdr_len[0], 6);
	CHECK_STR(g.data[1], "S: 0123456");
	CHECK_INT(g.hdr_len[1], 10);
	CHECK_INT(g.offset[1], 62);
	got_free(&g);
	/* Exactly at the limit is not truncated (the separator's empty line is not counted). */
	o.max_msg = 17;
	CHECK_INT(read_input(path, &o, &g), 0);
	CHECK_STR(g.data[0], "S: a\n\n0123456789\n");
	CHECK_INT(g.truncated[0], 0);
	got_free(&g);
	o.max_msg = 16;
	CHECK_INT(read_input(path, &o, &g), 0);
	CHECK_STR(g.data[0], "S: a\n\n0123456789");
	CHECK_INT(g.truncated[0], 1);
	got_free(&g);
	unlink(path);
	free(path);
	rb_buf_free(&b);
}

/* ---- windows and the round trip, on a generated mboxrd ---- */

/* Writes a canonical mboxrd: every message ends with an empty line, every "From " line in a
 * message (after any '>') is quoted with one more '>'. */
static void
make_mbox(struct rb_buf *mbox, uint32_t seed, int messages)
{
	static const char *const lines[] = {
		"From here on", ">From quoted", ">>From twice", "", "", "text line",
		"From a@b Mon Nov  3 10:00:00 2025", "Fromage", " From x", "From ", "S: x",
		"a much longer line of text that goes on and on and on and on and on and on.",
	};
	uint32_t x = seed;

	for (int m = 0; m < messages; m++) {
		rb_buf_printf(mbox, "From sender%d@example.org Mon Nov  3 10:00:%02d 2025\n", m, m % 60);
		rb_buf_printf(mbox, "Subject: message %d\n\n", m);
		x = x * 1103515245u + 12345u;
		int n = (int)((x >> 16) % 200);
		for (int i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			const char *l = lines[(x >> 16) % (sizeof lines / sizeof lines[0])];
			const char *p = l;
			while (*p == '>')
				p++;
			if (strncmp(p, "From ", 5) == 0)
				rb_buf_addc(mbox, '>');
			rb_buf_adds(mbox, l);
			rb_buf_addc(mbox, '\n');
		}
		rb_buf_addc(mbox, '\n');
	}
}

/* Quote a message back and join it to the envelope line. */
static void
rejoin(struct rb_buf *out, const struct mbox_msg *m)
{
	rb_buf_adds(out, "From ");
	rb_buf_add(out, m->envelope, m->envelope_len);
	rb_buf_addc(out, '\n');
	const char *p = m->data, *end = m->data + m->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl + 1 : end;
		const char *q = p;
		while (q < eol && *q == '>')
			q++;
		if (eol - q >= 5 && memcmp(q, "From ", 5) == 0)
			rb_buf_addc(out, '>');
		rb_buf_add(out, p, (size_t)(eol - p));
		p = eol;
	}
	rb_buf_addc(out, '\n');
}

static void
test_round_trip_and_windows(void)
{
	struct rb_buf mbox = { 0 };
	static const size_t windows[] = { 0, 1024, 1025, 1031, 1536, 4093 };

	make_mbox(&mbox, 7, 300);
	char *path = write_file("gen.mbox", mbox.data, mbox.len);
	for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
		struct mbox_reader *r = mbox_open(path);
		struct rb_buf out = { 0 };
		struct mbox_msg m;
		int n = 0, rc;
		mbox_set_window(r, windows[w]);
		rb_buf_add(&out, "", 0);
		while ((rc = mbox_next(r, &m)) == 1) {
			rejoin(&out, &m);
			n++;
		}
		CHECK_INT(rc, 0);
		CHECK_INT(n, 300);
		unit_checks++;
		if (out.len != mbox.len || memcmp(out.data, mbox.data, out.len) != 0) {
			unit_failures++;
			fprintf(stderr, "round trip differs with window %zu (%zu vs %zu bytes)\n",
				windows[w], out.len, mbox.len);
		}
		rb_buf_free(&out);
		mbox_close(r);
	}
	unlink(path);
	free(path);
	rb_buf_free(&mbox);
}

/* ---- reading in place ---- */

/* The marks scan: concrete answers, then every version against the portable one on random
 * texts made of the bytes that matter, with marks near the 16-, 32- and 64-byte steps. */
static void
test_scan_marks(void)
{
	static const struct { const char *text; size_t want; } cases[] = {
		{ "", 0 }, { "abc", 3 }, { "abc\nFrom", 3 }, { "abc\n", 4 }, { "\r", 0 },
		{ "x\n>y", 1 }, { "\nF", 0 }, { "ab\nG\n\nF", 5 }, { "a\rb\nF", 1 },
		{ "a\n", 2 }, { "F\n>", 1 },
	};
	static const char alphabet[] = "\n\rF>ab";
	mbox_scan_fn portable = mbox_scan_marks_for(MBOX_SCAN_PORTABLE);
	char text[200];
	uint32_t x = 11;

	CHECK(portable != NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK_INT(portable(cases[i].text, strlen(cases[i].text)), cases[i].want);
	for (int path = MBOX_SCAN_SSE2; path <= MBOX_SCAN_AVX512; path++) {
		mbox_scan_fn fn = mbox_scan_marks_for((enum mbox_scan_path)path);
		if (fn == NULL)
			continue;
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
			CHECK_INT(fn(cases[i].text, strlen(cases[i].text)), cases[i].want);
		for (int round = 0; round < 20000; round++) {
			size_t len = (size_t)(round % (int)sizeof text);
			x = x * 1103515245u + 12345u;
			/* mostly plain text, with one to three bytes that matter */
			memset(text, 'a', len);
			for (int k = (int)(x >> 30); k >= 0 && len > 0; k--) {
				x = x * 1103515245u + 12345u;
				text[(x >> 8) % len] = alphabet[(x >> 20) % (sizeof alphabet - 1)];
			}
			size_t want = portable(text, len), got = fn(text, len);
			unit_checks++;
			if (got != want) {
				unit_failures++;
				fprintf(stderr, "marks scan path %d: %zu, want %zu (length %zu)\n", path, got,
					want, len);
				break;
			}
		}
	}
}

/* Cases the in-place reading must get as copying does: a CR in a file with LF line ends
 * (that message and the rest are copied and converted), quoting in the header block, and a
 * first line that is quoted. */
static void
test_in_place(void)
{
	static const struct { const char *name, *input; int n; const char *want[3]; } cases[] = {
		{ "stray CR", ENV "S: a\n\nA\r\nB\rC\n\n" ENV "S: b\n\n>From b\n\n", 2,
			{ "S: a\n\nA\nB\nC\n", "S: b\n\nFrom b\n" } },
		{ "quoted line in the header", ENV ">From x\nS: a\n\nbody\n>>From y\n\n" ENV "S: b\n", 2,
			{ "From x\nS: a\n\nbody\n>From y\n", "S: b\n" } },
		{ "quoted, no header end", ENV ">From x\n>>From y", 1, { "From x\n>From y" } },
		{ "quoted at the end", ENV "S: a\n\n>From", 1, { "S: a\n\n>From" } },
		{ "not quoted", ENV ">Fro\n> From\n>\n\n", 1, { ">Fro\n> From\n>\n" } },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = write_file("inplace", cases[i].input, strlen(cases[i].input));
		struct got g;
		CHECK_INT(read_input(path, NULL, &g), 0);
		CHECK_INT(g.n, cases[i].n);
		for (int k = 0; k < g.n && k < cases[i].n; k++) {
			unit_checks++;
			if (strcmp(g.data[k], cases[i].want[k]) != 0) {
				unit_failures++;
				fprintf(stderr, "%s: message %d is \"%s\", want \"%s\"\n", cases[i].name, k,
					g.data[k], cases[i].want[k]);
			}
		}
		got_free(&g);
		unlink(path);
		free(path);
	}

	/* The header block's quoting is undone before the filter sees it. */
	static const char quoted_hdr[] = ENV ">From x\nX-Skip: yes\n\nbody\n";
	char *path = write_file("inplace", quoted_hdr, sizeof quoted_hdr - 1);
	struct filter_log log = { 0 };
	struct opts o = { .filter = skip_marked, .arg = &log };
	struct got g;
	CHECK_INT(read_input(path, &o, &g), 0);
	CHECK_INT(g.n, 1);
	CHECK_STR(log.seen[0], "From x\nX-Skip: yes\n\n");
	CHECK_STR(g.data[0], "From x\nX-Skip: yes\n\n");
	CHECK(g.skipped[0]);
	got_free(&g);
	unlink(path);
	free(path);
}

int
main(int argc, char **argv)
{
	(void)argc;
	rb_init(argv[0]);
	if (access(fixtures, F_OK) != 0) {
		fprintf(stderr, "test_mbox: run from the top of the source tree\n");
		return 2;
	}
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_split_table();
	test_mboxrd_fixture();
	test_single_fixture();
	test_maildir();
	test_directory();
	test_gzip();
	test_filter();
	test_limits();
	test_round_trip_and_windows();
	test_scan_marks();
	test_in_place();
	char *split = tmp_path("split");
	unlink(split);
	free(split);
	rmdir(tmpdir);
	return unit_done("test_mbox");
}
