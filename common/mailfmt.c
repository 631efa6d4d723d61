#include "mailfmt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

static const char hexdigits[] = "0123456789ABCDEF";

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not valid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
utf8_seqlen(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4, cp = c & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

void
mf_utf8_sanitize(struct rb_buf *b)
{
	const unsigned char *s = (const unsigned char *)b->data;
	struct rb_buf out = { 0 };
	size_t i = 0;

	/* Almost every value is valid: find the first bad byte before copying anything,
	 * skipping ASCII eight bytes at a time. */
	while (i < b->len) {
		uint64_t w;

		if (b->len - i >= sizeof w) {
			memcpy(&w, s + i, sizeof w);
			if ((w & 0x8080808080808080u) == 0) {
				i += sizeof w;
				continue;
			}
		}
		size_t n = s[i] < 0x80 ? 1 : utf8_seqlen(s + i, b->len - i);

		if (n == 0)
			break;
		i += n;
	}
	if (i == b->len)
		return;
	rb_buf_reserve(&out, b->len + 16);
	rb_buf_add(&out, b->data, i);
	while (i < b->len) {
		size_t n = utf8_seqlen(s + i, b->len - i);

		if (n == 0) {
			rb_buf_add(&out, "\xEF\xBF\xBD", 3);
			i++;
		} else {
			rb_buf_add(&out, b->data + i, n);
			i += n;
		}
	}
	rb_buf_free(b);
	*b = out;
}

void
mf_header_clean(struct rb_buf *b)
{
	size_t i, o = 0;
	bool space = true; /* drops leading space */

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c < 0x20 || c == 0x7F || c == ' ') {
			if (!space)
				b->data[o++] = ' ';
			space = true;
			continue;
		}
		b->data[o++] = (char)c;
		space = false;
	}
	if (o > 0 && b->data[o - 1] == ' ')
		o--;
	b->len = o;
	if (b->data)
		b->data[o] = '\0';
}

static void
add_hex(struct rb_buf *out, char lead, unsigned char c)
{
	char t[3] = { lead, hexdigits[c >> 4], hexdigits[c & 15] };

	rb_buf_add(out, t, 3);
}

/* Quoted-printable of one line (no LF inside), written at o, which has room for
 * QP_ROOM(len) bytes.  Returns the end of what was written. */
#define QP_ROOM(len) (5 * (len) + 2)
static char *
qp_line(char *o, const unsigned char *s, size_t len)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];
		bool last = i + 1 == len;

		for (;;) {
			bool enc = c < 33 || c > 126 || c == '=';

			if ((c == ' ' || c == '\t') && !last)
				enc = false;
			/* "From " and "." at a line start mean something to mbox and SMTP. */
			if (col == 0 && (c == 'F' || c == '.'))
				enc = true;
			size_t w = enc ? 3 : 1;
			if (col + w > (last ? MF_QP_LINE : MF_QP_LINE - 1)) {
				*o++ = '=';
				*o++ = '\n';
				col = 0;
				continue;
			}
			if (enc) {
				*o++ = '=';
				*o++ = hexdigits[c >> 4];
				*o++ = hexdigits[c & 15];
			} else
				*o++ = (char)c;
			col += w;
			break;
		}
	}
	*o++ = '\n';
	return o;
}

/* Is the line its own quoted-printable form: short, nothing to encode, and no white space
 * at its end or "From "/"." at its start?  Most lines of a message are. */
static bool
qp_line_plain(const unsigned char *s, size_t len)
{
	/* Eight bytes at a time: does any lie below ' ', at or above 0x7F, or equal '='?
	 * ((w - n) & ~w & 0x80..) is non-zero exactly when some byte of w is below n. */
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	size_t i = 0;

	if (len == 0 || len > MF_QP_LINE || s[0] == 'F' || s[0] == '.' || s[len - 1] == ' ' || s[len - 1] == '\t')
		return false;
	for (; len - i >= 8; i += 8) {
		uint64_t w, eq, del;

		memcpy(&w, s + i, sizeof w);
		eq = w ^ (ones * '=');
		del = w ^ (ones * 0x7F);
		if ((((w - ones * ' ') & ~w) | w | ((eq - ones) & ~eq) | ((del - ones) & ~del)) & high)
			break; /* a tab, or something to encode: look closer */
	}
	for (; i < len; i++)
		if ((s[i] < ' ' && s[i] != '\t') || s[i] > '~' || s[i] == '=')
			return false;
	return true;
}

