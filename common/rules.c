#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>

#include "rx.h"
#include "tsv.h"
#include "util.h"

/* The vocabulary of DESIGN.md with the pseudo status details of the reference analyser
 * (5.0.911 for userunknown, ...), used when a bounce carries no status of its own. */
static const struct reason_info reasons[] = {
	{ "userunknown", "address", 911, true },
	{ "hostunknown", "address", 912, true },
	{ "hasmoved", "address", 916, true },
	{ "syntaxerror", "address", 902, true },
	{ "notaccept", "address", 932, true },
	{ "emailtoolong", "address", 903, true },
	{ "blocked", "blocked", 971, false },
	{ "filtered", "blocked", 910, false },
	{ "policyviolation", "blocked", 972, false },
	{ "spamdetected", "blocked", 980, false },
	{ "securityerror", "blocked", 970, false },
	{ "badreputation", "blocked", 977, false },
	{ "requireptr", "blocked", 978, false },
	{ "authfailure", "blocked", 976, false },
	{ "notcompliantrfc", "blocked", 979, false },
	{ "virusdetected", "blocked", 990, false },
	{ "contenterror", "blocked", 960, false },
	{ "rejected", "blocked", 918, false },
	{ "norelaying", "blocked", 909, false },
	{ "failedstarttls", "blocked", 975, false },
	{ "suppressed", "blocked", 981, false },
	{ "mesgtoobig", "blocked", 934, false },
	{ "mailboxfull", "transient", 922, false },
	{ "expired", "transient", 947, false },
	{ "toomanyconn", "transient", 945, false },
	{ "ratelimited", "transient", 948, false },
	{ "speeding", "transient", 946, false },
	{ "systemfull", "transient", 931, false },
	{ "systemerror", "transient", 930, false },
	{ "networkerror", "transient", 944, false },
	{ "exceedlimit", "transient", 923, false },
	{ "suspend", "transient", 921, false },
	{ "mailererror", "transient", 939, false },
	{ "onhold", "transient", 901, false },
	{ "undefined", "transient", 900, false },
	{ "feedback", "complaint", 0, false },
	{ "vacation", "ignore", 0, false },
	{ "delivered", "ignore", 0, false },
};

struct group_def {
	size_t group;      /* index into the names */
	char *pattern;
	const char *file;
	unsigned long long line;
	char *field;       /* a condition on this column; NULL: the remote host and the domain */
	struct rx *rx;     /* for a field condition */
	ssize_t col;
	bool domain;
};

/* An Aho-Corasick automaton over the required literals of the patterns on one field: one
 * pass over a value marks the patterns that can match it; only those are run. */
struct scan {
	const char *field;
	bool domain;            /* the virtual recipient_domain field */
	ssize_t col;            /* column after rules_bind, or -1 */
	size_t nclass;          /* not rounded up: the table is as small as it can be */
	unsigned char cls[256]; /* byte (lower-cased) to class; 0 for bytes no literal has */
	uint32_t *next;         /* nstate * nclass transitions */
	size_t nstate;
	uint32_t *out_first, *out_n, *out; /* the patterns each state proves possible */
};

/* A list of patterns tried in order, each on one field, with a prefilter per field.  A
 * rule whose pattern is an alternation has an item a branch (split_branches). */
struct item {
	char *src;              /* the item's pattern: the rule's, or one of its branches */
	const char *whole;      /* the rule's whole pattern */
	struct rx *rx;          /* compiled at the first match (item_rx): most are never run */
	size_t rule;            /* the rule (or host group definition) it belongs to */
	bool always;            /* no literal known, or none in the table: always run */
	size_t scan;            /* which field */
	ssize_t group;          /* host group the record must be in, or -1 */
	char **lit;
	size_t nlit;
};

struct matcher {
	struct item *item;
	size_t n;
	struct scan *scan;
	size_t nscan;
	unsigned *stamp;        /* item i can match when stamp[i] == gen */
	unsigned gen;
	uint32_t *cand;         /* the items marked this round, in the order found */
	size_t ncand;
	uint32_t *always;       /* the items without literals, in order */
	size_t nalways;
	uint32_t *order;        /* the items to try this round */
};

/* Where a pattern is defined that gave up on a record (file NULL: none did). */
struct gave_up {
	const char *file;
	unsigned long long line;
};

struct rules {
	struct rule *rule;
	size_t nrule, caprule;
	char **gname;
	size_t ngname;
	struct group_def *gdef;
	size_t ngdef;
	struct matcher hosts;   /* the host group definitions, on one pseudo field */
	size_t *host_def;       /* for each item of hosts, its definition */
	bool *in_group;         /* the groups the current record belongs to */
	struct matcher match;   /* the rules */
	char **file;            /* names kept for messages */
	size_t nfile;
	ssize_t col_remote, col_recipient;
	bool noprefilter;
	struct keycol *keycol;  /* the values an answer depends on, after rules_bind */
	size_t nkeycol;
	struct rb_buf key;      /* the current record's */
	struct memo *memo;      /* RULES_MEMO answers, by key hash; NULL until first used */
	struct rx_ctx *ctx;     /* the match data and limits every pattern is run with */
	struct gave_up gave_up; /* the current record's first pattern that gave up */
	size_t nloaded;         /* rules and group definitions, for RULES_MAX */
	size_t size;            /* their text and compiled patterns, for RULES_SIZE_MAX */
};

