#define _GNU_SOURCE /* strcasestr */
#include "dsn.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "util.h"

static size_t strip_type_in_place(char *v, size_t len);

char *
dsn_strip_type(const char *v)
{
	char *s = rb_xstrdup(v);

	strip_type_in_place(s, strlen(s));
	return s;
}

/* Can the byte be part of a type token ("rfc822", "X-Unix", "smtp")? */
static bool
is_type_char(char c)
{
	return ascii_isalnum(c) || c == '-' || c == '.' || c == ' ';
}

/* The high bit of every space byte of w (exact, so that neighbours can be compared). */
static uint64_t
space_bytes(uint64_t w)
{
	uint64_t t = w ^ 0x2020202020202020u;

	return ~(((t & 0x7f7f7f7f7f7f7f7fu) + 0x7f7f7f7f7f7f7f7fu) | t | 0x7f7f7f7f7f7f7f7fu);
}

/* Are the eight bytes at p of a value, after white space (*sp) or not, kept as they are?
 * So they are when their white space is only single spaces after other bytes and none
 * ends the string: the common case of words one space apart.  Then *sp is set for the
 * bytes after them. */
static bool
word_stays(const char *p, bool *sp)
{
	uint64_t w, spaces;

	memcpy(&w, p, 8);
	if (mime_word_has_control(w) || (*sp && p[0] == ' '))
		return false;
	spaces = space_bytes(w);
	/* two spaces side by side (either way round, so byte order does not matter) */
	if ((spaces & (spaces << 8 | spaces >> 8)) != 0)
		return false;
	*sp = p[7] == ' ';
	return true;
}

/* dsn_strip_type over v itself, which ends at len or at its first NUL: the result is
 * never longer than the value, and each byte is written at or before the place it was
 * read from.  Returns the result's length. */
static size_t
strip_type_in_place(char *v, size_t len)
{
	size_t r = 0, n = 0;
	bool sp = true; /* was the last byte read white space (or none read yet)? */

	/* "rfc822; addr", "smtp; 550 ...", "dns; host": the type is one token before the
	 * first ';' (not a token byte, so the run of them stops at the first one) */
	while (r < len && is_type_char(v[r]))
		r++;
	r = r < len && v[r] == ';' ? r + 1 : 0;
	/* white space at the start is dropped */
	while (r < len && ascii_isspace(v[r]))
		r++;
	while (r < len && v[r] != '\0') {
		if (len - r >= 8 && word_stays(v + r, &sp)) {
			memmove(v + n, v + r, 8);
			n += 8;
			r += 8;
			continue;
		}
		if (ascii_isspace(v[r])) {
			if (!sp)
				v[n++] = ' ';
			sp = true;
		} else {
			v[n++] = v[r];
			sp = false;
		}
		r++;
	}
	while (n > 0 && v[n - 1] == ' ')
		n--;
	v[n] = '\0';
	return n;
}

/* Keep only the code of a Status field: "5.1.1 (user unknown)" -> "5.1.1".  Returns the
 * length kept. */
static size_t
status_code_only(char *s)
{
	size_t i = 0;

	while (s[i] && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
		i++;
	if (i == 0 || s[0] < '2' || s[0] > '5' || s[1] != '.') {
		s[0] = '\0';
		return 0;
	}
	s[i] = '\0';
	return i;
}

/* Keep the host of a Remote-MTA value (n bytes, a NUL after them): "mx.example.org.
 * (192.0.2.7, the server for the domain example.org.)" -> "mx.example.org".  Returns the
 * length kept. */
static size_t
host_only(char *s, size_t n)
{
	size_t i = strcspn(s, " \t([");

	while (i > 0 && s[i - 1] == '.')
		i--;
	if (i == 0)
		return n;
	s[i] = '\0';
	return i;
}

static void
lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = ascii_tolower(s[i]);
}

/* An extension field that carries the diagnostic when Diagnostic-Code is absent:
 * "X-Diagnostic", "X-Exim-Diagnostic", "X-<vendor>-Diagnostic-Code" ...; appended to out
 * with its type removed (nothing when none).  Returns the length appended. */
