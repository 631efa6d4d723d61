/* mbox: the archive reader (see mbox.h).
 *
 * Layers, bottom up: a byte source (a file descriptor, through zlib when the data starts
 * with the gzip magic), a read window over the decompressed bytes that keeps a few bytes of
 * history for the empty-line test, and the message splitter.  A message that lies wholly in
 * the window and has no line ends to convert is read in place: one scan finds its end, its
 * quoted lines and any CR, and what is kept of it is copied once it is whole.  Any other
 * message is copied (and its line ends converted) as it is read.  What the filter declines
 * is only scanned.  Rules and their reasons are listed in DEVIATIONS.md. */
#include "mbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MBOX_AVX2 1
#include <immintrin.h>
#endif

#include "scan.h"
#include "util.h"

#define WINDOW_DEFAULT (1u << 20)
#define WINDOW_MIN 1024u
#define RAW_SIZE (256u << 10) /* compressed input buffer */
#define HISTORY 4             /* bytes kept before the read position for the empty-line test */
#define LOOKAHEAD 512         /* bytes the envelope-line test may look at */
#define ENVELOPE_LINE_MAX 256 /* a longer "From " line is not taken for an envelope line */
#define HDR_PIECE 1024        /* bytes converted between looks for the end of the header block */

enum kind { KIND_MBOX, KIND_SINGLE };

/* The decompressed byte stream of one file. */
struct source {
	int fd;
	bool gz;
	bool raw_eof;
	bool zend;              /* the current gzip member is complete */
	bool zinit;
	bool zfailed;           /* report an error on the next read (after the good bytes) */
	bool zmember;           /* a new gzip member has started and produced nothing yet */
	bool zclean;            /* the error came between members: the data before it is whole */
	unsigned char *raw;     /* read-ahead for magic detection and for zlib */
	size_t raw_pos, raw_len;
	z_stream z;
	unsigned long long out; /* decompressed bytes handed out so far (absolute) */
};

struct mbox_reader {
	mbox_filter_fn filter;
	void *filter_arg;
	size_t max_msg;
	size_t window;
	struct mbox_stats stats;

	/* The input as opened. */
	bool is_dir;
	bool maildir;
	char **files;           /* a directory's files, in reading order */
	size_t nfiles, next_file;
	bool finished;
	int final_rc;

	/* The current file. */
	bool file_open;
	char *file;             /* display name */
	enum kind kind;
	bool detect;            /* the kind is still to be found from the first bytes */
	bool force_single;      /* a Maildir file: one message whatever it starts with */
	char nl;                /* line-end byte the separators follow: '\n', or '\r' for CR files */
	struct source src;
	char *buf;              /* the window: buf[0..pos) is history, buf[pos..end) unread */
	size_t pos, end;
	unsigned long long base; /* absolute offset of buf[0] */
	bool eof;
	bool failed;

	mbox_scan_fn scan;      /* the widest version of the marks scan the processor has */
	bool copy_file;         /* the file has CR bytes: its messages are copied and converted */

	/* The current message.  Read in place, it is buf[mstart..pos) of the window so far, and
	 * what is kept of it is copied to msg once it is whole; otherwise msg is built as it is
	 * read. */
	bool in_place, quoted;  /* quoted: a line of it may be a quoted "From " */
	size_t mstart;
	struct rb_buf msg, source, envelope;
	size_t source_prefix;   /* in an mbox, source starts with "FILE:", this long (0: not yet) */
	size_t hdr_len, hdr_scan;
	bool hdr_done, skipping, truncated, body_skipped, pending_cr, filter_called;
};

static void detect_kind(struct mbox_reader *r);

/* ---- the byte source ---- */

static ssize_t
read_fd(int fd, void *p, size_t n)
{
	ssize_t got;

	do
		got = read(fd, p, n);
	while (got < 0 && errno == EINTR);
	return got;
}

/* Read ahead until at least two bytes (the gzip magic) are buffered or the file ends. */
static int
source_start(struct source *s, const char *name)
{
	s->raw = rb_xmalloc(RAW_SIZE);
	while (s->raw_len < 2 && !s->raw_eof) {
		ssize_t n = read_fd(s->fd, s->raw + s->raw_len, RAW_SIZE - s->raw_len);
		if (n < 0) {
			rb_warn_at(name, 0, "read error at offset %zu:", s->raw_len);
			return -1;
		}
		if (n == 0)
			s->raw_eof = true;
		s->raw_len += (size_t)n;
	}
	s->gz = s->raw_len >= 2 && s->raw[0] == 0x1f && s->raw[1] == 0x8b;
	if (s->gz) {
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			rb_die(RB_EXIT_FATAL, "%s: cannot start gzip decompression", name);
		s->zinit = true;
	}
	return 0;
}

