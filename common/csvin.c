#include "csvin.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#define CSVIN_CHUNK (64u << 10)
#define CSVIN_BLOCK (4u << 20)
#define CSVIN_HUGE (2u << 20)
/* A recipient list holds addresses, names and tokens: no honest value comes near 1 MiB.
 * libcsv keeps the field it is reading in one buffer, and a row is held until its last
 * field, so a file with no line end or an unclosed quote would otherwise be read into
 * memory whole: a longer value, or a row longer than CSVIN_ROW_MAX bytes of input, is a
 * bad row. */
#define CSVIN_FIELD_MAX (1u << 20)
#define CSVIN_ROW_MAX (4u << 20)

const char *const csvin_key_names[] = {
	"email", "e_mail", "email_address", "e_mail_address", "mail", "mail_address",
	"emailaddress", "recipient", "recipient_email", "recipient_address", "to", NULL
};

/* State of one load: the input, the line being fed to libcsv, the row being assembled. */
struct loader {
	struct csvin_table *t;
	const struct csvin_opts *o;
	struct csv_parser p;
	FILE *fp;
	char *buf;
	size_t len, pos;
	off_t buf_off;            /* file offset of buf[0] */
	bool eof, started;
	int prev_term;            /* terminator ending the last segment fed, 0 inside a line */
	unsigned long long lineno;
	off_t line_off;           /* offset of the current line */
	bool skip_line;           /* resynchronising: drop input up to the next line */
	/* the current row */
	bool between_rows;
	unsigned long long row_line, row_last_line;
	off_t row_off;
	size_t row_bytes;         /* input fed to libcsv for it */
	bool row_too_long;        /* a value over CSVIN_FIELD_MAX */
	struct rb_buf vals;       /* the values, each NUL-terminated */
	size_t *lens;
	size_t nf, lenscap;
	bool header_done;
	bool fatal;
};

void
csvin_snake_case(struct rb_buf *out, const char *name, size_t len)
{
	bool gap = false;

	rb_buf_clear(out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (gap && out->len > 0)
				rb_buf_addc(out, '_');
			gap = false;
			rb_buf_addc(out, (char)c);
		} else
			gap = true;
	}
	rb_buf_add(out, "", 0); /* a string even when empty */
}

static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Addresses are compared without surrounding white space and ignoring ASCII case. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank((unsigned char)(*s)[*len - 1]))
		(*len)--;
	while (*len > 0 && is_blank((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
}

/* Eight bytes with their ASCII capitals lower-cased (a byte with the high bit set stays). */
static uint64_t
fold_word(uint64_t w)
{
	uint64_t x = w & UINT64_C(0x7f7f7f7f7f7f7f7f);
	uint64_t ge_a = x + UINT64_C(0x3f3f3f3f3f3f3f3f);   /* high bit: x >= 'A' */
	uint64_t gt_z = x + UINT64_C(0x2525252525252525);   /* high bit: x > 'Z' */

	return w | ((ge_a & ~gt_z & ~w & UINT64_C(0x8080808080808080)) >> 2);
}

/* A hash of the lower-cased address, eight bytes at a time: short keys, no adversary (the
 * list is the admin's). */
static uint32_t
hash_address(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ fold_word(w)) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ fold_word(w)) * UINT64_C(0xc4ceb9fe1a85ec53);
	}
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static bool
same_address(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Count the candidate delimiters outside quotes in the header line; the most frequent
 * wins, a comma on ties and when there is none (a one-column list). */
static unsigned char
detect_delim(const char *s, size_t len)
{
	static const unsigned char cand[] = { ',', ';', '\t' };
	size_t count[3] = { 0, 0, 0 };
	bool quoted = false;
	unsigned char best = ',';
	size_t bestn = 0;

	for (size_t i = 0; i < len && (quoted || (s[i] != '\n' && s[i] != '\r')); i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted)
			for (size_t k = 0; k < 3; k++)
				count[k] += (unsigned char)s[i] == cand[k];
	}
	for (size_t k = 0; k < 3; k++)
		if (count[k] > bestn) {
			best = cand[k];
			bestn = count[k];
		}
	return best;
}

