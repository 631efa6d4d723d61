#define _GNU_SOURCE /* strcasestr */
#include "dsn.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "util.h"

static void strip_type_in_place(char *v);

char *
dsn_strip_type(const char *v)
{
	char *s = rb_xstrdup(v);

	strip_type_in_place(s);
	return s;
}

/* dsn_strip_type over v itself: the result is never longer than the value, and each
 * byte is written at or before the place it was read from. */
static void
strip_type_in_place(char *v)
{
	const char *semi = strchr(v, ';'), *p = v;
	size_t n = 0;
	bool sp = true;

	/* "rfc822; addr", "smtp; 550 ...", "dns; host": the type is one token before ';' */
	if (semi) {
		const char *q = v;
		while (q < semi && (isalnum((unsigned char)*q) || *q == '-' || *q == '.' || *q == ' '))
			q++;
		if (q == semi)
			p = semi + 1;
	}
	for (; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (!sp)
				v[n++] = ' ';
			sp = true;
		} else {
			v[n++] = *p;
			sp = false;
		}
	}
	while (n > 0 && v[n - 1] == ' ')
		n--;
	v[n] = '\0';
}

/* The value of field name whose line starts at offset at of the group (SIZE_MAX: absent,
 * ""), its type removed. */
static char *
field_at(const char *grp, size_t len, size_t at, const char *name)
{
	struct rb_buf v = {0};
	char *s;

	if (at == SIZE_MAX || !mime_header(grp + at, len - at, name, &v)) {
		rb_buf_free(&v);
		return rb_xstrdup("");
	}
	/* the value is stripped where it is and handed over: no copy */
	s = v.data;
	strip_type_in_place(s);
	return s;
}

static char *
field(const char *grp, size_t len, const char *name)
{
	return field_at(grp, len, 0, name);
}

