/* tmpl: message templates with {{placeholder}} expansion (DESIGN.md, "Templates and emails").
 *
 * A template file is RFC 5322 headers, an empty line, and the body.  Anywhere in a header
 * value or the body, {{name}} stands for a value and {{name|fallback}} gives the text to use
 * when the value is empty.  Names are lower-case snake_case.  A placeholder ends on the line
 * it starts on.  Address headers (From, To, Cc, ...) are split at the template's own commas,
 * so a value can never add a recipient. */
#ifndef RB_TMPL_H
#define RB_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Largest template file accepted. */
#define TMPL_MAX_SIZE (1u << 20)

struct tmpl_part {
	char *text;            /* literal text, or NULL for a placeholder */
	size_t len;
	char *name;            /* placeholder name */
	char *fallback;        /* NULL when there is none */
	unsigned long line;    /* line of the template file */
};

struct tmpl_seq {
	struct tmpl_part *part;
	size_t n;
};

struct tmpl_header {
	char *name;
	unsigned long line;
	bool address;          /* an address header: items are its mailboxes */
	struct tmpl_seq *item; /* address headers: one per mailbox; others: exactly one */
	size_t nitems;
};

struct tmpl {
	char *path;
	struct tmpl_header *hdr;
	size_t nhdr;
	struct tmpl_seq body;
};

/* Load and parse a template.  Returns 0, or -1 after reporting "path:line: what". */
int tmpl_load(struct tmpl *t, const char *path);
void tmpl_free(struct tmpl *t);

/* The header called name (any case), or NULL. */
const struct tmpl_header *tmpl_header(const struct tmpl *t, const char *name);

/* Check every placeholder: problem(ctx, name, has_fallback) returns NULL when the name can
 * be filled, otherwise why not; the first problem is reported as
 * "path:line: {{name}}: why" and -1 returned. */
typedef const char *(*tmpl_problem_fn)(void *ctx, const char *name, bool has_fallback);
int tmpl_check(const struct tmpl *t, tmpl_problem_fn problem, void *ctx);

/* Expansion.  lookup(ctx, name, &value) sets value (NULL or "" means no value) and returns
 * 0, or returns -1 to refuse the value (the caller keeps the reason).  In body mode a
 * value's CR LF and lone CR become LF: a value's line breaks are body text. */
enum tmpl_mode { TMPL_HEADER, TMPL_BODY };
typedef int (*tmpl_lookup_fn)(void *ctx, const char *name, const char **value);
/* Appends the expansion of s to out.  Returns 0; -1 when a placeholder without fallback
 * has no value (*missing names it); -2 when lookup refused a value (*missing names it). */
int tmpl_expand(const struct tmpl_seq *s, enum tmpl_mode mode, tmpl_lookup_fn lookup, void *ctx,
	struct rb_buf *out, const char **missing);

#endif