static void
bad_row(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bad_row(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rb_vwarn_at(l->t->name, l->row_line, fmt, ap);
	va_end(ap);
	l->t->nbad++;
}

static bool
name_taken(const struct csvin_table *t, size_t n, const char *name)
{
	if (strcmp(name, "matched") == 0) /* bounce-join's own column */
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t->cols[i], name) == 0)
			return true;
	return false;
}

/* Turn the header row into unique snake_case names: an empty name becomes column_N,
 * a repeated one gets _2, _3, ... */
static void
take_header(struct loader *l)
{
	struct csvin_table *t = l->t;
	struct rb_buf name = { 0 };
	const char *v = l->vals.data;

	t->ncols = l->nf;
	t->cols = rb_xcalloc(t->ncols, sizeof *t->cols);
	for (size_t i = 0; i < t->ncols; i++) {
		csvin_snake_case(&name, v, l->lens[i]);
		v += l->lens[i] + 1;
		if (name.len == 0)
			rb_buf_printf(&name, "column_%zu", i + 1);
		size_t base = name.len;
		for (unsigned k = 2; name_taken(t, i, name.data); k++) {
			name.len = base;
			rb_buf_printf(&name, "_%u", k);
		}
		t->cols[i] = rb_xstrdup(name.data);
	}
	rb_buf_free(&name);
}

/* Find the e-mail column: the one named with -k, else the first known name present. */
static bool
find_key(struct loader *l)
{
	struct csvin_table *t = l->t;

	if (l->o->key != NULL) {
		struct rb_buf want = { 0 };

		csvin_snake_case(&want, l->o->key, strlen(l->o->key));
		for (size_t i = 0; i < t->ncols; i++)
			if (strcmp(t->cols[i], want.data) == 0) {
				t->keycol = i;
				rb_buf_free(&want);
				return true;
			}
		rb_warn_at(t->name, l->row_line, "no column \"%s\" for the addresses (-k)", want.data);
		rb_buf_free(&want);
		return false;
	}
	for (size_t k = 0; csvin_key_names[k] != NULL; k++)
		for (size_t i = 0; i < t->ncols; i++)
			if (strcmp(t->cols[i], csvin_key_names[k]) == 0) {
				t->keycol = i;
				return true;
			}
	rb_warn_at(t->name, l->row_line, "no e-mail column (a header such as \"email\"); name it with -k");
	return false;
}

