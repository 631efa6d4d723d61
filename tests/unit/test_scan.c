/* Unit tests for the separator scan: the SSE2 and the portable search must find exactly the
 * candidates a byte-by-byte reference finds, on tricky cases and on pseudo-random buffers.
 * Also the string sets and the needle search, and the hand-written date reader of bounce.c. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bounce.h"
#include "scan.h"
#include "unit.h"
#include "util.h"

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

/* The searches of a set, each forced in turn where the processor has it. */
static const enum scan_set_path paths[] = {SCAN_SET_PORTABLE, SCAN_SET_AVX2, SCAN_SET_AVX512};
enum { NPATHS = sizeof paths / sizeof paths[0] };

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
	for (size_t pi = 0; pi < NPATHS; pi++) {
		if (!scan_set_use(set, paths[pi])) {
			fprintf(stderr, "test_scan: no search %zu on this processor\n", pi);
			continue;
		}
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

/* ---- the reference for string sets: the Aho-Corasick automaton the sets were searched
 * with before, walked byte by byte ---- */

struct ref_set {
	size_t n;            /* strings */
	size_t words;        /* 64-bit words of a string mask */
	size_t nstates;
	unsigned nclass;     /* byte classes: 0 is "in no string", the rest one per distinct byte */
	unsigned char cls[256];   /* text byte -> class, the byte lower-cased first */
	/* States are numbered so that those where strings end come last, from first_out on,
	 * and are kept premultiplied by nclass: row = state * nclass.  next[row + class] is
	 * the next row; a row at or past out_row has strings ending there, listed in
	 * masks[(row / nclass - first_out) * words ...]. */
	uint32_t *next;
	uint32_t out_row;
	size_t first_out;
	uint64_t *masks;
	unsigned char *len;  /* length of each string */
	unsigned char *depth; /* of each state: the length of the prefix it stands for */
	size_t maxlen;       /* of the longest */
};

static unsigned char
ref_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static struct ref_set *
ref_set_new(const char *const *strings, size_t n)
{
	struct ref_set *s = rb_xcalloc(1, sizeof *s);
	unsigned char seen[256] = {0}, bytecls[256] = {0};
	size_t total = 1;

	s->n = n;
	s->words = n / 64 + 1;
	s->len = rb_xmalloc(n ? n : 1);
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(strings[k]);
		if (l == 0 || l > 255)
			rb_die(RB_EXIT_FATAL, "ref_set_new: string %zu has length %zu", k, l);
		s->len[k] = (unsigned char)l;
		if (l > s->maxlen)
			s->maxlen = l;
		total += l;
		for (size_t i = 0; i < l; i++)
			seen[(unsigned char)strings[k][i]] = 1;
	}
	if (total > 65535)
		rb_die(RB_EXIT_FATAL, "ref_set_new: %zu states is too many", total);
	/* One class per byte that some string has; a text byte takes its lower-case's class,
	 * so an upper-case byte in a string is never reached, as with strstr. */
	s->nclass = 1;
	for (unsigned c = 0; c < 256; c++)
		if (seen[c])
			bytecls[c] = (unsigned char)s->nclass++;
	for (unsigned c = 1; c < 256; c++)
		s->cls[c] = bytecls[ref_lower((unsigned char)c)];

	/* The trie; 0 in next[] means "no edge" until the failure links fill it in. */
	uint16_t *next = rb_xcalloc(total * s->nclass, sizeof *next);
	uint64_t *own = rb_xcalloc(total * s->words, sizeof *own);
	unsigned char *depth = rb_xcalloc(total, 1);
	size_t nstates = 1;
	for (size_t k = 0; k < n; k++) {
		size_t st = 0;
		for (const unsigned char *p = (const unsigned char *)strings[k]; *p; p++) {
			uint16_t *e = &next[st * s->nclass + bytecls[*p]];
			if (*e == 0) {
				depth[nstates] = (unsigned char)(depth[st] + 1);
				*e = (uint16_t)nstates++;
			}
			st = *e;
		}
		own[st * s->words + k / 64] |= (uint64_t)1 << (k % 64);
	}
	/* Breadth first: failure links, then the full transition table and the outputs. */
	uint16_t *fail = rb_xcalloc(nstates, sizeof *fail), *queue = rb_xmalloc(nstates * sizeof *queue);
	size_t qh = 0, qt = 0;
	for (unsigned c = 0; c < s->nclass; c++) {
		uint16_t t = next[c];
		if (t != 0) {
			fail[t] = 0;
			queue[qt++] = t;
		}
	}
	while (qh < qt) {
		uint16_t u = queue[qh++];
		for (size_t w = 0; w < s->words; w++)
			own[u * s->words + w] |= own[fail[u] * s->words + w];
		for (unsigned c = 0; c < s->nclass; c++) {
			uint16_t *e = &next[u * s->nclass + c];
			if (*e != 0) {
				fail[*e] = next[fail[u] * s->nclass + c];
				queue[qt++] = *e;
			} else {
				*e = next[fail[u] * s->nclass + c];
			}
		}
	}
	/* Renumber: states without strings ending first (the root stays 0), then the others. */
	size_t *perm = rb_xmalloc(nstates * sizeof *perm), nplain = 0, nout = 0;
	bool *has = rb_xcalloc(nstates, sizeof *has);
	for (size_t st = 0; st < nstates; st++)
		for (size_t w = 0; w < s->words; w++)
			has[st] = has[st] || own[st * s->words + w] != 0;
	for (size_t st = 0; st < nstates; st++)
		if (!has[st])
			perm[st] = nplain++;
	for (size_t st = 0; st < nstates; st++)
		if (has[st])
			perm[st] = nplain + nout++;
	if (nstates * s->nclass > UINT32_MAX)
		rb_die(RB_EXIT_FATAL, "ref_set_new: table too large");
	s->nstates = nstates;
	s->first_out = nplain;
	s->out_row = (uint32_t)(nplain * s->nclass);
	s->next = rb_xmalloc(nstates * s->nclass * sizeof *s->next);
	s->masks = rb_xmalloc((nout ? nout : 1) * s->words * sizeof *s->masks);
	s->depth = rb_xmalloc(nstates);
	for (size_t st = 0; st < nstates; st++) {
		s->depth[perm[st]] = depth[st];
		for (unsigned c = 0; c < s->nclass; c++)
			s->next[perm[st] * s->nclass + c] = (uint32_t)(perm[next[st * s->nclass + c]] * s->nclass);
		if (has[st])
			memcpy(s->masks + (perm[st] - nplain) * s->words, own + st * s->words,
				s->words * sizeof *own);
	}
	free(perm);
	free(has);
	free(next);
	free(own);
	free(depth);
	free(fail);
	free(queue);
	return s;
}

