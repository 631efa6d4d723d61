/* scan: finding mbox separator candidates ("From " at the start of a line) at memory speed.
 *
 * The reader hands a window of raw bytes and the line-end byte of the file ('\n', or '\r'
 * for a file with lone CR line ends); the scan returns the first place where that byte is
 * followed by "From ".  Whether the candidate really separates two messages (an empty line
 * before it, or an envelope line) is decided by the reader, which sees the context. */
#ifndef RB_SCAN_H
#define RB_SCAN_H

#include <stddef.h>

/* Index i of the first nl byte in p[0..len) with p[i+1..i+6) == "From " (all six bytes inside
 * the window), or len when there is none.  A candidate whose bytes run past the end of the
 * window is not reported: the caller keeps the last five bytes for the next window. */
size_t scan_from_line(const char *p, size_t len, char nl);

/* The two implementations behind scan_from_line, exported so the tests can compare them.
 * scan_from_line_simd is the portable one where SSE2 is not available. */
size_t scan_from_line_portable(const char *p, size_t len, char nl);
size_t scan_from_line_simd(const char *p, size_t len, char nl);

#endif