/* A longer pattern is refused here with a message of the rules' own, not by PCRE2. */
_Static_assert(RULES_PATTERN_MAX <= RX_PATTERN_MAX, "the rules' limit is the one reported");

/* Alternations are run a branch at a time while the branches of all rules number at most
 * this many; further alternations are run whole (same answers, each branch its own cost). */
#define RULES_ITEMS_MAX (RULES_MAX + 4096)

/* Records repeat: the same server wording for the same reason, status and host.  An
 * answer depends only on the values the rules read, so it is remembered by them, in a
 * table of fixed size where a new answer replaces the one in its slot. */
#define RULES_MEMO 4096
/* Longer keys are not remembered: the table stays within RULES_MEMO times this. */
#define RULES_MEMO_KEY 512

struct keycol {
	ssize_t col;
	bool domain;
};

struct memo {
	uint64_t hash;
	char *key;              /* NULL: an empty slot */
	size_t keylen;
	ssize_t rule;           /* the answer: a rule index, or -1 for none */
	struct gave_up gave_up; /* and the pattern that gave up on the way, said again */
};

const struct reason_info *
rules_reason(const char *name)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reasons[i].name, name) == 0)
			return &reasons[i];
	return NULL;
}

struct rules *
rules_new(void)
{
	struct rules *rs = rb_xcalloc(1, sizeof *rs);

	rs->col_remote = rs->col_recipient = -1;
	rs->ctx = rx_ctx_new();
	return rs;
}

static void
matcher_free(struct matcher *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->item[i].src);
		rx_free(m->item[i].rx);
		for (size_t k = 0; k < m->item[i].nlit; k++)
			free(m->item[i].lit[k]);
		free(m->item[i].lit);
	}
	free(m->item);
	for (size_t i = 0; i < m->nscan; i++) {
		free(m->scan[i].next);
		free(m->scan[i].out_first);
		free(m->scan[i].out_n);
		free(m->scan[i].out);
	}
	free(m->scan);
	free(m->stamp);
	free(m->cand);
	free(m->always);
	free(m->order);
	memset(m, 0, sizeof *m);
}

static void
memo_clear(struct rules *rs)
{
	if (rs->memo == NULL)
		return;
	for (size_t i = 0; i < RULES_MEMO; i++) {
		free(rs->memo[i].key);
		rs->memo[i].key = NULL;
	}
}

void
rules_free(struct rules *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrule; i++) {
		free(rs->rule[i].id);
		free(rs->rule[i].field);
		free(rs->rule[i].group);
		free(rs->rule[i].pattern);
	}
	free(rs->rule);
	for (i = 0; i < rs->ngname; i++)
		free(rs->gname[i]);
	free(rs->gname);
	for (i = 0; i < rs->ngdef; i++) {
		free(rs->gdef[i].pattern);
		free(rs->gdef[i].field);
		rx_free(rs->gdef[i].rx);
	}
	free(rs->gdef);
	free(rs->host_def);
	free(rs->in_group);
	memo_clear(rs);
	free(rs->memo);
	free(rs->keycol);
	rb_buf_free(&rs->key);
	matcher_free(&rs->hosts);
	matcher_free(&rs->match);
	for (i = 0; i < rs->nfile; i++)
		free(rs->file[i]);
	free(rs->file);
	rx_ctx_free(rs->ctx);
	free(rs);
}

size_t
rules_count(const struct rules *rs)
{
	return rs->nrule;
}

/* Check a pattern on its own so that an error points at the rule's own text, and that the
 * rule keeps within the limits; linelen is the length of its line. */
static int
check_pattern(struct rules *rs, const char *file, unsigned long long line, const char *pat, size_t linelen)
{
	char msg[256];
	size_t off = 0, len = strlen(pat), size = 0;

	if (rs->nloaded == RULES_MAX) {
		rb_warn_at(file, line, "more than %u rules", RULES_MAX);
		return -1;
	}
	if (len > RULES_PATTERN_MAX) {
		rb_warn_at(file, line, "pattern longer than %u bytes", RULES_PATTERN_MAX);
		return -1;
	}
	if (rx_check(pat, len, msg, sizeof msg, &off, &size) < 0) {
		rb_warn_at(file, line, "%s at offset %zu", msg, off);
		return -1;
	}
	size += linelen;
	if (size > RULES_SIZE_MAX - rs->size) {
		rb_warn_at(file, line, "rules larger than %u bytes in all", RULES_SIZE_MAX);
		return -1;
	}
	rs->size += size;
	rs->nloaded++;
	return 0;
}

static size_t
group_index(struct rules *rs, const char *name, bool add)
{
	size_t i;

	for (i = 0; i < rs->ngname; i++)
		if (strcmp(rs->gname[i], name) == 0)
			return i;
	if (!add)
		return (size_t)-1;
	rs->gname = rb_xreallocarray(rs->gname, rs->ngname + 1, sizeof *rs->gname);
	rs->gname[rs->ngname] = rb_xstrdup(name);
	return rs->ngname++;
}