static size_t
extension_diagnostic(const char *g, size_t len, struct rb_buf *out)
{
	struct rb_buf v = {0};
	size_t n = 0;

	for (size_t i = 0; i < len; i = (size_t)((const char *)memchr(g + i, '\n', len - i) - g) + 1) {
		const char *l = g + i, *colon = memchr(l, ':', len - i);
		const char *nl = memchr(l, '\n', len - i);
		if (colon && (nl == NULL || colon < nl) && colon - l > 12 && colon - l < 40 &&
		    strncasecmp(l, "X-", 2) == 0) {
			char name[48];
			memcpy(name, l, (size_t)(colon - l));
			name[colon - l] = '\0';
			/* the first field of that name, which may be an earlier line than l */
			if (strcasestr(name, "-diagnostic") && mime_header(g, len, name, &v) &&
			    (n = strip_type_in_place(v.data, v.len)) > 0) {
				rb_buf_add(out, v.data, n);
				break;
			}
		}
		if (nl == NULL)
			break;
	}
	rb_buf_free(&v);
	return n;
}

/* The fields a group is read for. */
enum dsn_field { FINAL, ORIG, REPORTING, ACTION, STATUS, REMOTE, DIAG, NFIELDS };

static const struct {
	const char *name;
	size_t len;
} fields[NFIELDS] = {
	[FINAL] = {"Final-Recipient", 15},
	[ORIG] = {"Original-Recipient", 18},
	[REPORTING] = {"Reporting-MTA", 13},
	[ACTION] = {"Action", 6},
	[STATUS] = {"Status", 6},
	[REMOTE] = {"Remote-MTA", 10},
	[DIAG] = {"Diagnostic-Code", 15},
};

/* Which of the fields a field name (nlen bytes, case ignored) is; NFIELDS for another. */
static enum dsn_field
field_named(const char *name, size_t nlen)
{
	for (int f = 0; f < NFIELDS; f++)
		if (fields[f].len == nlen && (memcmp(name, fields[f].name, nlen) == 0 ||
		    mime_same_ci(name, fields[f].name, nlen)))
			return (enum dsn_field)f;
	return NFIELDS;
}

/* A group being read: where it starts, and the offset from there of the first line of
 * each field (SIZE_MAX: absent), noted as its lines go by. */
struct group {
	const char *start;
	size_t at[NFIELDS];
	bool has_final, has_orig;
};

static void
group_start(struct group *g, const char *line)
{
	g->start = line;
	for (int f = 0; f < NFIELDS; f++)
		g->at[f] = SIZE_MAX;
	g->has_final = g->has_orig = false;
}

/* The value of field f of the group (len bytes), appended to out with its type removed
 * and then cut to what the field keeps, and a NUL after it.  Returns its length. */
static size_t
add_value(const struct group *g, size_t len, enum dsn_field f, struct rb_buf *out)
{
	size_t off = out->len, n = 0;

	if (g->at[f] != SIZE_MAX) {
		mime_field_append(g->start, len, g->at[f], fields[f].len, out);
		n = strip_type_in_place(out->data + off, out->len - off);
	} else {
		rb_buf_reserve(out, 0);
		out->data[off] = '\0';
	}
	if (f == ACTION)
		lower(out->data + off, n);
	else if (f == STATUS)
		n = status_code_only(out->data + off);
	else if (f == REMOTE)
		n = host_only(out->data + off, n);
	out->len = off + n;
	if (f == DIAG && n == 0)
		n = extension_diagnostic(g->start, len, out);
	/* the NUL is part of the value's place */
	rb_buf_reserve(out, 1);
	out->data[out->len++] = '\0';
	return n;
}

/* Each group is a run of field lines; a line that neither starts a field nor continues
 * one (text around the fields) ends the group too.  The group ends before end. */