static void
ref_set_free(struct ref_set *set)
{
	if (set == NULL)
		return;
	free(set->next);
	free(set->masks);
	free(set->len);
	free(set->depth);
	free(set);
}

static bool
ref_set_any(const struct ref_set *set, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint32_t *next = set->next, out = set->out_row;
	uint32_t row = 0;

	len = strnlen(s, len);
	/* Two walks at once, one from the start and one from the middle (begun early enough
	 * to see every string that ends in its half): the table lookups of one overlap with
	 * those of the other. */
	if (len >= 256) {
		size_t mid = len / 2, j = mid - (set->maxlen - 1), i;
		uint32_t row2 = 0;
		for (i = 0; i < mid; i++, j++) {
			row = next[row + set->cls[p[i]]];
			row2 = next[row2 + set->cls[p[j]]];
			if (row >= out || row2 >= out)
				return true;
		}
		for (; j < len; j++) {
			row2 = next[row2 + set->cls[p[j]]];
			if (row2 >= out)
				return true;
		}
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		row = next[row + set->cls[p[i]]];
		if (row >= out)
			return true;
	}
	return false;
}

/* The strings that end at offset i in state row: lower their first[] entries. */
static void
ref_record_first(const struct ref_set *set, uint32_t row, size_t i, size_t *first)
{
	const uint64_t *m = set->masks + (row / set->nclass - set->first_out) * set->words;

	for (size_t w = 0; w < set->words; w++) {
		for (uint64_t bits = m[w]; bits != 0; bits &= bits - 1) {
			size_t k = w * 64 + (size_t)__builtin_ctzll(bits);
			size_t at = i + 1 - set->len[k];
			if (at < first[k])
				first[k] = at;
		}
	}
}

static bool
ref_set_first(const struct ref_set *set, const char *s, size_t len, size_t *first)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint32_t *next = set->next, out = set->out_row;
	uint32_t row = 0;
	bool any = false;
	size_t i = 0;

	len = strnlen(s, len);
	/* Two walks at once, as in ref_set_any. */
	if (len >= 256) {
		size_t mid = len / 2, j = mid - (set->maxlen - 1);
		uint32_t row2 = 0;
		for (; i < mid; i++, j++) {
			row = next[row + set->cls[p[i]]];
			row2 = next[row2 + set->cls[p[j]]];
			if (row >= out) {
				ref_record_first(set, row, i, first);
				any = true;
			}
			if (row2 >= out) {
				ref_record_first(set, row2, j, first);
				any = true;
			}
		}
		i = j;
		row = row2;
	}
	for (; i < len; i++) {
		row = next[row + set->cls[p[i]]];
		if (row >= out) {
			ref_record_first(set, row, i, first);
			any = true;
		}
	}
	return any;
}