/* Split off the next TAB-separated column (runs of TABs count as one separator). */
static char *
next_column(char **p)
{
	char *s = *p, *tab;

	if (s == NULL)
		return NULL;
	tab = strchr(s, '\t');
	if (tab == NULL) {
		*p = NULL;
		return s;
	}
	*tab++ = '\0';
	while (*tab == '\t')
		tab++;
	*p = tab;
	return s;
}

static int
parse_group(struct rules *rs, const char *file, unsigned long long line, char *s, size_t linelen)
{
	char *name = next_column(&s) + 1, *field = strchr(name, ':');

	if (field != NULL)
		*field++ = '\0';
	if (s == NULL || *s == '\0') {
		rb_warn_at(file, line, "group \"%s\" has no pattern", name);
		return -1;
	}
	if (!tsv_is_column_name(name) || (field != NULL && !tsv_is_column_name(field))) {
		rb_warn_at(file, line, "bad group \"%s%s%s\"; want a name, optionally :column", name,
			field ? ":" : "", field ? field : "");
		return -1;
	}
	if (check_pattern(rs, file, line, s, linelen) < 0)
		return -1;
	rs->gdef = rb_xreallocarray(rs->gdef, rs->ngdef + 1, sizeof *rs->gdef);
	rs->gdef[rs->ngdef] = (struct group_def){ group_index(rs, name, true), rb_xstrdup(s), file, line,
		field ? rb_xstrdup(field) : NULL, NULL, -1, field != NULL && strcmp(field, "recipient_domain") == 0 };
	rs->ngdef++;
	return 0;
}

static int
parse_rule(struct rules *rs, const char *file, unsigned long long line, char *s, size_t linelen)
{
	char *id = next_column(&s), *reason = next_column(&s), *field = next_column(&s), *at;
	const struct reason_info *ri;
	struct rule *r;

	if (s == NULL || *s == '\0') {
		rb_warn_at(file, line, "expected ID, REASON, FIELD and PATTERN separated by tabs");
		return -1;
	}
	if ((ri = rules_reason(reason)) == NULL) {
		rb_warn_at(file, line, "unknown reason \"%s\"", reason);
		return -1;
	}
	at = strchr(field, '@');
	if (at != NULL)
		*at++ = '\0';
	if (!tsv_is_column_name(field) || (at != NULL && !tsv_is_column_name(at))) {
		rb_warn_at(file, line, "bad field \"%s%s%s\"; want a column name, optionally @group", field,
			at ? "@" : "", at ? at : "");
		return -1;
	}
	if (check_pattern(rs, file, line, s, linelen) < 0)
		return -1;
	if (rs->nrule == rs->caprule) {
		rs->caprule = rs->caprule ? rs->caprule * 2 : 256;
		rs->rule = rb_xreallocarray(rs->rule, rs->caprule, sizeof *rs->rule);
	}
	r = &rs->rule[rs->nrule++];
	*r = (struct rule){ rb_xstrdup(id), ri, rb_xstrdup(field), at ? rb_xstrdup(at) : NULL,
		rb_xstrdup(s), file, line };
	return 0;
}

static int
parse_line(struct rules *rs, const char *file, unsigned long long line, char *s)
{
	size_t len = strlen(s);

	/* Trailing blanks and a CR are not part of a pattern: write [ ] for a trailing space. */
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (len == 0 || s[0] == '#')
		return 0;
	if (s[0] == '@')
		return parse_group(rs, file, line, s, len);
	return parse_rule(rs, file, line, s, len);
}

static const char *
keep_name(struct rules *rs, const char *name)
{
	rs->file = rb_xreallocarray(rs->file, rs->nfile + 1, sizeof *rs->file);
	rs->file[rs->nfile] = rb_xstrdup(name);
	return rs->file[rs->nfile++];
}

int
rules_load_string(struct rules *rs, const char *name, const char *text)
{
	const char *file = keep_name(rs, name);
	char *copy = rb_xstrdup(text), *p = copy;
	unsigned long long line = 0;
	int rc = 0;

	while (p != NULL && rc == 0) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl++ = '\0';
		else if (*p == '\0')
			break;
		rc = parse_line(rs, file, ++line, p);
		p = nl;
	}
	free(copy);
	return rc;
}

/* A rule is a name, a reason, a field and a pattern: none written by hand comes near
 * 64 KiB, and a line is held whole while it is parsed, so a longer one is refused rather
 * than read into memory without end. */
#define RULES_LINE_MAX (64u << 10)

enum line_rc { LINE_OK, LINE_END, LINE_LONG, LINE_ERROR };

/* Read one line, without its end, into buf (RULES_LINE_MAX + 1 bytes) as a string of
 * *len bytes (a NUL byte in it makes strlen shorter). */
static enum line_rc
read_line(FILE *fp, char *buf, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (n == RULES_LINE_MAX)
			return LINE_LONG;
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(fp))
		return LINE_ERROR;
	if (c == EOF && n == 0)
		return LINE_END;
	buf[n] = '\0';
	*len = n;
	return LINE_OK;
}