/* Large tables are probed at random: ask for huge pages to spare TLB misses (advice only). */
static void *
big_alloc(size_t n)
{
	void *p;

	if (n < CSVIN_HUGE)
		return rb_xmalloc(n);
	n = (n + CSVIN_HUGE - 1) & ~(size_t)(CSVIN_HUGE - 1);
	if (posix_memalign(&p, CSVIN_HUGE, n) != 0)
		rb_die(RB_EXIT_FATAL, "out of memory allocating %zu bytes", n);
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

static char *
arena_alloc(struct csvin_table *t, size_t n)
{
	size_t at = (t->arena_used + 7) & ~(size_t)7;

	if (t->arena == NULL || at + n > t->arena_size) {
		size_t size = n > CSVIN_BLOCK ? n : CSVIN_BLOCK;

		if (t->nblocks == t->blockcap) {
			t->blockcap = t->blockcap ? t->blockcap * 2 : 16;
			t->block = rb_xreallocarray(t->block, t->blockcap, sizeof *t->block);
		}
		t->arena = t->block[t->nblocks++] = big_alloc(size);
		t->arena_size = size;
		at = 0;
	}
	t->arena_used = at + n;
	return t->arena + at;
}

/* Row layout: offset and length of the trimmed address, then the lengths, then values. */
#define ROW_KEY_WORDS 2

/* The trimmed address of a row. */
static const char *
row_key(const char *r, size_t *len)
{
	uint32_t off, n;

	memcpy(&off, r, sizeof off);
	memcpy(&n, r + sizeof off, sizeof n);
	*len = n;
	return r + off;
}

/* Slot of a trimmed address: the one holding it, or the free one where it would go. */
static size_t
probe(const struct csvin_table *t, const char *key, size_t keylen, uint32_t h)
{
	size_t mask = t->nslots - 1;

	for (size_t j = h & mask;; j = (j + 1) & mask) {
		const struct csvin_slot *s = &t->slot[j];
		const char *v;
		size_t vlen;

		if (s->head == CSVIN_NONE)
			return j;
		if (s->hash != h)
			continue;
		v = row_key(s->data, &vlen);
		if (same_address(v, vlen, key, keylen))
			return j;
	}
}

/* Slots ahead of the insertion whose lines are fetched early: the table is larger than the
 * caches, and the hashes are known in advance. */
#define CSVIN_PREFETCH 16

/* Index the rows once they are all loaded, in a table sized for them (at most half full).
 * Going from the last row to the first and putting each in front of its chain leaves every
 * chain in file order. */
static void
build_index(struct csvin_table *t)
{
	size_t n = 1024, mask;
	unsigned long long keyed = t->nrows - t->nnokey;

	while (n / 2 < keyed)
		n *= 2;
	t->slot = big_alloc(n * sizeof *t->slot);
	t->nslots = n;
	mask = n - 1;
	for (size_t j = 0; j < n; j++)
		t->slot[j].head = CSVIN_NONE;
	for (size_t i = t->nrows; i-- > 0;) {
		const char *key;
		size_t keylen, j;
		uint32_t h = t->hash[i];

		if (i >= CSVIN_PREFETCH)
			__builtin_prefetch(&t->slot[t->hash[i - CSVIN_PREFETCH] & mask], 1);
		if (t->next[i] == CSVIN_NONE) /* no address */
			continue;
		key = row_key(t->row[i], &keylen);
		j = probe(t, key, keylen, h);
		if (t->slot[j].head == CSVIN_NONE) {
			t->slot[j].hash = h;
			t->next[i] = CSVIN_NONE;
			t->nkeys++;
		} else
			t->next[i] = t->slot[j].head;
		t->slot[j].head = (uint32_t)i;
		t->slot[j].data = t->row[i];
	}
	free(t->hash);
	t->hash = NULL;
}

/* Copy the row into the arena and note its address's hash; next[] says for now whether
 * the row has an address at all (CSVIN_NONE when not). */
static void
store_row(struct loader *l)
{
	struct csvin_table *t = l->t;
	size_t head = (ROW_KEY_WORDS + t->ncols) * sizeof(uint32_t), voff = head;
	uint32_t w[ROW_KEY_WORDS];
	const char *key;
	size_t keylen;
	char *r;

	if (t->nrows >= CSVIN_NONE - 1)
		rb_die(RB_EXIT_FATAL, "%s: more than %u rows", t->name, CSVIN_NONE - 1);
	if (t->nrows == t->rowcap) {
		t->rowcap = t->rowcap ? t->rowcap * 2 : 1024;
		t->row = rb_xreallocarray(t->row, t->rowcap, sizeof *t->row);
		t->next = rb_xreallocarray(t->next, t->rowcap, sizeof *t->next);
		t->hash = rb_xreallocarray(t->hash, t->rowcap, sizeof *t->hash);
	}
	r = arena_alloc(t, head + l->vals.len);
	for (size_t i = 0; i < t->ncols; i++) {
		uint32_t n = (uint32_t)l->lens[i];

		memcpy(r + (ROW_KEY_WORDS + i) * sizeof n, &n, sizeof n);
		if (i < t->keycol)
			voff += n + 1;
	}
	memcpy(r + head, l->vals.data, l->vals.len);
	key = r + voff;
	keylen = l->lens[t->keycol];
	trim(&key, &keylen);
	w[0] = (uint32_t)(key - r);
	w[1] = (uint32_t)keylen;
	memcpy(r, w, sizeof w);
	t->row[t->nrows] = r;
	if (keylen == 0) {
		t->nnokey++;
		t->next[t->nrows] = CSVIN_NONE;
		t->hash[t->nrows] = 0;
	} else {
		t->next[t->nrows] = 0;
		t->hash[t->nrows] = hash_address(key, keylen);
	}
	t->nrows++;
}

static void
end_row(int c, void *data)
{
	struct loader *l = data;

	(void)c;
	if (l->fatal)
		return;
	if (l->row_too_long) {
		if (!l->header_done) {
			rb_warn_at(l->t->name, l->row_line, "header value longer than %u bytes", CSVIN_FIELD_MAX);
			l->fatal = true;
		} else
			bad_row(l, "value longer than %u bytes", CSVIN_FIELD_MAX);
	} else if (!l->header_done) {
		take_header(l);
		l->header_done = true;
		if (!find_key(l))
			l->fatal = true;
	} else if (l->nf != l->t->ncols) {
		if (l->row_last_line > l->row_line)
			bad_row(l, "row has %zu field%s, header has %zu (the row spans lines %llu-%llu)",
				l->nf, l->nf == 1 ? "" : "s", l->t->ncols, l->row_line, l->row_last_line);
		else
			bad_row(l, "row has %zu field%s, header has %zu", l->nf, l->nf == 1 ? "" : "s",
				l->t->ncols);
	} else if (l->t->nbad == 0 || l->o->lenient)
		store_row(l);
	rb_buf_clear(&l->vals);
	l->nf = 0;
	l->row_too_long = false;
	l->between_rows = true;
}

static void
end_field(void *s, size_t len, void *data)
{
	struct loader *l = data;

	if (l->fatal)
		return;
	if (len > CSVIN_FIELD_MAX) {
		l->row_too_long = true;
		len = 0; /* the row is refused: keep nothing of it */
	}
	if (l->nf == l->lenscap) {
		l->lenscap = l->lenscap ? l->lenscap * 2 : 16;
		l->lens = rb_xreallocarray(l->lens, l->lenscap, sizeof *l->lens);
	}
	l->lens[l->nf++] = len;
	if (l->vals.cap - l->vals.len <= len + 1)
		rb_buf_reserve(&l->vals, len + 1);
	if (len > 0)
		memcpy(l->vals.data + l->vals.len, s, len);
	l->vals.data[l->vals.len + len] = '\0';
	l->vals.len += len + 1;
}

static int
fill(struct loader *l)
{
	size_t n;

	l->buf_off += (off_t)l->len;
	l->pos = l->len = 0;
	n = fread(l->buf, 1, CSVIN_CHUNK, l->fp);
	if (n == 0 && ferror(l->fp)) {
		rb_warn_at(l->t->name, 0, "read error:");
		return -1;
	}
	if (n < CSVIN_CHUNK)
		l->eof = true;
	l->len = n;
	return 0;
}

/* Does the segment hold anything but padding and line ends?  Such a segment starts a row
 * when the previous row has ended (libcsv skips blank lines between rows). */
static bool
has_content(const struct loader *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n')
			return false;
		if (c == ' ' || (c == '\t' && l->t->delim != '\t'))
			continue;
		return true;
	}
	return false;
}

