#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RB_VERSION
#define RB_VERSION "0.0.0"
#endif
#ifndef RB_SHAREDIR
#define RB_SHAREDIR "/usr/local/share/rebounce"
#endif

/* Set once at start-up from argv[0]; read-only afterwards. */
static const char *progname = "rebounce";

/* A pipe between two filters holds 64 KiB: a writer that fills it waits for the reader,
 * and the stages of a pipeline take turns in small steps.  Where Linux allows, the pipe
 * on fd is made to hold 1 MiB, so each stage runs longer between switches.  Nothing
 * depends on it: a refusal (not a pipe, over the system's limit) changes nothing. */
static void
widen_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
	int saved = errno;
	(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
	errno = saved;
#else
	(void)fd;
#endif
}

void
rb_init(const char *argv0)
{
	const char *slash;

	widen_pipe(STDOUT_FILENO);
	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

const char *
rb_progname(void)
{
	return progname;
}

static void
vwarn_common(const char *file, unsigned long long line, const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	if (file != NULL) {
		if (line > 0)
			fprintf(stderr, "%s:%llu: ", file, line);
		else
			fprintf(stderr, "%s: ", file);
	}
	vfprintf(stderr, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
	errno = saved;
}

void
rb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_common(NULL, 0, fmt, ap);
	va_end(ap);
}

void
rb_vwarn_at(const char *file, unsigned long long line, const char *fmt, va_list ap)
{
	vwarn_common(file, line, fmt, ap);
}

void
rb_warn_at(const char *file, unsigned long long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_common(file, line, fmt, ap);
	va_end(ap);
}

void
rb_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_common(NULL, 0, fmt, ap);
	va_end(ap);
	exit(status);
}

void *
rb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		rb_die(RB_EXIT_FATAL, "out of memory allocating %zu bytes", n);
	return p;
}

void *
rb_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		rb_die(RB_EXIT_FATAL, "out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *
rb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		rb_die(RB_EXIT_FATAL, "out of memory allocating %zu bytes", n);
	return q;
}

void *
rb_xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		rb_die(RB_EXIT_FATAL, "allocation of %zu x %zu bytes overflows", n, size);
	return rb_xrealloc(p, n * size);
}

char *
rb_xstrdup(const char *s)
{
	return rb_xstrndup(s, strlen(s));
}

char *
rb_xstrndup(const char *s, size_t n)
{
	char *p = rb_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
rb_print_version(void)
{
	printf("%s (rebounce) %s\n", progname, RB_VERSION);
}

int
rb_finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		rb_warn("write error on stdout:");
		return RB_EXIT_FATAL;
	}
	if (fclose(stdout) != 0) {
		rb_warn("write error on stdout:");
		return RB_EXIT_FATAL;
	}
	return status;
}

void
rb_stat(const char *name, unsigned long long n)
{
	fprintf(stderr, "%s: %s: %llu\n", progname, name, n);
}

static char *
join_path(const char *dir, size_t dirlen, const char *rel, const char *name)
{
	size_t n = dirlen + strlen(rel) + strlen(name) + 3;
	char *p = rb_xmalloc(n);

	snprintf(p, n, "%.*s/%s%s", (int)dirlen, dir, rel, name);
	return p;
}

char *
rb_share_path(const char *name)
{
	static const char *const rel[] = { "../share/rebounce/", "../share/" };
	const char *env = getenv("REBOUNCE_SHARE");
	char exe[PATH_MAX];
	ssize_t n;

	if (env != NULL && *env != '\0')
		return join_path(env, strlen(env), "", name);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
				char *p = join_path(exe, (size_t)(slash - exe), rel[i], name);

				if (access(p, F_OK) == 0)
					return p;
				free(p);
			}
		}
	}
	return join_path(RB_SHAREDIR, strlen(RB_SHAREDIR), "", name);
}

int
rb_worse(int a, int b)
{
	return a > b ? a : b;
}

const char *
rb_display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

void
rb_buf_reserve(struct rb_buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		rb_die(RB_EXIT_FATAL, "buffer size overflows");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = rb_xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0'; /* a buffer is always a string, even a new empty one */
}

void
rb_buf_add(struct rb_buf *b, const void *p, size_t n)
{
	rb_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
rb_buf_addc(struct rb_buf *b, char c)
{
	rb_buf_add(b, &c, 1);
}

void
rb_buf_adds(struct rb_buf *b, const char *s)
{
	rb_buf_add(b, s, strlen(s));
}

void
rb_buf_printf(struct rb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	rb_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
rb_buf_clear(struct rb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
rb_buf_free(struct rb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