int
rules_load(struct rules *rs, const char *path)
{
	FILE *fp = fopen(path, "r");
	const char *file;
	char *buf;
	size_t n;
	enum line_rc lrc = LINE_OK;
	unsigned long long line = 0;
	int rc = 0;

	if (fp == NULL) {
		rb_warn_at(path, 0, "cannot open rules:");
		return -1;
	}
	file = keep_name(rs, path);
	buf = rb_xmalloc(RULES_LINE_MAX + 1);
	while (rc == 0 && (lrc = read_line(fp, buf, &n)) == LINE_OK) {
		if (strlen(buf) != n) {
			rb_warn_at(file, line + 1, "NUL byte in rules");
			rc = -1;
			break;
		}
		rc = parse_line(rs, file, ++line, buf);
	}
	if (rc == 0 && lrc == LINE_LONG) {
		rb_warn_at(file, line + 1, "rule longer than %u bytes", RULES_LINE_MAX);
		rc = -1;
	} else if (rc == 0 && lrc == LINE_ERROR) {
		rb_warn_at(file, 0, "read error:");
		rc = -1;
	}
	free(buf);
	fclose(fp);
	return rc;
}

/* Literals shorter than this would mark patterns possible too often to be worth a lookup. */
#define RULES_LITERAL_MIN 3
/* A prefix of a required literal is required too, and one this long rules out nearly as
 * much as the whole: longer literals are cut, so that one long rule costs few states. */
#define RULES_LITERAL_MAX 16
/* The automaton of a field is a dense table, one row of up to 256 classes a state, and a
 * literal byte may cost a state: past this many literal bytes on all fields together (the
 * shipped rules use about 10000) a pattern gets no literals in a table and is always tried
 * instead.  That stays correct and bounds the tables at 32 MiB (some 9 MiB for literals
 * of ASCII letters, digits and punctuation). */
#define RULES_SCAN_BYTES (32u << 10)

static struct rx *
compile_or_report(const char *pattern, const char *file, unsigned long long line)
{
	char msg[256];
	size_t off = 0;
	struct rx *rx = rx_compile(pattern, strlen(pattern), msg, sizeof msg, &off);

	if (rx == NULL)
		rb_warn_at(file, line, "%s at offset %zu", msg, off);
	return rx;
}

static size_t
scan_index(struct matcher *m, const char *field)
{
	size_t i;

	for (i = 0; i < m->nscan; i++)
		if (strcmp(m->scan[i].field, field) == 0)
			return i;
	m->scan = rb_xreallocarray(m->scan, m->nscan + 1, sizeof *m->scan);
	m->scan[i] = (struct scan){ .field = field, .domain = strcmp(field, "recipient_domain") == 0, .col = -1 };
	m->nscan++;
	return i;
}

/* The top-level alternatives of a pattern, when each stands alone as a pattern with the
 * same meaning: a rule then matches when one of its branches does, and each branch has
 * literals of its own, so that a long alternation costs the branch or two whose words
 * occur instead of a try of every branch at every position.  Back references, inline
 * options, verbs, conditionals, recursion and named groups reach across branches: a
 * pattern with any of them stays whole.  Returns the number of branches (their offsets
 * in at, room for one more than the pattern's '|' bytes: branches may be empty, "a||b"),
 * or 0 when the pattern stays whole. */
static size_t
split_branches(const char *p, size_t *at)
{
	size_t n = 1, depth = 0;
	bool incls = false;

	at[0] = 0;
	for (size_t i = 0; p[i] != '\0'; i++) {
		char c = p[i];

		if (c == '\\') {
			const char *e;

			c = p[++i];
			if (c == '\0' || (c >= '0' && c <= '9') || c == 'g' || c == 'k')
				return 0;
			if (c == 'Q') { /* quoted up to \E */
				if ((e = strstr(p + i, "\\E")) == NULL)
					break;
				i = (size_t)(e - p) + 1;
			}
		} else if (incls) {
			if (c == '[' && p[i + 1] == ':') { /* [:alpha:] */
				const char *e = strstr(p + i + 2, ":]");

				if (e == NULL)
					return 0;
				i = (size_t)(e - p) + 1;
			} else if (c == ']')
				incls = false;
		} else if (c == '[') {
			incls = true;
			if (p[i + 1] == '^')
				i++;
			if (p[i + 1] == ']') /* a literal ] first in the class */
				i++;
		} else if (c == '(') {
			if (p[i + 1] == '*')
				return 0;
			if (p[i + 1] == '?' && !strchr(":=!", p[i + 2] ? p[i + 2] : 'x') &&
			    !(p[i + 2] == '<' && (p[i + 3] == '=' || p[i + 3] == '!')))
				return 0;
			depth++;
		} else if (c == ')') {
			if (depth == 0)
				return 0;
			depth--;
		} else if (c == '|' && depth == 0)
			at[n++] = i + 1;
	}
	return n > 1 && depth == 0 && !incls ? n : 0;
}

static void
add_item(struct matcher *m, char *src, const char *whole, const char *field, ssize_t group, size_t owner)
{
	struct item it = { 0 };

	it.src = src;
	it.whole = whole;
	it.rule = owner;
	it.scan = scan_index(m, field);
	it.group = group;
	it.nlit = rx_literals(src, RULES_LITERAL_MIN, &it.lit);
	it.always = it.nlit == 0;
	for (size_t k = 0; k < it.nlit; k++)
		if (strlen(it.lit[k]) > RULES_LITERAL_MAX)
			it.lit[k][RULES_LITERAL_MAX] = '\0';
	m->item = rb_xreallocarray(m->item, m->n + 1, sizeof *m->item);
	m->item[m->n++] = it;
}