static void start_parser(struct loader *l);

/* A row too long to hold: report it, forget what libcsv holds of it and start afresh at
 * the next line (the caller skips the rest of this one).  Inside a quoted value that
 * spans lines, the lines after it then read as rows of their own, reported if malformed. */
static void
drop_row(struct loader *l)
{
	if (!l->header_done) {
		rb_warn_at(l->t->name, l->row_line, "header longer than %u bytes", CSVIN_ROW_MAX);
		l->fatal = true;
		return;
	}
	bad_row(l, "row longer than %u bytes", CSVIN_ROW_MAX);
	csv_free(&l->p);
	start_parser(l);
}

/* Feed the buffered input to libcsv one line end at a time, so that every row can be
 * given the line it starts on. */
static void
feed(struct loader *l)
{
	while (l->pos < l->len && !l->fatal) {
		char *s = l->buf + l->pos;
		size_t avail = l->len - l->pos;
		char *nl = memchr(s, '\n', avail);
		char *cr = memchr(s, '\r', nl ? (size_t)(nl - s) : avail);
		char *term = cr ? cr : nl;
		size_t n = term ? (size_t)(term - s) + 1 : avail;

		if (l->prev_term == '\r' && *s == '\n') { /* the LF of a CRLF split by a read */
			n = 1;
			term = s;
		} else if (l->prev_term != 0 || !l->started) {
			l->lineno++;
			l->line_off = l->buf_off + (off_t)l->pos;
			l->started = true;
		}
		if (term != NULL && *term == '\r' && (size_t)(term - s) + 1 < avail && term[1] == '\n')
			n++; /* take the CRLF whole */
		if (l->skip_line) {
			l->skip_line = term == NULL;
		} else {
			if (l->between_rows && has_content(l, s, n)) {
				l->between_rows = false;
				l->row_line = l->lineno;
				l->row_off = l->line_off;
				l->row_bytes = 0;
			}
			l->row_last_line = l->lineno;
			if (!l->between_rows && (l->row_bytes += n) > CSVIN_ROW_MAX) {
				drop_row(l);
				l->skip_line = term == NULL;
			} else if (csv_parse(&l->p, s, n, end_field, end_row, l) != n) {
				rb_warn_at(l->t->name, l->lineno, "%s", csv_strerror(csv_error(&l->p)));
				l->fatal = true;
			}
		}
		l->prev_term = term ? (unsigned char)s[n - 1] : 0;
		l->pos += n;
	}
}

