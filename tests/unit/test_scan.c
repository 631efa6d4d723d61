/* Unit tests for the separator scan: the SSE2 and the portable search must find exactly the
 * candidates a byte-by-byte reference finds, on tricky cases and on pseudo-random buffers.
 * Also the string sets, and the hand-written date reader of bounce.c. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bounce.h"
#include "scan.h"
#include "unit.h"

static size_t
reference(const char *p, size_t len, char nl)
{
	for (size_t i = 0; i + 6 <= len; i++)
		if (p[i] == nl && memcmp(p + i + 1, "From ", 5) == 0)
			return i;
	return len;
}

/* Every candidate, found by restarting after each hit, must agree for all three. */
static void
check_all(const char *p, size_t len, char nl, const char *what, long seed)
{
	size_t at = 0;

	for (;;) {
		size_t want = reference(p + at, len - at, nl);
		size_t port = scan_from_line_portable(p + at, len - at, nl);
		size_t simd = scan_from_line_simd(p + at, len - at, nl);
		unit_checks++;
		if (port != want || simd != want || scan_from_line(p + at, len - at, nl) != want) {
			unit_failures++;
			fprintf(stderr, "%s (seed %ld): from %zu want %zu, portable %zu, simd %zu\n",
				what, seed, at, want, port, simd);
			return;
		}
		if (want == len - at)
			return;
		at += want + 1;
	}
}

static void
test_table(void)
{
	static const struct { const char *text; char nl; size_t want; } cases[] = {
		{ "", '\n', 0 },
		{ "\n", '\n', 1 },
		{ "\nFrom", '\n', 5 },                 /* cut short: not a candidate yet */
		{ "\nFrom ", '\n', 0 },                /* at offset 0, ending at the buffer end */
		{ "From \nFrom x", '\n', 5 },
		{ "x\nfrom a\nFrom b", '\n', 8 },
		{ "\n>From a\n From b\nFrom c", '\n', 16 },
		{ "\nFromage\n\nFrom x", '\n', 9 },
		{ "\rFrom x", '\r', 0 },
		{ "\rFrom x", '\n', 7 },
		{ "\r\nFrom x", '\n', 1 },
		{ "0123456789abcde\nFrom x", '\n', 15 },   /* candidate straddling the first 16 */
		{ "0123456789abcdef\nFrom x", '\n', 16 },
		{ "0123456789abcdefghijklmnopqrstu\nFrom ", '\n', 31 },
		{ "0123456789abcdefghijklmnopqrstu\nFro", '\n', 35 },
		{ "\nFr\nFro\nFrom\nFrom_\nFrom  ", '\n', 18 },
		{ "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nFrom x", '\n', 18 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *t = cases[i].text;
		size_t len = strlen(t);
		CHECK_INT(scan_from_line_portable(t, len, cases[i].nl), cases[i].want);
		CHECK_INT(scan_from_line_simd(t, len, cases[i].nl), cases[i].want);
		check_all(t, len, cases[i].nl, t, -1);
	}
}

/* Every length and alignment around the 16-byte blocks, with a candidate at each place. */
static void
test_positions(void)
{
	char buf[80];

	for (size_t len = 0; len <= 64; len++) {
		for (size_t at = 0; at + 6 <= len; at++) {
			memset(buf, 'x', sizeof buf);
			memcpy(buf + at, "\nFrom ", 6);
			CHECK_INT(scan_from_line_simd(buf, len, '\n'), at);
			CHECK_INT(scan_from_line_portable(buf, len, '\n'), at);
			CHECK_INT(scan_from_line(buf, len, '\n'), at);
		}
		memset(buf, 'x', sizeof buf);
		if (len >= 5)
			memcpy(buf + len - 5, "\nFrom", 5);    /* one byte short at the end */
		CHECK_INT(scan_from_line_simd(buf, len, '\n'), len);
		CHECK_INT(scan_from_line_portable(buf, len, '\n'), len);
		CHECK_INT(scan_from_line(buf, len, '\n'), len);
	}
}

/* Buffers made of pieces that come close to a separator, at random places and alignments. */
static void
test_random(void)
{
	static const char *const pieces[] = {
		"\nFrom ", "\n", "\r", "From ", "Fro", "\nFr", "\nFrom", "F", "r", " ", "x",
		"\n\nFrom a", "\r\rFrom b", "\r\nFrom c", "text ", "\n>From ",
	};
	enum { SIZE = 4096 };
	static char buf[SIZE + 16];
	uint32_t state = 12345;

	for (long seed = 0; seed < 400; seed++) {
		size_t len = 0, want = (size_t)(seed * 37 % SIZE);
		while (len < want) {
			state = state * 1103515245u + 12345u;
			const char *p = pieces[(state >> 16) % (sizeof pieces / sizeof pieces[0])];
			size_t n = strlen(p);
			if (len + n > want)
				n = want - len;
			memcpy(buf + len, p, n);
			len += n;
		}
		/* Every start alignment of the same bytes. */
		for (size_t off = 0; off < 16 && off <= len; off += 5) {
			check_all(buf + off, len - off, '\n', "random", seed);
			check_all(buf + off, len - off, '\r', "random CR", seed);
		}
	}
}

/* scan_pair against a byte-by-byte search, at every start of a pseudo-random buffer. */
static void
test_pair(void)
{
	static char buf[300];
	uint32_t state = 777;

	for (size_t i = 0; i < sizeof buf; i++) {
		state = state * 1103515245u + 12345u;
		buf[i] = "\n>>Fab"[(state >> 16) % 7];
	}
	for (size_t off = 0; off < sizeof buf; off++) {
		size_t len = sizeof buf - off, want = len;
		for (size_t i = 0; i + 1 < len; i++)
			if (buf[off + i] == '\n' && buf[off + i + 1] == '>') {
				want = i;
				break;
			}
		CHECK_INT(scan_pair(buf + off, len, '\n', '>'), want);
	}
	CHECK_INT(scan_pair("a>", 2, '\n', '>'), 2);
	CHECK_INT(scan_pair("\n", 1, '\n', '>'), 1);
}

/* scan_ascii_run against a byte-by-byte search, at every start and length of a buffer
 * with a few non-ASCII bytes. */
static void
test_ascii_run(void)
{
	static char buf[100];

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)('a' + i % 26);
	buf[37] = (char)0x80;
	buf[38] = (char)0xff;
	buf[90] = (char)0xc3;
	for (size_t off = 0; off < sizeof buf; off++) {
		for (size_t len = 0; off + len <= sizeof buf; len++) {
			size_t want = 0;
			while (want < len && (unsigned char)buf[off + want] < 0x80)
				want++;
			CHECK_INT(scan_ascii_run(buf + off, len), want);
		}
	}
	CHECK_INT(scan_ascii_run("", 0), 0);
	CHECK_INT(scan_ascii_run("\x7f\x80", 2), 1);
}