/* The items of a rule: one a branch, or the whole pattern. */
static void
add_rule(struct matcher *m, const struct rule *r, ssize_t group, size_t ri)
{
	size_t len = strlen(r->pattern), bars = 0;

	for (size_t i = 0; i < len; i++)
		bars += r->pattern[i] == '|';
	size_t *at = rb_xcalloc(bars + 1, sizeof *at);
	size_t n = split_branches(r->pattern, at);

	if (n > RULES_ITEMS_MAX - m->n) /* no room left: each branch costs a compiled pattern */
		n = 0;
	if (n == 0)
		add_item(m, rb_xstrdup(r->pattern), r->pattern, r->field, group, ri);
	for (size_t k = 0; k < n; k++) {
		size_t end = k + 1 < n ? at[k + 1] - 1 : len;

		add_item(m, rb_xstrndup(r->pattern + at[k], end - at[k]), r->pattern, r->field, group, ri);
	}
	free(at);
}

/* An item's compiled pattern.  The rules were checked as they were loaded; should a branch
 * still not compile alone, the whole pattern answers for it, which is as right (the rule
 * matches exactly when it does), only slower. */
static struct rx *
item_rx(struct item *it)
{
	char msg[256];
	size_t off = 0;

	if (it->rx != NULL)
		return it->rx;
	it->rx = rx_compile(it->src, strlen(it->src), msg, sizeof msg, &off);
	if (it->rx == NULL)
		it->rx = rx_compile(it->whole, strlen(it->whole), msg, sizeof msg, &off);
	if (it->rx == NULL)
		rb_die(RB_EXIT_FATAL, "pattern \"%s\": %s at offset %zu", it->whole, msg, off);
	return it->rx;
}

/* Whether item i has its literals in the automaton of scan si. */
static bool
in_scan(const struct matcher *m, size_t i, size_t si)
{
	return m->item[i].scan == si && !m->item[i].always;
}

/* Give the items of scan si literals in the table while RULES_SCAN_BYTES allows (*total is
 * what the matcher's scans before it took), in rule order (a later, shorter one may still
 * fit); the others are always tried.  Returns the literal bytes of this scan. */
static size_t
budget_scan(struct matcher *m, size_t si, size_t *total)
{
	size_t used = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct item *it = &m->item[i];
		size_t cost = 0;

		if (!in_scan(m, i, si))
			continue;
		for (size_t k = 0; k < it->nlit; k++)
			cost += strlen(it->lit[k]);
		if (cost > RULES_SCAN_BYTES - *total)
			it->always = true;
		else {
			used += cost;
			*total += cost;
		}
	}
	return used;
}

/* Build the automaton of one field: a trie of its items' literals, then failure links
 * folded into a full transition table. */
static void
build_scan(struct matcher *m, size_t si, size_t *total)
{
	struct scan *sc = &m->scan[si];
	size_t cap, i, k, c, nout = 0;
	uint32_t *fail, *queue, qh = 0, qt = 0;
	struct { uint32_t *v; size_t n; } *outs;

	cap = budget_scan(m, si, total) + 1; /* a state for the root and at most one a literal byte */
	memset(sc->cls, 0, sizeof sc->cls);
	sc->nclass = 1;
	for (i = 0; i < m->n; i++)
		if (in_scan(m, i, si))
			for (k = 0; k < m->item[i].nlit; k++)
				for (const unsigned char *p = (const unsigned char *)m->item[i].lit[k]; *p; p++)
					if (sc->cls[*p] == 0)
						sc->cls[*p] = (unsigned char)sc->nclass++;
	/* Upper-case letters share their lower-case class: the scan is caseless. */
	for (c = 'A'; c <= 'Z'; c++)
		sc->cls[c] = sc->cls[c - 'A' + 'a'];
	sc->next = rb_xcalloc(cap * sc->nclass, sizeof *sc->next);
	outs = rb_xcalloc(cap, sizeof *outs);
	sc->nstate = 1;
	for (i = 0; i < m->n; i++) {
		if (!in_scan(m, i, si))
			continue;
		for (k = 0; k < m->item[i].nlit; k++) {
			uint32_t st = 0;

			for (const unsigned char *p = (const unsigned char *)m->item[i].lit[k]; *p; p++) {
				uint32_t *slot = &sc->next[st * sc->nclass + sc->cls[*p]];

				if (*slot == 0)
					*slot = (uint32_t)sc->nstate++;
				st = *slot;
			}
			outs[st].v = rb_xreallocarray(outs[st].v, outs[st].n + 1, sizeof *outs[st].v);
			outs[st].v[outs[st].n++] = (uint32_t)i;
		}
	}
	/* Breadth first: a state's failure is the longest proper suffix that is a trie state;
	 * its missing transitions are its failure's, and it outputs what its failure outputs. */
	fail = rb_xcalloc(sc->nstate, sizeof *fail);
	queue = rb_xcalloc(sc->nstate, sizeof *queue);
	for (c = 1; c < sc->nclass; c++)
		if (sc->next[c] != 0)
			queue[qt++] = sc->next[c];
	while (qh < qt) {
		uint32_t st = queue[qh++];

		for (k = 0; k < outs[fail[st]].n; k++) {
			outs[st].v = rb_xreallocarray(outs[st].v, outs[st].n + 1, sizeof *outs[st].v);
			outs[st].v[outs[st].n++] = outs[fail[st]].v[k];
		}
		for (c = 1; c < sc->nclass; c++) {
			uint32_t *slot = &sc->next[st * sc->nclass + c];

			if (*slot != 0) {
				fail[*slot] = sc->next[fail[st] * sc->nclass + c];
				queue[qt++] = *slot;
			} else
				*slot = sc->next[fail[st] * sc->nclass + c];
		}
	}
	/* Literals share prefixes: give back the rows no state took. */
	sc->next = rb_xreallocarray(sc->next, sc->nstate * sc->nclass, sizeof *sc->next);
	for (i = 0; i < sc->nstate; i++)
		fail[i] = outs[i].n != 0; /* fail[] is done with: whether each state outputs */
	for (i = 0; i < sc->nstate * sc->nclass; i++)
		sc->next[i] = (uint32_t)(sc->next[i] * sc->nclass) << 1 | fail[sc->next[i]];
	sc->out_first = rb_xcalloc(sc->nstate, sizeof *sc->out_first);
	sc->out_n = rb_xcalloc(sc->nstate, sizeof *sc->out_n);
	for (i = 0; i < sc->nstate; i++)
		nout += outs[i].n;
	sc->out = rb_xcalloc(nout + 1, sizeof *sc->out);
	for (i = 0, nout = 0; i < sc->nstate; i++) {
		sc->out_first[i] = (uint32_t)nout;
		sc->out_n[i] = (uint32_t)outs[i].n;
		for (k = 0; k < outs[i].n; k++)
			sc->out[nout++] = outs[i].v[k];
		free(outs[i].v);
	}
	free(outs);
	free(fail);
	free(queue);
}