static int
source_refill_raw(struct source *s, const char *name)
{
	ssize_t n = read_fd(s->fd, s->raw, RAW_SIZE);

	if (n < 0) {
		rb_warn_at(name, 0, "read error at decompressed offset %llu:", s->out);
		return -1;
	}
	s->raw_pos = 0;
	s->raw_len = (size_t)n;
	if (n == 0)
		s->raw_eof = true;
	return 0;
}

static ssize_t
source_read_gz(struct source *s, const char *name, char *dst, size_t cap)
{
	if (s->zfailed) {
		rb_warn_at(name, 0, "corrupt gzip stream at decompressed offset %llu: %s",
			s->out, s->z.msg ? s->z.msg : "bad data");
		return -1;
	}
	for (;;) {
		if (s->raw_pos == s->raw_len && !s->raw_eof && source_refill_raw(s, name) < 0)
			return -1;
		if (s->zend) {
			if (s->raw_pos == s->raw_len && s->raw_eof)
				return 0;
			/* Another member follows (gzip allows concatenation). */
			inflateReset(&s->z);
			s->zend = false;
			s->zmember = true;
		}
		s->z.next_in = s->raw + s->raw_pos;
		s->z.avail_in = (uInt)(s->raw_len - s->raw_pos);
		s->z.next_out = (unsigned char *)dst;
		s->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
		uInt avail_out = s->z.avail_out;
		int rc = inflate(&s->z, Z_NO_FLUSH);
		size_t produced = avail_out - s->z.avail_out;
		s->raw_pos = s->raw_len - s->z.avail_in;
		s->out += produced;
		if (produced > 0)
			s->zmember = false;
		if (rc == Z_STREAM_END) {
			s->zend = true;
		} else if (rc == Z_BUF_ERROR || (rc == Z_OK && produced == 0)) {
			if (s->raw_pos == s->raw_len && s->raw_eof) {
				if (produced > 0)
					return (ssize_t)produced;
				rb_warn_at(name, 0, "truncated gzip stream at decompressed offset %llu",
					s->out);
				return -1;
			}
		} else if (rc != Z_OK) {
			if (produced > 0) {
				s->zfailed = true;
				return (ssize_t)produced;
			}
			rb_warn_at(name, 0, "corrupt gzip stream at decompressed offset %llu: %s",
				s->out, s->z.msg ? s->z.msg : "bad data");
			s->zclean = s->zmember;
			return -1;
		}
		if (produced > 0)
			return (ssize_t)produced;
	}
}

/* Up to cap decompressed bytes: >0 bytes, 0 at the end, -1 after reporting an error. */
static ssize_t
source_read(struct source *s, const char *name, char *dst, size_t cap)
{
	if (s->gz)
		return source_read_gz(s, name, dst, cap);
	if (s->raw_pos < s->raw_len) {
		size_t n = s->raw_len - s->raw_pos;
		if (n > cap)
			n = cap;
		memcpy(dst, s->raw + s->raw_pos, n);
		s->raw_pos += n;
		s->out += n;
		return (ssize_t)n;
	}
	if (s->raw_eof)
		return 0;
	ssize_t n = read_fd(s->fd, dst, cap);
	if (n < 0) {
		rb_warn_at(name, 0, "read error at offset %llu:", s->out);
		return -1;
	}
	if (n == 0)
		s->raw_eof = true;
	s->out += (size_t)n;
	return n;
}

static void
source_end(struct source *s)
{
	if (s->zinit)
		inflateEnd(&s->z);
	if (s->fd > STDIN_FILENO)
		close(s->fd);
	free(s->raw);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

/* ---- the scan of a message read in place ---- */

/* Is p[i] a place the in-place reader must look at (see mbox_scan_marks_for)? */
static inline bool
is_mark(const char *p, size_t i, size_t len)
{
	return p[i] == '\r' || (p[i] == '\n' && i + 1 < len && (p[i + 1] == 'F' || p[i + 1] == '>'));
}

static size_t
marks_portable(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (is_mark(p, i, len))
			return i;
	return len;
}

#ifdef __SSE2__
/* 16 places at a time: a CR, or a LF whose next byte is 'F' or '>'. */
static size_t
marks_sse2(const char *p, size_t len)
{
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	const __m128i f = _mm_set1_epi8('F'), gt = _mm_set1_epi8('>');
	size_t i = 0;

	/* each round reads p[i..i+17): places i..i+15 and the byte after each */
	while (len - i >= 17) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		__m128i next = _mm_or_si128(_mm_cmpeq_epi8(y, f), _mm_cmpeq_epi8(y, gt));
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, cr),
			_mm_and_si128(_mm_cmpeq_epi8(x, lf), next));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);

		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
	return i + marks_portable(p + i, len - i);
}
#endif

