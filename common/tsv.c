#include "tsv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "util.h"

/* Bytes asked of the stream at a time.  Lines are split in place in the input buffer, so a
 * record costs no copy unless it spans a refill. */
#define TSV_READ_CHUNK (64u << 10)

/* Refill the input buffer after its unread bytes, which move to its start.  Always leaves a
 * byte free after the data, for the NUL that ends a last line without LF.  Returns 0, or -1
 * on a read error (reported); sets r->eof when the stream has no more bytes. */
static int
fill(struct tsv_reader *r)
{
	size_t n, need;

	if (r->inpos > 0) {
		r->inoff += r->inpos;
		memmove(r->in, r->in + r->inpos, r->inlen - r->inpos);
		r->inlen -= r->inpos;
		r->inpos = 0;
	}
	need = r->inlen + r->chunk + 1;
	if (r->incap < need) {
		/* Double, so a long line costs few reallocations; a line over TSV_MAX_LINE is
		 * discarded before the buffer grows much past it. */
		size_t cap = r->incap * 2 > need ? r->incap * 2 : need;

		r->in = rb_xrealloc(r->in, cap);
		r->incap = cap;
	}
	n = fread(r->in + r->inlen, 1, r->incap - r->inlen - 1, r->fp);
	if (n == 0) {
		if (ferror(r->fp)) {
			rb_warn_at(r->name, 0, "read error:");
			return -1;
		}
		r->eof = true;
	}
	r->inlen += n;
	return 0;
}

/* Next raw line, without its LF (or CR LF) and NUL-terminated, in place in the input buffer:
 * *line points at it until the next call.  Returns its length, -2 at end of input, -1 on a
 * read error, -3 for a line over TSV_MAX_LINE (consumed and discarded). */
static ssize_t
next_line(struct tsv_reader *r, char **line)
{
	size_t seen = 0, len;
	bool toolong = false;
	char *start;

	for (;;) {
		size_t avail = r->inlen - r->inpos;
		char *nl;

		start = r->in + r->inpos;
		nl = avail > seen ? memchr(start + seen, '\n', avail - seen) : NULL;
		if (nl != NULL) {
			len = (size_t)(nl - start);
			r->inpos += len + 1;
			break;
		}
		if (avail > TSV_MAX_LINE) {
			/* Too long already: drop what is buffered and look for the line's end. */
			toolong = true;
			r->inpos = r->inlen;
			avail = 0;
		}
		seen = avail;
		if (r->eof) {
			if (avail == 0 && !toolong)
				return -2;
			len = avail; /* last line without LF */
			r->inpos = r->inlen;
			break;
		}
		if (fill(r) < 0)
			return -1;
	}
	r->lineno++;
	if (toolong || len > TSV_MAX_LINE)
		return -3;
	if (len > 0 && start[len - 1] == '\r') {
		if (!r->warned_cr) {
			rb_warn_at(r->name, r->lineno, "CRLF line ends; carriage returns removed");
			r->warned_cr = true;
		}
		len--;
	}
	start[len] = '\0';
	*line = start;
	return (ssize_t)len;
}

ssize_t
tsv_unescape(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '\\') {
			s[o++] = s[i];
			continue;
		}
		if (++i == len)
			return -1;
		switch (s[i]) {
		case '\\': s[o++] = '\\'; break;
		case 't': s[o++] = '\t'; break;
		case 'n': s[o++] = '\n'; break;
		case 'r': s[o++] = '\r'; break;
		default: return -1;
		}
	}
	s[o] = '\0';
	return (ssize_t)o;
}

/* Split line (length len, NUL-terminated) in place into at most max fields; returns the
 * field count. */
