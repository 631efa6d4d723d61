#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The categories in the order of DESIGN.md; others follow by count. */
static const char *const category_order[] = { "address", "blocked", "transient", "complaint", "ignore" };

/* Bar colours of the HTML chart, one per category above; anything else is grey. */
static const char *const category_colour[] = { "#c0392b", "#d68910", "#2e86c1", "#7d3c98", "#7f8c8d" };

#define NONE_KEY "(none)"
#define OTHER_KEY "(other)"

/* A key of one or more fields, separated by NUL bytes, and how many records had it. */
struct entry {
	char *key;
	size_t klen;
	unsigned long long count;
	size_t order; /* insertion order, to keep first-seen order among equal counts */
};

/* String -> count with at most `limit` distinct keys; later keys are counted in `other`. */
struct counter {
	struct entry *e;
	size_t n, cap;
	size_t *slot;  /* index + 1 into e; 0 is an empty slot */
	size_t nslots; /* a power of two, at least twice n */
	size_t limit;
	unsigned long long other;
};

struct report {
	struct report_opts o;
	bool counts_only;
	/* columns of the current input, -1 when absent */
	ssize_t c_source, c_recipient, c_reason, c_category, c_suggestion, c_matched;
	bool saw_matched;
	unsigned long long records, malformed, messages, suggested, human;
	/* distinct sources, as 64-bit hashes (0 marks an empty slot) */
	uint64_t *src;
	size_t nsrc, srcslots;
	uint64_t last_src;
	bool have_last_src, messages_approx;
	struct counter category, reason, domain, blocked, suggestion, needs_human;
	struct rb_buf key;
};

/* FNV-1a: simple, and good enough for keys that an attacker gains nothing by colliding. */
static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
counter_init(struct counter *c, size_t limit)
{
	memset(c, 0, sizeof *c);
	c->limit = limit;
}

static void
counter_free(struct counter *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].key);
	free(c->e);
	free(c->slot);
	memset(c, 0, sizeof *c);
}