#ifdef MBOX_AVX2
/* The marks among the 32 places at p (reading p[0..33)). */
__attribute__((target("avx2"))) static inline __m256i
marks32(const char *p)
{
	const __m256i cr = _mm256_set1_epi8('\r'), lf = _mm256_set1_epi8('\n');
	const __m256i f = _mm256_set1_epi8('F'), gt = _mm256_set1_epi8('>');
	__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(p + 1));
	__m256i next = _mm256_or_si256(_mm256_cmpeq_epi8(y, f), _mm256_cmpeq_epi8(y, gt));

	return _mm256_or_si256(_mm256_cmpeq_epi8(x, cr), _mm256_and_si256(_mm256_cmpeq_epi8(x, lf), next));
}

/* The same, 64 places a round: marks are a few a message, so one test a round is enough. */
__attribute__((target("avx2"))) static size_t
marks_avx2(const char *p, size_t len)
{
	size_t i = 0;

	while (len - i >= 65) {
		__m256i a = marks32(p + i), b = marks32(p + i + 32), any = _mm256_or_si256(a, b);
		if (!_mm256_testz_si256(any, any)) {
			unsigned ma = (unsigned)_mm256_movemask_epi8(a);
			if (ma != 0)
				return i + (size_t)__builtin_ctz(ma);
			return i + 32 + (size_t)__builtin_ctz((unsigned)_mm256_movemask_epi8(b));
		}
		i += 64;
	}
	return i + marks_portable(p + i, len - i);
}

/* The same with AVX-512 (BW): 64 places a round, the tests in mask registers. */
__attribute__((target("avx512f,avx512bw"))) static size_t
marks_avx512(const char *p, size_t len)
{
	const __m512i cr = _mm512_set1_epi8('\r'), lf = _mm512_set1_epi8('\n');
	const __m512i f = _mm512_set1_epi8('F'), gt = _mm512_set1_epi8('>');
	size_t i = 0;

	while (len - i >= 65) {
		__m512i x = _mm512_loadu_si512((const void *)(p + i));
		__m512i y = _mm512_loadu_si512((const void *)(p + i + 1));
		__mmask64 next = _mm512_cmpeq_epi8_mask(y, f) | _mm512_cmpeq_epi8_mask(y, gt);
		__mmask64 hit = _mm512_cmpeq_epi8_mask(x, cr) |
			(_mm512_cmpeq_epi8_mask(x, lf) & next);

		if (hit != 0)
			return i + (size_t)__builtin_ctzll(hit);
		i += 64;
	}
	return i + marks_portable(p + i, len - i);
}
#endif

mbox_scan_fn
mbox_scan_marks_for(enum mbox_scan_path path)
{
	switch (path) {
	case MBOX_SCAN_PORTABLE:
		return marks_portable;
	case MBOX_SCAN_SSE2:
#ifdef __SSE2__
		return marks_sse2;
#else
		return NULL;
#endif
	case MBOX_SCAN_AVX2:
#ifdef MBOX_AVX2
		return __builtin_cpu_supports("avx2") ? marks_avx2 : NULL;
#else
		return NULL;
#endif
	case MBOX_SCAN_AVX512:
#ifdef MBOX_AVX2
		return __builtin_cpu_supports("avx512bw") ? marks_avx512 : NULL;
#else
		return NULL;
#endif
	}
	return NULL;
}

static mbox_scan_fn
widest_scan(void)
{
	mbox_scan_fn fn = mbox_scan_marks_for(MBOX_SCAN_AVX512);

	if (fn == NULL)
		fn = mbox_scan_marks_for(MBOX_SCAN_AVX2);
	if (fn == NULL)
		fn = mbox_scan_marks_for(MBOX_SCAN_SSE2);
	return fn != NULL ? fn : marks_portable;
}

/* ---- the window ---- */

static void spill(struct mbox_reader *r);

/* Drop consumed bytes (keeping HISTORY of them) and read once more.  A message read in
 * place that goes on past the window is copied from here on: it is a large one, whose body
 * the filter may decline, and then only its header block is copied. */
static void
fill(struct mbox_reader *r)
{
	if (r->eof)
		return;
	if (r->in_place)
		spill(r);
	size_t keep = r->pos < HISTORY ? r->pos : HISTORY;
	size_t drop = r->pos - keep;
	if (drop > 0) {
		memmove(r->buf, r->buf + drop, r->end - drop);
		r->pos -= drop;
		r->end -= drop;
		r->base += drop;
	}
	if (r->end == r->window)
		return;
	ssize_t n = source_read(&r->src, r->file, r->buf + r->end, r->window - r->end);
	if (n < 0) {
		r->failed = r->eof = true;
		r->stats.errors++;
	} else if (n == 0) {
		r->eof = true;
	} else {
		r->end += (size_t)n;
		r->stats.bytes += (unsigned long long)n;
	}
}

static void
ensure_ahead(struct mbox_reader *r, size_t n)
{
	while (r->end - r->pos < n && !r->eof)
		fill(r);
}

/* The byte at window index i (which may be before the window start: that is the start of
 * the input, which counts as a line end). */