static size_t
split(struct tsv_reader *r, char *line, size_t len, size_t max)
{
	size_t n = 0;
	char *p = line, *end = line + len;

	for (;;) {
		char *tab = memchr(p, '\t', (size_t)(end - p));
		char *stop = tab ? tab : end;

		if (n < max) {
			r->field[n] = p;
			r->flen[n] = (size_t)(stop - p);
		}
		n++;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

bool
tsv_same_header(const struct tsv_reader *r, char *const *cols, size_t ncols)
{
	if (r->ncols != ncols)
		return false;
	for (size_t i = 0; i < ncols; i++)
		if (strcmp(r->cols[i], cols[i]) != 0)
			return false;
	return true;
}

bool
tsv_is_column_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int
tsv_open(struct tsv_reader *r, FILE *fp, const char *name)
{
	return tsv_open_size(r, fp, name, TSV_READ_CHUNK);
}

int
tsv_open_size(struct tsv_reader *r, FILE *fp, const char *name, size_t chunk)
{
	ssize_t len;
	size_t n, i;
	char *line;

	memset(r, 0, sizeof *r);
	r->fp = fp;
	r->name = name;
	r->chunk = chunk > 0 ? chunk : 1;
	/* the scan computes pointers into the buffer before the first read */
	r->incap = r->chunk + 1;
	r->in = rb_xmalloc(r->incap);
	len = next_line(r, &line);
	if (len == -2)
		return 0;
	if (len == -1)
		return -1;
	if (len == -3) {
		rb_warn_at(r->name, r->lineno, "header line longer than %u bytes", TSV_MAX_LINE);
		return -1;
	}
	/* Count first, then split for real. */
	n = 1;
	for (i = 0; i < (size_t)len; i++)
		n += line[i] == '\t';
	r->field = rb_xcalloc(n, sizeof *r->field);
	r->flen = rb_xcalloc(n, sizeof *r->flen);
	r->ncols = split(r, line, (size_t)len, n);
	r->cols = rb_xcalloc(r->ncols, sizeof *r->cols);
	for (i = 0; i < r->ncols; i++) {
		r->cols[i] = rb_xstrndup(r->field[i], r->flen[i]);
		if (!tsv_is_column_name(r->cols[i])) {
			rb_warn_at(r->name, r->lineno, "bad header: column %zu is \"%s\", not a snake_case name",
				i + 1, r->cols[i]);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->cols[i], r->cols[j]) == 0) {
				rb_warn_at(r->name, r->lineno, "bad header: column \"%s\" appears twice", r->cols[i]);
				return -1;
			}
	}
	return 1;
}

/* Unescape the fields of the current record that hold a backslash.  Returns the index of
 * the first bad one, or -1 when all are good. */
static ssize_t
unescape_fields(struct tsv_reader *r)
{
	for (size_t i = 0; i < r->ncols; i++) {
		ssize_t l;

		if (memchr(r->field[i], '\\', r->flen[i]) == NULL)
			continue;
		if ((l = tsv_unescape(r->field[i], r->flen[i])) < 0)
			return (ssize_t)i;
		r->flen[i] = (size_t)l;
	}
	return -1;
}

int
tsv_read(struct tsv_reader *r)
{
	for (;;) {
		char *line;
		ssize_t len = next_line(r, &line), bad;
		size_t n;

		if (len == -2)
			return 0;
		if (len == -1)
			return -1;
		if (len == -3) {
			rb_warn_at(r->name, r->lineno, "record longer than %u bytes skipped", TSV_MAX_LINE);
			r->nbad++;
			continue;
		}
		n = split(r, line, (size_t)len, r->ncols);
		if (n != r->ncols) {
			rb_warn_at(r->name, r->lineno, "record has %zu fields, header has %zu; skipped", n, r->ncols);
			r->nbad++;
			continue;
		}
		/* Most records have no escape at all: one search rules them out. */
		r->plain = memchr(line, '\\', (size_t)len) == NULL;
		if (!r->plain && (bad = unescape_fields(r)) >= 0) {
			rb_warn_at(r->name, r->lineno, "bad backslash escape in column \"%s\"; record skipped",
				r->cols[bad]);
			r->nbad++;
			continue;
		}
		if (r->plain && memchr(line, '\r', (size_t)len) != NULL)
			r->plain = false;
		r->nrecords++;
		return 1;
	}
}

void
tsv_close(struct tsv_reader *r)
{
	for (size_t i = 0; i < r->ncols; i++)
		free(r->cols[i]);
	free(r->cols);
	free(r->field);
	free(r->flen);
	free(r->in);
	memset(r, 0, sizeof *r);
}

const char *
tsv_ahead(const struct tsv_reader *r, size_t *len, unsigned long long *offset)
{
	*len = r->inlen - r->inpos;
	*offset = r->inoff + r->inpos;
	return r->in + r->inpos;
}

ssize_t
tsv_column(const struct tsv_reader *r, const char *name)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (strcmp(r->cols[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

const char *
tsv_get(const struct tsv_reader *r, ssize_t idx)
{
	return idx < 0 || (size_t)idx >= r->ncols ? "" : r->field[idx];
}

/* The bytes the writer escapes. */
static bool
special(unsigned char c)
{
	return c == '\\' || c == '\t' || c == '\n' || c == '\r';
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Might a byte of the eight in x need an escape?  True when one is below 14 (TAB, LF, CR
 * and the other controls) or a backslash; the bytes are then looked at one by one. */
static inline bool
word_may_need_escape(uint64_t x)
{
	uint64_t bs = x ^ (ONES * '\\');

	return ((((x - ONES * 14) & ~x) | ((bs - ONES) & ~bs)) & HIGHS) != 0;
}

/* Length of the leading run of s that needs no escape, eight bytes at a time. */
static size_t
plain_run(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		for (; i + 8 <= len; i += 8) {
			uint64_t x;

			memcpy(&x, s + i, 8);
			if (word_may_need_escape(x))
				break;
		}
		for (size_t stop = i + 8 < len ? i + 8 : len; i < stop; i++)
			if (special((unsigned char)s[i]))
				return i;
	}
	return len;
}

/* The scans pad p with bytes that need no escape, so that they read whole words or vectors
 * up to the end without a loop for the last bytes. */
static void
pad(char *p, size_t len)
{
	memset(p + len, 'x', TSV_SCAN_PAD);
}

size_t
tsv_scan_special_portable(char *p, size_t len)
{
	pad(p, len);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		if (word_may_need_escape(x))
			for (size_t j = i; j < i + 8; j++)
				if (special((unsigned char)p[j]))
					return j;
	}
	return len;
}

#ifdef __SSE2__
/* Sixteen bytes at a time: a byte at most 13 (min(x, 13) == x) or a backslash may need an
 * escape, and is then looked at alone.  Inline in the writer: its values are short. */
static inline size_t
scan_special(char *p, size_t len)
{
	const __m128i c13 = _mm_set1_epi8(13), bs = _mm_set1_epi8('\\');

	pad(p, len);
	for (size_t i = 0; i < len; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i maybe = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, c13), x),
			_mm_cmpeq_epi8(x, bs));
		for (unsigned m = (unsigned)_mm_movemask_epi8(maybe); m != 0; m &= m - 1) {
			size_t j = i + (size_t)__builtin_ctz(m);
			if (special((unsigned char)p[j]))
				return j;
		}
	}
	return len;
}
#else
static inline size_t
scan_special(char *p, size_t len)
{
	return tsv_scan_special_portable(p, len);
}
#endif

