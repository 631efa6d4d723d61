/* scan: the searches of scan.h (the mbox separator, byte pairs, ASCII runs, sets of strings,
 * a needle without case), each with a portable version and vector versions chosen when
 * called; the unit tests and fuzz_scan hold them to the same answers.
 *
 * The separator search tests positions for the line-end byte followed by "Fr" (SSE2, 16 a
 * round) or by 'F' (AVX2, 32 a round), and only then compares the whole "From "; in mail
 * text that is rare enough that the loop runs at the speed of the loads. */
#include "scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "util.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char from_[] = "From ";

static size_t scan_pair_narrow(const char *p, size_t len, char a, char b);

/* Is there a full candidate at i? */
static int
candidate_at(const char *p, size_t len, size_t i, char nl)
{
	return p[i] == nl && len - i >= 6 && memcmp(p + i + 1, from_, 5) == 0;
}

size_t
scan_from_line_portable(const char *p, size_t len, char nl)
{
	size_t i = 0;

	while (len - i >= 6) {
		const char *q = memchr(p + i, nl, len - i - 5);
		if (q == NULL)
			break;
		i = (size_t)(q - p);
		if (memcmp(q + 1, from_, 5) == 0)
			return i;
		i++;
	}
	return len;
}

#ifdef __SSE2__
size_t
scan_from_line_simd(const char *p, size_t len, char nl)
{
	const __m128i vnl = _mm_set1_epi8(nl);
	const __m128i vF = _mm_set1_epi8('F');
	const __m128i vr = _mm_set1_epi8('r');
	size_t i = 0;

	/* Each round reads p[i..i+18): positions i..i+15 and the two bytes after each. */
	while (len - i >= 18) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 2));
		__m128i hit = _mm_and_si128(_mm_cmpeq_epi8(a, vnl),
			_mm_and_si128(_mm_cmpeq_epi8(b, vF), _mm_cmpeq_epi8(c, vr)));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);

		while (mask != 0) {
			size_t j = i + (size_t)__builtin_ctz(mask);
			if (candidate_at(p, len, j, nl))
				return j;
			mask &= mask - 1;
		}
		i += 16;
	}
	for (; i < len; i++)
		if (candidate_at(p, len, i, nl))
			return i;
	return len;
}
#else
size_t
scan_from_line_simd(const char *p, size_t len, char nl)
{
	return scan_from_line_portable(p, len, nl);
}
#endif

/* 32 positions at a time where the processor has AVX2, chosen when called (the build
 * targets plain x86-64).  A line end followed by 'F' is rare enough in mail text that the
 * whole "From " is compared only then. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SCAN_AVX2 1
#include <immintrin.h>

__attribute__((target("avx2"))) static size_t
from_line_avx2(const char *p, size_t len, char nl)
{
	const __m256i vnl = _mm256_set1_epi8(nl), vF = _mm256_set1_epi8('F');
	size_t i = 0;

	/* each round reads p[i..i+33): positions i..i+31 and the byte after each */
	while (len - i >= 33) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 1));
		unsigned mask = (unsigned)_mm256_movemask_epi8(
			_mm256_and_si256(_mm256_cmpeq_epi8(x, vnl), _mm256_cmpeq_epi8(y, vF)));

		while (mask != 0) {
			size_t j = i + (size_t)__builtin_ctz(mask);
			if (candidate_at(p, len, j, nl))
				return j;
			mask &= mask - 1;
		}
		i += 32;
	}
	for (; i < len; i++)
		if (candidate_at(p, len, i, nl))
			return i;
	return len;
}

__attribute__((target("avx2"))) static size_t
pair_avx2(const char *p, size_t len, char a, char b)
{
	const __m256i va = _mm256_set1_epi8(a), vb = _mm256_set1_epi8(b);
	size_t i = 0;

	while (len - i >= 33) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 1));
		unsigned mask = (unsigned)_mm256_movemask_epi8(
			_mm256_and_si256(_mm256_cmpeq_epi8(x, va), _mm256_cmpeq_epi8(y, vb)));
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 32;
	}
	for (; i + 1 < len; i++)
		if (p[i] == a && p[i + 1] == b)
			return i;
	return len;
}
#endif

size_t
scan_from_line(const char *p, size_t len, char nl)
{
#ifdef SCAN_AVX2
	if (__builtin_cpu_supports("avx2"))
		return from_line_avx2(p, len, nl);
#endif
	return scan_from_line_simd(p, len, nl);
}

size_t
scan_pair(const char *p, size_t len, char a, char b)
{
#ifdef SCAN_AVX2
	/* short texts (a header line) are not worth the processor check */
	if (len >= 64 && __builtin_cpu_supports("avx2"))
		return pair_avx2(p, len, a, b);
#endif
	return scan_pair_narrow(p, len, a, b);
}