static int
byte_at(const struct mbox_reader *r, size_t back)
{
	return back > r->pos ? r->nl : (unsigned char)r->buf[r->pos - back];
}

/* ---- the message being built ---- */

static bool
append_bounded(struct mbox_reader *r, const char *p, size_t n)
{
	/* One byte over the limit is allowed: it may be the separator's empty line. */
	size_t room = r->max_msg + 1 - r->msg.len;

	if (n > room) {
		rb_buf_add(&r->msg, p, room);
		r->truncated = r->skipping = true;
		return false;
	}
	rb_buf_add(&r->msg, p, n);
	return true;
}

/* Append with CRLF and lone CR turned into LF; a CR at the end of one piece and an LF at
 * the start of the next are one line end. */
static void
convert_append(struct mbox_reader *r, const char *p, size_t n)
{
	while (n > 0) {
		if (r->pending_cr) {
			r->pending_cr = false;
			if (*p == '\n') {
				p++;
				n--;
				continue;
			}
		}
		const char *cr = memchr(p, '\r', n);
		size_t run = cr ? (size_t)(cr - p) : n;
		if (!append_bounded(r, p, run) || cr == NULL)
			return;
		if (!append_bounded(r, "\n", 1))
			return;
		r->pending_cr = true;
		p = cr + 1;
		n -= run + 1;
	}
}

/* Undo mboxrd quoting in msg[from..to) (from at a line start): ">From " -> "From ",
 * ">>From " -> ">From ".  The rest of the buffer moves down; returns the bytes removed. */
static size_t
unquote(struct rb_buf *b, size_t from, size_t to)
{
	char *d = b->data;
	size_t rd = from, wr = from, removed = 0, k = from;
	bool line_start = from == 0 || d[from - 1] == '\n';

	/* A quoted line starts with '>': look at line starts that have one (a line end then
	 * '>', found 16 bytes at a time), and at from itself when it starts a line. */
	while (k < to) {
		if (line_start && d[k] == '>') {
			size_t j = k;
			while (j < to && d[j] == '>')
				j++;
			if (to - j >= 5 && memcmp(d + j, "From ", 5) == 0) {
				memmove(d + wr, d + rd, k - rd);
				wr += k - rd;
				rd = k + 1;
				removed++;
			}
		}
		line_start = true;
		if (to - k < 2)
			break;
		k += scan_pair(d + k, to - k, '\n', '>') + 1;
	}
	if (removed > 0) {
		memmove(d + wr, d + rd, b->len - rd);
		b->len -= removed;
		d[b->len] = '\0';
	}
	return removed;
}

/* Does the line at p, which starts with '>' and has n bytes in the window, start with a
 * quoted "From " (">From ", ">>From "...)?  It may when the window ends too soon to say. */
static bool
may_quote_from(const char *p, size_t n)
{
	size_t j = 1;

	while (j < n && p[j] == '>')
		j++;
	return n - j < 5 || memcmp(p + j, "From ", 5) == 0;
}

/* Might the message b have quoted "From " lines?  One copied has not been looked at; one
 * read in place has, but for its first line, by the scan that found its end. */
static bool
may_be_quoted(const struct mbox_reader *r, const struct rb_buf *b)
{
	return r->kind == KIND_MBOX && (!r->in_place || r->quoted ||
		(b->len > 0 && b->data[0] == '>' && may_quote_from(b->data, b->len)));
}

/* b is the message: r->msg, or the window's bytes of one read in place. */
static void
run_filter(struct mbox_reader *r, struct rb_buf *b)
{
	r->filter_called = true;
	if (r->filter != NULL && !r->filter(b->data, r->hdr_len, r->filter_arg)) {
		b->len = r->hdr_len;
		r->skipping = r->body_skipped = true;
	}
}

/* Has the header block ended?  Then undo quoting in it and ask the filter. */
static void
check_header(struct mbox_reader *r, struct rb_buf *b)
{
	const char *d = b->data;
	size_t len = b->len, from = r->hdr_scan > 0 ? r->hdr_scan - 1 : 0, hdr_end;

	if (len == 0)
		return;
	if (d[0] == '\n') {
		hdr_end = 1;
	} else {
		size_t q = from + scan_pair(d + from, len - from, '\n', '\n');
		if (q == len) {
			r->hdr_scan = len;
			return;
		}
		hdr_end = q + 2;
	}
	r->hdr_done = true;
	r->hdr_len = hdr_end;
	if (may_be_quoted(r, b))
		r->hdr_len -= unquote(b, 0, hdr_end);
	run_filter(r, b);
}

/* Keep n raw bytes of the message (or only pass over them when skipping). */
static void
emit(struct mbox_reader *r, const char *p, size_t n)
{
	while (n > 0 && !r->skipping) {
		size_t piece = n;
		if (!r->hdr_done && piece > HDR_PIECE)
			piece = HDR_PIECE;
		convert_append(r, p, piece);
		p += piece;
		n -= piece;
		if (!r->hdr_done)
			check_header(r, &r->msg);
	}
}

