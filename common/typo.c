#include "typo.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "util.h"

/* Longest domain name (RFC 1035); longer strings are not domains and are never corrected. */
#define TYPO_DOMAIN_MAX 253
/* A recipient-list domain is taken as real from this many addresses on, and a rarer one is a
 * typo candidate only of a domain at least TYPO_LIST_RATIO times as frequent. */
#define TYPO_LIST_REAL 5
#define TYPO_LIST_RATIO 10

struct entry {
	char *name;
	size_t len;
	size_t rank;            /* position in the known list (lower is more frequent) */
	unsigned long count;    /* addresses in the recipient list */
	bool known;
};

/* Answers already given: archives repeat their domains, and a search costs a distance
 * computation per known domain. */
#define TYPO_MEMO_MAX 65536

struct memo {
	char *name;
	size_t len;
	const char *answer;     /* a known entry's name, or NULL */
};

struct typo {
	struct memo *memo;      /* open addressing, TYPO_MEMO_MAX * 2 slots when used */
	size_t nmemo;
	struct entry *e;
	size_t n, cap;
	size_t *slot;           /* open addressing: index + 1, 0 empty */
	size_t nslot;
	size_t nknown;
	char fixed[TYPO_DOMAIN_MAX + 1];
};

/* Broken endings people type for the common ones; applied only when the result is known. */
static const struct { const char *bad, *good; } suffix_fix[] = {
	{ ".con.br", ".com.br" }, { ".cm.br", ".com.br" }, { ".co.br", ".com.br" }, { ".com.bt", ".com.br" },
	{ ".con.ar", ".com.ar" }, { ".con.mx", ".com.mx" }, { ".con.au", ".com.au" }, { ".con.tr", ".com.tr" },
	{ ".co.uj", ".co.uk" }, { ".co.ul", ".co.uk" }, { ".co.ik", ".co.uk" }, { ".couk", ".co.uk" },
	{ ".co.k", ".co.uk" }, { ".co.u", ".co.uk" }, { ".com.uk", ".co.uk" }, { ".uk.co", ".co.uk" },
	{ ".con", ".com" }, { ".cmo", ".com" }, { ".ocm", ".com" }, { ".cpm", ".com" }, { ".vom", ".com" },
	{ ".xom", ".com" }, { ".comm", ".com" }, { ".coom", ".com" }, { ".comn", ".com" }, { ".cim", ".com" },
	{ ".cm", ".com" }, { ".co", ".com" }, { ".om", ".com" }, { ".cob", ".com" }, { ".cok", ".com" },
	{ ".come", ".com" }, { ".coml", ".com" }, { ".c0m", ".com" }, { ".comk", ".com" }, { ".c", ".com" },
	{ ".ner", ".net" }, { ".nte", ".net" }, { ".ent", ".net" }, { ".met", ".net" }, { ".nett", ".net" },
	{ ".bet", ".net" }, { ".ne", ".net" }, { ".ry", ".ru" }, { ".rux", ".ru" }, { ".ri", ".ru" },
	{ ".orh", ".org" }, { ".ogr", ".org" }, { ".frr", ".fr" }, { ".ed", ".de" }, { ".dee", ".de" },
};

static void memo_clear(struct typo *t);

struct typo *
typo_new(void)
{
	struct typo *t = rb_xcalloc(1, sizeof *t);

	t->nslot = 1024;
	t->slot = rb_xcalloc(t->nslot, sizeof *t->slot);
	return t;
}

void
typo_free(struct typo *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
	free(t->slot);
	memo_clear(t);
	free(t);
}

static uint64_t
hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static struct entry *
lookup(const struct typo *t, const char *s, size_t len)
{
	size_t i = hash(s, len) & (t->nslot - 1);

	for (; t->slot[i] != 0; i = (i + 1) & (t->nslot - 1)) {
		struct entry *e = &t->e[t->slot[i] - 1];

		if (e->len == len && memcmp(e->name, s, len) == 0)
			return e;
	}
	return NULL;
}

static void
rehash(struct typo *t)
{
	free(t->slot);
	t->nslot *= 2;
	t->slot = rb_xcalloc(t->nslot, sizeof *t->slot);
	for (size_t k = 0; k < t->n; k++) {
		size_t i = hash(t->e[k].name, t->e[k].len) & (t->nslot - 1);

		while (t->slot[i] != 0)
			i = (i + 1) & (t->nslot - 1);
		t->slot[i] = k + 1;
	}
}

