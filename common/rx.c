#define PCRE2_CODE_UNIT_WIDTH 8
#include "rx.h"

#include <pcre2.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "util.h"

struct rx {
	pcre2_code *code;
	bool jit;          /* JIT-compiled: matched through the JIT's own, shorter entry */
	bool jit_tried;    /* JIT compilation is done at the first match: most rules of a large
			    * set never get past the literal prefilter in a run */
};

/* One match data for every pattern: a block each would cost a set of thousands of rules
 * as much again (and, where the interpreter runs, its kept backtracking frames each). */
struct rx_ctx {
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

/* The pattern compiled for the interpreter, or NULL with err and *erroff set. */
static pcre2_code *
compile_code(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff)
{
	int errcode;
	PCRE2_SIZE off = 0;
	pcre2_code *code;
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);

	if (cc == NULL || pcre2_set_max_pattern_length(cc, RX_PATTERN_MAX) != 0)
		rb_die(RB_EXIT_FATAL, "out of memory");
	code = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_DUPNAMES,
		&errcode, &off, cc);
	pcre2_compile_context_free(cc);
	if (code == NULL) {
		if (err != NULL && errsize > 0 &&
		    pcre2_get_error_message(errcode, (PCRE2_UCHAR *)err, errsize) < 0)
			snprintf(err, errsize, "PCRE2 error %d", errcode);
		if (erroff != NULL)
			*erroff = off;
	}
	return code;
}

int
rx_check(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff, size_t *size)
{
	pcre2_code *code = compile_code(pattern, len, err, errsize, erroff);

	if (code != NULL && size != NULL && pcre2_pattern_info(code, PCRE2_INFO_SIZE, size) != 0)
		*size = 0;
	pcre2_code_free(code);
	return code != NULL ? 0 : -1;
}

struct rx *
rx_compile(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff)
{
	pcre2_code *code = compile_code(pattern, len, err, errsize, erroff);
	struct rx *rx;

	if (code == NULL)
		return NULL;
	rx = rb_xmalloc(sizeof *rx);
	rx->jit = rx->jit_tried = false;
	rx->code = code;
	return rx;
}

struct rx_ctx *
rx_ctx_new(void)
{
	struct rx_ctx *ctx = rb_xmalloc(sizeof *ctx);

	ctx->md = pcre2_match_data_create(1, NULL);
	ctx->mc = pcre2_match_context_create(NULL);
	if (ctx->md == NULL || ctx->mc == NULL || pcre2_set_match_limit(ctx->mc, RX_MATCH_LIMIT) != 0 ||
	    pcre2_set_heap_limit(ctx->mc, RX_HEAP_LIMIT_KIB) != 0)
		rb_die(RB_EXIT_FATAL, "out of memory");
	return ctx;
}

void
rx_ctx_free(struct rx_ctx *ctx)
{
	if (ctx == NULL)
		return;
	pcre2_match_data_free(ctx->md);
	pcre2_match_context_free(ctx->mc);
	free(ctx);
}

int
rx_match(struct rx *rx, struct rx_ctx *ctx, const char *subject, size_t len, const char **mark)
{
	int rc;

	/* JIT is an optimisation: where it is unavailable the interpreter gives the same answers. */
	if (!rx->jit_tried) {
		rx->jit = pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE) == 0;
		rx->jit_tried = true;
	}
	rc = rx->jit ? pcre2_jit_match(rx->code, (PCRE2_SPTR)subject, len, 0, 0, ctx->md, ctx->mc)
			 : pcre2_match(rx->code, (PCRE2_SPTR)subject, len, 0, 0, ctx->md, ctx->mc);

	if (mark != NULL)
		*mark = rc >= 0 ? (const char *)pcre2_get_mark(ctx->md) : NULL;
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void
rx_free(struct rx *rx)
{
	if (rx == NULL)
		return;
	pcre2_code_free(rx->code);
	free(rx);
}

/* Required literals, by recursive descent over the pattern.  A set of literals describes a
 * sequence or an alternation: every match contains one of them.  A sequence's set is the
 * best one found among its items (runs of plain characters, or groups); an alternation's
 * is the union of its branches' sets, unknown if one branch's is. */
struct lits {
	char **s;
	size_t n;
	bool known;
	bool fail;   /* a construct whose syntax is not followed: claim nothing at all */
};

static void
lits_free(struct lits *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	l->s = NULL;
	l->n = 0;
	l->known = false;
}

static size_t
lits_min(const struct lits *l)
{
	size_t m = SIZE_MAX;

	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->s[i]) < m)
			m = strlen(l->s[i]);
	return l->n ? m : 0;
}

/* Keep cand in best when it is better: longer shortest literal, then fewer literals. */
static void
lits_offer(struct lits *best, struct lits *cand)
{
	if (cand->known && cand->n > 0 && (!best->known || lits_min(cand) > lits_min(best) ||
	    (lits_min(cand) == lits_min(best) && cand->n < best->n))) {
		lits_free(best);
		*best = *cand;
		best->fail = false;
	} else
		lits_free(cand);
	*cand = (struct lits){ 0 };
}

static void
run_offer(struct lits *best, struct rb_buf *run)
{
	struct lits one = { 0 };

	if (run->len == 0)
		return;
	one.s = rb_xmalloc(sizeof *one.s);
	one.s[0] = rb_xstrdup(run->data);
	one.n = 1;
	one.known = true;
	lits_offer(best, &one);
	rb_buf_clear(run);
}