static size_t
counter_find_slot(const struct counter *c, const char *key, size_t klen, uint64_t h)
{
	size_t mask = c->nslots - 1, i = (size_t)h & mask;

	for (;;) {
		size_t s = c->slot[i];

		if (s == 0)
			return i;
		if (c->e[s - 1].klen == klen && memcmp(c->e[s - 1].key, key, klen) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static void
counter_grow(struct counter *c)
{
	size_t nslots = c->nslots ? c->nslots * 2 : 64;

	free(c->slot);
	c->slot = rb_xcalloc(nslots, sizeof *c->slot);
	c->nslots = nslots;
	for (size_t k = 0; k < c->n; k++) {
		struct entry *e = &c->e[k];
		size_t i = counter_find_slot(c, e->key, e->klen, hash_bytes(e->key, e->klen));

		c->slot[i] = k + 1;
	}
}

static void
counter_add(struct counter *c, const char *key, size_t klen, unsigned long long n)
{
	size_t i;

	if (c->nslots == 0 || (c->n + 1) * 2 > c->nslots)
		counter_grow(c);
	i = counter_find_slot(c, key, klen, hash_bytes(key, klen));
	if (c->slot[i] != 0) {
		c->e[c->slot[i] - 1].count += n;
		return;
	}
	if (c->n >= c->limit) {
		c->other += n;
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->e = rb_xreallocarray(c->e, c->cap, sizeof *c->e);
	}
	c->e[c->n] = (struct entry){ rb_xstrndup(key, klen), klen, n, c->n };
	c->slot[i] = ++c->n;
}

static unsigned long long
counter_get(const struct counter *c, const char *key, size_t klen)
{
	size_t i;

	if (c->nslots == 0)
		return 0;
	i = counter_find_slot(c, key, klen, hash_bytes(key, klen));
	return c->slot[i] ? c->e[c->slot[i] - 1].count : 0;
}

struct report *
report_new(const struct report_opts *opts, bool counts_only)
{
	struct report *rep = rb_xcalloc(1, sizeof *rep);
	size_t lim = opts->key_limit ? opts->key_limit : REPORT_KEY_LIMIT;

	rep->o = *opts;
	rep->counts_only = counts_only;
	counter_init(&rep->category, lim);
	counter_init(&rep->reason, lim);
	counter_init(&rep->domain, lim);
	counter_init(&rep->blocked, lim);
	counter_init(&rep->suggestion, lim);
	counter_init(&rep->needs_human, lim);
	rep->c_source = rep->c_recipient = rep->c_reason = rep->c_category = -1;
	rep->c_suggestion = rep->c_matched = -1;
	return rep;
}

void
report_free(struct report *rep)
{
	if (rep == NULL)
		return;
	counter_free(&rep->category);
	counter_free(&rep->reason);
	counter_free(&rep->domain);
	counter_free(&rep->blocked);
	counter_free(&rep->suggestion);
	counter_free(&rep->needs_human);
	free(rep->src);
	rb_buf_free(&rep->key);
	free(rep);
}

void
report_begin(struct report *rep, const struct tsv_reader *r)
{
	rep->c_source = tsv_column(r, "source");
	rep->c_recipient = tsv_column(r, "recipient");
	rep->c_reason = tsv_column(r, "reason");
	rep->c_category = tsv_column(r, "category");
	rep->c_suggestion = tsv_column(r, "suggestion");
	rep->c_matched = tsv_column(r, "matched");
	if (rep->c_matched >= 0)
		rep->saw_matched = true;
	rep->have_last_src = false;
}

void
report_add_malformed(struct report *rep, unsigned long long n)
{
	rep->malformed += n;
}

/* Length of s cut to at most REPORT_VALUE_MAX bytes, not inside a UTF-8 sequence. */
static size_t
bounded_len(const char *s)
{
	size_t n = strlen(s);

	if (n <= REPORT_VALUE_MAX)
		return n;
	n = REPORT_VALUE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Append a field to the key being built; an empty value becomes "(none)". */
static void
key_field(struct rb_buf *b, const char *v)
{
	if (b->len > 0)
		rb_buf_addc(b, '\0');
	if (*v == '\0')
		v = NONE_KEY;
	rb_buf_add(b, v, bounded_len(v));
}

static void
count_key(struct report *rep, struct counter *c, const char *a, const char *b, const char *d)
{
	rb_buf_clear(&rep->key);
	key_field(&rep->key, a);
	if (b != NULL)
		key_field(&rep->key, b);
	if (d != NULL)
		key_field(&rep->key, d);
	counter_add(c, rep->key.data, rep->key.len, 1);
}

static void
count_message(struct report *rep, const char *source)
{
	uint64_t h = hash_bytes(source, strlen(source)) | 1; /* never 0, the empty slot */
	size_t mask, i;

	if (*source == '\0') {
		rep->messages++; /* records without a source cannot be told apart */
		return;
	}
	/* The records of one bounce are adjacent in what bounce-extract writes. */
	if (rep->have_last_src && h == rep->last_src)
		return;
	rep->last_src = h;
	rep->have_last_src = true;
	if (rep->srcslots == 0 || (rep->nsrc + 1) * 2 > rep->srcslots) {
		if (rep->nsrc >= REPORT_SOURCE_LIMIT) {
			rep->messages++;
			rep->messages_approx = true;
			return;
		}
		size_t n = rep->srcslots ? rep->srcslots * 2 : 1024;
		uint64_t *t = rb_xcalloc(n, sizeof *t);

		for (size_t k = 0; k < rep->srcslots; k++) {
			if (rep->src[k] == 0)
				continue;
			for (i = (size_t)rep->src[k] & (n - 1); t[i] != 0; i = (i + 1) & (n - 1))
				;
			t[i] = rep->src[k];
		}
		free(rep->src);
		rep->src = t;
		rep->srcslots = n;
	}
	mask = rep->srcslots - 1;
	for (i = (size_t)h & mask; rep->src[i] != 0; i = (i + 1) & mask)
		if (rep->src[i] == h)
			return;
	rep->src[i] = h;
	rep->nsrc++;
	rep->messages++;
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : "";
}

void
report_add(struct report *rep, const struct tsv_reader *r)
{
	const char *category = tsv_get(r, rep->c_category);
	const char *reason = tsv_get(r, rep->c_reason);
	const char *recipient, *suggestion, *domain, *why = NULL;
	bool no_suggestion, unmatched;

	rep->records++;
	count_message(rep, tsv_get(r, rep->c_source));
	count_key(rep, &rep->category, category, NULL, NULL);
	count_key(rep, &rep->reason, reason, NULL, NULL);
	if (rep->counts_only)
		return;

	recipient = tsv_get(r, rep->c_recipient);
	suggestion = tsv_get(r, rep->c_suggestion);
	domain = domain_of(recipient);
	count_key(rep, &rep->domain, domain, NULL, NULL);
	if (strcmp(category, "blocked") == 0)
		count_key(rep, &rep->blocked, domain, NULL, NULL);
	if (*suggestion != '\0') {
		rep->suggested++;
		count_key(rep, &rep->suggestion, recipient, suggestion, NULL);
	}
	no_suggestion = strcmp(category, "address") == 0 && *suggestion == '\0';
	unmatched = rep->c_matched >= 0 && strcmp(tsv_get(r, rep->c_matched), "0") == 0;
	if (no_suggestion && unmatched)
		why = "no suggestion; not in the recipient list";
	else if (no_suggestion)
		why = "no suggestion";
	else if (unmatched)
		why = "not in the recipient list";
	if (why != NULL) {
		rep->human++;
		count_key(rep, &rep->needs_human, recipient, reason, why);
	}
}

/* ---- Rows: a table's entries, merged with an earlier run and sorted for display. ---- */

struct row {
	const char *key; /* NUL-separated fields */
	size_t klen;
	unsigned long long count, prev;
	size_t rank, order;
};

struct table {
	struct row *row;
	size_t n;
	unsigned long long more_entries; /* entries beyond what is shown */
	unsigned long long more_records; /* their records */
};

static size_t
category_rank(const char *key)
{
	for (size_t i = 0; i < sizeof category_order / sizeof category_order[0]; i++)
		if (strcmp(key, category_order[i]) == 0)
			return i;
	return sizeof category_order / sizeof category_order[0];
}

static int
row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int c;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->prev != b->prev)
		return a->prev > b->prev ? -1 : 1;
	c = strcmp(a->key, b->key);
	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

enum { SORT_COUNT, SORT_CATEGORY };

#define ALL_ROWS SIZE_MAX

/* Build the rows of cur (and of prev's keys missing from cur), sorted; keep at most max
 * rows (ALL_ROWS: all) and count the rest. */
static void
table_build(struct table *t, const struct counter *cur, const struct counter *prev, int sort, size_t max)
{
	size_t cap = cur->n + (prev ? prev->n : 0) + 1;
	unsigned long long prev_other = prev ? prev->other : 0;

	memset(t, 0, sizeof *t);
	t->row = rb_xcalloc(cap, sizeof *t->row);
	for (size_t i = 0; i < cur->n; i++) {
		const struct entry *e = &cur->e[i];

		t->row[t->n++] = (struct row){ e->key, e->klen, e->count,
			prev ? counter_get(prev, e->key, e->klen) : 0, 0, e->order };
	}
	for (size_t i = 0; prev && i < prev->n; i++) {
		const struct entry *e = &prev->e[i];

		if (counter_get(cur, e->key, e->klen) == 0)
			t->row[t->n++] = (struct row){ e->key, e->klen, 0, e->count, 0, cur->n + e->order };
	}
	for (size_t i = 0; i < t->n; i++)
		t->row[i].rank = sort == SORT_CATEGORY ? category_rank(t->row[i].key) : 0;
	qsort(t->row, t->n, sizeof *t->row, row_cmp);
	if (t->n > max) {
		for (size_t i = max; i < t->n; i++)
			t->more_records += t->row[i].count;
		t->more_entries = t->n - max;
		t->n = max;
	}
	/* Keys past the tracking limit: one bucket, always last. */
	if (cur->other > 0 || prev_other > 0) {
		t->row[t->n++] = (struct row){ OTHER_KEY, sizeof OTHER_KEY - 1, cur->other, prev_other,
			SIZE_MAX, SIZE_MAX };
	}
}

static void
table_free(struct table *t)
{
	free(t->row);
	memset(t, 0, sizeof *t);
}

/* Field i of a row's key (NUL-separated). */
static const char *
row_field(const struct row *r, size_t i)
{
	const char *p = r->key, *end = r->key + r->klen;

	while (i-- > 0) {
		p += strlen(p) + 1;
		if (p > end)
			return "";
	}
	return p;
}

/* ---- Safe output of values: control characters and broken UTF-8 never reach the reader. ---- */

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F))
		return 0;
	return len;
}