void
mf_qp_encode(struct rb_buf *out, const char *s, size_t len)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(s + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - s) : len;

		rb_buf_reserve(out, QP_ROOM(end - start));
		if (qp_line_plain((const unsigned char *)s + start, end - start)) {
			memcpy(out->data + out->len, s + start, end - start);
			out->len += end - start;
			out->data[out->len++] = '\n';
		} else
			out->len = (size_t)(qp_line(out->data + out->len, (const unsigned char *)s + start,
						    end - start) - out->data);
		out->data[out->len] = '\0';
		start = end + 1;
	}
	if (len == 0)
		rb_buf_addc(out, '\n');
}

void
mf_base64(struct rb_buf *out, const void *p, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	size_t i, col = 0;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		size_t left = len - i;
		char q[4];

		if (left > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (left > 2)
			v |= s[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = left > 1 ? b64[(v >> 6) & 63] : '=';
		q[3] = left > 2 ? b64[v & 63] : '=';
		rb_buf_add(out, q, 4);
		col += 4;
		if (col == 76) {
			rb_buf_addc(out, '\n');
			col = 0;
		}
	}
	if (col > 0)
		rb_buf_addc(out, '\n');
}

static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
dot_atom(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (c == '\0' || !is_atext(c))
			return false;
	}
	return true;
}

