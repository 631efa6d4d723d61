/* util: the error format, exit codes and checked allocation shared by every program. */
#ifndef RB_UTIL_H
#define RB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* One exit scheme for the whole suite (DESIGN.md). */
enum {
	RB_EXIT_OK = 0,       /* success */
	RB_EXIT_BADINPUT = 1, /* some input was bad, reported and skipped; the rest was processed */
	RB_EXIT_FATAL = 2     /* the run could not be done: usage, unreadable rules, failed write */
};

/* The worse of two exit statuses: the one a run that saw both ends with. */
int rb_worse(int a, int b);

/* Name used in every message; set once from argv[0] before anything else. */
void rb_init(const char *argv0);
const char *rb_progname(void);

/* "prog: msg" on stderr.  A format ending in ':' gets ": strerror(errno)" appended. */
void rb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: file:line: msg"; line 0 prints "prog: file: msg". */
void rb_warn_at(const char *file, unsigned long long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rb_vwarn_at(const char *file, unsigned long long line, const char *fmt, va_list ap);
/* rb_warn, then exit with status. */
_Noreturn void rb_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that never returns NULL: on failure the program stops with status 2. */
void *rb_xmalloc(size_t n);
void *rb_xcalloc(size_t n, size_t size);
void *rb_xrealloc(void *p, size_t n);
void *rb_xreallocarray(void *p, size_t n, size_t size);
char *rb_xstrdup(const char *s);
char *rb_xstrndup(const char *s, size_t n);

/* "prog (rebounce) VERSION" on stdout. */
void rb_print_version(void);

/* Flush and check stdout; returns status, or RB_EXIT_FATAL if a write failed (reported). */
int rb_finish(int status);

/* One --stats counter on stderr: "prog: name: n", the layout every program shares
 * (rebounce(7), STATS).  name is lower-case words.  Call after rb_finish(), so that the
 * counters come after every warning, a failed write to stdout included. */
void rb_stat(const char *name, unsigned long long n);

/* Path of a shipped data file (rules, domains, templates): $REBOUNCE_SHARE/NAME, else
 * beside the executable (../share/rebounce/NAME, then ../share/NAME for a source tree),
 * else the compiled-in share directory.  Returns a malloc'd path (may not exist). */
char *rb_share_path(const char *name);

/* Name to print for an input path: "-" is shown as "stdin". */
const char *rb_display_name(const char *path);

/* A growable byte buffer (always NUL-terminated). */
struct rb_buf {
	char *data;
	size_t len;
	size_t cap;
};
void rb_buf_reserve(struct rb_buf *b, size_t extra);
void rb_buf_add(struct rb_buf *b, const void *p, size_t n);
void rb_buf_addc(struct rb_buf *b, char c);
void rb_buf_adds(struct rb_buf *b, const char *s);
void rb_buf_printf(struct rb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rb_buf_clear(struct rb_buf *b);
void rb_buf_free(struct rb_buf *b);

#endif