/* scan_pair 16 positions at a time (SSE2) or with memchr. */
#ifdef __SSE2__
static size_t
scan_pair_narrow(const char *p, size_t len, char a, char b)
{
	const __m128i va = _mm_set1_epi8(a);
	const __m128i vb = _mm_set1_epi8(b);
	size_t i = 0;

	while (len - i >= 17) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, va),
			_mm_cmpeq_epi8(y, vb)));
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
	for (; i + 1 < len; i++)
		if (p[i] == a && p[i + 1] == b)
			return i;
	return len;
}
#else
static size_t
scan_pair_narrow(const char *p, size_t len, char a, char b)
{
	size_t i = 0;

	while (i + 1 < len) {
		const char *q = memchr(p + i, a, len - i - 1);
		if (q == NULL)
			break;
		i = (size_t)(q - p);
		if (q[1] == b)
			return i;
		i++;
	}
	return len;
}
#endif

/* 16 bytes at a time (SSE2): a byte's top bit is what movemask collects. */
size_t
scan_ascii_run(const char *p, size_t len)
{
	size_t i = 0;

#ifdef __SSE2__
	while (len - i >= 16) {
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i < len && (unsigned char)p[i] < 0x80)
		i++;
	return i;
}

/* ---- sets of strings ---- */

/* A set is searched by the first bytes of its strings: the window, four bytes or the
 * length of the shortest string if that is less.  At an offset of the text the window is
 * read whole, its bytes folded with | 0x20 (a superset of lower-casing: a byte that
 * lower-cases to a string's byte has the same image) and hashed into a bitmap that fits
 * the first-level cache; only where the bit is set are the strings of that hash compared.
 * Unlike an automaton's walk, one offset does not wait for the one before.
 *
 * Where the processor has AVX2, a first sieve looks at 32 offsets at a time: the strings
 * are spread over groups, by their sorted beginnings so that a group's strings begin
 * alike, and for each of the first bytes two tables give, by two parts of the byte, the
 * groups with a string that has such a byte there (or is shorter).  An offset goes on to
 * the strings of its hash only when some group admits every byte; the bitmap, which would
 * let most of those through, is not asked.
 *
 * The sieve works on 256-bit vectors even where the processor has 512-bit ones: in
 * bounce-extract most searches are a few rounds long between other work, and there
 * 512-bit code made the whole program slower, not faster (a table of 256 bytes needs two
 * two-table permutes, each slower than the shuffles it replaces, and the wide unit takes
 * a port from the other vector code).  With AVX2 the tables are looked up by a byte's low
 * and high halves (a shuffle takes four bits), for 16 groups over SET_SIEVE bytes.  With
 * AVX-512 (BW, VL and VBMI) a permute takes five bits, the low five and the high five,
 * which is as good as the whole byte on mail text; 8 groups over SET_DEEP bytes then let
 * fewer offsets through than 16 groups over SET_SIEVE by halves, for half the lookups, and
 * the loads stop at the text's end, so a text shorter than a round is not copied first.
 *
 * The text ends at its first NUL: rather than a separate pass to find it, the sieve lets
 * every NUL through, and the search stops at the first.  A string never holds a NUL, so
 * no occurrence that runs over it can be found before that. */
enum {
	SET_WINDOW = 4,
	SET_HASH_BITS = 15,        /* the bitmap: 4 KB */
	SET_BUCKET_BITS = 10,      /* the lists of strings, by the hash's top bits */
	SET_SIEVE = 5,             /* bytes the AVX2 sieve looks at */
	SET_DEEP = 6,              /* bytes the AVX-512 sieve looks at (in b2k's searches 7
	                            * was slower, 5 let 27% more offsets through) */
	SET_ROUND = 32,            /* offsets a round of the sieve looks at */
};

struct set_entry {
	uint64_t head, headmask;   /* the string's first eight bytes (or all), and which bytes
	                            * of a word they are */
	uint32_t k;                /* its index */
	uint32_t at;               /* where it starts in the set's bytes */
	size_t len;                /* its length */
};

/* The AVX2 sieve's tables for one byte of the window, each 16 bytes long and written
 * twice, once for each 128-bit half of a vector (a shuffle looks up within its half).
 * low[h][c] has the groups 8h to 8h+7 with a string whose byte there has the low half c
 * (or that is shorter); high[h][c] those whose byte has the high half c or c | 2 (bit 5 of
 * a byte, the case of a letter, is bit 1 of its high half: a table that does not tell them
 * apart folds the text's letters with no instruction spent). */
struct nibble_tables {
	unsigned char low[2][32], high[2][32];
};