enum esc { ESC_TEXT, ESC_HTML };

/* Write s for a reader: control characters and invalid UTF-8 become '?' (U+FFFD in HTML),
 * HTML's special characters become entities.  At most max characters (0: no limit), cut
 * with an ellipsis.  Returns the characters written; sets *err on a write error. */
static size_t
put_value(FILE *fp, const char *s, enum esc mode, size_t max, bool *err)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), chars = 0;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		const char *rep = NULL;

		if (max > 0 && chars + 1 == max && i + (len ? len : 1) < n) {
			rep = "\xe2\x80\xa6";
			if (fputs(rep, fp) == EOF)
				*err = true;
			return chars + 1;
		}
		if (len == 0 || p[i] < 0x20 || p[i] == 0x7F)
			rep = mode == ESC_HTML ? "\xef\xbf\xbd" : "?";
		else if (mode == ESC_HTML && p[i] == '&')
			rep = "&amp;";
		else if (mode == ESC_HTML && p[i] == '<')
			rep = "&lt;";
		else if (mode == ESC_HTML && p[i] == '>')
			rep = "&gt;";
		else if (mode == ESC_HTML && p[i] == '"')
			rep = "&quot;";
		else if (mode == ESC_HTML && p[i] == '\'')
			rep = "&#39;";
		if (rep != NULL) {
			if (fputs(rep, fp) == EOF)
				*err = true;
		} else if (fwrite(p + i, 1, len, fp) != len)
			*err = true;
		i += len ? len : 1;
		chars++;
	}
	return chars;
}