/* The message read in place so far, buf[mstart..pos), is copied after all (it goes on past
 * the window, is longer than the limit, or has line ends to convert): it goes on as one
 * read by copying. */
static void
spill(struct mbox_reader *r)
{
	r->in_place = false;
	emit(r, r->buf + r->mstart, r->pos - r->mstart);
}

/* Empty b, which then holds "" (never NULL). */
static void
make_empty(struct rb_buf *b)
{
	if (b->data == NULL)
		rb_buf_add(b, "", 0);
	b->len = 0;
	b->data[0] = '\0';
}

static void
message_reset(struct mbox_reader *r)
{
	make_empty(&r->msg);
	make_empty(&r->envelope);
	r->hdr_len = r->hdr_scan = 0;
	r->hdr_done = r->skipping = r->truncated = r->body_skipped = false;
	r->pending_cr = r->filter_called = false;
}

/* ---- splitting ---- */

static bool
is_weekday(const char *p)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	for (size_t i = 0; i < sizeof days - 1; i += 3)
		if (memcmp(p, days + i, 3) == 0)
			return true;
	return false;
}

static bool
is_month(const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (size_t i = 0; i < sizeof months - 1; i += 3)
		if (memcmp(p, months + i, 3) == 0)
			return true;
	return false;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Is line p[0..n) (without its line end) an envelope line:
 * "From SENDER WWW MMM DD HH:MM[:SS] [ZONE...] YYYY [ZONE...]"? */
static bool
is_envelope_line(const char *p, size_t n)
{
	size_t i = 5;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return false;
	while (i < n && p[i] != ' ')          /* the sender: one word */
		i++;
	if (i == 5)
		return false;
	while (i < n && p[i] == ' ')
		i++;
	if (n - i < 3 || !is_weekday(p + i) || n - i < 8 || p[i + 3] != ' ')
		return false;
	i += 4;
	if (!is_month(p + i) || p[i + 3] != ' ')
		return false;
	i += 4;
	while (i < n && p[i] == ' ')
		i++;
	size_t d = i;
	while (i < n && is_digit(p[i]))
		i++;
	if (i == d || i - d > 2 || i >= n || p[i] != ' ')
		return false;
	i++;
	/* The time: HH:MM or HH:MM:SS. */
	if (n - i < 5 || !is_digit(p[i]) || !is_digit(p[i + 1]) || p[i + 2] != ':' ||
	    !is_digit(p[i + 3]) || !is_digit(p[i + 4]))
		return false;
	i += 5;
	if (n - i >= 3 && p[i] == ':' && is_digit(p[i + 1]) && is_digit(p[i + 2]))
		i += 3;
	/* Then words, one of which is a four-digit year. */
	bool year = false;
	while (i < n) {
		if (p[i] != ' ')
			return false;
		while (i < n && p[i] == ' ')
			i++;
		size_t w = i;
		while (i < n && p[i] != ' ')
			i++;
		if (i - w == 4 && is_digit(p[w]) && is_digit(p[w + 1]) && is_digit(p[w + 2]) &&
		    is_digit(p[w + 3]))
			year = true;
	}
	return year;
}

/* Does p[0..n) start with a header field name and a colon? */
static bool
is_header_line(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && i < 128 && p[i] > ' ' && p[i] < 127 && p[i] != ':')
		i++;
	return i > 0 && i < n && p[i] == ':';
}

/* At r->pos is "From " after a line end: does it start a message?  *blank tells whether an
 * empty line came before it (that line belongs to the separator, not to the message). */