static void
build_matcher(struct matcher *m)
{
	size_t total = 0;

	for (size_t i = 0; i < m->nscan; i++)
		build_scan(m, i, &total);
	m->stamp = rb_xcalloc(m->n + 1, sizeof *m->stamp);
	m->cand = rb_xcalloc(m->n + 1, sizeof *m->cand);
	m->always = rb_xcalloc(m->n + 1, sizeof *m->always);
	m->order = rb_xcalloc(m->n + 1, sizeof *m->order);
	for (size_t i = 0; i < m->n; i++)
		if (m->item[i].always)
			m->always[m->nalways++] = (uint32_t)i;
}

/* Mark the items a state proves possible. */
static void
mark(struct matcher *m, const struct scan *sc, uint32_t st)
{
	uint32_t q = (st >> 1) / (uint32_t)sc->nclass;

	for (uint32_t k = 0; k < sc->out_n[q]; k++) {
		uint32_t it = sc->out[sc->out_first[q] + k];

		if (m->stamp[it] != m->gen) {
			m->stamp[it] = m->gen;
			m->cand[m->ncand++] = it;
		}
	}
}

/* Mark the items of scan si that a value can match.  A transition is the target's row
 * offset shifted left one, the low bit set when the target proves some patterns possible:
 * one load a byte, each waiting for the one before.  So a long value is scanned as two
 * halves side by side, the first running on past the middle for the length of the longest
 * literal less one, so that every occurrence lies whole in one half or the other. */
static void
run_scan(struct matcher *m, size_t si, const char *s, size_t len)
{
	const struct scan *sc = &m->scan[si];
	const unsigned char *a = (const unsigned char *)s, *b;
	uint32_t sa = 0, sb = 0;
	size_t i = 0, alen = len, blen = 0;

	if (len >= 4 * RULES_LITERAL_MAX) {
		size_t half = len / 2;

		alen = half + RULES_LITERAL_MAX - 1;
		b = a + half;
		blen = len - half;
		for (; i < blen; i++) {
			sa = sc->next[(sa >> 1) + sc->cls[a[i]]];
			sb = sc->next[(sb >> 1) + sc->cls[b[i]]];
			if ((sa | sb) & 1) {
				if (sa & 1)
					mark(m, sc, sa);
				if (sb & 1)
					mark(m, sc, sb);
			}
		}
	}
	for (; i < alen; i++) {
		sa = sc->next[(sa >> 1) + sc->cls[a[i]]];
		if (sa & 1)
			mark(m, sc, sa);
	}
}

/* A new record: forget the marks of the last one. */
static void
new_round(struct matcher *m)
{
	m->ncand = 0;
	if (++m->gen == 0) {
		memset(m->stamp, 0, (m->n + 1) * sizeof *m->stamp);
		m->gen = 1;
	}
}