/* The entry of a lower-case domain, created when absent. */
static struct entry *
intern(struct typo *t, const char *s, size_t len)
{
	struct entry *e = lookup(t, s, len);

	if (e != NULL)
		return e;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 512;
		t->e = rb_xreallocarray(t->e, t->cap, sizeof *t->e);
	}
	e = &t->e[t->n++];
	*e = (struct entry){ rb_xstrndup(s, len), len, SIZE_MAX, 0, false };
	if (t->n * 2 > t->nslot)
		rehash(t);
	else {
		size_t i = hash(s, len) & (t->nslot - 1);

		while (t->slot[i] != 0)
			i = (i + 1) & (t->nslot - 1);
		t->slot[i] = t->n;
	}
	return e;
}

/* Lower-case a candidate domain into buf; 0 when it cannot be a domain. */
static size_t
normalise(const char *s, size_t len, char *buf)
{
	size_t i;

	while (len > 0 && (s[len - 1] == '.' || isspace((unsigned char)s[len - 1])))
		len--;
	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	if (len == 0 || len > TYPO_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c >= 0x80))
			return 0;
		buf[i] = (char)tolower(c);
	}
	buf[len] = '\0';
	return len;
}

/* Forget the answers given: the tables they came from have changed. */
static void
memo_clear(struct typo *t)
{
	if (t->memo == NULL)
		return;
	for (size_t i = 0; i < TYPO_MEMO_MAX * 2; i++)
		free(t->memo[i].name);
	free(t->memo);
	t->memo = NULL;
	t->nmemo = 0;
}

void
typo_add_known(struct typo *t, const char *domain)
{
	char buf[TYPO_DOMAIN_MAX + 1];
	size_t len = normalise(domain, strlen(domain), buf);
	struct entry *e;

	if (len == 0)
		return;
	memo_clear(t);
	e = intern(t, buf, len);
	if (!e->known) {
		e->known = true;
		e->rank = t->nknown++;
	}
}

void
typo_count(struct typo *t, const char *domain, size_t len)
{
	char buf[TYPO_DOMAIN_MAX + 1];

	len = normalise(domain, len, buf);
	if (len > 0 && memchr(buf, '.', len) != NULL) {
		memo_clear(t);
		intern(t, buf, len)->count++;
	}
}