static struct lits parse_alt(const char **pp, bool *fail);

/* Skip a character class; p is just after '['. */
static const char *
skip_class(const char *p, bool *fail)
{
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");

			if (e == NULL)
				break;
			p = e + 1;
		}
	}
	if (*p != ']') {
		*fail = true;
		return p;
	}
	return p + 1;
}

/* A quantifier after an item: 0 none, 1 optional (? * {), 2 one or more (+). */
static int
quantifier(const char **pp)
{
	const char *p = *pp;
	int q = 0;

	if (*p == '?' || *p == '*')
		q = 1, p++;
	else if (*p == '+')
		q = 2, p++;
	else if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
		const char *e = p + 1;

		while ((*e >= '0' && *e <= '9') || *e == ',')
			e++;
		if (*e != '}')
			return 0; /* a literal brace */
		q = p[1] == '0' || p[1] == ',' ? 1 : 2;
		p = e + 1;
	} else
		return 0;
	if (*p == '?' || *p == '+')
		p++; /* lazy or possessive */
	*pp = p;
	return q;
}

static struct lits
parse_seq(const char **pp, bool *fail)
{
	const char *p = *pp;
	struct lits best = { 0 };
	struct rb_buf run = { 0 };

	rb_buf_clear(&run);
	while (*p && *p != '|' && *p != ')' && !*fail) {
		int ch = -1; /* a literal character, or -1 for another item */
		struct lits group = { 0 };
		bool is_group = false;

		if (*p == '\\') {
			if (p[1] == '\0') {
				*fail = true;
				break;
			}
			if (isalnum((unsigned char)p[1])) {
				if (!strchr("dDwWsSbBhHvVRXAzZG", p[1]))
					*fail = true; /* \x, \Q, \p, back-references: not followed */
			} else
				ch = (unsigned char)p[1];
			p += 2;
		} else if (*p == '[') {
			p = skip_class(p + 1, fail);
		} else if (*p == '(') {
			p++;
			if (*p == '*') { /* a verb */
				const char *e = strchr(p, ')');

				if (e == NULL) {
					*fail = true;
					break;
				}
				p = e + 1;
			} else if (*p == '?' && (p[1] == '=' || p[1] == '!' || (p[1] == '<' && (p[2] == '=' || p[2] == '!')))) {
				p += p[1] == '<' ? 3 : 2;
				group = parse_alt(&p, fail); /* lookaround: consumes nothing, proves nothing here */
				lits_free(&group);
				if (*p != ')')
					*fail = true;
				else
					p++;
				continue;
			} else {
				if (*p == '?') {
					p++;
					if (*p == ':' || *p == '|' || *p == '>')
						p++;
					else if (*p == '<' || *p == '\'' || (*p == 'P' && p[1] == '<')) {
						const char *e = strpbrk(p + 1, ">'");

						if (e == NULL) {
							*fail = true;
							break;
						}
						p = e + 1;
					} else {
						/* Option letters: (?i) alone, or (?i: a group. */
						while (*p == '-' || *p == 'i' || *p == 's' || *p == 'm' || *p == 'U' || *p == 'J')
							p++;
						if (*p == ')') {
							p++;
							rb_buf_clear(&run);
							continue;
						}
						if (*p != ':') {
							*fail = true;
							break;
						}
						p++;
					}
				}
				group = parse_alt(&p, fail);
				if (*p != ')') {
					*fail = true;
					lits_free(&group);
					break;
				}
				p++;
				is_group = true;
			}
		} else if (*p == '.' || *p == '^' || *p == '$') {
			p++;
		} else if (*p == '?' || *p == '*' || *p == '+' || (*p == '{' && p[1] >= '0' && p[1] <= '9')) {
			*fail = true; /* a quantifier with nothing before it */
			break;
		} else
			ch = (unsigned char)*p++;

		int q = quantifier(&p);

		if (ch >= 0 && q == 0) {
			rb_buf_addc(&run, (char)tolower(ch));
		} else if (ch >= 0 && q == 2) {
			rb_buf_addc(&run, (char)tolower(ch));
			run_offer(&best, &run);
		} else {
			run_offer(&best, &run);
			if (is_group && q != 1)
				lits_offer(&best, &group);
			else
				lits_free(&group);
		}
	}
	run_offer(&best, &run);
	rb_buf_free(&run);
	*pp = p;
	return best;
}

static struct lits
parse_alt(const char **pp, bool *fail)
{
	struct lits all = { 0 };
	bool known = true;

	for (;;) {
		struct lits seq = parse_seq(pp, fail);

		if (!seq.known)
			known = false;
		for (size_t i = 0; i < seq.n && known; i++) {
			all.s = rb_xreallocarray(all.s, all.n + 1, sizeof *all.s);
			all.s[all.n++] = seq.s[i];
			seq.s[i] = NULL;
		}
		lits_free(&seq);
		if (**pp != '|' || *fail)
			break;
		(*pp)++;
	}
	all.known = known && all.n > 0;
	if (!all.known)
		lits_free(&all);
	return all;
}

size_t
rx_literals(const char *pattern, size_t min, char ***out)
{
	const char *p = pattern;
	bool fail = false;
	struct lits l = parse_alt(&p, &fail);

	*out = NULL;
	if (fail || *p != '\0' || !l.known || lits_min(&l) < min) {
		lits_free(&l);
		return 0;
	}
	*out = l.s;
	return l.n;
}