static bool
is_separator(struct mbox_reader *r, bool *blank)
{
	int c2 = byte_at(r, 2), c3 = byte_at(r, 3);

	*blank = c2 == r->nl || (r->nl == '\n' && c2 == '\r' && c3 == '\n');
	if (*blank)
		return true;
	ensure_ahead(r, LOOKAHEAD);
	const char *p = r->buf + r->pos;
	size_t avail = r->end - r->pos;
	const char *e = memchr(p, r->nl, avail < ENVELOPE_LINE_MAX ? avail : ENVELOPE_LINE_MAX);
	if (e == NULL)
		return false;
	size_t n = (size_t)(e - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (!is_envelope_line(p, n))
		return false;
	e++;
	if (r->nl == '\r' && e < r->buf + r->end && *e == '\n')
		e++;
	return is_header_line(e, (size_t)(r->buf + r->end - e));
}

/* Pass the "From " line at r->pos, keeping its text after "From ". */
static void
skip_envelope(struct mbox_reader *r)
{
	r->pos += 5;
	for (;;) {
		if (r->pos == r->end) {
			fill(r);
			if (r->pos == r->end)
				break;
		}
		const char *p = r->buf + r->pos;
		const char *q = memchr(p, r->nl, r->end - r->pos);
		size_t n = q ? (size_t)(q - p) : r->end - r->pos;
		size_t room = MBOX_MAX_ENVELOPE + 1 - r->envelope.len;
		rb_buf_add(&r->envelope, p, n < room ? n : room);
		r->pos += n;
		if (q != NULL) {
			r->pos++;
			break;
		}
	}
	struct rb_buf *e = &r->envelope;
	if (e->len > 0 && e->data[e->len - 1] == '\r')
		e->len--;
	if (e->len > MBOX_MAX_ENVELOPE)
		e->len = MBOX_MAX_ENVELOPE;
	e->data[e->len] = '\0';
}

/* Pass over message bytes in the window without copying them, up to the next place to
 * look at.  Returns true when r->pos stops at "From " after a line end, all of it in the
 * window. */
static bool
pass_in_place(struct mbox_reader *r, size_t avail)
{
	const char *p = r->buf + r->pos;

	if (r->kind == KIND_SINGLE) {
		const char *cr = memchr(p, '\r', avail);
		r->pos += cr ? (size_t)(cr - p) : avail;
		if (cr != NULL) {
			r->copy_file = true;
			spill(r);
		}
		return false;
	}
	size_t i = r->scan(p, avail);
	if (i == avail) {
		/* A candidate may straddle the window end: keep its first bytes. */
		r->pos += r->eof ? avail : avail > 5 ? avail - 5 : 0;
		return false;
	}
	if (p[i] == '\r') {
		/* Line ends to convert: this message and the rest of the file are copied. */
		r->pos += i;
		r->copy_file = true;
		spill(r);
		return false;
	}
	if (p[i + 1] == '>') {
		r->quoted = r->quoted || may_quote_from(p + i + 1, avail - i - 1);
		r->pos += i + 1;
		return false;
	}
	if (avail - i < 6 && !r->eof) {
		/* Not all of a possible "From " is in the window yet. */
		r->pos += i;
		return false;
	}
	r->pos += i + 1;
	return avail - i >= 6 && memcmp(p + i + 1, "From ", 5) == 0;
}

/* Read the message body up to the next separator (or the end of the file): in place, or
 * copied as it goes. */
static bool
read_body(struct mbox_reader *r)
{
	bool blank;

	for (;;) {
		if (r->end - r->pos < 6 && !r->eof)
			fill(r);
		size_t avail = r->end - r->pos;
		if (avail == 0 && r->eof)
			return false;
		if (r->in_place) {
			if (pass_in_place(r, avail) && is_separator(r, &blank))
				return blank;
			continue;
		}
		if (r->kind == KIND_SINGLE) {
			emit(r, r->buf + r->pos, avail);
			r->pos = r->end;
			continue;
		}
		size_t i = scan_from_line(r->buf + r->pos, avail, r->nl);
		if (i == avail) {
			/* A candidate may straddle the window end: keep its first bytes. */
			size_t n = r->eof ? avail : avail > 5 ? avail - 5 : 0;
			emit(r, r->buf + r->pos, n);
			r->pos += n;
			continue;
		}
		emit(r, r->buf + r->pos, i + 1);
		r->pos += i + 1;
		if (is_separator(r, &blank))
			return blank;
	}
}

/* The source "file:offset", as "%s:%llu" would write it, without printf's cost for every
 * message: "file:" stays from one message of a file to the next. */
static void
set_file_offset(struct mbox_reader *r, unsigned long long offset)
{
	char digits[24];
	size_t n = sizeof digits;

	do {
		digits[--n] = (char)('0' + offset % 10);
		offset /= 10;
	} while (offset > 0);
	if (r->source_prefix == 0) {
		make_empty(&r->source);
		rb_buf_adds(&r->source, r->file);
		rb_buf_addc(&r->source, ':');
		r->source_prefix = r->source.len;
	}
	r->source.len = r->source_prefix;
	rb_buf_add(&r->source, digits + n, sizeof digits - n);
}

/* The message read in place is whole: its header block is looked at where it lies (quoting
 * undone there, the filter asked), and what is kept is copied to msg.  The analysis that
 * follows reads a message many times, and runs faster on the one reused buffer than on
 * bytes left in the window. */
static void
take_in_place(struct mbox_reader *r)
{
	struct rb_buf v;

	v.data = r->buf + r->mstart;
	v.len = r->pos - r->mstart;
	v.cap = v.len;
	check_header(r, &v);
	rb_buf_add(&r->msg, v.data, v.len);
}

static void
finish_message(struct mbox_reader *r, struct mbox_msg *m, unsigned long long offset,
	bool blank_end)
{
	struct rb_buf *b = &r->msg;

	/* One longer than the limit is cut as it is when copied. */
	if (r->in_place && r->pos - r->mstart > r->max_msg)
		spill(r);
	if (r->in_place)
		take_in_place(r);
	/* The empty line before a separator, or at the end of an mbox, is not the message's. */
	if (r->kind == KIND_MBOX && blank_end && !r->skipping && b->len > 0 &&
	    b->data[b->len - 1] == '\n' && (b->len == 1 || b->data[b->len - 2] == '\n'))
		b->len--;
	if (b->len > r->max_msg) {
		b->len = r->max_msg;
		r->truncated = true;
	}
	b->data[b->len] = '\0';
	if (r->hdr_len > b->len)
		r->hdr_len = b->len;
	if (!r->body_skipped && may_be_quoted(r, b))
		unquote(b, r->hdr_done ? r->hdr_len : 0, b->len);
	if (!r->hdr_done)
		r->hdr_len = b->len;
	if (!r->filter_called)
		run_filter(r, b);
	r->in_place = false;

	if (r->kind == KIND_MBOX) {
		set_file_offset(r, offset);
	} else {
		make_empty(&r->source);
		rb_buf_adds(&r->source, r->file);
	}
	memset(m, 0, sizeof *m);
	m->data = b->data;
	m->len = b->len;
	m->hdr_len = r->hdr_len;
	m->file = r->file;
	m->offset = offset;
	m->source = r->source.data;
	m->truncated = r->truncated;
	m->body_skipped = r->body_skipped;
	m->envelope = r->envelope.data;
	m->envelope_len = r->envelope.len;
	r->stats.messages++;
	if (r->truncated)
		r->stats.truncated++;
}

/* 1: a message; 0: the file is done; -1: the file ended in an error. */
static int
next_in_file(struct mbox_reader *r, struct mbox_msg *m)
{
	if (r->detect)
		detect_kind(r);
	if (r->pos == r->end)
		fill(r);
	if (r->pos == r->end)
		return r->failed ? -1 : 0;

	unsigned long long offset = r->base + r->pos;
	message_reset(r);
	if (r->end - r->pos >= 5 && memcmp(r->buf + r->pos, "From ", 5) == 0)
		skip_envelope(r);
	r->in_place = !r->copy_file;
	r->mstart = r->pos;
	r->quoted = false;
	bool blank_end = read_body(r);
	if (r->failed && r->src.zclean) {
		/* Garbage after a complete gzip member: what came before is whole. */
		blank_end = true;
	} else if (r->failed) {
		/* The input broke inside this message: hand out what there is, marked cut. */
		if ((r->in_place ? r->pos == r->mstart : r->msg.len == 0) &&
		    r->envelope.len == 0) {
			r->in_place = false;
			return -1;
		}
		r->truncated = true;
		blank_end = false;
	} else if (r->eof && r->pos == r->end) {
		blank_end = true;
	}
	finish_message(r, m, offset, blank_end);
	return 1;
}

/* ---- files and directories ---- */

static void
close_file(struct mbox_reader *r)
{
	if (!r->file_open)
		return;
	source_end(&r->src);
	free(r->file);
	r->file = NULL;
	r->file_open = false;
}

static char
detect_nl(const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);
	const char *cr = memchr(p, '\r', lf ? (size_t)(lf - p) : n);

	if (cr != NULL && cr + 1 < p + n && cr[1] != '\n')
		return '\r';
	return '\n';
}