/* Characters put_value would write for s (text mode, no limit). */
static size_t
value_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), chars = 0;

	for (size_t i = 0; i < n; chars++) {
		size_t len = utf8_len(p + i, n - i);

		i += len ? len : 1;
	}
	return chars;
}

static void
put_spaces(FILE *fp, size_t n, bool *err)
{
	while (n-- > 0)
		if (putc(' ', fp) == EOF)
			*err = true;
}

static void
put_fmt(FILE *fp, bool *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
put_fmt(FILE *fp, bool *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(fp, fmt, ap) < 0)
		*err = true;
	va_end(ap);
}

/* "+3", "-2", "0" */
static void
format_change(char *buf, size_t size, unsigned long long now, unsigned long long before)
{
	if (now > before)
		snprintf(buf, size, "+%llu", now - before);
	else if (now < before)
		snprintf(buf, size, "-%llu", before - now);
	else
		snprintf(buf, size, "0");
}

/* ---- Text: aligned columns for a cron mail ---- */

#define TEXT_KEY_MIN 22u
#define TEXT_KEY_MAX 48u

struct text_ctx {
	FILE *fp;
	bool err;
	bool has_prev;
	size_t w; /* width of the key column of every one-key table */
};

/* One text table: fields before the count are padded to columns, those after are not. */
struct text_spec {
	const char *heading;
	const struct table *t;
	size_t nfields, before; /* fields in the key; how many of them come before the count */
	bool compare;           /* show previous and change */
	const char *what;       /* for "... and N more WHAT" */
};

static size_t
field_width(const struct table *t, size_t f)
{
	size_t w = 0;

	for (size_t i = 0; i < t->n; i++) {
		size_t n = value_width(row_field(&t->row[i], f));

		if (n > w)
			w = n;
	}
	return w > TEXT_KEY_MAX ? TEXT_KEY_MAX : w;
}

static void
text_counts_header(struct text_ctx *c, const char *heading, size_t width)
{
	size_t n = value_width(heading);

	put_fmt(c->fp, &c->err, "\n%s", heading);
	if (!c->has_prev) {
		put_fmt(c->fp, &c->err, "\n");
		return;
	}
	if (n > width) { /* a long heading gets the column labels on a line of their own */
		put_fmt(c->fp, &c->err, "\n");
		n = 0;
	}
	put_spaces(c->fp, width - n, &c->err);
	put_fmt(c->fp, &c->err, " %8s %9s %7s\n", "count", "previous", "change");
}

static void
text_counts(struct text_ctx *c, unsigned long long now, const unsigned long long *before)
{
	put_fmt(c->fp, &c->err, " %8llu", now);
	if (before != NULL) {
		char ch[32];

		format_change(ch, sizeof ch, now, *before);
		put_fmt(c->fp, &c->err, " %9llu %7s", *before, ch);
	}
}

static void
text_table(struct text_ctx *c, const struct text_spec *s)
{
	const struct table *t = s->t;
	size_t w[3] = { c->w, 0, 0 };

	if (s->compare)
		text_counts_header(c, s->heading, c->w + 2);
	else
		put_fmt(c->fp, &c->err, "\n%s\n", s->heading);
	if (t->n == 0 && t->more_entries == 0) {
		put_fmt(c->fp, &c->err, "  (none)\n");
		return;
	}
	if (s->nfields > 1)
		for (size_t f = 0; f < s->before; f++)
			w[f] = field_width(t, f);
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->row[i];

		for (size_t f = 0; f < s->before; f++) {
			size_t n;

			put_fmt(c->fp, &c->err, "  ");
			n = put_value(c->fp, row_field(r, f), ESC_TEXT, TEXT_KEY_MAX, &c->err);
			put_spaces(c->fp, w[f] > n ? w[f] - n : 0, &c->err);
		}
		text_counts(c, r->count, s->compare && c->has_prev ? &r->prev : NULL);
		for (size_t f = s->before; f < s->nfields; f++) {
			put_fmt(c->fp, &c->err, "  ");
			put_value(c->fp, row_field(r, f), ESC_TEXT, 0, &c->err);
		}
		put_fmt(c->fp, &c->err, "\n");
	}
	if (t->more_entries > 0)
		put_fmt(c->fp, &c->err, "  ... and %llu more %s (%llu records)\n", t->more_entries, s->what,
			t->more_records);
}

