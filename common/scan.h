/* scan: searching bytes at memory speed: mbox separator candidates ("From " at the start of
 * a line), byte pairs, and sets of literal strings.
 *
 * The reader hands a window of raw bytes and the line-end byte of the file ('\n', or '\r'
 * for a file with lone CR line ends); the scan returns the first place where that byte is
 * followed by "From ".  Whether the candidate really separates two messages (an empty line
 * before it, or an envelope line) is decided by the reader, which sees the context. */
#ifndef RB_SCAN_H
#define RB_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Index i of the first nl byte in p[0..len) with p[i+1..i+6) == "From " (all six bytes inside
 * the window), or len when there is none.  A candidate whose bytes run past the end of the
 * window is not reported: the caller keeps the last five bytes for the next window. */
size_t scan_from_line(const char *p, size_t len, char nl);

/* The two implementations behind scan_from_line, exported so the tests can compare them.
 * scan_from_line_simd is the portable one where SSE2 is not available. */
size_t scan_from_line_portable(const char *p, size_t len, char nl);
size_t scan_from_line_simd(const char *p, size_t len, char nl);

/* Index i of the first a byte in p[0..len) followed by a b byte (both inside), or len. */
size_t scan_pair(const char *p, size_t len, char a, char b);

/* Index of the first byte of p[0..len) at or above 0x80 (not ASCII), or len. */
size_t scan_ascii_run(const char *p, size_t len);

/* A set of literal strings searched for all at once (a sieve over the strings' first bytes,
 * 32 offsets at a time, then a hash of their first four bytes, then a compare), with the
 * text's ASCII letters lower-cased as it is read: the same answers as lower-casing the text
 * and calling strstr for every string, in one pass.
 * A string with an upper-case ASCII letter never matches, as with strstr on lower-cased
 * text.  The text ends at its length or at its first NUL byte, whichever comes first; all
 * of s[0..len) must be readable (the search may look past the NUL, never past len), so a
 * caller need not find the NUL first.  Sets are built once and never change. */
struct scan_set;

/* Compile n strings (none empty, none longer than 255 bytes). */
struct scan_set *scan_set_new(const char *const *strings, size_t n);
/* The ways a set can be searched, all with the same answers: offset by offset, or with a
 * sieve on 256-bit vectors, by AVX2 or by AVX-512 (BW, VL and VBMI: a finer sieve, and
 * loads that stop at the text's end).  scan_set_new picks the last the processor has;
 * scan_set_use (for the tests) makes the set use another, and returns false, changing
 * nothing, when the processor lacks it. */
enum scan_set_path { SCAN_SET_PORTABLE, SCAN_SET_AVX2, SCAN_SET_AVX512 };
bool scan_set_use(struct scan_set *set, enum scan_set_path path);
size_t scan_set_size(const struct scan_set *set);
void scan_set_free(struct scan_set *set);
/* Does any of the strings occur in s[0..len)? */
bool scan_set_any(const struct scan_set *set, const char *s, size_t len);
/* For every string k that occurs, lower first[k] to the offset of its first occurrence when
 * that is smaller (the caller sets first[] to SIZE_MAX before the first text).  Returns
 * whether any string occurs. */
bool scan_set_first(const struct scan_set *set, const char *s, size_t len, size_t *first);
/* Does any of the strings occur starting at an offset of at most limit? */
bool scan_set_starts_within(const struct scan_set *set, const char *s, size_t len, size_t limit);

/* The first offset of needle[0..k) (lower case) in s[0..len), ASCII letters of s compared
 * without case, NUL bytes included; len if none.  Only the first and last bytes are
 * compared at every start, 32 starts at a time where AVX2 is, 16 where SSE2 is. */
size_t scan_find_ci(const char *s, size_t len, const char *needle, size_t k);
/* Does needle (lower case, not empty) occur in s[0..len) with the text's ASCII letters
 * lower-cased, the text ending at its first NUL?  The same answer as a set of that one
 * string, found as scan_find_ci finds it; s[0..len) must be readable, as for a set. */
bool scan_contains_ci(const char *s, size_t len, const char *needle);

#endif
