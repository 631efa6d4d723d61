/* scan: the mbox separator search.  The SSE2 version tests 16 positions at a time for the
 * line-end byte followed by "Fr", and only then compares the whole "From "; in mail text
 * that pair is rare enough that the loop runs at the speed of the loads. */
#include "scan.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char from_[] = "From ";

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

size_t
scan_from_line(const char *p, size_t len, char nl)
{
	return scan_from_line_simd(p, len, nl);
}
