/* scan: the mbox separator search.  The SSE2 version tests 16 positions at a time for the
 * line-end byte followed by "Fr", and only then compares the whole "From "; in mail text
 * that pair is rare enough that the loop runs at the speed of the loads. */
#include "scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

struct scan_set {
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
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

struct scan_set *
scan_set_new(const char *const *strings, size_t n)
{
	struct scan_set *s = rb_xcalloc(1, sizeof *s);
	unsigned char seen[256] = {0}, bytecls[256] = {0};
	size_t total = 1;

	s->n = n;
	s->words = n / 64 + 1;
	s->len = rb_xmalloc(n ? n : 1);
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(strings[k]);
		if (l == 0 || l > 255)
			rb_die(RB_EXIT_FATAL, "scan_set_new: string %zu has length %zu", k, l);
		s->len[k] = (unsigned char)l;
		if (l > s->maxlen)
			s->maxlen = l;
		total += l;
		for (size_t i = 0; i < l; i++)
			seen[(unsigned char)strings[k][i]] = 1;
	}
	if (total > 65535)
		rb_die(RB_EXIT_FATAL, "scan_set_new: %zu states is too many", total);
	/* One class per byte that some string has; a text byte takes its lower-case's class,
	 * so an upper-case byte in a string is never reached, as with strstr. */
	s->nclass = 1;
	for (unsigned c = 0; c < 256; c++)
		if (seen[c])
			bytecls[c] = (unsigned char)s->nclass++;
	for (unsigned c = 1; c < 256; c++)
		s->cls[c] = bytecls[ascii_lower((unsigned char)c)];

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
		rb_die(RB_EXIT_FATAL, "scan_set_new: table too large");
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

void
scan_set_free(struct scan_set *set)
{
	if (set == NULL)
		return;
	free(set->next);
	free(set->masks);
	free(set->len);
	free(set->depth);
	free(set);
}

size_t
scan_set_size(const struct scan_set *set)
{
	return set->n;
}

bool
scan_set_any(const struct scan_set *set, const char *s, size_t len)
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
record_first(const struct scan_set *set, uint32_t row, size_t i, size_t *first)
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

bool
scan_set_first(const struct scan_set *set, const char *s, size_t len, size_t *first)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint32_t *next = set->next, out = set->out_row;
	uint32_t row = 0;
	bool any = false;
	size_t i = 0;

	len = strnlen(s, len);
	/* Two walks at once, as in scan_set_any. */
	if (len >= 256) {
		size_t mid = len / 2, j = mid - (set->maxlen - 1);
		uint32_t row2 = 0;
		for (; i < mid; i++, j++) {
			row = next[row + set->cls[p[i]]];
			row2 = next[row2 + set->cls[p[j]]];
			if (row >= out) {
				record_first(set, row, i, first);
				any = true;
			}
			if (row2 >= out) {
				record_first(set, row2, j, first);
				any = true;
			}
		}
		i = j;
		row = row2;
	}
	for (; i < len; i++) {
		row = next[row + set->cls[p[i]]];
		if (row >= out) {
			record_first(set, row, i, first);
			any = true;
		}
	}
	return any;
}

bool
scan_set_starts_within(const struct scan_set *set, const char *s, size_t len, size_t limit)
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

static unsigned char
ascii_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - ('a' - 'A')) : c;
}

/* Does the lower-case needle[0..k) match at p (ASCII letters of p lower-cased)? */
static bool
match_ci_at(const unsigned char *p, const char *needle, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (ascii_lower(p[i]) != (unsigned char)needle[i])
			return false;
	return true;
}

size_t
scan_find_ci(const char *s, size_t len, const char *needle, size_t k)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (k == 0 || k > len)
		return k == 0 ? 0 : len;
	const unsigned char first = (unsigned char)needle[0], last = (unsigned char)needle[k - 1];
#ifdef __SSE2__
	{
		/* the needle's first and last bytes, 16 starts at a time: a pair far apart is
		 * rarer in text than two neighbours */
		const __m128i lo0 = _mm_set1_epi8((char)first), up0 = _mm_set1_epi8((char)ascii_upper(first));
		const __m128i lo1 = _mm_set1_epi8((char)last), up1 = _mm_set1_epi8((char)ascii_upper(last));
		for (; len - i >= k + 15; i += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + k - 1));
			__m128i hit = _mm_and_si128(
				_mm_or_si128(_mm_cmpeq_epi8(a, lo0), _mm_cmpeq_epi8(a, up0)),
				_mm_or_si128(_mm_cmpeq_epi8(b, lo1), _mm_cmpeq_epi8(b, up1)));
			for (unsigned m = (unsigned)_mm_movemask_epi8(hit); m != 0; m &= m - 1)
				if (match_ci_at(p + i + (size_t)__builtin_ctz(m), needle, k))
					return i + (size_t)__builtin_ctz(m);
		}
	}
#endif
	for (; i + k <= len; i++)
		if (ascii_lower(p[i]) == first && match_ci_at(p + i, needle, k))
			return i;
	return len;
}

bool
scan_contains_ci(const char *s, size_t len, const char *needle)
{
	size_t k = strlen(needle);

	len = strnlen(s, len);
	return k <= len && scan_find_ci(s, len, needle, k) < len;
}