size_t
tsv_scan_special_simd(char *p, size_t len)
{
	return scan_special(p, len);
}

/* The escape of a special byte: the letter after the backslash. */
static char
escape_letter(char c)
{
	switch (c) {
	case '\t': return 't';
	case '\n': return 'n';
	case '\r': return 'r';
	default: return '\\';
	}
}

/* Escape s, which starts with a byte that needs it, into o; returns the end.  Runs that
 * need none are copied, escapes written one at a time. */
static char *
escape_from(char *o, const char *s, size_t len)
{
	while (len > 0) {
		*o++ = '\\';
		*o++ = escape_letter(*s);
		s++;
		len--;
		size_t run = plain_run(s, len);
		memcpy(o, s, run);
		o += run;
		s += run;
		len -= run;
	}
	return o;
}

/* Escape s into o, which has room for 2 * len + TSV_SCAN_PAD bytes; returns the end.  Most
 * values need no escape: s is copied whole and the copy scanned, padded; the rest is
 * escaped from the first byte that needs it. */
static inline char *
put_escaped(char *o, const char *s, size_t len)
{
	memcpy(o, s, len);
	size_t k = scan_special(o, len);

	return k == len ? o + len : escape_from(o + k, s + k, len - k);
}

/* A record or field is escaped into a buffer on the stack and written a buffer at a time:
 * one write call a record, not one a byte or a field, and no state kept between calls. */
#define OUT_SIZE 4096

struct tsv_out {
	FILE *fp;
	size_t len;
	bool err;
	char buf[OUT_SIZE + TSV_SCAN_PAD];
};

static void
out_flush(struct tsv_out *o)
{
	if (o->len > 0 && !o->err && fwrite(o->buf, 1, o->len, o->fp) != o->len)
		o->err = true;
	o->len = 0;
}

/* Append s escaped; a long value goes in pieces (an escape never spans two bytes of input). */
static void
out_escaped(struct tsv_out *o, const char *s, size_t len)
{
	while (len > 0) {
		size_t n = (OUT_SIZE - o->len) / 2; /* room even if every byte is escaped */

		if (n == 0) {
			out_flush(o);
			continue;
		}
		if (n > len)
			n = len;
		o->len = (size_t)(put_escaped(o->buf + o->len, s, n) - o->buf);
		s += n;
		len -= n;
	}
}

static void
out_byte(struct tsv_out *o, char c)
{
	if (o->len == OUT_SIZE)
		out_flush(o);
	o->buf[o->len++] = c;
}

int
tsv_write_field(FILE *fp, const char *s, size_t len)
{
	struct tsv_out o;

	o.fp = fp;
	o.len = 0;
	o.err = false;
	out_escaped(&o, s, len);
	out_flush(&o);
	return o.err ? -1 : 0;
}

int
tsv_write_record(FILE *fp, const char *const *fields, const size_t *lens, size_t n)
{
	struct tsv_out o;

	o.fp = fp;
	o.len = 0;
	o.err = false;
	for (size_t i = 0; i < n && !o.err; i++) {
		const char *f = fields[i] ? fields[i] : "";

		if (i > 0)
			out_byte(&o, '\t');
		out_escaped(&o, f, lens ? lens[i] : strlen(f));
	}
	out_byte(&o, '\n');
	out_flush(&o);
	return o.err ? -1 : 0;
}