/* Open a file (or stdin) for reading from a decompressed offset.  A Maildir file is one
 * message whatever its content. */
static int
open_file(struct mbox_reader *r, const char *path, unsigned long long offset, bool single)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		rb_warn_at(path, 0, "cannot open:");
		r->stats.errors++;
		return -1;
	}
	memset(&r->src, 0, sizeof r->src);
	r->src.fd = fd;
	r->file = rb_xstrdup(rb_display_name(path));
	r->file_open = true;
	r->pos = r->end = 0;
	r->base = offset;
	r->eof = r->failed = false;
	r->in_place = r->copy_file = false;
	r->source_prefix = 0;
	r->stats.files++;
	if (source_start(&r->src, r->file) < 0) {
		r->stats.errors++;
		close_file(r);
		return -1;
	}
	struct stat st;
	if (offset > 0 && !r->src.gz && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    offset <= (unsigned long long)st.st_size &&
	    lseek(fd, (off_t)offset, SEEK_SET) == (off_t)offset) {
		r->src.raw_pos = r->src.raw_len = 0;
		r->src.raw_eof = false;
		r->src.out = offset;
	} else {
		unsigned long long skipped = 0;
		while (skipped < offset) {
			unsigned long long want = offset - skipped;
			ssize_t n = source_read(&r->src, r->file, r->buf,
				want < r->window ? (size_t)want : r->window);
			if (n <= 0) {
				if (n == 0)
					rb_warn_at(r->file, 0, "offset %llu is past the end of the data",
						offset);
				r->stats.errors++;
				close_file(r);
				return -1;
			}
			skipped += (unsigned long long)n;
		}
	}
	r->detect = true;
	r->force_single = single;
	return 0;
}