/* The AVX-512 sieve's tables for one byte of the window: low[c] has the groups with a
 * string whose byte there has the low five bits c (or that is shorter), high[c] those
 * whose byte has the high five bits c or c | 4 (bit 5 again). */
struct perm_tables {
	unsigned char low[32], high[32];
};

struct scan_set {
	size_t n;                  /* strings */
	size_t maxlen;             /* of the longest */
	size_t window;             /* 1 to SET_WINDOW; 0 when no string can ever match */
	uint32_t keymask;          /* the window's bytes in a 4-byte word */
	unsigned char *len;        /* of each string */
	char *bytes;               /* the strings, each followed by a NUL */
	size_t *at;                /* where each string starts in bytes */
	struct set_entry *entries; /* grouped by bucket */
	uint32_t start[(1u << SET_BUCKET_BITS) + 1];  /* bucket b: entries[start[b]..start[b+1]) */
	uint64_t bits[(1u << SET_HASH_BITS) / 64];
	struct nibble_tables *nibble;  /* [SET_SIEVE], 32-byte aligned inside room */
	struct perm_tables *perm;      /* [SET_DEEP], after them */
	unsigned char room[SET_SIEVE * sizeof(struct nibble_tables) +
		SET_DEEP * sizeof(struct perm_tables) + 31];
	enum scan_set_path path;   /* the search used */
};

static inline uint32_t
set_hash(uint32_t key)
{
	return (key * 0x9e3779b1u) >> (32 - SET_HASH_BITS);
}

/* The folded window at p, which has at least SET_WINDOW bytes. */
static inline uint32_t
window_at(const unsigned char *p, uint32_t keymask)
{
	uint32_t w;

	memcpy(&w, p, sizeof w);
	return (w | 0x20202020u) & keymask;
}

/* The folded window of the avail (at least the window's) bytes at p, near the end. */
static uint32_t
window_short(const unsigned char *p, size_t avail, uint32_t keymask)
{
	unsigned char b[SET_WINDOW] = {0};

	memcpy(b, p, avail < SET_WINDOW ? avail : SET_WINDOW);
	return window_at(b, keymask);
}

/* Can the string ever match?  Not with an upper-case ASCII letter: the text is lowered. */
static bool
matchable(const char *str)
{
	for (; *str; str++)
		if (*str >= 'A' && *str <= 'Z')
			return false;
	return true;
}

struct set_start {
	unsigned char b[SET_DEEP];    /* the first bytes, NUL past the end */
	size_t len;
};

static int
cmp_start(const void *a, const void *b)
{
	return memcmp(((const struct set_start *)a)->b, ((const struct set_start *)b)->b, SET_DEEP);
}

/* Let group g through the AVX2 sieve at a byte of the window when that byte is c (folded). */
static void
nibble_admit(struct nibble_tables *t, size_t g, unsigned char c)
{
	unsigned char bit = (unsigned char)(1u << (g % 8));

	for (size_t half = 0; half < 32; half += 16) {
		t->low[g / 8][half + (c & 15)] |= bit;
		t->high[g / 8][half + (c >> 4)] |= bit;
		t->high[g / 8][half + ((c >> 4) & ~2u)] |= bit;
	}
}

/* Let group g through the AVX-512 sieve at a byte of the window when that byte is c
 * (folded). */
static void
perm_admit(struct perm_tables *t, size_t g, unsigned char c)
{
	unsigned char bit = (unsigned char)(1u << g);

	t->low[c & 31] |= bit;
	t->high[c >> 3] |= bit;
	t->high[(c >> 3) & ~4u] |= bit;
}

/* Fill the sieves' tables: the strings' beginnings (as many bytes as the sieve looks at)
 * sorted and cut in runs of about the same number of distinct beginnings, one a group.
 * A string that ends before byte j lets any byte through there. */