void
tsv_plan_init(struct tsv_plan *p, const struct tsv_reader *r, const char *const *owned, size_t nowned)
{
	p->nin = r->ncols;
	p->nowned = nowned;
	p->owned = owned;
	p->slot = rb_xcalloc(nowned, sizeof *p->slot);
	p->out_of = rb_xcalloc(r->ncols, sizeof *p->out_of);
	p->out = rb_xcalloc(1, sizeof *p->out);
	for (size_t i = 0; i < r->ncols; i++)
		p->out_of[i] = -1;
	for (size_t k = 0; k < nowned; k++) {
		p->slot[k] = tsv_column(r, owned[k]);
		if (p->slot[k] >= 0)
			p->out_of[p->slot[k]] = (ssize_t)k;
	}
}

void
tsv_plan_free(struct tsv_plan *p)
{
	free(p->slot);
	free(p->out_of);
	if (p->out != NULL)
		rb_buf_free(p->out);
	free(p->out);
	memset(p, 0, sizeof *p);
}

int
tsv_plan_write_header(const struct tsv_plan *p, const struct tsv_reader *r, FILE *fp)
{
	bool first = true;

	for (size_t i = 0; i < p->nin; i++) {
		if (!first && putc('\t', fp) == EOF)
			return -1;
		if (fputs(r->cols[i], fp) == EOF)
			return -1;
		first = false;
	}
	for (size_t k = 0; k < p->nowned; k++) {
		if (p->slot[k] >= 0)
			continue;
		if (!first && putc('\t', fp) == EOF)
			return -1;
		if (fputs(p->owned[k], fp) == EOF)
			return -1;
		first = false;
	}
	return putc('\n', fp) == EOF ? -1 : 0;
}

/* Room for n more bytes in b. */
static inline void
room(struct rb_buf *b, size_t n)
{
	if (b->cap - b->len <= n)
		rb_buf_reserve(b, n);
}

/* Append a field, escaped, and a TAB to b. */
static void
add_field(struct rb_buf *b, const char *s, size_t len)
{
	room(b, 2 * len + 1 + TSV_SCAN_PAD);
	b->len = (size_t)(put_escaped(b->data + b->len, s, len) - b->data);
	b->data[b->len++] = '\t';
}

static void
add_owned(struct rb_buf *b, const char *const *vals, const size_t *lens, size_t k)
{
	const char *v = vals[k] ? vals[k] : "";

	add_field(b, v, lens ? lens[k] : strlen(v));
}

/* Append input fields from, to, of a plain record, and a TAB, to b; returns the index after
 * the last one appended.  Fields that still lie side by side in the input buffer, NULs
 * where the TABs were, go in one copy. */
static size_t
add_plain_run(struct rb_buf *b, const struct tsv_plan *p, const struct tsv_reader *r, size_t i)
{
	const char *start = r->field[i];
	size_t j = i, span;
	char *o;

	while (j + 1 < p->nin && p->out_of[j + 1] < 0 && r->field[j + 1] == r->field[j] + r->flen[j] + 1)
		j++;
	span = (size_t)(r->field[j] + r->flen[j] - start);
	room(b, span + 1);
	o = b->data + b->len;
	memcpy(o, start, span);
	for (size_t k = i + 1; k <= j; k++)
		o[r->field[k] - start - 1] = '\t';
	o[span] = '\t';
	b->len += span + 1;
	return j + 1;
}

/* The record is put together in the plan's buffer and written with one call.  The input
 * fields of a plain record (r->plain: nothing in it to escape) are copied as they are. */
int
tsv_plan_write(const struct tsv_plan *p, const struct tsv_reader *r, const char *const *vals,
	const size_t *lens, FILE *fp)
{
	struct rb_buf *b = p->out;

	b->len = 0;
	for (size_t i = 0; i < p->nin;) {
		if (p->out_of[i] >= 0)
			add_owned(b, vals, lens, (size_t)p->out_of[i++]);
		else if (r->plain)
			i = add_plain_run(b, p, r, i);
		else {
			add_field(b, r->field[i], r->flen[i]);
			i++;
		}
	}
	for (size_t k = 0; k < p->nowned; k++)
		if (p->slot[k] < 0)
			add_owned(b, vals, lens, k);
	/* The TAB after the last field ends the record instead. */
	if (b->len == 0)
		rb_buf_addc(b, '\n');
	else
		b->data[b->len - 1] = '\n';
	return fwrite(b->data, 1, b->len, fp) == b->len ? 0 : -1;
}
