/* rx: PCRE2 behind a small seam.  Compile (with the library's error text and offset), match,
 * free.  Patterns are compiled caseless and dot-all, in byte mode (no UTF check, so any bytes
 * a bounce carries are a valid subject), and JIT-compiled at their first match when the
 * platform allows.  Matching goes through a context (struct rx_ctx) shared by all the
 * patterns of a program: one match-data block, and limits on the work and memory of one
 * match, so that no pattern on no subject takes unbounded time or memory. */
#ifndef RB_RX_H
#define RB_RX_H

#include <stddef.h>

struct rx;
struct rx_ctx;

/* Longer patterns are refused by the compiler ("pattern string is longer than the limit"). */
#define RX_PATTERN_MAX 32768u
/* One match may backtrack this many times and use this much heap (the interpreter; the JIT
 * uses its fixed default stack) before it gives up as a matching error. */
#define RX_MATCH_LIMIT 1000000
#define RX_HEAP_LIMIT_KIB 4096

/* Compile pattern (length len).  On failure returns NULL, writes the PCRE2 message into
 * err (errsize bytes) and the offending offset into *erroff. */
struct rx *rx_compile(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff);
/* Whether pattern compiles: 0 with its compiled size in *size (when not NULL), or -1 with err
 * and *erroff set as by rx_compile.  Cheaper than rx_compile and rx_free, as nothing is
 * JIT-compiled. */
int rx_check(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff, size_t *size);
/* A matching context: the match data and limits, for one thread of matching at a time. */
struct rx_ctx *rx_ctx_new(void);
void rx_ctx_free(struct rx_ctx *ctx);
/* 1 when subject matches, 0 when not, -1 on a matching error (match limit, ...).
 * When mark is not NULL it receives the name of the last (*MARK:NAME) passed on the
 * matching path, or NULL. */
int rx_match(struct rx *rx, struct rx_ctx *ctx, const char *subject, size_t len, const char **mark);
void rx_free(struct rx *rx);

/* Literals of which every match of pattern contains one, lower-cased (ASCII), so that a
 * substring search can rule the pattern out before it is run.  Returns how many (each
 * malloc'd, the array in *out), or 0 when no such set with every literal at least min
 * bytes long is known: for constructs it does not follow, it claims nothing. */
size_t rx_literals(const char *pattern, size_t min, char ***out);

#endif