static void
build_groups(struct scan_set *s, const char *const *strings)
{
	size_t nm = 0, nd5 = 0, nd6 = 0;
	struct set_start *w = rb_xcalloc(s->n ? s->n : 1, sizeof *w);

	for (size_t k = 0; k < s->n; k++) {
		if (!matchable(strings[k]))
			continue;
		w[nm].len = s->len[k];
		for (size_t j = 0; j < SET_DEEP && j < s->len[k]; j++)
			w[nm].b[j] = (unsigned char)strings[k][j];
		nm++;
	}
	qsort(w, nm, sizeof *w, cmp_start);
	for (size_t i = 0; i < nm; i++) {
		nd5 += i == 0 || memcmp(w[i].b, w[i - 1].b, SET_SIEVE) != 0;
		nd6 += i == 0 || memcmp(w[i].b, w[i - 1].b, SET_DEEP) != 0;
	}
	for (size_t i = 0, d5 = 0, d6 = 0; i < nm; i++) {
		if (i > 0) {
			d5 += memcmp(w[i].b, w[i - 1].b, SET_SIEVE) != 0;
			d6 += memcmp(w[i].b, w[i - 1].b, SET_DEEP) != 0;
		}
		for (size_t j = 0; j < SET_SIEVE; j++) {
			if (j < w[i].len)
				nibble_admit(&s->nibble[j], d5 * 16 / nd5, w[i].b[j] | 0x20);
			else
				/* 17c has both halves c: every low half and every high half */
				for (unsigned c = 0; c < 256; c += 17)
					nibble_admit(&s->nibble[j], d5 * 16 / nd5, (unsigned char)c);
		}
		for (size_t j = 0; j < SET_DEEP; j++) {
			if (j < w[i].len)
				perm_admit(&s->perm[j], d6 * 8 / nd6, w[i].b[j] | 0x20);
			else
				for (unsigned c = 0; c < 256; c++)
					perm_admit(&s->perm[j], d6 * 8 / nd6, (unsigned char)c);
		}
	}
	free(w);
}

struct scan_set *
scan_set_new(const char *const *strings, size_t n)
{
	struct scan_set *s = rb_xcalloc(1, sizeof *s);
	size_t total = 0, nentries = 0;

	s->n = n;
	s->len = rb_xmalloc(n ? n : 1);
	s->at = rb_xmalloc((n ? n : 1) * sizeof *s->at);
	s->window = SET_WINDOW;
	s->nibble = (struct nibble_tables *)(void *)(s->room + (32 - (uintptr_t)s->room % 32) % 32);
	s->perm = (struct perm_tables *)(void *)(s->nibble + SET_SIEVE);
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(strings[k]);
		if (l == 0 || l > 255)
			rb_die(RB_EXIT_FATAL, "scan_set_new: string %zu has length %zu", k, l);
		s->len[k] = (unsigned char)l;
		s->at[k] = total;
		total += l + 1;
		if (l > s->maxlen)
			s->maxlen = l;
		if (matchable(strings[k])) {
			nentries++;
			if (l < s->window)
				s->window = l;
		}
	}
	if (nentries == 0)
		s->window = 0;
	s->bytes = rb_xmalloc(total ? total : 1);
	for (size_t k = 0; k < n; k++)
		memcpy(s->bytes + s->at[k], strings[k], (size_t)s->len[k] + 1);
	{
		unsigned char m[SET_WINDOW] = {0};
		memset(m, 0xff, s->window);
		memcpy(&s->keymask, m, sizeof s->keymask);
	}

	/* Count the strings of each bucket, then place them: a counting sort. */
	uint32_t *keys = rb_xcalloc(n ? n : 1, sizeof *keys);
	s->entries = rb_xmalloc((nentries ? nentries : 1) * sizeof *s->entries);
	for (size_t k = 0; k < n; k++) {
		if (!matchable(strings[k]))
			continue;
		keys[k] = window_short((const unsigned char *)strings[k], s->len[k], s->keymask);
		uint32_t h = set_hash(keys[k]);
		s->bits[h / 64] |= (uint64_t)1 << (h % 64);
		s->start[(h >> (SET_HASH_BITS - SET_BUCKET_BITS)) + 1]++;
	}
	for (size_t b = 1; b <= 1u << SET_BUCKET_BITS; b++)
		s->start[b] += s->start[b - 1];
	{
		uint32_t fill[1u << SET_BUCKET_BITS];
		memcpy(fill, s->start, sizeof fill);
		for (size_t k = 0; k < n; k++) {
			if (!matchable(strings[k]))
				continue;
			uint32_t b = set_hash(keys[k]) >> (SET_HASH_BITS - SET_BUCKET_BITS);
			uint64_t head = 0, headmask = 0;
			memcpy(&head, strings[k], s->len[k] < 8 ? s->len[k] : 8);
			memset(&headmask, 0xff, s->len[k] < 8 ? s->len[k] : 8);
			s->entries[fill[b]].head = head & headmask;
			s->entries[fill[b]].headmask = headmask;
			s->entries[fill[b]].at = (uint32_t)s->at[k];
			s->entries[fill[b]].len = s->len[k];
			s->entries[fill[b]++].k = (uint32_t)k;
		}
	}
	if (nentries > 0)
		build_groups(s, strings);
	free(keys);
	s->path = SCAN_SET_PORTABLE;
	if (!scan_set_use(s, SCAN_SET_AVX512))
		scan_set_use(s, SCAN_SET_AVX2);
	return s;
}