static bool
ref_set_starts_within(const struct ref_set *set, const char *s, size_t len, size_t limit)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint32_t *next = set->next, out = set->out_row;
	uint32_t row = 0;

	/* no occurrence that starts within the limit ends after limit + maxlen */
	if (len > limit + set->maxlen)
		len = limit + set->maxlen;
	len = strnlen(s, len);
	for (size_t i = 0; i < len; i++) {
		row = next[row + set->cls[p[i]]];
		/* Past the limit, every occurrence still to end starts within the prefix the
		 * state stands for; once that starts after the limit, none can count.  Asked
		 * every eighth byte (the state's number takes a division). */
		if (row < out) {
			if (i >= limit && ((i - limit) & 7) == 0 &&
			    i + 1 - set->depth[row / set->nclass] > limit)
				return false;
			continue;
		}
		const uint64_t *m = set->masks + (row / set->nclass - set->first_out) * set->words;
		for (size_t w = 0; w < set->words; w++)
			for (uint64_t bits = m[w]; bits != 0; bits &= bits - 1)
				if (i + 1 - set->len[w * 64 + (size_t)__builtin_ctzll(bits)] <= limit)
					return true;
	}
	return false;
}


/* A pseudo-random number below n. */
static uint32_t
rnd(uint32_t *state, uint32_t n)
{
	*state = *state * 1103515245u + 12345u;
	return ((*state >> 8) & 0xffffff) % n;
}

/* Random sets of strings (short ones among them, some with upper case, some with bytes
 * at or above 0x80) against random texts over a small alphabet mixing case, NUL and
 * such bytes: first[], any and starts_within must give what the automaton gives. */
static void
test_set_differential(void)
{
	static const char alphabet[] = "abcABC -:\xc3\xa9\x80\xff";
	enum { NALPHA = sizeof alphabet - 1 + 1, MAXN = 70, MAXTEXT = 300 };
	static char strbuf[MAXN][24], text[MAXTEXT + 40];
	const char *strs[MAXN];
	size_t got[MAXN], want[MAXN];
	uint32_t state = 4242;

	for (int round = 0; round < 400; round++) {
		size_t n = 1 + rnd(&state, round % 3 == 0 ? MAXN : 8);
		for (size_t k = 0; k < n; k++) {
			size_t l = 1 + rnd(&state, k % 3 == 0 ? 3 : 20);
			for (size_t j = 0; j < l; j++) {
				/* strings mostly lower case (upper case never matches) */
				char c = alphabet[rnd(&state, NALPHA - 1)];
				if (c >= 'A' && c <= 'Z' && rnd(&state, 8) != 0)
					c = (char)(c + 32);
				strbuf[k][j] = c;
			}
			strbuf[k][l] = '\0';
			strs[k] = strbuf[k];
		}
		struct scan_set *set = scan_set_new(strs, n);
		struct ref_set *ref = ref_set_new(strs, n);
		/* every search the processor has, in turn */
		for (size_t pi = 0; pi < NPATHS; pi++) {
			if (!scan_set_use(set, paths[pi]))
				continue;
			for (int t = 0; t < 20; t++) {
				size_t len = rnd(&state, t < 10 ? 80 : MAXTEXT);
				for (size_t i = 0; i < len; i++) {
					uint32_t r = rnd(&state, NALPHA * 8);
					/* a NUL now and then, or a piece of a string */
					if (r < 2)
						text[i] = '\0';
					else if (r < 40) {
						const char *w = strs[rnd(&state, (uint32_t)n)];
						for (; *w && i < len; w++, i++)
							text[i] = rnd(&state, 4) ? *w : (char)(*w ^ 0x20);
						i--;
					} else
						text[i] = alphabet[r % (NALPHA - 1)];
				}
				/* first[] already holding offsets from an earlier text */
				for (size_t k = 0; k < n; k++)
					got[k] = want[k] = rnd(&state, 4) ? SIZE_MAX : rnd(&state, 50);
				bool ga = scan_set_first(set, text, len, got);
				bool wa = ref_set_first(ref, text, len, want);
				unit_checks++;
				if (ga != wa || memcmp(got, want, n * sizeof *got) != 0) {
					unit_failures++;
					fprintf(stderr, "differential round %d path %zu text %d: first[] differs\n",
						round, pi, t);
				}
				CHECK(scan_set_any(set, text, len) == ref_set_any(ref, text, len));
				for (size_t limit = 0; limit < 40; limit += 1 + limit / 4)
					CHECK(scan_set_starts_within(set, text, len, limit) ==
						ref_set_starts_within(ref, text, len, limit));
			}
		}
		scan_set_free(set);
		ref_set_free(ref);
	}
}