static void
add_group(struct dsn_report *r, const struct group *g, const char *end)
{
	size_t len = (size_t)(end - g->start);

	if (g->at[FINAL] == SIZE_MAX && g->at[ORIG] == SIZE_MAX) {
		if (r->reporting_mta == NULL && g->at[REPORTING] != SIZE_MAX) {
			struct rb_buf v = {0};
			add_value(g, len, REPORTING, &v);
			r->reporting_mta = v.data;
		}
		return;
	}
	if (r->n >= DSN_MAX_GROUPS) {
		r->more++;
		return;
	}
	r->rcpt = rb_xreallocarray(r->rcpt, r->n + 1, sizeof *r->rcpt);
	struct dsn_rcpt *d = &r->rcpt[r->n++];
	/* the six values one after the other in one block, which final_rcpt starts
	 * (dsn_free frees it alone), each read into it straight from its line */
	static const enum dsn_field order[] = {FINAL, ORIG, ACTION, STATUS, REMOTE, DIAG};
	struct rb_buf all = {0};
	size_t off[NFIELDS];
	rb_buf_reserve(&all, len + NFIELDS);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		off[order[i]] = all.len;
		add_value(g, len, order[i], &all);
	}
	d->final_rcpt = all.data;
	d->orig_rcpt = all.data + off[ORIG];
	d->action = all.data + off[ACTION];
	d->status = all.data + off[STATUS];
	d->remote_mta = all.data + off[REMOTE];
	d->diagnostic = all.data + off[DIAG];
}

/* Length of the field name that starts line l (n bytes): the letters, digits and '-'
 * before its ':'; 0 when the line does not start a field. */
static size_t
field_name_len(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && (ascii_isalnum(l[i]) || l[i] == '-'))
		i++;
	return i > 0 && i < n && l[i] == ':' ? i : 0;
}

static bool
is_blank(const char *l, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!ascii_isspace(l[k]))
			return false;
	return true;
}

size_t
dsn_parse(const char *text, size_t len, struct dsn_report *r)
{
	size_t i = 0, before = r->n + r->more;
	struct group g = {0};

	while (i <= len) {
		const char *line = text + i, *nl = i < len ? memchr(line, '\n', len - i) : NULL;
		size_t llen = i < len ? (nl ? (size_t)(nl - line) : len - i) : 0;
		bool blank = is_blank(line, llen);
		bool cont = !blank && (line[0] == ' ' || line[0] == '\t');
		size_t nlen = blank || cont ? 0 : field_name_len(line, llen);
		enum dsn_field f = nlen > 0 ? field_named(line, nlen) : NFIELDS;
		/* with a value after the ':' */
		bool is_final = f == FINAL && llen > nlen + 1;
		bool is_orig = f == ORIG && llen > nlen + 1;
		/* groups written without the blank line between them: a second recipient
		 * starts a new one */
		if (g.start && ((is_final && g.has_final) || (is_orig && g.has_orig))) {
			add_group(r, &g, line);
			group_start(&g, line);
		}
		if (blank || i >= len || (!cont && nlen == 0)) {
			if (g.start && line > g.start)
				add_group(r, &g, line);
			g.start = NULL;
		} else if (g.start == NULL && !cont) {
			group_start(&g, line);
		}
		if (g.start && f < NFIELDS && g.at[f] == SIZE_MAX)
			g.at[f] = (size_t)(line - g.start);
		g.has_final = g.has_final || is_final;
		g.has_orig = g.has_orig || is_orig;
		if (i >= len)
			break;
		/* a last line without LF ends at len: the pass at i == len then closes
		 * its group like a blank line would */
		i += llen + (nl != NULL);
	}
	return r->n + r->more - before;
}

void
dsn_free(struct dsn_report *r)
{
	/* a recipient's values share one block, which final_rcpt starts */
	for (size_t i = 0; i < r->n; i++)
		free(r->rcpt[i].final_rcpt);
	free(r->rcpt);
	free(r->reporting_mta);
	r->rcpt = NULL;
	r->reporting_mta = NULL;
	r->n = 0;
	r->more = 0;
}