bool
scan_set_use(struct scan_set *set, enum scan_set_path path)
{
	switch (path) {
	case SCAN_SET_PORTABLE:
		break;
#ifdef SCAN_AVX2
	case SCAN_SET_AVX2:
		if (!__builtin_cpu_supports("avx2"))
			return false;
		break;
	case SCAN_SET_AVX512:
		if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2") ||
		    !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") ||
		    !__builtin_cpu_supports("avx512vbmi"))
			return false;
		break;
#endif
	default:
		return false;
	}
	set->path = path;
	return true;
}

void
scan_set_free(struct scan_set *set)
{
	if (set == NULL)
		return;
	free(set->len);
	free(set->bytes);
	free(set->at);
	free(set->entries);
	free(set);
}

size_t
scan_set_size(const struct scan_set *set)
{
	return set->n;
}

/* The eight bytes at q with their ASCII letters lower-cased, all at once: a byte's top bit
 * tells, after an add that cannot carry into the next byte, whether its low seven bits
 * reach 'A', and whether they pass 'Z'. */
static inline uint64_t
lower8(const unsigned char *q)
{
	const uint64_t ones = 0x0101010101010101u, top = 0x80 * ones;
	uint64_t x, low7;

	memcpy(&x, q, sizeof x);
	low7 = x & ~top;
	uint64_t upper = (low7 + (0x80 - 'A') * ones) & ~(low7 + (0x80 - 'Z' - 1) * ones) & ~x & top;
	return x | upper >> 2;
}

/* Do the bytes of the entry's string after its first eight follow at p[i + 8..), inside
 * p[0..len)?  Eight at a time, the last eight ending where the string does. */
static inline bool
tail_at(const struct scan_set *set, const struct set_entry *e, const unsigned char *p, size_t i,
	size_t len)
{
	const unsigned char *str = (const unsigned char *)set->bytes + e->at;
	size_t l = e->len, j = 8;

	if (len - i < l)
		return false;
	for (; l - j > 8; j += 8) {
		uint64_t y;
		memcpy(&y, str + j, sizeof y);
		if (lower8(p + i + j) != y)
			return false;
	}
	uint64_t y;
	memcpy(&y, str + l - 8, sizeof y);
	return lower8(p + i + l - 8) == y;
}

/* Look at offset i of p[0..len) (with room for the window): with first, lower first[] for
 * the strings that start there and note in *any that one does; without, say whether one
 * does.  Returns whether the search is over (found, without first).  After the sieve the
 * bitmap is not asked (it would let most offsets through): the bucket is. */
static inline bool
visit(const struct scan_set *set, const unsigned char *p, size_t i, size_t len, size_t *first,
	bool *any, bool sieved)
{
	uint32_t key = len - i >= SET_WINDOW ? window_at(p + i, set->keymask) :
		window_short(p + i, len - i, set->keymask);
	uint32_t h = set_hash(key);

	if (!sieved && ((set->bits[h / 64] >> (h % 64)) & 1) == 0)
		return false;
	uint32_t b = h >> (SET_HASH_BITS - SET_BUCKET_BITS);
	const struct set_entry *e = set->entries + set->start[b], *end = set->entries + set->start[b + 1];
	if (e == end)
		return false;
	/* the text's next eight bytes, lower-cased: a string of eight bytes or fewer is then
	 * one compare, and most others part from the text there */
	uint64_t head;
	if (len - i >= 8) {
		head = lower8(p + i);
	} else {
		unsigned char b8[8] = {0};
		memcpy(b8, p + i, len - i);
		head = lower8(b8);
	}
	for (; e < end; e++) {
		/* once the answer is known, only an earlier start than the one held counts */
		if ((head & e->headmask) != e->head || (first && *any && first[e->k] <= i) ||
		    (e->len > 8 && !tail_at(set, e, p, i, len)))
			continue;
		*any = true;
		if (first == NULL)
			return true;
		if (i < first[e->k])
			first[e->k] = i;
	}
	return false;
}

/* Visit the offsets [from, to) one by one, up to the first NUL. */
static bool
search_plain(const struct scan_set *set, const unsigned char *p, size_t from, size_t to,
	size_t len, size_t *first, bool *any)
{
	for (size_t i = from; i < to && p[i] != 0; i++)
		if (visit(set, p, i, len, first, any, false))
			return true;
	return false;
}

/* Visit the offsets i + b for the bits b of mask, up to the first NUL.  Returns whether the
 * search is over (found, without first, or the text's end reached). */
static inline bool
visit_mask(const struct scan_set *set, const unsigned char *p, size_t i, uint32_t mask,
	size_t len, size_t *first, bool *any)
{
	for (; mask != 0; mask &= mask - 1) {
		size_t at = i + (size_t)__builtin_ctz(mask);
		if (p[at] == 0 || visit(set, p, at, len, first, any, true))
			return true;
	}
	return false;
}

