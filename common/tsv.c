#include "tsv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TSV_READ_CHUNK (64u << 10)

/* Refill the input buffer; returns bytes now available, 0 at EOF, -1 on error. */
static ssize_t
fill(struct tsv_reader *r)
{
	size_t n;

	if (r->inpos > 0) {
		memmove(r->in, r->in + r->inpos, r->inlen - r->inpos);
		r->inlen -= r->inpos;
		r->inpos = 0;
	}
	if (r->eof)
		return (ssize_t)r->inlen;
	if (r->incap - r->inlen < TSV_READ_CHUNK) {
		r->incap = r->inlen + TSV_READ_CHUNK;
		r->in = rb_xrealloc(r->in, r->incap);
	}
	n = fread(r->in + r->inlen, 1, r->incap - r->inlen, r->fp);
	if (n == 0) {
		if (ferror(r->fp)) {
			rb_warn_at(r->name, 0, "read error:");
			return -1;
		}
		r->eof = true;
	}
	r->inlen += n;
	return (ssize_t)r->inlen;
}

/* Next raw line without its LF into r->line.  Returns its length, -2 at end of input,
 * -1 on a read error, -3 for a line over TSV_MAX_LINE (consumed and discarded). */
static ssize_t
next_line(struct tsv_reader *r)
{
	size_t len = 0;
	bool toolong = false;

	if (r->in == NULL) {
		r->incap = TSV_READ_CHUNK;
		r->in = rb_xmalloc(r->incap);
	}
	for (;;) {
		char *start = r->in + r->inpos;
		size_t avail = r->inlen - r->inpos;
		char *nl = avail ? memchr(start, '\n', avail) : NULL;
		size_t take = nl ? (size_t)(nl - start) : avail;

		if (!toolong && len + take > TSV_MAX_LINE)
			toolong = true;
		if (!toolong) {
			if (len + take + 1 > r->linecap) {
				r->linecap = len + take + 1 + 256;
				r->line = rb_xrealloc(r->line, r->linecap);
			}
			memcpy(r->line + len, start, take);
			len += take;
		}
		r->inpos += take;
		if (nl) {
			r->inpos++;
			break;
		}
		ssize_t got = fill(r);
		if (got < 0)
			return -1;
		if (r->inlen == 0 || (r->eof && r->inpos == r->inlen)) {
			if (len == 0 && !toolong)
				return -2;
			break; /* last line without LF */
		}
	}
	r->lineno++;
	if (toolong)
		return -3;
	if (len > 0 && r->line[len - 1] == '\r') {
		if (!r->warned_cr) {
			rb_warn_at(r->name, r->lineno, "CRLF line ends; carriage returns removed");
			r->warned_cr = true;
		}
		len--;
	}
	r->line[len] = '\0';
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

/* Split r->line (length len) in place into at most max fields; returns the field count. */
static size_t
split(struct tsv_reader *r, size_t len, size_t max)
{
	size_t n = 0;
	char *p = r->line, *end = r->line + len;

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

static bool
valid_column_name(const char *s)
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
	ssize_t len;
	size_t n, i;

	memset(r, 0, sizeof *r);
	r->fp = fp;
	r->name = name;
	len = next_line(r);
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
		n += r->line[i] == '\t';
	r->field = rb_xcalloc(n, sizeof *r->field);
	r->flen = rb_xcalloc(n, sizeof *r->flen);
	r->ncols = split(r, (size_t)len, n);
	r->cols = rb_xcalloc(r->ncols, sizeof *r->cols);
	for (i = 0; i < r->ncols; i++) {
		r->cols[i] = rb_xstrndup(r->field[i], r->flen[i]);
		if (!valid_column_name(r->cols[i])) {
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

int
tsv_read(struct tsv_reader *r)
{
	for (;;) {
		ssize_t len = next_line(r);
		size_t n, i;
		bool bad = false;

		if (len == -2)
			return 0;
		if (len == -1)
			return -1;
		if (len == -3) {
			rb_warn_at(r->name, r->lineno, "record longer than %u bytes skipped", TSV_MAX_LINE);
			r->nbad++;
			continue;
		}
		n = split(r, (size_t)len, r->ncols);
		if (n != r->ncols) {
			rb_warn_at(r->name, r->lineno, "record has %zu fields, header has %zu; skipped", n, r->ncols);
			r->nbad++;
			continue;
		}
		for (i = 0; i < n && !bad; i++) {
			ssize_t l = tsv_unescape(r->field[i], r->flen[i]);

			if (l < 0) {
				rb_warn_at(r->name, r->lineno, "bad backslash escape in column \"%s\"; record skipped",
					r->cols[i]);
				bad = true;
			} else
				r->flen[i] = (size_t)l;
		}
		if (bad) {
			r->nbad++;
			continue;
		}
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
	free(r->line);
	free(r->in);
	memset(r, 0, sizeof *r);
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

int
tsv_write_field(FILE *fp, const char *s, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		const char *esc;

		switch (s[i]) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		default: continue;
		}
		if (i > start && fwrite(s + start, 1, i - start, fp) != i - start)
			return -1;
		if (fputs(esc, fp) == EOF)
			return -1;
		start = i + 1;
	}
	if (len > start && fwrite(s + start, 1, len - start, fp) != len - start)
		return -1;
	return 0;
}

int
tsv_write_record(FILE *fp, const char *const *fields, const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *f = fields[i] ? fields[i] : "";

		if (i > 0 && putc('\t', fp) == EOF)
			return -1;
		if (tsv_write_field(fp, f, lens ? lens[i] : strlen(f)) < 0)
			return -1;
	}
	return putc('\n', fp) == EOF ? -1 : 0;
}

void
tsv_plan_init(struct tsv_plan *p, const struct tsv_reader *r, const char *const *owned, size_t nowned)
{
	p->nin = r->ncols;
	p->nowned = nowned;
	p->owned = owned;
	p->slot = rb_xcalloc(nowned, sizeof *p->slot);
	p->out_of = rb_xcalloc(r->ncols, sizeof *p->out_of);
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

static int
put_owned(FILE *fp, const char *const *vals, const size_t *lens, size_t k)
{
	const char *v = vals[k] ? vals[k] : "";

	return tsv_write_field(fp, v, lens ? lens[k] : strlen(v));
}

int
tsv_plan_write(const struct tsv_plan *p, const struct tsv_reader *r, const char *const *vals,
	const size_t *lens, FILE *fp)
{
	bool first = true;

	for (size_t i = 0; i < p->nin; i++) {
		int rc;

		if (!first && putc('\t', fp) == EOF)
			return -1;
		first = false;
		if (p->out_of[i] >= 0)
			rc = put_owned(fp, vals, lens, (size_t)p->out_of[i]);
		else
			rc = tsv_write_field(fp, r->field[i], r->flen[i]);
		if (rc < 0)
			return -1;
	}
	for (size_t k = 0; k < p->nowned; k++) {
		if (p->slot[k] >= 0)
			continue;
		if (!first && putc('\t', fp) == EOF)
			return -1;
		first = false;
		if (put_owned(fp, vals, lens, k) < 0)
			return -1;
	}
	return putc('\n', fp) == EOF ? -1 : 0;
}