int
rules_compile(struct rules *rs)
{
	size_t i;

	rs->host_def = rb_xcalloc(rs->ngdef + 1, sizeof *rs->host_def);
	rs->in_group = rb_xcalloc(rs->ngname + 1, sizeof *rs->in_group);
	for (i = 0; i < rs->ngdef; i++) {
		struct group_def *gd = &rs->gdef[i];

		if (gd->field != NULL) {
			if ((gd->rx = compile_or_report(gd->pattern, gd->file, gd->line)) == NULL)
				return -1;
			continue;
		}
		rs->host_def[rs->hosts.n] = i;
		add_item(&rs->hosts, rb_xstrdup(gd->pattern), gd->pattern, "host", -1, i);
	}
	for (i = 0; i < rs->nrule; i++) {
		struct rule *r = &rs->rule[i];
		ssize_t g = -1;

		if (r->group != NULL) {
			size_t gi = group_index(rs, r->group, false);

			if (gi == (size_t)-1) {
				rb_warn_at(r->file, r->line, "unknown host group \"%s\"", r->group);
				return -1;
			}
			g = (ssize_t)gi;
		}
		add_rule(&rs->match, r, g, i);
	}
	build_matcher(&rs->hosts);
	build_matcher(&rs->match);
	return 0;
}