#ifdef SCAN_AVX2
/* The offsets of a round whose next SET_SIEVE bytes x[j] some group admits, or that are
 * NUL, as a bit mask: each byte looked up by its halves in the AVX2 tables. */
__attribute__((target("avx2"), always_inline)) static inline uint32_t
round_nibbles(const struct scan_set *set, const __m256i *x)
{
	const __m256i low = _mm256_set1_epi8(0x0f);
	__m256i acc0 = _mm256_set1_epi8(-1), acc1 = acc0;

	for (size_t j = 0; j < SET_SIEVE; j++) {
		const __m256i *tj = (const __m256i *)(const void *)&set->nibble[j];
		__m256i xl = _mm256_and_si256(x[j], low);
		__m256i xh = _mm256_and_si256(_mm256_srli_epi16(x[j], 4), low);
		acc0 = _mm256_and_si256(acc0, _mm256_and_si256(
			_mm256_shuffle_epi8(_mm256_load_si256(tj), xl),
			_mm256_shuffle_epi8(_mm256_load_si256(tj + 2), xh)));
		acc1 = _mm256_and_si256(acc1, _mm256_and_si256(
			_mm256_shuffle_epi8(_mm256_load_si256(tj + 1), xl),
			_mm256_shuffle_epi8(_mm256_load_si256(tj + 3), xh)));
	}
	__m256i none = _mm256_cmpeq_epi8(_mm256_or_si256(acc0, acc1), _mm256_setzero_si256());
	__m256i nul = _mm256_cmpeq_epi8(x[0], _mm256_setzero_si256());
	return ~(uint32_t)_mm256_movemask_epi8(_mm256_andnot_si256(nul, none));
}

/* The same for the next SET_DEEP bytes, each looked up by its low and its high five bits
 * in the AVX-512 tables (a permute of 32 bytes reads only the low five bits of an index). */
__attribute__((target("avx2,avx512bw,avx512vl,avx512vbmi"), always_inline)) static inline uint32_t
round_perm(const struct scan_set *set, const __m256i *x)
{
	__m256i acc = _mm256_set1_epi8(-1);

	for (size_t j = 0; j < SET_DEEP; j++) {
		const struct perm_tables *t = &set->perm[j];
		__m256i lo = _mm256_permutexvar_epi8(x[j],
			_mm256_load_si256((const __m256i *)(const void *)t->low));
		__m256i hi = _mm256_permutexvar_epi8(_mm256_srli_epi16(x[j], 3),
			_mm256_load_si256((const __m256i *)(const void *)t->high));
		acc = _mm256_ternarylogic_epi32(acc, lo, hi, 0x80);   /* acc & lo & hi */
	}
	return (uint32_t)(_mm256_test_epi8_mask(acc, acc) |
		_mm256_cmpeq_epi8_mask(x[0], _mm256_setzero_si256()));
}

/* The bytes of a round that reads w bytes at each offset, at q, all inside the text. */
__attribute__((target("avx2"), always_inline)) static inline void
round_load(__m256i *x, const unsigned char *q, size_t w)
{
	for (size_t j = 0; j < w; j++)
		x[j] = _mm256_loadu_si256((const __m256i *)(const void *)(q + j));
}

/* The sieve over the offsets [0, last) of p[0..len), 32 at a time, reading w bytes at
 * each; the offsets it lets through are visited.  The last round, which would read past
 * the text, reads NUL bytes there instead: from loads that stop at the end where the
 * processor has them (masked), else from a copy. */
__attribute__((target("avx2"), always_inline)) static inline bool
search_rounds(const struct scan_set *set, const unsigned char *p, size_t len, size_t last,
	size_t *first, bool *any, size_t w, uint32_t (*round)(const struct scan_set *, const __m256i *),
	void (*load_tail)(__m256i *, const unsigned char *, size_t, size_t))
{
	__m256i x[SET_DEEP > SET_SIEVE ? SET_DEEP : SET_SIEVE];

	for (size_t i = 0; i < last; i += SET_ROUND) {
		if (len - i >= SET_ROUND + w - 1)
			round_load(x, p + i, w);
		else
			load_tail(x, p + i, len - i, w);
		uint32_t mask = round(set, x);
		if (last - i < SET_ROUND)
			mask &= ((uint32_t)1 << (last - i)) - 1;
		if (visit_mask(set, p, i, mask, len, first, any))
			return true;
	}
	return false;
}