/* Keep only the code of a Status field: "5.1.1 (user unknown)" -> "5.1.1". */
static void
status_code_only(char *s)
{
	size_t i = 0;

	while (s[i] && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		i++;
	if (i == 0 || s[0] < '2' || s[0] > '5' || s[1] != '.') {
		s[0] = '\0';
		return;
	}
	s[i] = '\0';
}

/* Keep the host of a Remote-MTA value: "mx.example.org. (192.0.2.7, the server for
 * the domain example.org.)" -> "mx.example.org". */
static void
host_only(char *s)
{
	size_t i = strcspn(s, " \t([");

	while (i > 0 && s[i - 1] == '.')
		i--;
	if (i > 0)
		s[i] = '\0';
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* field_at's value into v (emptied first), its type removed; false when absent. */
static bool
value_at(const char *grp, size_t len, size_t at, const char *name, struct rb_buf *v)
{
	if (at == SIZE_MAX || !mime_header(grp + at, len - at, name, v)) {
		rb_buf_clear(v);
		return false;
	}
	strip_type_in_place(v->data);
	return true;
}

/* An extension field that carries the diagnostic when Diagnostic-Code is absent:
 * "X-Diagnostic", "X-Exim-Diagnostic", "X-<vendor>-Diagnostic-Code" ...; "" if none. */
static char *
extension_diagnostic(const char *g, size_t len)
{
	for (size_t i = 0; i < len; i = (size_t)((const char *)memchr(g + i, '\n', len - i) - g) + 1) {
		const char *l = g + i, *colon = memchr(l, ':', len - i);
		const char *nl = memchr(l, '\n', len - i);
		if (colon && (nl == NULL || colon < nl) && colon - l > 12 && colon - l < 40 &&
		    strncasecmp(l, "X-", 2) == 0) {
			char name[48];
			memcpy(name, l, (size_t)(colon - l));
			name[colon - l] = '\0';
			if (strcasestr(name, "-diagnostic")) {
				char *v = field(g, len, name);
				if (*v)
					return v;
				free(v);
			}
		}
		if (nl == NULL)
			break;
	}
	return rb_xstrdup("");
}

/* Each group is a run of field lines; a line that neither starts a field nor continues
 * one (text around the fields) ends the group too. */
static void
add_group(struct dsn_report *r, const char *g, size_t len)
{
	/* every field of a group found in one pass over it */
	enum { FINAL, ORIG, REPORTING, ACTION, STATUS, REMOTE, DIAG, NFIELDS };
	static const char *const names[NFIELDS] = {"Final-Recipient", "Original-Recipient",
		"Reporting-MTA", "Action", "Status", "Remote-MTA", "Diagnostic-Code"};
	size_t at[NFIELDS];

	mime_header_lines(g, len, names, NFIELDS, at);
	if (at[FINAL] == SIZE_MAX && at[ORIG] == SIZE_MAX) {
		if (r->reporting_mta == NULL && at[REPORTING] != SIZE_MAX)
			r->reporting_mta = field_at(g, len, at[REPORTING], names[REPORTING]);
		return;
	}
	if (r->n >= DSN_MAX_GROUPS) {
		r->more++;
		return;
	}
	r->rcpt = rb_xreallocarray(r->rcpt, r->n + 1, sizeof *r->rcpt);
	struct dsn_rcpt *d = &r->rcpt[r->n++];
	/* the six values one after the other in one block, which final_rcpt starts
	 * (dsn_free frees it alone); each value read into v first */
	static const int order[] = {FINAL, ORIG, ACTION, STATUS, REMOTE, DIAG};
	struct rb_buf all = {0}, v = {0};
	size_t off[NFIELDS];
	rb_buf_reserve(&all, len + NFIELDS);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		int f = order[i];
		value_at(g, len, at[f], names[f], &v);
		if (v.data == NULL)
			rb_buf_add(&v, "", 0);
		if (f == ACTION)
			lower(v.data);
		else if (f == STATUS)
			status_code_only(v.data);
		else if (f == REMOTE)
			host_only(v.data);
		off[f] = all.len;
		if (f == DIAG && *v.data == '\0') {
			char *x = extension_diagnostic(g, len);
			rb_buf_add(&all, x, strlen(x) + 1);
			free(x);
		} else {
			rb_buf_add(&all, v.data, strlen(v.data) + 1);
		}
	}
	rb_buf_free(&v);
	d->final_rcpt = all.data;
	d->orig_rcpt = all.data + off[ORIG];
	d->action = all.data + off[ACTION];
	d->status = all.data + off[STATUS];
	d->remote_mta = all.data + off[REMOTE];
	d->diagnostic = all.data + off[DIAG];
}

static bool
is_field_start(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && (isalnum((unsigned char)l[i]) || l[i] == '-'))
		i++;
	return i > 0 && i < n && l[i] == ':';
}

size_t
dsn_parse(const char *text, size_t len, struct dsn_report *r)
{
	size_t i = 0, before = r->n + r->more;
	const char *gstart = NULL;
	bool has_final = false, has_orig = false;

	while (i <= len) {
		const char *line = text + i, *nl = i < len ? memchr(line, '\n', len - i) : NULL;
		size_t llen = i < len ? (nl ? (size_t)(nl - line) : len - i) : 0;
		bool blank = true;

		for (size_t k = 0; k < llen && blank; k++)
			blank = isspace((unsigned char)line[k]);
		bool cont = !blank && (line[0] == ' ' || line[0] == '\t');
		/* the first letter first: most lines start with neither */
		bool is_final = !cont && llen > 16 && (line[0] | 0x20) == 'f' &&
		    strncasecmp(line, "Final-Recipient:", 16) == 0;
		bool is_orig = !cont && llen > 19 && (line[0] | 0x20) == 'o' &&
		    strncasecmp(line, "Original-Recipient:", 19) == 0;
		/* groups written without the blank line between them: a second recipient
		 * starts a new one */
		if (gstart && ((is_final && has_final) || (is_orig && has_orig))) {
			add_group(r, gstart, (size_t)(line - gstart));
			gstart = line;
			has_final = has_orig = false;
		}
		if (blank || i >= len || (!cont && !is_field_start(line, llen))) {
			if (gstart && line > gstart)
				add_group(r, gstart, (size_t)(line - gstart));
			gstart = NULL;
			has_final = has_orig = false;
		} else if (gstart == NULL && !cont) {
			gstart = line;
		}
		has_final = has_final || is_final;
		has_orig = has_orig || is_orig;
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