bool
mf_addr_plausible(const char *s)
{
	const char *at = strchr(s, '@');
	size_t len = strlen(s);

	if (at == NULL || strchr(at + 1, '@') != NULL || len > 254)
		return false;
	size_t local = (size_t)(at - s);
	if (local > 64 || !dot_atom(s, local))
		return false;
	const char *d = at + 1;
	size_t dlen = len - local - 1;
	if (dlen == 0 || d[0] == '.' || d[dlen - 1] == '.' || d[0] == '-')
		return false;
	for (size_t i = 0; i < dlen; i++) {
		unsigned char c = (unsigned char)d[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || (c == '.' && d[i + 1] != '.');

		if (!ok)
			return false;
	}
	return true;
}

bool
mf_is_address_header(const char *name)
{
	static const char *const names[] = { "From", "To", "Cc", "Bcc", "Reply-To", "Sender" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

int
mf_parse_mailbox(const char *s, struct mf_mailbox *mb)
{
	size_t len = strlen(s);
	const char *addr = s, *lt;
	size_t alen = len, plen = 0;

	mb->phrase = mb->addr = NULL;
	if (len > 0 && s[len - 1] == '>' && (lt = strrchr(s, '<')) != NULL) {
		addr = lt + 1;
		alen = (size_t)(s + len - 1 - addr);
		plen = (size_t)(lt - s);
		while (plen > 0 && s[plen - 1] == ' ')
			plen--;
	}
	mb->addr = rb_xstrndup(addr, alen);
	if (!mf_addr_plausible(mb->addr)) {
		mf_mailbox_free(mb);
		return -1;
	}
	if (plen >= 2 && s[0] == '"' && s[plen - 1] == '"') {
		/* A quoted display name: drop the quotes and undo quoted-pairs. */
		struct rb_buf p = { 0 };

		for (size_t i = 1; i + 1 < plen; i++) {
			if (s[i] == '\\' && i + 2 < plen)
				i++;
			rb_buf_addc(&p, s[i]);
		}
		rb_buf_addc(&p, '\0');
		mb->phrase = p.data;
	} else
		mb->phrase = rb_xstrndup(s, plen);
	return 0;
}

void
mf_mailbox_free(struct mf_mailbox *mb)
{
	free(mb->phrase);
	free(mb->addr);
	mb->phrase = mb->addr = NULL;
}

void
mf_header_begin(struct mf_header *h, struct rb_buf *out, const char *name)
{
	h->out = out;
	rb_buf_adds(out, name);
	rb_buf_addc(out, ':');
	h->col = strlen(name) + 1;
	h->first = true;
}

void
mf_header_token(struct mf_header *h, const char *tok, size_t len, bool glue)
{
	if (!glue) {
		if (!h->first && h->col + 1 + len > MF_FOLD_AT) {
			rb_buf_addc(h->out, '\n');
			h->col = 0;
		}
		rb_buf_addc(h->out, ' ');
		h->col++;
	}
	rb_buf_add(h->out, tok, len);
	h->col += len;
	h->first = false;
}

void
mf_header_end(struct mf_header *h)
{
	rb_buf_addc(h->out, '\n');
}

/* RFC 2047 5(3): the characters a Q word may carry unencoded, even inside a phrase. */
static bool
q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static size_t
q_width(unsigned char c)
{
	return q_plain(c) || c == ' ' ? 1 : 3;
}

static size_t
b_width(size_t nbytes)
{
	return 4 * ((nbytes + 2) / 3);
}

static void
b_encode(struct rb_buf *out, const unsigned char *s, size_t n)
{
	struct rb_buf t = { 0 };

	mf_base64(&t, s, n);
	for (size_t i = 0; i < t.len; i++)
		if (t.data[i] != '\n')
			rb_buf_addc(out, t.data[i]);
	rb_buf_free(&t);
}

void
mf_header_encoded_words(struct mf_header *h, const char *str, size_t len)
{
	static const size_t overhead = 12; /* "=?UTF-8?Q?" and "?=" */
	const unsigned char *s = (const unsigned char *)str;
	size_t qlen = 0, i = 0;
	bool useb;

	for (size_t k = 0; k < len; k++)
		qlen += q_width(s[k]);
	useb = b_width(len) < qlen;
	while (i < len) {
		size_t room = MF_FOLD_AT - h->col - 1, max, n = 0, w = 0;
		struct rb_buf word = { 0 };

		max = room >= overhead + 12 ? room : MF_WORD_MAX;
		if (max > MF_WORD_MAX)
			max = MF_WORD_MAX;
		/* Whole characters only, and at least one, so every word decodes alone. */
		while (i + n < len) {
			size_t cl = utf8_seqlen(s + i + n, len - i - n), cw = 0;

			if (cl == 0)
				cl = 1;
			if (useb)
				cw = b_width(n + cl) - b_width(n);
			else
				for (size_t k = 0; k < cl; k++)
					cw += q_width(s[i + n + k]);
			if (n > 0 && overhead + w + cw > max)
				break;
			n += cl;
			w += cw;
		}
		rb_buf_adds(&word, useb ? "=?UTF-8?B?" : "=?UTF-8?Q?");
		if (useb)
			b_encode(&word, s + i, n);
		else
			for (size_t k = i; k < i + n; k++) {
				if (s[k] == ' ')
					rb_buf_addc(&word, '_');
				else if (q_plain(s[k]))
					rb_buf_addc(&word, (char)s[k]);
				else
					add_hex(&word, '=', s[k]);
			}
		rb_buf_adds(&word, "?=");
		mf_header_token(h, word.data, word.len, false);
		rb_buf_free(&word);
		i += n;
	}
}

/* Can a cleaned value be written as plain words: printable ASCII, nothing a decoder would
 * take for an encoded word, and no word too long to fold? */
static bool
plain_words_ok(const char *s)
{
	size_t word = 0;

	if (strstr(s, "=?") != NULL)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c > 0x7E)
			return false;
		word = c == ' ' ? 0 : word + 1;
		if (word > MF_FOLD_AT - 2)
			return false;
	}
	return true;
}

static void
plain_words(struct mf_header *h, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, " ");

		if (n > 0)
			mf_header_token(h, s, n, false);
		s += n;
		s += strspn(s, " ");
	}
}

void
mf_write_unstructured(struct rb_buf *out, const char *name, const char *value)
{
	struct mf_header h;

	mf_header_begin(&h, out, name);
	if (plain_words_ok(value))
		plain_words(&h, value);
	else
		mf_header_encoded_words(&h, value, strlen(value));
	mf_header_end(&h);
}