/* The reference for a set: lower-case the text (ASCII), cut it at a NUL, strstr each string. */
static void
check_set(const struct scan_set *set, const char *const *strs, size_t n, const char *text,
	size_t len)
{
	char lc[512];
	size_t first[16], k;
	bool any = false;

	for (k = 0; k < len; k++)
		lc[k] = (char)(text[k] >= 'A' && text[k] <= 'Z' ? text[k] + 32 : text[k]);
	lc[len] = '\0';
	for (k = 0; k < n; k++)
		first[k] = SIZE_MAX;
	bool got_any = scan_set_first(set, text, len, first);
	for (k = 0; k < n; k++) {
		const char *m = strstr(lc, strs[k]);
		size_t want = m ? (size_t)(m - lc) : SIZE_MAX;
		any = any || m != NULL;
		unit_checks++;
		if (first[k] != want) {
			unit_failures++;
			fprintf(stderr, "set: \"%.*s\" string \"%s\": got %zu, want %zu\n", (int)len,
				text, strs[k], first[k], want);
		}
	}
	CHECK(got_any == any);
	CHECK(scan_set_any(set, text, len) == any);
	/* one string alone: the same answer as its set */
	for (k = 0; k < n; k++)
		CHECK(scan_contains_ci(text, len, strs[k]) == (first[k] != SIZE_MAX));
	for (size_t limit = 0; limit < 6; limit++) {
		bool within = false;
		for (k = 0; k < n; k++)
			within = within || first[k] <= limit;
		CHECK(scan_set_starts_within(set, text, len, limit) == within);
	}
}