static void
text_total(struct text_ctx *c, const char *label, unsigned long long now, const unsigned long long *before)
{
	put_fmt(c->fp, &c->err, "  %s", label);
	put_spaces(c->fp, c->w - strlen(label), &c->err);
	text_counts(c, now, before);
	put_fmt(c->fp, &c->err, "\n");
}

static bool
has_notes(const struct report *rep)
{
	return rep->domain.other || rep->blocked.other || rep->reason.other || rep->category.other ||
		rep->suggestion.other || rep->needs_human.other || rep->messages_approx;
}

static void
write_notes(FILE *fp, bool *err, const struct report *rep, const char *prefix, const char *suffix)
{
	const struct { const struct counter *c; const char *what; } caps[] = {
		{ &rep->domain, "domains" }, { &rep->blocked, "blocking domains" },
		{ &rep->reason, "reasons" }, { &rep->category, "categories" },
		{ &rep->suggestion, "corrections" }, { &rep->needs_human, "addresses needing a human" },
	};

	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (caps[i].c->other > 0)
			put_fmt(fp, err, "%smore than %zu distinct %s: %llu records counted as %s%s\n", prefix,
				caps[i].c->limit, caps[i].what, caps[i].c->other, OTHER_KEY, suffix);
	if (rep->messages_approx)
		put_fmt(fp, err, "%smore than %u distinct bounce messages: the rest counted where the source changes%s\n",
			prefix, REPORT_SOURCE_LIMIT, suffix);
}

static int
write_text(const struct report *rep, const struct report *prev, FILE *fp)
{
	struct text_ctx c = { fp, false, prev != NULL, TEXT_KEY_MIN };
	const char *title = rep->o.title ? rep->o.title : "Bounce summary";
	struct table cat, rsn, blk, dom, sug, hum;
	struct text_spec specs[] = {
		{ "By category", &cat, 1, 1, true, "categories" },
		{ "By reason", &rsn, 1, 1, true, "reasons" },
		{ "Domains that block most (ask their IT to whitelist the sending domain)", &blk, 1, 1, false,
		  "domains" },
		{ "Top domains", &dom, 1, 1, false, "domains" },
		{ "Suggested corrections (recipient, suggestion, records)", &sug, 2, 2, false, "corrections" },
		{ rep->saw_matched ? "Need a human (no suggestion, or not in the recipient list)" :
		  "Need a human (address problem with no suggestion)", &hum, 3, 2, false, "addresses" },
	};

	table_build(&cat, &rep->category, prev ? &prev->category : NULL, SORT_CATEGORY, ALL_ROWS);
	table_build(&rsn, &rep->reason, prev ? &prev->reason : NULL, SORT_COUNT, ALL_ROWS);
	table_build(&blk, &rep->blocked, NULL, SORT_COUNT, rep->o.top_max);
	table_build(&dom, &rep->domain, NULL, SORT_COUNT, rep->o.top_max);
	table_build(&sug, &rep->suggestion, NULL, SORT_COUNT, rep->o.list_max);
	table_build(&hum, &rep->needs_human, NULL, SORT_COUNT, rep->o.list_max);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		if (specs[i].nfields == 1) {
			size_t w = field_width(specs[i].t, 0);

			if (w > c.w)
				c.w = w;
		}

	put_value(fp, title, ESC_TEXT, 0, &c.err);
	put_fmt(fp, &c.err, "\n");
	for (size_t i = value_width(title); i > 0; i--)
		put_fmt(fp, &c.err, "=");
	put_fmt(fp, &c.err, "\n");
	text_counts_header(&c, "Totals", c.w + 2);
	text_total(&c, "records", rep->records, prev ? &prev->records : NULL);
	text_total(&c, "bounce messages", rep->messages, prev ? &prev->messages : NULL);
	text_total(&c, "malformed, skipped", rep->malformed, prev ? &prev->malformed : NULL);
	text_total(&c, "suggested corrections", rep->suggested, NULL);
	text_total(&c, "need a human", rep->human, NULL);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		text_table(&c, &specs[i]);
		table_free((struct table *)specs[i].t);
	}
	if (has_notes(rep)) { /* last, where a reader looks for caveats */
		put_fmt(fp, &c.err, "\nNotes\n");
		write_notes(fp, &c.err, rep, "  ", "");
	}
	return c.err ? -1 : 0;
}

/* ---- TSV: section, key, count, previous, change, detail ---- */