int
typo_load_known(struct typo *t, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (fp == NULL) {
		rb_warn_at(path, 0, "cannot open domain list:");
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		char *hash_mark = strchr(line, '#');

		if (hash_mark != NULL)
			*hash_mark = '\0';
		typo_add_known(t, line);
	}
	if (ferror(fp)) {
		rb_warn_at(path, 0, "read error:");
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

/* An address anywhere in a line: the domain after '@' up to a character no domain has. */
static void
count_line(struct typo *t, const char *s, size_t len)
{
	const char *at, *end = s + len, *p = s;
	bool any = false;

	while ((at = memchr(p, '@', (size_t)(end - p))) != NULL) {
		const char *d = at + 1, *q = d;

		while (q < end && (isalnum((unsigned char)*q) || *q == '.' || *q == '-' || (unsigned char)*q >= 0x80))
			q++;
		if (q > d)
			typo_count(t, d, (size_t)(q - d));
		any = true;
		p = q > at ? q : at + 1;
	}
	if (!any)
		typo_count(t, s, len); /* a plain domain; anything else is not one and is ignored */
}

int
typo_load_list(struct typo *t, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (fp == NULL) {
		rb_warn_at(path, 0, "cannot open recipient list:");
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		count_line(t, line, (size_t)n);
	}
	if (ferror(fp)) {
		rb_warn_at(path, 0, "read error:");
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

int
typo_distance(const char *a, size_t alen, const char *b, size_t blen, int max)
{
	int rows[3][TYPO_DOMAIN_MAX + 2];
	int *pp, *prev, *cur;
	size_t i, j;

	if (alen > TYPO_DOMAIN_MAX || blen > TYPO_DOMAIN_MAX)
		return max + 1;
	if ((alen > blen ? alen - blen : blen - alen) > (size_t)max)
		return max + 1;
	pp = rows[0], prev = rows[1], cur = rows[2];
	for (j = 0; j <= blen; j++)
		prev[j] = (int)j;
	for (i = 1; i <= alen; i++) {
		int best = cur[0] = (int)i;

		for (j = 1; j <= blen; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
		int *tmp = pp;
		pp = prev, prev = cur, cur = tmp;
	}
	return prev[blen] > max ? max + 1 : prev[blen];
}

static bool
is_real(const struct entry *e)
{
	return e != NULL && (e->known || e->count >= TYPO_LIST_REAL);
}

/* Length of the first label, the part people mistype most and the measure of how many
 * edits a correction may make. */
static size_t
label_len(const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);

	return dot ? (size_t)(dot - s) : len;
}

/* Edits allowed between a typed domain and a real one whose first label has n characters:
 * none for very short names, one up to seven, two beyond. */
static int
allowed_edits(size_t n)
{
	return n <= 3 ? 0 : n <= 7 ? 1 : 2;
}

/* The memo slot of a domain: its own, or the empty one where it would go. */
static struct memo *
memo_slot(struct typo *t, const char *s, size_t len)
{
	size_t mask = TYPO_MEMO_MAX * 2 - 1, i = hash(s, len) & mask;

	if (t->memo == NULL)
		t->memo = rb_xcalloc(TYPO_MEMO_MAX * 2, sizeof *t->memo);
	for (; t->memo[i].name != NULL; i = (i + 1) & mask)
		if (t->memo[i].len == len && memcmp(t->memo[i].name, s, len) == 0)
			break;
	return &t->memo[i];
}

/* The closest real domain within the allowed edits; ties go to the more frequent one. */
static const struct entry *
closest(const struct typo *t, const char *s, size_t len, unsigned long count)
{
	const struct entry *best = NULL;
	int bestd = 3;

	for (size_t i = 0; i < t->n; i++) {
		const struct entry *e = &t->e[i];
		size_t elabel = label_len(e->name, e->len);
		int max = allowed_edits(elabel), d;

		if (!e->known && !(e->count >= TYPO_LIST_REAL && e->count >= TYPO_LIST_RATIO * (count ? count : 1)))
			continue;
		/* Short names are corrected only by the suffix table (qq.cm → qq.com), since
		 * one edit turns them into other real names (gm.com, gmx.com). */
		if (max == 0)
			continue;
		d = typo_distance(s, len, e->name, e->len, max);
		if (d > max || d == 0)
			continue;
		if (best == NULL || d < bestd || (d == bestd && (e->known ? e->rank : SIZE_MAX - e->count) <
		    (best->known ? best->rank : SIZE_MAX - best->count))) {
			best = e;
			bestd = d;
		}
	}
	return best;
}

static const char *search(struct typo *t, const char *buf, size_t len);

const char *
typo_suggest(struct typo *t, const char *domain, size_t len)
{
	char buf[TYPO_DOMAIN_MAX + 1];
	struct memo *m;
	const char *answer;

	len = normalise(domain, len, buf);
	if (len < 4)
		return NULL;
	m = memo_slot(t, buf, len);
	if (m->name != NULL)
		return m->answer;
	answer = search(t, buf, len);
	if (t->nmemo < TYPO_MEMO_MAX) {
		*m = (struct memo){ rb_xstrndup(buf, len), len, answer };
		t->nmemo++;
	}
	return answer;
}

/* Answers are entry names, which live as long as the table. */
static const char *
search(struct typo *t, const char *buf, size_t len)
{
	const struct entry *self, *best;
	unsigned long count;

	self = lookup(t, buf, len);
	if (is_real(self))
		return NULL;
	count = self ? self->count : 0;
	for (size_t i = 0; i < sizeof suffix_fix / sizeof suffix_fix[0]; i++) {
		size_t bl = strlen(suffix_fix[i].bad), gl = strlen(suffix_fix[i].good);
		const struct entry *e;

		if (len <= bl || memcmp(buf + len - bl, suffix_fix[i].bad, bl) != 0 || len - bl + gl > TYPO_DOMAIN_MAX)
			continue;
		memcpy(t->fixed, buf, len - bl);
		memcpy(t->fixed + len - bl, suffix_fix[i].good, gl + 1);
		e = lookup(t, t->fixed, len - bl + gl);
		if (is_real(e))
			return e->name;
		if ((best = closest(t, t->fixed, len - bl + gl, count)) != NULL)
			return best->name;
	}
	best = closest(t, buf, len, count);
	return best ? best->name : NULL;
}