/* The needle search against a byte-by-byte one: needles of 1 to 40 bytes (ending in a
 * letter or not), texts mixing case, NUL bytes and pieces of the needle, at every length
 * around the 16- and 32-byte rounds and at several alignments.  scan_find_ci counts NUL
 * bytes as text; scan_contains_ci ends the text at the first. */
static size_t
ref_find_ci(const char *s, size_t len, const char *needle, size_t k)
{
	for (size_t i = 0; i + k <= len; i++) {
		size_t j = 0;
		while (j < k && ref_lower((unsigned char)s[i + j]) == (unsigned char)needle[j])
			j++;
		if (j == k)
			return i;
	}
	return len;
}

static void
test_find_ci(void)
{
	static const char alphabet[] = "fiNAl-recp:t \x80\xc3";
	static char needle[41], text[200 + 64];
	uint32_t state = 2024;

	for (int round = 0; round < 3000; round++) {
		size_t k = 1 + rnd(&state, round % 4 == 0 ? 40 : 6);
		for (size_t j = 0; j < k; j++)
			needle[j] = (char)ref_lower((unsigned char)alphabet[rnd(&state, sizeof alphabet - 1)]);
		needle[k] = '\0';
		size_t len = rnd(&state, 200), off = rnd(&state, 32);
		char *t = text + off;
		for (size_t i = 0; i < len; i++) {
			uint32_t r = rnd(&state, 64);
			if (r == 0)
				t[i] = '\0';
			else if (r < 6) {
				/* the needle, its case changed here and there */
				for (size_t j = 0; j < k && i < len; j++, i++)
					t[i] = rnd(&state, 3) ? needle[j] : (char)(needle[j] ^ 0x20);
				i--;
			} else
				t[i] = alphabet[r % (sizeof alphabet - 1)];
		}
		size_t want = k > len ? len : ref_find_ci(t, len, needle, k);
		size_t end = strnlen(t, len);
		bool contains = k <= end && ref_find_ci(t, end, needle, k) < end;
		unit_checks++;
		if (scan_find_ci(t, len, needle, k) != want || scan_contains_ci(t, len, needle) != contains) {
			unit_failures++;
			fprintf(stderr, "find_ci round %d: \"%s\" in %zu bytes: got %zu, want %zu\n", round,
				needle, len, scan_find_ci(t, len, needle, k), want);
		}
	}
	CHECK_INT(scan_find_ci("abc", 3, "", 0), 0);
	CHECK_INT(scan_find_ci("abc", 3, "abcd", 4), 3);
	CHECK(scan_contains_ci("xx\0final-recipient:", 19, "final-recipient:") == false);
	CHECK_INT(scan_find_ci("xx\0FINAL-Recipient:", 19, "final-recipient:", 16), 3);
}

/* No search reads past the text's end: each text is placed to end where an unreadable page
 * starts, so a read beyond it faults.  Sets with a string shorter than the rest are the
 * case that once read past (their last offsets are fewer bytes from the end).  The needle
 * search of each string too. */
static void
test_set_page_end(void)
{
	static const char *const strs[] = {"ab", "x", "delivery failed", "mailbox unavailable",
		"host", "rcpt to:"};
	enum { N = sizeof strs / sizeof strs[0] };
	long pagesize = sysconf(_SC_PAGESIZE);
	size_t page = pagesize > 0 ? (size_t)pagesize : 4096;
	char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(map != MAP_FAILED);
	if (map == MAP_FAILED)
		return;
	CHECK(mprotect(map + page, page, PROT_NONE) == 0);
	for (size_t k = 1; k <= N; k++) {
		struct scan_set *set = scan_set_new(strs, k);
		for (size_t pi = 0; pi < NPATHS; pi++) {
			if (!scan_set_use(set, paths[pi]))
				continue;
			for (size_t len = 0; len <= 200; len++) {
				char *text = map + page - len;
				for (size_t i = 0; i < len; i++)
					text[i] = "xab delivery failedhost"[i % 23];
				size_t first[N];
				for (size_t j = 0; j < N; j++)
					first[j] = SIZE_MAX;
				bool any = scan_set_first(set, text, len, first);
				CHECK(any == scan_set_any(set, text, len));
				(void)scan_set_starts_within(set, text, len, len / 2);
				CHECK(!any || len > 0);
				if (pi == 0)
					for (size_t j = 0; j < k; j++)
						CHECK(scan_contains_ci(text, len, strs[j]) == (first[j] != SIZE_MAX));
			}
		}
		scan_set_free(set);
	}
	munmap(map, 2 * page);
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
	test_set_differential();
	test_set_page_end();
	test_find_ci();
	test_iso_date();
	return unit_done("test_scan");
}