static void
start_parser(struct loader *l)
{
	if (csv_init(&l->p, 0) != 0)
		rb_die(RB_EXIT_FATAL, "out of memory");
	/* libcsv trims spaces and TABs around unquoted values, but tests for the delimiter
	 * first: a TAB that separates the values is never taken for padding.  Its own test
	 * is inline, where a space function would cost a call a byte. */
	csv_set_delim(&l->p, l->t->delim);
	l->between_rows = true;
	rb_buf_clear(&l->vals);
	l->nf = 0;
	l->row_too_long = false;
}

/* A quote left open at the end: the rest of the file went into one value.  Under lenient,
 * skip the row's first line and read on from the next one. */
static bool
resync(struct loader *l)
{
	if (fseeko(l->fp, l->row_off, SEEK_SET) != 0) {
		rb_warn_at(l->t->name, l->row_line, "cannot re-read the lines after it:");
		return false;
	}
	clearerr(l->fp);
	csv_free(&l->p);
	start_parser(l);
	l->eof = false;
	l->buf_off = l->row_off;
	l->len = l->pos = 0;
	l->lineno = l->row_line - 1;
	l->prev_term = '\n';
	l->skip_line = true;
	return true;
}

static void
skip_bom(struct loader *l)
{
	if (l->len >= 3 && memcmp(l->buf, "\xef\xbb\xbf", 3) == 0)
		l->pos = 3;
}

static bool
utf16(const struct loader *l)
{
	return l->len >= 2 && (memcmp(l->buf, "\xff\xfe", 2) == 0 || memcmp(l->buf, "\xfe\xff", 2) == 0);
}