static int
tsv_row(FILE *fp, const char *section, const char *key, unsigned long long count, bool has_prev,
	unsigned long long prev, const char *detail)
{
	char cnt[32], pv[32] = "", ch[32] = "";
	const char *f[6];

	snprintf(cnt, sizeof cnt, "%llu", count);
	if (has_prev) {
		snprintf(pv, sizeof pv, "%llu", prev);
		if (count >= prev)
			snprintf(ch, sizeof ch, "%llu", count - prev);
		else
			snprintf(ch, sizeof ch, "-%llu", prev - count);
	}
	f[0] = section;
	f[1] = key;
	f[2] = cnt;
	f[3] = pv;
	f[4] = ch;
	f[5] = detail ? detail : "";
	return tsv_write_record(fp, f, NULL, 6);
}

static int
tsv_table(FILE *fp, const char *section, const struct table *t, bool has_prev, int detail_kind)
{
	struct rb_buf d = { 0 };
	int rc = 0;

	for (size_t i = 0; i < t->n && rc == 0; i++) {
		const struct row *r = &t->row[i];

		rb_buf_clear(&d);
		if (detail_kind == 1)
			rb_buf_adds(&d, row_field(r, 1));
		else if (detail_kind == 2 && r->order != SIZE_MAX)
			rb_buf_printf(&d, "%s: %s", row_field(r, 1), row_field(r, 2));
		rc = tsv_row(fp, section, row_field(r, 0), r->count, has_prev, r->prev, d.data);
	}
	rb_buf_free(&d);
	return rc;
}

static int
write_tsv(const struct report *rep, const struct report *prev, FILE *fp)
{
	static const struct { const char *section; size_t off; int sort, detail; bool compare; } tabs[] = {
		{ "category", offsetof(struct report, category), SORT_CATEGORY, 0, true },
		{ "reason", offsetof(struct report, reason), SORT_COUNT, 0, true },
		{ "blocked_domain", offsetof(struct report, blocked), SORT_COUNT, 0, false },
		{ "domain", offsetof(struct report, domain), SORT_COUNT, 0, false },
		{ "suggestion", offsetof(struct report, suggestion), SORT_COUNT, 1, false },
		{ "needs_human", offsetof(struct report, needs_human), SORT_COUNT, 2, false },
	};
	static const char *const header[] = { "section", "key", "count", "previous", "change", "detail" };
	bool p = prev != NULL;
	int rc;

	rc = tsv_write_record(fp, header, NULL, 6);
	rc |= tsv_row(fp, "total", "records", rep->records, p, p ? prev->records : 0, NULL);
	rc |= tsv_row(fp, "total", "messages", rep->messages, p, p ? prev->messages : 0,
		rep->messages_approx ? "approximate" : NULL);
	rc |= tsv_row(fp, "total", "malformed", rep->malformed, p, p ? prev->malformed : 0, NULL);
	rc |= tsv_row(fp, "total", "suggestions", rep->suggested, false, 0, NULL);
	rc |= tsv_row(fp, "total", "needs_human", rep->human, false, 0, NULL);
	for (size_t i = 0; i < sizeof tabs / sizeof tabs[0] && rc == 0; i++) {
		const struct counter *cur = (const void *)((const char *)rep + tabs[i].off);
		const struct counter *old = p && tabs[i].compare ?
			(const void *)((const char *)prev + tabs[i].off) : NULL;
		struct table t;

		table_build(&t, cur, old, tabs[i].sort, ALL_ROWS);
		rc = tsv_table(fp, tabs[i].section, &t, old != NULL, tabs[i].detail);
		table_free(&t);
	}
	return rc < 0 ? -1 : 0;
}

/* ---- HTML: one self-contained page, no scripts, no network ---- */

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>";

