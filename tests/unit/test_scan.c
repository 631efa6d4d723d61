/* Unit tests for the separator scan: the SSE2 and the portable search must find exactly the
 * candidates a byte-by-byte reference finds, on tricky cases and on pseudo-random buffers. */
#include <stdint.h>
#include <stdlib.h>

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
		}
		memset(buf, 'x', sizeof buf);
		if (len >= 5)
			memcpy(buf + len - 5, "\nFrom", 5);    /* one byte short at the end */
		CHECK_INT(scan_from_line_simd(buf, len, '\n'), len);
		CHECK_INT(scan_from_line_portable(buf, len, '\n'), len);
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

int
main(void)
{
	test_table();
	test_positions();
	test_random();
	return unit_done("test_scan");
}