/* Decide the kind of file from its first bytes (left to the first read, so that the
 * window size may still be changed after opening). */
static void
detect_kind(struct mbox_reader *r)
{
	r->detect = false;
	while (r->end < 5 && !r->eof)
		fill(r);
	r->kind = !r->force_single && r->end >= 5 && memcmp(r->buf, "From ", 5) == 0
		? KIND_MBOX : KIND_SINGLE;
	r->nl = detect_nl(r->buf, r->end);
	r->copy_file = r->nl == '\r';
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	struct rb_buf b = { 0 };

	rb_buf_add(&b, dir, n);
	if (n == 0 || dir[n - 1] != '/')
		rb_buf_addc(&b, '/');
	rb_buf_adds(&b, name);
	return b.data;
}

static bool
is_directory(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Append dir's regular files (not dotfiles), sorted by name.  An entry whose kind cannot
 * be known (a dangling symlink, no permission) is listed too: opening it in turn reports
 * why, so that nothing is skipped silently. */
static int
list_files(struct mbox_reader *r, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = r->nfiles, cap = r->nfiles;

	if (d == NULL) {
		rb_warn_at(dir, 0, "cannot read directory:");
		r->stats.errors++;
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *path = join_path(dir, de->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (r->nfiles == cap) {
			cap = cap ? cap * 2 : 64;
			r->files = rb_xreallocarray(r->files, cap, sizeof *r->files);
		}
		r->files[r->nfiles++] = path;
	}
	if (errno != 0) {
		rb_warn_at(dir, 0, "cannot read directory:");
		r->stats.errors++;
	}
	closedir(d);
	if (r->nfiles > first)
		qsort(r->files + first, r->nfiles - first, sizeof *r->files, compare_names);
	return 0;
}

static int
open_directory(struct mbox_reader *r, const char *path)
{
	char *cur = join_path(path, "cur"), *new = join_path(path, "new");

	r->is_dir = true;
	r->maildir = is_directory(cur) || is_directory(new);
	if (r->maildir) {
		if (is_directory(new))
			list_files(r, new);
		if (is_directory(cur))
			list_files(r, cur);
	} else {
		list_files(r, path);
	}
	free(cur);
	free(new);
	return 0;
}

/* ---- the interface ---- */

struct mbox_reader *
mbox_open_at(const char *path, unsigned long long offset)
{
	struct mbox_reader *r = rb_xcalloc(1, sizeof *r);

	r->max_msg = MBOX_MAX_MSG;
	r->window = WINDOW_DEFAULT;
	r->scan = widest_scan();
	r->src.fd = -1;
	if (strcmp(path, "-") != 0 && is_directory(path)) {
		if (offset > 0) {
			rb_warn_at(path, 0, "a start offset needs a file, not a directory");
			free(r);
			return NULL;
		}
		open_directory(r, path);
		return r;
	}
	r->buf = rb_xmalloc(r->window);
	if (open_file(r, path, offset, false) < 0) {
		mbox_close(r);
		return NULL;
	}
	return r;
}

struct mbox_reader *
mbox_open(const char *path)
{
	return mbox_open_at(path, 0);
}

void
mbox_set_filter(struct mbox_reader *r, mbox_filter_fn fn, void *arg)
{
	r->filter = fn;
	r->filter_arg = arg;
}

void
mbox_set_max_msg(struct mbox_reader *r, size_t max)
{
	r->max_msg = max > 0 && max < MBOX_MAX_MSG ? max : MBOX_MAX_MSG;
}

void
mbox_set_window(struct mbox_reader *r, size_t size)
{
	if (size < WINDOW_MIN)
		size = WINDOW_MIN;
	if (size < r->end) /* too late: bytes were read already */
		return;
	r->buf = rb_xrealloc(r->buf, size);
	r->window = size;
}

int
mbox_next(struct mbox_reader *r, struct mbox_msg *m)
{
	for (;;) {
		if (r->finished)
			return r->final_rc;
		if (!r->file_open) {
			if (!r->is_dir || r->next_file == r->nfiles) {
				r->finished = true;
				r->final_rc = r->stats.errors > 0 ? -1 : 0;
				continue;
			}
			if (r->buf == NULL)
				r->buf = rb_xmalloc(r->window);
			open_file(r, r->files[r->next_file++], 0, r->maildir);
			continue;
		}
		int rc = next_in_file(r, m);
		if (rc == 1)
			return 1;
		close_file(r);
	}
}

const struct mbox_stats *
mbox_get_stats(const struct mbox_reader *r)
{
	return &r->stats;
}

void
mbox_close(struct mbox_reader *r)
{
	if (r == NULL)
		return;
	close_file(r);
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->files);
	free(r->buf);
	rb_buf_free(&r->msg);
	rb_buf_free(&r->source);
	rb_buf_free(&r->envelope);
	free(r);
}