static ssize_t
find_col(char *const *cols, size_t ncols, const char *name)
{
	for (size_t i = 0; i < ncols; i++)
		if (strcmp(cols[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

static void
add_keycol(struct rules *rs, ssize_t col, bool domain)
{
	if (col < 0)
		return;
	for (size_t i = 0; i < rs->nkeycol; i++)
		if (rs->keycol[i].col == col && rs->keycol[i].domain == domain)
			return;
	rs->keycol[rs->nkeycol++] = (struct keycol){ col, domain };
}

/* The columns an answer depends on: the hosts of the host groups, the columns of the
 * group conditions and those the rules match. */
static void
bind_key(struct rules *rs)
{
	free(rs->keycol);
	rs->keycol = rb_xcalloc(2 + rs->ngdef + rs->match.nscan, sizeof *rs->keycol);
	rs->nkeycol = 0;
	add_keycol(rs, rs->col_remote, false);
	add_keycol(rs, rs->col_recipient, true);
	for (size_t i = 0; i < rs->ngdef; i++)
		if (rs->gdef[i].field != NULL)
			add_keycol(rs, rs->gdef[i].col, rs->gdef[i].domain);
	for (size_t i = 0; i < rs->match.nscan; i++)
		add_keycol(rs, rs->match.scan[i].col, rs->match.scan[i].domain);
	memo_clear(rs);
}

void
rules_bind(struct rules *rs, char *const *cols, size_t ncols)
{
	rs->col_remote = find_col(cols, ncols, "remote_mta");
	rs->col_recipient = find_col(cols, ncols, "recipient");
	for (size_t i = 0; i < rs->ngdef; i++) {
		struct group_def *gd = &rs->gdef[i];

		if (gd->field != NULL)
			gd->col = gd->domain ? rs->col_recipient : find_col(cols, ncols, gd->field);
	}
	for (size_t i = 0; i < rs->match.nscan; i++) {
		struct scan *sc = &rs->match.scan[i];

		sc->col = sc->domain ? rs->col_recipient : find_col(cols, ncols, sc->field);
	}
	bind_key(rs);
}

/* The value of a column, "" when absent; the domain of an address for recipient_domain. */
static const char *
value(char *const *field, const size_t *flen, ssize_t col, bool domain, size_t *len)
{
	const char *s, *at;

	if (col < 0) {
		*len = 0;
		return "";
	}
	s = field[col];
	*len = flen[col];
	if (domain) {
		for (at = s + *len; at > s && at[-1] != '@'; at--)
			;
		if (at == s) {
			*len = 0;
			return "";
		}
		*len -= (size_t)(at - s);
		s = at;
	}
	if (*len > RULES_SUBJECT_MAX)
		*len = RULES_SUBJECT_MAX;
	return s;
}

/* The items to try this round, in order: the marked ones and those always tried, merged.
 * Returns how many were written into out (room for m->n). */
static size_t
round_items(struct matcher *m, bool all, uint32_t *out)
{
	size_t i, j = 0, n = 0;

	if (all) {
		for (i = 0; i < m->n; i++)
			out[n++] = (uint32_t)i;
		return n;
	}
	/* Few are marked: an insertion sort is all they need. */
	for (i = 1; i < m->ncand; i++) {
		uint32_t v = m->cand[i];
		size_t k = i;

		for (; k > 0 && m->cand[k - 1] > v; k--)
			m->cand[k] = m->cand[k - 1];
		m->cand[k] = v;
	}
	for (i = 0; i < m->ncand || j < m->nalways;) {
		if (j == m->nalways || (i < m->ncand && m->cand[i] < m->always[j]))
			out[n++] = m->cand[i++];
		else
			out[n++] = m->always[j++];
	}
	return n;
}

/* Does the pattern match s?  A pattern that gives up (PCRE2's limit on the work or memory
 * of one match) counts as no match; the first to do so on a record is noted, defined at
 * file:line, for the caller to report: a later rule then decided. */
static bool
matches(struct rules *rs, struct rx *rx, const char *s, size_t len, const char *file,
	unsigned long long line)
{
	int rc = rx_match(rx, rs->ctx, s, len, NULL);

	if (rc < 0 && rs->gave_up.file == NULL)
		rs->gave_up = (struct gave_up){ file, line };
	return rc == 1;
}

/* The host group of a host name: that of the first definition matching it, or -1. */
static ssize_t
host_group(struct rules *rs, const char *s, size_t len)
{
	struct matcher *m = &rs->hosts;

	if (len == 0 || m->n == 0)
		return -1;
	new_round(m);
	run_scan(m, 0, s, len);
	for (size_t k = 0, n = round_items(m, rs->noprefilter, m->order); k < n; k++) {
		uint32_t i = m->order[k];

		const struct group_def *gd = &rs->gdef[rs->host_def[i]];

		if (matches(rs, item_rx(&m->item[i]), s, len, gd->file, gd->line))
			return (ssize_t)gd->group;
	}
	return -1;
}

void
rules_prefilter(struct rules *rs, bool on)
{
	rs->noprefilter = !on;
	memo_clear(rs);
}

/* The first matching rule's index, or -1, worked out. */
static ssize_t
match_record(struct rules *rs, char *const *field, const size_t *flen)
{
	struct matcher *m = &rs->match;
	size_t len;
	const char *s;
	ssize_t g;

	memset(rs->in_group, 0, rs->ngname * sizeof *rs->in_group);
	s = value(field, flen, rs->col_remote, false, &len);
	if ((g = host_group(rs, s, len)) >= 0)
		rs->in_group[g] = true;
	s = value(field, flen, rs->col_recipient, true, &len);
	if ((g = host_group(rs, s, len)) >= 0)
		rs->in_group[g] = true;
	for (size_t i = 0; i < rs->ngdef; i++) {
		struct group_def *gd = &rs->gdef[i];

		if (gd->field == NULL || rs->in_group[gd->group])
			continue;
		s = value(field, flen, gd->col, gd->domain, &len);
		rs->in_group[gd->group] = matches(rs, gd->rx, s, len, gd->file, gd->line);
	}
	new_round(m);
	for (size_t i = 0; i < m->nscan; i++) {
		s = value(field, flen, m->scan[i].col, m->scan[i].domain, &len);
		run_scan(m, i, s, len);
	}
	for (size_t k = 0, n = round_items(m, rs->noprefilter, m->order); k < n; k++) {
		struct item *it = &m->item[m->order[k]];
		const struct scan *sc = &m->scan[it->scan];

		if (it->group >= 0 && !rs->in_group[it->group])
			continue;
		s = value(field, flen, sc->col, sc->domain, &len);
		if (matches(rs, item_rx(it), s, len, rs->rule[it->rule].file, rs->rule[it->rule].line))
			return (ssize_t)it->rule;
	}
	return -1;
}

/* The key of a record: each value the rules read, as the rules see it, after its length. */
static void
make_key(struct rules *rs, char *const *field, const size_t *flen)
{
	struct rb_buf *k = &rs->key;

	k->len = 0;
	for (size_t i = 0; i < rs->nkeycol; i++) {
		size_t len;
		const char *s = value(field, flen, rs->keycol[i].col, rs->keycol[i].domain, &len);
		uint32_t n = (uint32_t)len;

		rb_buf_reserve(k, sizeof n + len);
		memcpy(k->data + k->len, &n, sizeof n);
		memcpy(k->data + k->len + sizeof n, s, len);
		k->len += sizeof n + len;
	}
}

/* A hash of the key, eight bytes at a time. */
static uint64_t
key_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;

	for (; len >= 8; s += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (len > 0) {
		uint64_t w = 0;

		memcpy(&w, s, len);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	}
	return h ^ (h >> 29);
}

const struct rule *
rules_match(struct rules *rs, char *const *field, const size_t *flen)
{
	struct memo *slot;
	uint64_t h;
	ssize_t i;

	rs->gave_up = (struct gave_up){ NULL, 0 };
	/* The prefilter check runs every rule: nothing is remembered then. */
	if (rs->noprefilter)
		return (i = match_record(rs, field, flen)) < 0 ? NULL : &rs->rule[i];
	make_key(rs, field, flen);
	if (rs->key.len > RULES_MEMO_KEY)
		return (i = match_record(rs, field, flen)) < 0 ? NULL : &rs->rule[i];
	if (rs->memo == NULL)
		rs->memo = rb_xcalloc(RULES_MEMO, sizeof *rs->memo);
	h = key_hash(rs->key.data, rs->key.len);
	slot = &rs->memo[h & (RULES_MEMO - 1)];
	if (slot->key != NULL && slot->hash == h && slot->keylen == rs->key.len &&
	    memcmp(slot->key, rs->key.data, rs->key.len) == 0) {
		i = slot->rule;
		rs->gave_up = slot->gave_up;
	} else {
		i = match_record(rs, field, flen);
		if (slot->key == NULL)
			slot->key = rb_xmalloc(RULES_MEMO_KEY);
		memcpy(slot->key, rs->key.data, rs->key.len);
		slot->keylen = rs->key.len;
		slot->hash = h;
		slot->rule = i;
		slot->gave_up = rs->gave_up;
	}
	return i < 0 ? NULL : &rs->rule[i];
}

const char *
rules_gave_up(const struct rules *rs, unsigned long long *line)
{
	if (rs->gave_up.file != NULL)
		*line = rs->gave_up.line;
	return rs->gave_up.file;
}
