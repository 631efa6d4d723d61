#include "tmpl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailfmt.h"

static void
seq_add(struct tmpl_seq *s, struct tmpl_part p)
{
	s->part = rb_xreallocarray(s->part, s->n + 1, sizeof *s->part);
	s->part[s->n++] = p;
}

static void
seq_text(struct tmpl_seq *s, const char *p, size_t n, unsigned long line)
{
	if (n == 0)
		return;
	/* Merge with a literal just before, so address splitting sees whole text runs. */
	if (s->n > 0 && s->part[s->n - 1].text != NULL) {
		struct tmpl_part *last = &s->part[s->n - 1];

		last->text = rb_xrealloc(last->text, last->len + n + 1);
		memcpy(last->text + last->len, p, n);
		last->len += n;
		last->text[last->len] = '\0';
		return;
	}
	seq_add(s, (struct tmpl_part){ .text = rb_xstrndup(p, n), .len = n, .line = line });
}

static void
seq_free(struct tmpl_seq *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->part[i].text);
		free(s->part[i].name);
		free(s->part[i].fallback);
	}
	free(s->part);
	s->part = NULL;
	s->n = 0;
}

static bool
valid_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* Parse one line's worth of text (no LF) into s.  Returns 0 or -1 (reported). */
static int
parse_text(const char *path, unsigned long line, const char *p, size_t n, struct tmpl_seq *s)
{
	const char *end = p + n;

	while (p < end) {
		const char *open = NULL;

		for (const char *q = p; q + 1 < end; q++)
			if (q[0] == '{' && q[1] == '{') {
				open = q;
				break;
			}
		if (open == NULL) {
			seq_text(s, p, (size_t)(end - p), line);
			return 0;
		}
		seq_text(s, p, (size_t)(open - p), line);
		const char *in = open + 2, *close = NULL;
		for (const char *q = in; q + 1 < end; q++)
			if (q[0] == '}' && q[1] == '}') {
				close = q;
				break;
			}
		if (close == NULL) {
			rb_warn_at(path, line, "unterminated placeholder: no \"}}\" after \"{{\"");
			return -1;
		}
		const char *bar = memchr(in, '|', (size_t)(close - in));
		const char *nend = bar ? bar : close;
		while (in < nend && *in == ' ')
			in++;
		while (nend > in && nend[-1] == ' ')
			nend--;
		if (!valid_name(in, (size_t)(nend - in))) {
			rb_warn_at(path, line, "bad placeholder \"%.*s\": a name is lower-case letters, digits and _",
				(int)(close + 2 - open), open);
			return -1;
		}
		struct tmpl_part part = { .name = rb_xstrndup(in, (size_t)(nend - in)), .line = line };
		if (bar)
			part.fallback = rb_xstrndup(bar + 1, (size_t)(close - bar - 1));
		seq_add(s, part);
		p = close + 2;
	}
	return 0;
}

/* Split an address header's value at commas that are literal template text and outside a
 * quoted string, one item per mailbox. */
static void
split_mailboxes(struct tmpl_header *h, struct tmpl_seq *v)
{
	struct tmpl_seq cur = { 0 };
	bool quoted = false;

	for (size_t i = 0; i < v->n; i++) {
		struct tmpl_part *p = &v->part[i];

		if (p->text == NULL) {
			seq_add(&cur, *p);
			continue;
		}
		size_t start = 0;
		for (size_t k = 0; k < p->len; k++) {
			if (p->text[k] == '"')
				quoted = !quoted;
			if (p->text[k] != ',' || quoted)
				continue;
			seq_text(&cur, p->text + start, k - start, p->line);
			h->item = rb_xreallocarray(h->item, h->nitems + 1, sizeof *h->item);
			h->item[h->nitems++] = cur;
			memset(&cur, 0, sizeof cur);
			start = k + 1;
		}
		seq_text(&cur, p->text + start, p->len - start, p->line);
		free(p->text);
	}
	free(v->part);
	h->item = rb_xreallocarray(h->item, h->nitems + 1, sizeof *h->item);
	h->item[h->nitems++] = cur;
}

static int
add_header(struct tmpl *t, const char *line, size_t n, unsigned long lineno, struct rb_buf *value)
{
	const char *colon = memchr(line, ':', n);
	struct tmpl_header h = { 0 };
	struct tmpl_seq v = { 0 };

	if (colon == NULL || colon == line) {
		rb_warn_at(t->path, lineno, "not a header line (headers, an empty line, then the body)");
		return -1;
	}
	for (const char *c = line; c < colon; c++)
		if (*c <= ' ' || *c > '~') {
			rb_warn_at(t->path, lineno, "bad header name \"%.*s\"", (int)(colon - line), line);
			return -1;
		}
	if (parse_text(t->path, lineno, value->data, value->len, &v) < 0) {
		seq_free(&v);
		return -1;
	}
	h.name = rb_xstrndup(line, (size_t)(colon - line));
	h.line = lineno;
	h.address = mf_is_address_header(h.name);
	if (h.address)
		split_mailboxes(&h, &v);
	else {
		h.item = rb_xmalloc(sizeof *h.item);
		h.item[0] = v;
		h.nitems = 1;
	}
	t->hdr = rb_xreallocarray(t->hdr, t->nhdr + 1, sizeof *t->hdr);
	t->hdr[t->nhdr++] = h;
	return 0;
}