static void
write_phrase(struct mf_header *h, const char *p)
{
	bool atoms = true, quotable = true;
	size_t len = strlen(p);

	if (strstr(p, "=?") != NULL)
		atoms = quotable = false;
	for (const char *c = p; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u != ' ' && !is_atext(u))
			atoms = false;
		if (u < 0x20 || u > 0x7E)
			quotable = false;
	}
	if (atoms && plain_words_ok(p)) {
		plain_words(h, p);
		return;
	}
	if (quotable && len + 2 <= MF_FOLD_AT - 2) {
		struct rb_buf q = { 0 };

		rb_buf_addc(&q, '"');
		for (const char *c = p; *c; c++) {
			if (*c == '"' || *c == '\\')
				rb_buf_addc(&q, '\\');
			rb_buf_addc(&q, *c);
		}
		rb_buf_addc(&q, '"');
		mf_header_token(h, q.data, q.len, false);
		rb_buf_free(&q);
		return;
	}
	mf_header_encoded_words(h, p, len);
}

void
mf_write_mailboxes(struct rb_buf *out, const char *name, const struct mf_mailbox *mb, size_t n)
{
	struct mf_header h;

	struct rb_buf a = { 0 };

	mf_header_begin(&h, out, name);
	for (size_t i = 0; i < n; i++) {
		bool phrase = mb[i].phrase && *mb[i].phrase;

		rb_buf_clear(&a);
		if (phrase) {
			write_phrase(&h, mb[i].phrase);
			rb_buf_addc(&a, '<');
		}
		rb_buf_adds(&a, mb[i].addr);
		if (phrase)
			rb_buf_addc(&a, '>');
		if (i + 1 < n)
			rb_buf_addc(&a, ',');
		mf_header_token(&h, a.data, a.len, false);
	}
	rb_buf_free(&a);
	mf_header_end(&h);
}

void
mf_stamp_init(struct mf_stamp *st)
{
	memset(st, 0, sizeof *st);
	st->pid = (long)getpid();
}