static const char html_style[] =
	"</title>\n<style>\n"
	"body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",sans-serif;color:#1d2329;margin:2em auto;"
	"max-width:64em;padding:0 1em}\n"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:2px solid #e3e6e8;"
	"padding-bottom:.2em}\n"
	"table{border-collapse:collapse;margin:.3em 0 1em}th,td{padding:.25em .9em;text-align:left;"
	"border-bottom:1px solid #eceff1;vertical-align:top}\n"
	"th{font-weight:600;color:#4a545c}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"td.k{word-break:break-all;max-width:28em}.up{color:#b03a2e}.down{color:#1e8449}\n"
	".more,.note{color:#66717a;font-style:italic}.charts{display:flex;flex-wrap:wrap;gap:2em}\n"
	"svg text{font:12px system-ui,sans-serif;fill:#1d2329}\n"
	"</style>\n</head>\n<body>\n";

struct html_ctx {
	FILE *fp;
	bool err;
};

static void
html_value(struct html_ctx *h, const char *s, size_t max)
{
	put_value(h->fp, s, ESC_HTML, max, &h->err);
}

static void
html_change(struct html_ctx *h, unsigned long long now, unsigned long long before)
{
	char ch[32];

	format_change(ch, sizeof ch, now, before);
	put_fmt(h->fp, &h->err, "<td class=\"n%s\">%s</td>",
		now > before ? " up" : now < before ? " down" : "", ch);
}

/* A horizontal bar chart of a table's counts as inline SVG. */
static void
html_chart(struct html_ctx *h, const char *title, const struct table *t, bool colour_by_category)
{
	const unsigned label_w = 150, bar_w = 300, num_w = 70, bar_h = 18, step = 26, top = 28;
	unsigned long long max = 0;
	unsigned height = top + (unsigned)t->n * step + 8;

	for (size_t i = 0; i < t->n; i++)
		if (t->row[i].count > max)
			max = t->row[i].count;
	put_fmt(h->fp, &h->err,
		"<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%u\" height=\"%u\" "
		"viewBox=\"0 0 %u %u\"><title>",
		label_w + bar_w + num_w, height, label_w + bar_w + num_w, height);
	html_value(h, title, 0);
	put_fmt(h->fp, &h->err, "</title>\n<text x=\"0\" y=\"16\" style=\"font-weight:600\">");
	html_value(h, title, 0);
	put_fmt(h->fp, &h->err, "</text>\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->row[i];
		unsigned y = top + (unsigned)i * step;
		unsigned w = max ? (unsigned)((double)r->count / (double)max * bar_w) : 0;
		size_t rank = category_rank(r->key);
		const char *colour = colour_by_category && rank < sizeof category_colour / sizeof category_colour[0] ?
			category_colour[rank] : "#5d6d7e";

		put_fmt(h->fp, &h->err, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">", label_w - 8, y + 13);
		html_value(h, r->key, 20);
		put_fmt(h->fp, &h->err,
			"</text><rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" rx=\"2\" fill=\"%s\"/>"
			"<text x=\"%u\" y=\"%u\">%llu</text>\n",
			label_w, y, w > 0 ? w : 1, bar_h, colour, label_w + (w > 0 ? w : 1) + 6, y + 13, r->count);
	}
	put_fmt(h->fp, &h->err, "</svg>\n</figure>\n");
}

static void
html_rows(struct html_ctx *h, const struct table *t, const char *const *cols, size_t nfields, bool compare)
{
	put_fmt(h->fp, &h->err, "<table>\n<thead><tr>");
	for (size_t f = 0; f < nfields; f++)
		put_fmt(h->fp, &h->err, "<th>%s</th>", cols[f]);
	put_fmt(h->fp, &h->err, "<th class=\"n\">records</th>%s</tr></thead>\n<tbody>\n",
		compare ? "<th class=\"n\">previous</th><th class=\"n\">change</th>" : "");
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->row[i];

		put_fmt(h->fp, &h->err, "<tr>");
		for (size_t f = 0; f < nfields; f++) {
			put_fmt(h->fp, &h->err, "<td class=\"k\">");
			html_value(h, row_field(r, f), 0);
			put_fmt(h->fp, &h->err, "</td>");
		}
		put_fmt(h->fp, &h->err, "<td class=\"n\">%llu</td>", r->count);
		if (compare) {
			put_fmt(h->fp, &h->err, "<td class=\"n\">%llu</td>", r->prev);
			html_change(h, r->count, r->prev);
		}
		put_fmt(h->fp, &h->err, "</tr>\n");
	}
	put_fmt(h->fp, &h->err, "</tbody>\n</table>\n");
}

static void
html_table(struct html_ctx *h, const char *id, const char *heading, const struct table *t,
	const char *const *cols, size_t nfields, bool compare, const char *what)
{
	put_fmt(h->fp, &h->err, "<section id=\"%s\">\n<h2>", id);
	html_value(h, heading, 0);
	put_fmt(h->fp, &h->err, "</h2>\n");
	if (t->n > 0)
		html_rows(h, t, cols, nfields, compare);
	if (t->more_entries > 0)
		put_fmt(h->fp, &h->err, "<p class=\"more\">&hellip; and %llu more %s (%llu records)</p>\n",
			t->more_entries, what, t->more_records);
	else if (t->n == 0)
		put_fmt(h->fp, &h->err, "<p class=\"note\">None.</p>\n");
	put_fmt(h->fp, &h->err, "</section>\n");
}