static int
load(struct loader *l)
{
	struct csvin_table *t = l->t;

	if (fill(l) < 0)
		return RB_EXIT_FATAL;
	if (utf16(l)) {
		rb_warn_at(t->name, 0, "UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)");
		return RB_EXIT_FATAL;
	}
	skip_bom(l);
	t->delim = l->o->delim ? (unsigned char)l->o->delim : detect_delim(l->buf + l->pos, l->len - l->pos);
	start_parser(l);
	for (;;) {
		feed(l);
		if (l->fatal)
			return RB_EXIT_FATAL;
		if (!l->eof) {
			if (fill(l) < 0)
				return RB_EXIT_FATAL;
			continue;
		}
		/* Stray quotes inside values are taken literally while parsing, but a quote
		 * still open at the end swallowed the rest of the file: strict mode makes
		 * csv_fini say so. */
		csv_set_opts(&l->p, CSV_STRICT | CSV_STRICT_FINI);
		if (csv_fini(&l->p, end_field, end_row, l) == 0)
			break;
		if (!l->header_done) {
			rb_warn_at(t->name, l->row_line, "quote not closed in the header");
			return RB_EXIT_FATAL;
		}
		bad_row(l, "quote not closed by the end of the file");
		if (!l->o->lenient || !resync(l))
			break;
		if (fill(l) < 0)
			return RB_EXIT_FATAL;
	}
	if (l->fatal)
		return RB_EXIT_FATAL;
	if (!l->header_done) {
		rb_warn_at(t->name, 0, "no header line");
		return RB_EXIT_FATAL;
	}
	return t->nbad ? RB_EXIT_BADINPUT : RB_EXIT_OK;
}

int
csvin_load(struct csvin_table *t, FILE *fp, const char *name, const struct csvin_opts *o)
{
	struct loader l;
	int status;

	memset(t, 0, sizeof *t);
	t->name = name;
	memset(&l, 0, sizeof l);
	l.t = t;
	l.o = o;
	l.fp = fp;
	l.buf = rb_xmalloc(CSVIN_CHUNK);
	status = load(&l);
	csv_free(&l.p);
	free(l.buf);
	free(l.lens);
	rb_buf_free(&l.vals);
	build_index(t);
	return status;
}

uint32_t
csvin_find(const struct csvin_table *t, const char *addr, size_t len)
{
	trim(&addr, &len);
	if (len == 0 || t->nkeys == 0)
		return CSVIN_NONE;
	return t->slot[probe(t, addr, len, hash_address(addr, len))].head;
}

bool
csvin_hint(const struct csvin_table *t, const char *addr, size_t len, uint32_t *hash)
{
	trim(&addr, &len);
	if (len == 0)
		return false;
	*hash = hash_address(addr, len);
	__builtin_prefetch(&t->slot[*hash & (t->nslots - 1)]);
	return true;
}

void
csvin_hint_row(const struct csvin_table *t, uint32_t hash)
{
	size_t mask = t->nslots - 1;

	/* The table is at most half full: the run of used slots ends. */
	for (size_t j = hash & mask; t->slot[j].head != CSVIN_NONE; j = (j + 1) & mask)
		if (t->slot[j].hash == hash) {
			__builtin_prefetch(t->slot[j].data);
			__builtin_prefetch(t->slot[j].data + 64);
			return;
		}
}

void
csvin_row(const struct csvin_table *t, uint32_t row, const char **vals, size_t *lens)
{
	const char *r = t->row[row] + ROW_KEY_WORDS * sizeof(uint32_t);
	const char *v = r + t->ncols * sizeof(uint32_t);

	for (size_t i = 0; i < t->ncols; i++) {
		uint32_t l;

		memcpy(&l, r + i * sizeof l, sizeof l);
		vals[i] = v;
		lens[i] = l;
		v += l + 1;
	}
}

void
csvin_free(struct csvin_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->block[i]);
	free(t->block);
	free(t->row);
	free(t->next);
	free(t->hash);
	free(t->slot);
	memset(t, 0, sizeof *t);
}