/* Format the parts that depend on the second t, unless they are for t already. */
static void
stamp_set(struct mf_stamp *st, time_t t)
{
	struct tm tm;

	if (st->valid && st->t == t)
		return;
	if (localtime_r(&t, &tm) == NULL || strftime(st->date, sizeof st->date, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0 ||
	    gmtime_r(&t, &tm) == NULL || strftime(st->idtime, sizeof st->idtime, "%Y%m%d%H%M%S", &tm) == 0 ||
	    strftime(st->mboxtime, sizeof st->mboxtime, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		rb_die(RB_EXIT_FATAL, "cannot format the date");
	st->t = t;
	st->valid = true;
}

/* Four random bytes, taken from a batch so that not every message costs a system call. */
static uint32_t
stamp_random(struct mf_stamp *st, time_t t, unsigned long seq)
{
	uint32_t rnd;

	if (st->nrnd < sizeof rnd) {
		ssize_t n = getrandom(st->rnd, sizeof st->rnd, GRND_NONBLOCK);

		st->nrnd = n > 0 ? (size_t)n : 0;
	}
	if (st->nrnd < sizeof rnd)
		return (uint32_t)t ^ (uint32_t)seq * 2654435761u ^ (uint32_t)st->pid;
	st->nrnd -= sizeof rnd;
	memcpy(&rnd, st->rnd + st->nrnd, sizeof rnd);
	return rnd;
}

void
mf_stamp_date(struct mf_stamp *st, struct rb_buf *out, time_t t)
{
	stamp_set(st, t);
	rb_buf_adds(out, st->date);
}

/* Decimal digits of v, appended. */
static void
add_ulong(struct rb_buf *out, unsigned long v)
{
	char d[24], *p = d + sizeof d;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	rb_buf_add(out, p, (size_t)(d + sizeof d - p));
}

void
mf_stamp_message_id(struct mf_stamp *st, struct rb_buf *out, const char *domain, time_t t, unsigned long seq)
{
	uint32_t rnd = stamp_random(st, t, seq);
	char hex[9];

	stamp_set(st, t);
	for (int i = 0; i < 8; i++)
		hex[i] = "0123456789abcdef"[(rnd >> (28 - 4 * i)) & 15];
	hex[8] = '.';
	rb_buf_addc(out, '<');
	rb_buf_adds(out, st->idtime);
	rb_buf_addc(out, '.');
	if (st->pid < 0)
		rb_buf_addc(out, '-');
	add_ulong(out, st->pid < 0 ? 0UL - (unsigned long)st->pid : (unsigned long)st->pid);
	rb_buf_addc(out, '.');
	add_ulong(out, seq);
	rb_buf_addc(out, '.');
	rb_buf_add(out, hex, 8);
	rb_buf_addc(out, '@');
	rb_buf_adds(out, domain);
	rb_buf_addc(out, '>');
}

void
mf_date(struct rb_buf *out, time_t t)
{
	struct mf_stamp st;

	mf_stamp_init(&st);
	mf_stamp_date(&st, out, t);
}

void
mf_message_id(struct rb_buf *out, const char *domain, time_t t, unsigned long seq)
{
	struct mf_stamp st;

	mf_stamp_init(&st);
	mf_stamp_message_id(&st, out, domain, t, seq);
}

static bool
attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$&+-.^_`|~", c) != NULL;
}

void
mf_header_param(struct mf_header *h, const char *name, const char *value)
{
	size_t len = strlen(value);
	bool plain = len <= 60;
	struct rb_buf t = { 0 };

	for (const char *c = value; *c && plain; c++)
		plain = *c >= 0x20 && *c <= 0x7E && *c != '"' && *c != '\\';
	mf_header_token(h, ";", 1, true);
	if (plain) {
		rb_buf_printf(&t, "%s=\"%s\"", name, value);
		mf_header_token(h, t.data, t.len, false);
		rb_buf_free(&t);
		return;
	}
	/* RFC 2231: percent-encoded UTF-8, in sections short enough for one line each. */
	struct rb_buf enc = { 0 };
	for (const char *c = value; *c; c++) {
		if (attr_char((unsigned char)*c))
			rb_buf_addc(&enc, *c);
		else
			add_hex(&enc, '%', (unsigned char)*c);
	}
	size_t pos = 0, section = 0, chunk = 48;
	bool single = enc.len <= chunk;
	while (pos < enc.len) {
		size_t n = enc.len - pos < chunk ? enc.len - pos : chunk;

		/* Never split a %XX escape. */
		if (pos + n < enc.len) {
			if (enc.data[pos + n - 1] == '%')
				n -= 1;
			else if (n >= 2 && enc.data[pos + n - 2] == '%')
				n -= 2;
		}
		rb_buf_clear(&t);
		if (single)
			rb_buf_printf(&t, "%s*=", name);
		else
			rb_buf_printf(&t, "%s*%zu*=", name, section);
		if (section == 0)
			rb_buf_adds(&t, "utf-8''");
		rb_buf_add(&t, enc.data + pos, n);
		pos += n;
		if (section > 0)
			mf_header_token(h, ";", 1, true);
		mf_header_token(h, t.data, t.len, false);
		section++;
	}
	rb_buf_free(&enc);
	rb_buf_free(&t);
}

void
mf_stamp_mbox_append(struct mf_stamp *st, struct rb_buf *out, const char *sender, time_t t, const char *msg,
	size_t len)
{
	size_t run = 0;

	stamp_set(st, t);
	rb_buf_adds(out, "From ");
	rb_buf_adds(out, sender && *sender ? sender : "MAILER-DAEMON");
	rb_buf_addc(out, ' ');
	rb_buf_adds(out, st->mboxtime);
	rb_buf_addc(out, '\n');
	if (len == 0) {
		rb_buf_addc(out, '\n');
		return;
	}
	rb_buf_reserve(out, len + 2);
	/* Only a "From " can need quoting: find each and see whether only '>' stands before it
	 * on its line.  msg[run, ...) is not copied yet. */
	for (const char *f = msg; (f = memchr(f, 'F', len - (size_t)(f - msg))) != NULL; f++) {
		const char *b = f;

		if ((size_t)(msg + len - f) < 5 || memcmp(f, "From ", 5) != 0)
			continue;
		while (b > msg && b[-1] == '>')
			b--;
		if (b > msg && b[-1] != '\n')
			continue;
		rb_buf_add(out, msg + run, (size_t)(b - msg) - run);
		rb_buf_addc(out, '>');
		run = (size_t)(b - msg);
	}
	rb_buf_add(out, msg + run, len - run);
	if (msg[len - 1] != '\n')
		rb_buf_addc(out, '\n');
	rb_buf_addc(out, '\n');
}

void
mf_mbox_append(struct rb_buf *out, const char *sender, time_t t, const char *msg, size_t len)
{
	struct mf_stamp st;

	mf_stamp_init(&st);
	mf_stamp_mbox_append(&st, out, sender, t, msg, len);
}