/* The n bytes at q (fewer than a round reads), and NUL bytes after them, from a copy. */
__attribute__((target("avx2"))) static void
tail_copied(__m256i *x, const unsigned char *q, size_t n, size_t w)
{
	unsigned char pad[SET_ROUND + SET_SIEVE] = {0};

	memcpy(pad, q, n);
	round_load(x, pad, w);
}

__attribute__((target("avx2"))) static bool
search_avx2(const struct scan_set *set, const unsigned char *p, size_t len, size_t last,
	size_t *first, bool *any)
{
	return search_rounds(set, p, len, last, first, any, SET_SIEVE, round_nibbles, tail_copied);
}

/* The n bytes at q (fewer than a round reads), and NUL bytes after them, loaded no
 * further. */
__attribute__((target("avx2,bmi2,avx512bw,avx512vl"), always_inline)) static inline void
tail_masked(__m256i *x, const unsigned char *q, size_t n, size_t w)
{
	for (size_t j = 0; j < w; j++) {
		size_t avail = n > j ? n - j : 0;
		x[j] = _mm256_maskz_loadu_epi8((__mmask32)_bzhi_u32(~0u, (unsigned)avail), q + j);
	}
}

__attribute__((target("avx2,bmi2,avx512bw,avx512vl,avx512vbmi"))) static bool
search_avx512(const struct scan_set *set, const unsigned char *p, size_t len, size_t last,
	size_t *first, bool *any)
{
	return search_rounds(set, p, len, last, first, any, SET_DEEP, round_perm, tail_masked);
}
#endif

/* The offsets [0, last) of s[0..len), up to the first NUL, where the window fits. */
static bool
search(const struct scan_set *set, const char *s, size_t len, size_t last, size_t *first)
{
	const unsigned char *p = (const unsigned char *)s;
	bool any = false;

	if (set->window == 0 || len < set->window)
		return false;
	if (last > len + 1 - set->window)
		last = len + 1 - set->window;
	switch (set->path) {
#ifdef SCAN_AVX2
	case SCAN_SET_AVX512:
		search_avx512(set, p, len, last, first, &any);
		break;
	case SCAN_SET_AVX2:
		search_avx2(set, p, len, last, first, &any);
		break;
#endif
	default:
		search_plain(set, p, 0, last, len, first, &any);
		break;
	}
	return any;
}

bool
scan_set_any(const struct scan_set *set, const char *s, size_t len)
{
	return search(set, s, len, len, NULL);
}

bool
scan_set_first(const struct scan_set *set, const char *s, size_t len, size_t *first)
{
	return search(set, s, len, len, first);
}

bool
scan_set_starts_within(const struct scan_set *set, const char *s, size_t len, size_t limit)
{
	/* no occurrence that starts within the limit ends after limit + maxlen */
	if (len > limit + set->maxlen)
		len = limit + set->maxlen;
	return search(set, s, len, limit < len ? limit + 1 : len, NULL);
}

/* Does the lower-case needle[0..k) match at p (ASCII letters of p lower-cased)? */
static bool
match_ci_at(const unsigned char *p, const char *needle, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (ascii_tolower(p[i]) != (unsigned char)needle[i])
			return false;
	return true;
}

/* The needle search looks at the needle's first and last bytes at many starts at once (a
 * pair far apart is rarer in text than two neighbours), and compares the whole needle only
 * where both are there.  A text byte is compared with | 0x20 where the needle's byte is a
 * letter (the fold is exact for letters) and as it is elsewhere.
 *
 * Each of the searches below starts at *i and goes on while its vectors fit; it returns
 * true with the answer in *at once that is known, else false with every start before *i
 * ruled out.  With nul, the text ends at its first NUL: NUL bytes are let through with the
 * needle's, and the first ends the search (no needle holds one, so none runs over it). */
struct needle_ci {
	const unsigned char *needle;
	size_t k;
	unsigned char first, last;        /* its first and last bytes */
	unsigned char first_fold, last_fold;  /* 0x20 where that byte is a letter */
	bool nul;
};

static unsigned char
letter_fold(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? 0x20 : 0;
}

/* Is there a candidate start at j that settles the search?  A NUL that ends the text (the
 * answer is then "none": *at = len) or the needle. */
static inline bool
settles(const struct needle_ci *nd, const unsigned char *p, size_t j, size_t len, size_t *at)
{
	if (nd->nul && p[j] == 0) {
		*at = len;
		return true;
	}
	if (match_ci_at(p + j, (const char *)nd->needle, nd->k)) {
		*at = j;
		return true;
	}
	return false;
}

#ifdef __SSE2__
/* The starts q[0..16) where the needle's first and last bytes are, or a NUL that ends the
 * text, as a bit mask. */