static int
read_file(const char *path, struct rb_buf *b)
{
	FILE *fp = fopen(path, "r");
	char chunk[8192];
	size_t n;

	if (fp == NULL) {
		rb_warn_at(path, 0, "cannot open template:");
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (b->len + n > TMPL_MAX_SIZE) {
			rb_warn_at(path, 0, "template larger than %u bytes", TMPL_MAX_SIZE);
			fclose(fp);
			return -1;
		}
		rb_buf_add(b, chunk, n);
	}
	if (ferror(fp)) {
		rb_warn_at(path, 0, "read error:");
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* The header lines: a line starting with white space continues the header before it.
 * Returns the offset of the body, or -1 (reported). */
static long
parse_headers(struct tmpl *t, const char *s, size_t len, unsigned long *lineno)
{
	size_t pos = 0, hstart = 0, hlen = 0;
	unsigned long hline = 0;
	struct rb_buf value = { 0 };
	bool have = false;

	for (;;) {
		if (pos >= len) {
			rb_warn_at(t->path, *lineno, "no empty line between the headers and the body");
			rb_buf_free(&value);
			return -1;
		}
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - s) : len, n = end - pos;

		++*lineno;
		if (n > 0 && s[end - 1] == '\r')
			n--;
		if (n > 0 && (s[pos] == ' ' || s[pos] == '\t')) {
			if (!have) {
				rb_warn_at(t->path, *lineno, "continuation line before any header");
				rb_buf_free(&value);
				return -1;
			}
			rb_buf_add(&value, s + pos, n);
		} else {
			if (have && add_header(t, s + hstart, hlen, hline, &value) < 0) {
				rb_buf_free(&value);
				return -1;
			}
			rb_buf_clear(&value);
			have = false;
			if (n == 0) {
				rb_buf_free(&value);
				return (long)(nl ? end + 1 : end);
			}
			const char *colon = memchr(s + pos, ':', n);
			hstart = pos;
			hlen = n;
			hline = *lineno;
			have = true;
			if (colon != NULL)
				rb_buf_add(&value, colon + 1, n - (size_t)(colon + 1 - (s + pos)));
		}
		pos = end + 1;
	}
}

int
tmpl_load(struct tmpl *t, const char *path)
{
	struct rb_buf b = { 0 };
	unsigned long lineno = 0;
	long body;

	memset(t, 0, sizeof *t);
	t->path = rb_xstrdup(path);
	if (read_file(path, &b) < 0 || (body = parse_headers(t, b.data ? b.data : "", b.len, &lineno)) < 0) {
		rb_buf_free(&b);
		tmpl_free(t);
		return -1;
	}
	for (size_t pos = (size_t)body; pos < b.len;) {
		const char *nl = memchr(b.data + pos, '\n', b.len - pos);
		size_t end = nl ? (size_t)(nl - b.data) : b.len, n = end - pos;

		lineno++;
		if (n > 0 && b.data[end - 1] == '\r')
			n--;
		if (parse_text(path, lineno, b.data + pos, n, &t->body) < 0) {
			rb_buf_free(&b);
			tmpl_free(t);
			return -1;
		}
		seq_text(&t->body, "\n", 1, lineno);
		pos = end + 1;
	}
	rb_buf_free(&b);
	return 0;
}

void
tmpl_free(struct tmpl *t)
{
	for (size_t i = 0; i < t->nhdr; i++) {
		for (size_t k = 0; k < t->hdr[i].nitems; k++)
			seq_free(&t->hdr[i].item[k]);
		free(t->hdr[i].item);
		free(t->hdr[i].name);
	}
	free(t->hdr);
	seq_free(&t->body);
	free(t->path);
	memset(t, 0, sizeof *t);
}

const struct tmpl_header *
tmpl_header(const struct tmpl *t, const char *name)
{
	for (size_t i = 0; i < t->nhdr; i++)
		if (strcasecmp(t->hdr[i].name, name) == 0)
			return &t->hdr[i];
	return NULL;
}

static int
check_seq(const struct tmpl *t, const struct tmpl_seq *s, tmpl_problem_fn problem, void *ctx)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct tmpl_part *p = &s->part[i];
		const char *why;

		if (p->text != NULL)
			continue;
		why = problem(ctx, p->name, p->fallback != NULL);
		if (why != NULL) {
			rb_warn_at(t->path, p->line, "{{%s}}: %s", p->name, why);
			return -1;
		}
	}
	return 0;
}

int
tmpl_check(const struct tmpl *t, tmpl_problem_fn problem, void *ctx)
{
	for (size_t i = 0; i < t->nhdr; i++)
		for (size_t k = 0; k < t->hdr[i].nitems; k++)
			if (check_seq(t, &t->hdr[i].item[k], problem, ctx) < 0)
				return -1;
	return check_seq(t, &t->body, problem, ctx);
}

static void
add_body_value(struct rb_buf *out, const char *v)
{
	for (;;) {
		size_t n = strcspn(v, "\r");

		rb_buf_add(out, v, n);
		v += n;
		if (*v == '\0')
			return;
		rb_buf_addc(out, '\n');
		v += v[1] == '\n' ? 2 : 1;
	}
}

int
tmpl_expand(const struct tmpl_seq *s, enum tmpl_mode mode, tmpl_lookup_fn lookup, void *ctx,
	struct rb_buf *out, const char **missing)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct tmpl_part *p = &s->part[i];
		const char *v = NULL;

		if (p->text != NULL) {
			rb_buf_add(out, p->text, p->len);
			continue;
		}
		if (lookup(ctx, p->name, &v) < 0) {
			*missing = p->name;
			return -2;
		}
		if (v == NULL || *v == '\0') {
			if (p->fallback == NULL) {
				*missing = p->name;
				return -1;
			}
			v = p->fallback;
		}
		if (mode == TMPL_BODY)
			add_body_value(out, v);
		else
			rb_buf_adds(out, v);
	}
	return 0;
}