static void
html_total(struct html_ctx *h, const char *label, unsigned long long now, const unsigned long long *before)
{
	put_fmt(h->fp, &h->err, "<tr><th>%s</th><td class=\"n\">%llu</td>", label, now);
	if (before != NULL) {
		put_fmt(h->fp, &h->err, "<td class=\"n\">%llu</td>", *before);
		html_change(h, now, *before);
	}
	put_fmt(h->fp, &h->err, "</tr>\n");
}

static int
write_html(const struct report *rep, const struct report *prev, FILE *fp)
{
	static const char *const one_domain[] = { "domain" };
	static const char *const one_category[] = { "category" };
	static const char *const one_reason[] = { "reason" };
	static const char *const corr[] = { "recipient", "suggestion" };
	static const char *const human[] = { "recipient", "reason", "why" };
	struct html_ctx h = { fp, false };
	const char *title = rep->o.title ? rep->o.title : "Bounce summary";
	struct table cat, rsn, t;

	/* The title goes through the escaper: it may come from a command line built by a script. */
	put_fmt(fp, &h.err, "%s", html_head);
	html_value(&h, title, 0);
	put_fmt(fp, &h.err, "%s", html_style);
	put_fmt(fp, &h.err, "<h1>");
	html_value(&h, title, 0);
	put_fmt(fp, &h.err, "</h1>\n<section id=\"totals\">\n<h2>Totals</h2>\n<table>\n");
	if (prev)
		put_fmt(fp, &h.err, "<thead><tr><th></th><th class=\"n\">count</th><th class=\"n\">previous</th>"
			"<th class=\"n\">change</th></tr></thead>\n");
	html_total(&h, "records", rep->records, prev ? &prev->records : NULL);
	html_total(&h, "bounce messages", rep->messages, prev ? &prev->messages : NULL);
	html_total(&h, "malformed, skipped", rep->malformed, prev ? &prev->malformed : NULL);
	html_total(&h, "suggested corrections", rep->suggested, NULL);
	html_total(&h, "need a human", rep->human, NULL);
	put_fmt(fp, &h.err, "</table>\n</section>\n");

	table_build(&cat, &rep->category, prev ? &prev->category : NULL, SORT_CATEGORY, ALL_ROWS);
	table_build(&rsn, &rep->reason, prev ? &prev->reason : NULL, SORT_COUNT, ALL_ROWS);
	table_build(&t, &rep->reason, NULL, SORT_COUNT, rep->o.top_max);
	put_fmt(fp, &h.err, "<section id=\"charts\" class=\"charts\">\n");
	html_chart(&h, "Records by category", &cat, true);
	html_chart(&h, "Top reasons", &t, false);
	put_fmt(fp, &h.err, "</section>\n");
	table_free(&t);
	html_table(&h, "categories", "By category", &cat, one_category, 1, prev != NULL, "categories");
	html_table(&h, "reasons", "By reason", &rsn, one_reason, 1, prev != NULL, "reasons");
	table_free(&cat);
	table_free(&rsn);

	table_build(&t, &rep->blocked, NULL, SORT_COUNT, rep->o.top_max);
	html_table(&h, "blocked", "Domains that block most (ask their IT to whitelist the sending domain)",
		&t, one_domain, 1, false, "domains");
	table_free(&t);
	table_build(&t, &rep->domain, NULL, SORT_COUNT, rep->o.top_max);
	html_table(&h, "domains", "Top domains", &t, one_domain, 1, false, "domains");
	table_free(&t);
	table_build(&t, &rep->suggestion, NULL, SORT_COUNT, rep->o.list_max);
	html_table(&h, "corrections", "Suggested corrections", &t, corr, 2, false, "corrections");
	table_free(&t);
	table_build(&t, &rep->needs_human, NULL, SORT_COUNT, rep->o.list_max);
	html_table(&h, "human", rep->saw_matched ?
		"Need a human (no suggestion, or not in the recipient list)" :
		"Need a human (address problem with no suggestion)", &t, human, 3, false, "addresses");
	table_free(&t);
	put_fmt(fp, &h.err, "<section id=\"notes\">\n");
	write_notes(fp, &h.err, rep, "<p class=\"note\">", "</p>");
	put_fmt(fp, &h.err, "</section>\n</body>\n</html>\n");
	return h.err ? -1 : 0;
}

int
report_write(const struct report *rep, const struct report *prev, enum report_format fmt, FILE *fp)
{
	switch (fmt) {
	case REPORT_TEXT:
		return write_text(rep, prev, fp);
	case REPORT_TSV:
		return write_tsv(rep, prev, fp);
	case REPORT_HTML:
		return write_html(rep, prev, fp);
	}
	return -1;
}

void
report_stats(const struct report *rep)
{
	rb_stat("records", rep->records);
	rb_stat("bounce messages", rep->messages);
	rb_stat("malformed", rep->malformed);
}