static inline unsigned
hits16(const struct needle_ci *nd, const unsigned char *q)
{
	const __m128i f0 = _mm_set1_epi8((char)nd->first_fold), c0 = _mm_set1_epi8((char)nd->first);
	const __m128i f1 = _mm_set1_epi8((char)nd->last_fold), c1 = _mm_set1_epi8((char)nd->last);
	const __m128i zero = _mm_setzero_si128(), nul = nd->nul ? _mm_set1_epi8(-1) : zero;
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)q);
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(q + nd->k - 1));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(a, f0), c0),
			_mm_cmpeq_epi8(_mm_or_si128(b, f1), c1)),
		_mm_and_si128(_mm_cmpeq_epi8(a, zero), nul)));
}

/* 16 starts at a time; the last few in a round that ends at the text's end, less the starts
 * already looked at. */
static bool
find_ci_sse2(const struct needle_ci *nd, const unsigned char *p, size_t len, size_t *i,
	size_t *at)
{
	for (; len - *i >= nd->k + 15; *i += 16)
		for (unsigned m = hits16(nd, p + *i); m != 0; m &= m - 1)
			if (settles(nd, p, *i + (size_t)__builtin_ctz(m), len, at))
				return true;
	if (len >= nd->k + 15 && len - *i >= nd->k) {
		size_t from = len - nd->k - 15;
		for (unsigned m = hits16(nd, p + from) & (~0u << (*i - from)); m != 0; m &= m - 1)
			if (settles(nd, p, from + (size_t)__builtin_ctz(m), len, at))
				return true;
		*i = len - nd->k + 1;
	}
	return false;
}
#endif

#ifdef SCAN_AVX2
__attribute__((target("avx2"))) static bool
find_ci_avx2(const struct needle_ci *nd, const unsigned char *p, size_t len, size_t *i,
	size_t *at)
{
	const __m256i f0 = _mm256_set1_epi8((char)nd->first_fold), c0 = _mm256_set1_epi8((char)nd->first);
	const __m256i f1 = _mm256_set1_epi8((char)nd->last_fold), c1 = _mm256_set1_epi8((char)nd->last);
	const __m256i zero = _mm256_setzero_si256(), nul = nd->nul ? _mm256_set1_epi8(-1) : zero;

	for (; len - *i >= nd->k + 31; *i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p + *i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + *i + nd->k - 1));
		__m256i hit = _mm256_or_si256(
			_mm256_and_si256(_mm256_cmpeq_epi8(_mm256_or_si256(a, f0), c0),
				_mm256_cmpeq_epi8(_mm256_or_si256(b, f1), c1)),
			_mm256_and_si256(_mm256_cmpeq_epi8(a, zero), nul));
		for (uint32_t m = (uint32_t)_mm256_movemask_epi8(hit); m != 0; m &= m - 1)
			if (settles(nd, p, *i + (size_t)__builtin_ctz(m), len, at))
				return true;
	}
	return false;
}
#endif

/* The first start of the needle in p[0..len) (k <= len), or len. */
static size_t
find_ci(const struct needle_ci *nd, const unsigned char *p, size_t len)
{
	size_t i = 0, at;

#ifdef SCAN_AVX2
	if (len - nd->k >= 31 && __builtin_cpu_supports("avx2") && find_ci_avx2(nd, p, len, &i, &at))
		return at;
#endif
#ifdef __SSE2__
	if (find_ci_sse2(nd, p, len, &i, &at))
		return at;
#endif
	for (; i + nd->k <= len; i++)
		if ((p[i] == 0 && nd->nul) || (ascii_tolower(p[i]) == nd->first &&
		    match_ci_at(p + i, (const char *)nd->needle, nd->k)))
			return p[i] == 0 && nd->nul ? len : i;
	return len;
}

static struct needle_ci
needle_ci_make(const char *needle, size_t k, bool nul)
{
	struct needle_ci nd = {(const unsigned char *)needle, k, (unsigned char)needle[0],
		(unsigned char)needle[k - 1], 0, 0, nul};

	nd.first_fold = letter_fold(nd.first);
	nd.last_fold = letter_fold(nd.last);
	return nd;
}

size_t
scan_find_ci(const char *s, size_t len, const char *needle, size_t k)
{
	if (k == 0 || k > len)
		return k == 0 ? 0 : len;
	struct needle_ci nd = needle_ci_make(needle, k, false);
	return find_ci(&nd, (const unsigned char *)s, len);
}

bool
scan_contains_ci(const char *s, size_t len, const char *needle)
{
	size_t k = strlen(needle);

	if (k == 0 || k > len)
		return k == 0 && len > 0 && s[0] != 0;
	struct needle_ci nd = needle_ci_make(needle, k, true);
	return find_ci(&nd, (const unsigned char *)s, len) < len;
}