static void
test_set(void)
{
	static const char *const strs[] = {"he", "she", "his", "hers", "ab", "b", "bab", "Up",
		"\xe5\xa4\xb1\xe6\x95\x97", "rcpt to:", "a"};
	enum { N = sizeof strs / sizeof strs[0] };
	struct scan_set *set = scan_set_new(strs, N);
	static const char *const texts[] = {"", "ushers", "USHERS", "xyz", "bababab", "Up up UP",
		"\xe5\xa4\xb1\xe6\x95\x97!", "RCPT TO:<a@b>", "he\0she", "h", "hishe"};
	char buf[500];
	uint32_t state = 99;

	CHECK_INT(scan_set_size(set), N);
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
		check_set(set, strs, N, texts[t], t == 8 ? 7 : strlen(texts[t]));
	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)round % sizeof buf;
		for (size_t i = 0; i < len; i++) {
			state = state * 1103515245u + 12345u;
			buf[i] = "hesiraHbBUp:\xe5\xa4"[(state >> 16) % 15];
		}
		check_set(set, strs, N, buf, len);
	}
	/* More strings than one 64-bit mask holds. */
	static char names[130][8];
	const char *many[130];
	for (int i = 0; i < 130; i++) {
		snprintf(names[i], sizeof names[i], "w%dx", i);
		many[i] = names[i];
	}
	struct scan_set *big = scan_set_new(many, 130);
	size_t first[130];
	for (int i = 0; i < 130; i++)
		first[i] = SIZE_MAX;
	CHECK(scan_set_first(big, "..W129X..w7x.w12x", 17, first));
	CHECK_INT(first[129], 2);
	CHECK_INT(first[7], 9);
	CHECK_INT(first[12], 13);
	CHECK(first[1] == SIZE_MAX && first[29] == SIZE_MAX);
	scan_set_free(big);
	scan_set_free(set);
}

/* Dates are read by hand, as sscanf(" %d %15s %d %d:%d") then ":%d" and " %15s" read
 * them before: the same answers on odd spacing, signs, long words and out-of-range parts. */
static void
test_iso_date(void)
{
	static const struct {
		const char *in, *want;  /* want NULL: not a date */
	} cases[] = {
		{"Mon, 2 Nov 2026 10:11:12 +0100", "2026-11-02T09:11:12Z"},
		/* days past a month's end and leap seconds count on, as timegm has them */
		{"31 Feb 2027 10:00:00 +0000", "2027-03-03T10:00:00Z"},
		{"29 Feb 2024 23:59:60 +0000", "2024-03-01T00:00:00Z"},
		{"1 Mar 2100 00:00:00 +0000", "2100-03-01T00:00:00Z"},
		{"1 Jan 1970 00:30:00 +0100", "1969-12-31T23:30:00Z"},
		{"Fri, 31 Dec 9999 23:00:00 -0200", "10000-01-01T01:00:00Z"},  /* the library's */
		{"2 Nov 2026 10:11 -0500", "2026-11-02T15:11:00Z"},
		{"Tue, 03 Dec 26 23:59:60 GMT", "2026-12-04T00:00:00Z"},
		{"  Wed,  4 Jan 1999 00:00:00 PST (comment)", "1999-01-04T08:00:00Z"},
		{"Thu 5 Feb 2027 1:2:3 EST", "2027-02-05T06:02:03Z"},
		{"5 February 2027 01:02:03 CEST", "2027-02-04T23:02:03Z"},
		{"5 Feb, 2027 01:02:03", "2027-02-05T01:02:03Z"},
		{"5 Feb 2027 01:02", "2027-02-05T01:02:00Z"},
		{"5 Feb 2027 01 :02", NULL},
		{"5 Feb 2027 01: 02", "2027-02-05T01:02:00Z"},
		{"5 Feb 2027 01:02: 03 Z", "2027-02-05T01:02:03Z"},
		{"5 Feb 2027 01:02:xx", NULL},
		{"-5 Feb 2027 01:02", NULL},
		{"+5 Feb 2027 01:02:03 +99999", "2026-12-25T08:23:03Z"},
		{"5 Feb 99999999999 01:02", NULL},
		{"32 Feb 2027 01:02", NULL},
		{"5 Xyz 2027 01:02", NULL},
		{"", NULL},
		{"Mon,", NULL},
		{"Mon", NULL},
		{"5\tFeb\t2027\t01:02:03\tutc", "2027-02-05T01:02:03Z"},
		{"5 Febxxxxxxxxxxxxxxxxx 2027 01:02", NULL},
		{"5 Febxxxxxxxxxxx2027 01:02", "2027-02-05T01:02:00Z"},
		{"1 Jan 1970 00:00:00 +0100", "1969-12-31T23:00:00Z"},
		{"31 Dec 9999 23:59:59 -1200", "10000-01-01T11:59:59Z"},
		{"5 Feb 49 1:2", "2049-02-05T01:02:00Z"},
		{"5 Feb 50 1:2", NULL},
		{"5 Feb 2027 01:02 +01", "2027-02-05T01:01:00Z"},
		{"5 Feb 2027 01:02 -", "2027-02-05T01:02:00Z"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[32] = "";
		bool ok = bounce_iso_date(cases[i].in, out, sizeof out);
		CHECK(ok == (cases[i].want != NULL));
		if (ok)
			CHECK_STR(out, cases[i].want);
	}
}

int
main(void)
{
	test_table();
	test_positions();
	test_random();
	test_pair();
	test_ascii_run();
	test_set();
	test_iso_date();
	return unit_done("test_scan");
}
