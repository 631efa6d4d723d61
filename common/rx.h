/* rx: PCRE2 behind a small seam.  Compile (with the library's error text and offset), match,
 * free.  Patterns are compiled caseless and dot-all, in byte mode (no UTF check, so any bytes
 * a bounce carries are a valid subject), JIT-compiled when the platform allows, and each
 * compiled pattern owns one match-data block allocated once. */
#ifndef RB_RX_H
#define RB_RX_H

#include <stddef.h>

struct rx;

/* Compile pattern (length len).  On failure returns NULL, writes the PCRE2 message into
 * err (errsize bytes) and the offending offset into *erroff. */
struct rx *rx_compile(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff);
/* 1 when subject matches, 0 when not, -1 on a matching error (match limit, ...).
 * When mark is not NULL it receives the name of the last (*MARK:NAME) passed on the
 * matching path, or NULL. */
/* Whether pattern compiles: 0, or -1 with err and *erroff set as by rx_compile.  Cheaper
 * than rx_compile and rx_free, as nothing is JIT-compiled. */
int rx_check(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff);
int rx_match(struct rx *rx, const char *subject, size_t len, const char **mark);
void rx_free(struct rx *rx);

/* Literals of which every match of pattern contains one, lower-cased (ASCII), so that a
 * substring search can rule the pattern out before it is run.  Returns how many (each
 * malloc'd, the array in *out), or 0 when no such set with every literal at least min
 * bytes long is known: for constructs it does not follow, it claims nothing. */
size_t rx_literals(const char *pattern, size_t min, char ***out);

#endif
