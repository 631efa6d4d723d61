#include "rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "rx.h"
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
};

/* A run of consecutive rules on one field and host group: one compiled alternation. */
struct block {
	size_t first, n;
	const char *field;
	ssize_t col;       /* column index after rules_bind; -1 absent */
	bool domain;       /* the virtual recipient_domain field */
	ssize_t group;     /* host group index or -1 */
	struct rx *rx;
};

struct rules {
	struct rule *rule;
	size_t nrule, caprule;
	char **gname;
	size_t ngname;
	struct group_def *gdef;
	size_t ngdef;
	struct rx *hostrx;
	struct block *block;
	size_t nblock;
	char **file;          /* names kept for messages */
	size_t nfile;
	ssize_t col_remote, col_recipient;
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
	return rs;
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
	for (i = 0; i < rs->ngdef; i++)
		free(rs->gdef[i].pattern);
	free(rs->gdef);
	rx_free(rs->hostrx);
	for (i = 0; i < rs->nblock; i++)
		rx_free(rs->block[i].rx);
	free(rs->block);
	for (i = 0; i < rs->nfile; i++)
		free(rs->file[i]);
	free(rs->file);
	free(rs);
}

size_t
rules_count(const struct rules *rs)
{
	return rs->nrule;
}

static bool
is_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Check a pattern on its own so that an error points at the rule's own text. */
static int
check_pattern(const char *file, unsigned long long line, const char *pat)
{
	char msg[256];
	size_t off = 0;
	struct rx *rx = rx_compile(pat, strlen(pat), msg, sizeof msg, &off);

	if (rx == NULL) {
		rb_warn_at(file, line, "%s at offset %zu", msg, off);
		return -1;
	}
	rx_free(rx);
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
parse_group(struct rules *rs, const char *file, unsigned long long line, char *s)
{
	char *name = next_column(&s) + 1;

	if (s == NULL || *s == '\0') {
		rb_warn_at(file, line, "host group \"%s\" has no pattern", name);
		return -1;
	}
	if (!is_name(name)) {
		rb_warn_at(file, line, "bad host group name \"%s\"", name);
		return -1;
	}
	if (check_pattern(file, line, s) < 0)
		return -1;
	rs->gdef = rb_xreallocarray(rs->gdef, rs->ngdef + 1, sizeof *rs->gdef);
	rs->gdef[rs->ngdef] = (struct group_def){ group_index(rs, name, true), rb_xstrdup(s), file, line };
	rs->ngdef++;
	return 0;
}

static int
parse_rule(struct rules *rs, const char *file, unsigned long long line, char *s)
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
	if (!is_name(field) || (at != NULL && !is_name(at))) {
		rb_warn_at(file, line, "bad field \"%s%s%s\"; want a column name, optionally @group", field,
			at ? "@" : "", at ? at : "");
		return -1;
	}
	if (check_pattern(file, line, s) < 0)
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
		return parse_group(rs, file, line, s);
	return parse_rule(rs, file, line, s);
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

int
rules_load(struct rules *rs, const char *path)
{
	FILE *fp = fopen(path, "r");
	const char *file;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long line = 0;
	int rc = 0;

	if (fp == NULL) {
		rb_warn_at(path, 0, "cannot open rules:");
		return -1;
	}
	file = keep_name(rs, path);
	errno = 0;
	while (rc == 0 && (n = getline(&buf, &cap, fp)) >= 0) {
		if (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (strlen(buf) != (size_t)n) {
			rb_warn_at(file, line + 1, "NUL byte in rules");
			rc = -1;
			break;
		}
		rc = parse_line(rs, file, ++line, buf);
	}
	if (rc == 0 && ferror(fp)) {
		rb_warn_at(file, 0, "read error:");
		rc = -1;
	}
	free(buf);
	fclose(fp);
	return rc;
}

/* Ordered alternation: each alternative is anchored at the start and may skip any prefix,
 * so the first alternative that matches anywhere in the subject wins, not the leftmost
 * match.  The mark names the rule (its index). */
static void
add_alternative(struct rb_buf *b, const char *pattern, size_t index)
{
	if (b->len > 0)
		rb_buf_addc(b, '|');
	rb_buf_printf(b, "^.*?(?:%s)(*MARK:%zu)", pattern, index);
}

static struct rx *
compile_or_report(const struct rb_buf *b, const char *file, unsigned long long line)
{
	char msg[256];
	size_t off = 0;
	struct rx *rx = rx_compile(b->data, b->len, msg, sizeof msg, &off);

	if (rx == NULL)
		rb_warn_at(file, line, "%s in the combined pattern at offset %zu", msg, off);
	return rx;
}

int
rules_compile(struct rules *rs)
{
	struct rb_buf b = { 0 };
	size_t i;

	for (i = 0; i < rs->ngdef; i++)
		add_alternative(&b, rs->gdef[i].pattern, rs->gdef[i].group);
	if (rs->ngdef > 0 && (rs->hostrx = compile_or_report(&b, rs->gdef[0].file, 0)) == NULL) {
		rb_buf_free(&b);
		return -1;
	}
	for (i = 0; i < rs->nrule; i++) {
		struct rule *r = &rs->rule[i];
		ssize_t g = -1;

		if (r->group != NULL) {
			size_t gi = group_index(rs, r->group, false);

			if (gi == (size_t)-1) {
				rb_warn_at(r->file, r->line, "unknown host group \"%s\"", r->group);
				rb_buf_free(&b);
				return -1;
			}
			g = (ssize_t)gi;
		}
		if (rs->nblock == 0 || strcmp(rs->block[rs->nblock - 1].field, r->field) != 0 ||
		    rs->block[rs->nblock - 1].group != g) {
			rs->block = rb_xreallocarray(rs->block, rs->nblock + 1, sizeof *rs->block);
			rs->block[rs->nblock++] = (struct block){ i, 0, r->field, -1,
				strcmp(r->field, "recipient_domain") == 0, g, NULL };
		}
		rs->block[rs->nblock - 1].n++;
	}
	for (i = 0; i < rs->nblock; i++) {
		struct block *bl = &rs->block[i];

		rb_buf_clear(&b);
		for (size_t k = bl->first; k < bl->first + bl->n; k++)
			add_alternative(&b, rs->rule[k].pattern, k);
		if ((bl->rx = compile_or_report(&b, rs->rule[bl->first].file, rs->rule[bl->first].line)) == NULL) {
			rb_buf_free(&b);
			return -1;
		}
	}
	rb_buf_free(&b);
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

void
rules_bind(struct rules *rs, char *const *cols, size_t ncols)
{
	rs->col_remote = find_col(cols, ncols, "remote_mta");
	rs->col_recipient = find_col(cols, ncols, "recipient");
	for (size_t i = 0; i < rs->nblock; i++)
		rs->block[i].col = rs->block[i].domain ? rs->col_recipient : find_col(cols, ncols, rs->block[i].field);
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

static ssize_t
host_group(struct rules *rs, const char *s, size_t len)
{
	const char *mark;

	if (rs->hostrx == NULL || len == 0 || rx_match(rs->hostrx, s, len, &mark) != 1 || mark == NULL)
		return -1;
	return (ssize_t)strtoul(mark, NULL, 10);
}

const struct rule *
rules_match(struct rules *rs, char *const *field, const size_t *flen)
{
	size_t len;
	const char *s;
	ssize_t g1, g2;

	s = value(field, flen, rs->col_remote, false, &len);
	g1 = host_group(rs, s, len);
	s = value(field, flen, rs->col_recipient, true, &len);
	g2 = host_group(rs, s, len);
	for (size_t i = 0; i < rs->nblock; i++) {
		struct block *bl = &rs->block[i];
		const char *mark;

		if (bl->group >= 0 && bl->group != g1 && bl->group != g2)
			continue;
		s = value(field, flen, bl->col, bl->domain, &len);
		if (rx_match(bl->rx, s, len, &mark) == 1 && mark != NULL)
			return &rs->rule[strtoul(mark, NULL, 10)];
	}
	return NULL;
}
