#define _GNU_SOURCE /* memmem */
#include "mime.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan.h"

size_t
mime_header_len(const char *msg, size_t len)
{
	size_t q;

	if (len > 0 && msg[0] == '\n')
		return 1;
	/* the first empty line: a LF then a LF, found many bytes at a time */
	q = scan_pair(msg, len, '\n', '\n');
	return q < len ? q + 2 : len;
}

/* Empty a buffer, leaving it allocated and NUL-terminated. */
static void
buf_reset(struct rb_buf *b)
{
	if (b->data == NULL)
		rb_buf_reserve(b, 0);
	b->len = 0;
	b->data[0] = '\0';
}

/* Append v[0..n) unfolded: line breaks dropped, tabs made spaces. */
static void
add_unfolded(struct rb_buf *out, const char *v, size_t n)
{
	size_t i;
	char *d;

	/* written in place: the result is never longer than the value */
	if (out->len + n >= out->cap)
		rb_buf_reserve(out, n);
	d = out->data + out->len;
	for (i = 0; n - i >= 8; i += 8) {
		uint64_t w;
		/* eight bytes copied as they are when none can be a tab, a CR or a LF */
		memcpy(&w, v + i, 8);
		if (!mime_word_has_control(w)) {
			memcpy(d, &w, 8);
			d += 8;
			continue;
		}
		for (size_t k = i; k < i + 8; k++)
			if (v[k] != '\n' && v[k] != '\r')
				*d++ = v[k] == '\t' ? ' ' : v[k];
	}
	if (i < n && n >= 8) {
		/* The last bytes, by the word that ends the value.  When it has no control
		 * byte, its bytes before i were copied as they are and are the last ones
		 * written: the word is stored again over them, ending the value. */
		uint64_t w;
		memcpy(&w, v + n - 8, 8);
		if (!mime_word_has_control(w)) {
			memcpy(d - (i - (n - 8)), &w, 8);
			d += n - i;
			i = n;
		}
	}
	for (; i < n; i++)
		if (v[i] != '\n' && v[i] != '\r')
			*d++ = v[i] == '\t' ? ' ' : v[i];
	out->len = (size_t)(d - out->data);
	out->data[out->len] = '\0';
}

/* Offset of the first line of the block that starts field name (nlen bytes), or SIZE_MAX
 * when none does before the block's end or its first empty line.  An empty name starts
 * no field. */
static size_t
field_line(const char *hdr, size_t len, const char *name, size_t nlen)
{
	size_t i = 0;

	while (nlen > 0 && i < len && hdr[i] != '\n') {
		const char *line = hdr + i, *nl;
		/* A line shorter than the name has its LF where the name has a letter, so
		 * the line's length is not needed for the test (a name with a LF in it, which
		 * no line holds, is ruled out when the rest agrees); the first letter is
		 * tested first, as most lines fail there. */
		if (len - i > nlen && line[nlen] == ':' && mime_same_ci(line, name, 1) &&
		    (memcmp(line, name, nlen) == 0 || mime_same_ci(line, name, nlen)) &&
		    memchr(line, '\n', nlen) == NULL)
			return i;
		nl = memchr(line, '\n', len - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - hdr) + 1;
	}
	return SIZE_MAX;
}

void
mime_field_append(const char *hdr, size_t len, size_t at, size_t nlen, struct rb_buf *out)
{
	const char *end = hdr + len, *v = hdr + at + nlen + 1, *ve, *nl;

	nl = memchr(v, '\n', (size_t)(end - v));
	ve = nl ? nl : end;
	/* the continuation lines */
	while (ve + 1 < end && (ve[1] == ' ' || ve[1] == '\t')) {
		nl = memchr(ve + 1, '\n', (size_t)(end - (ve + 1)));
		ve = nl ? nl : end;
	}
	/* White space is trimmed before unfolding: the line breaks that unfolding drops are
	 * white space too, so the value's ends are the same either way. */
	while (v < ve && ascii_isspace(*v))
		v++;
	while (ve > v && ascii_isspace(ve[-1]))
		ve--;
	add_unfolded(out, v, (size_t)(ve - v));
}

/* The value of the field found at line at (SIZE_MAX: absent) into out, emptied first. */
static bool
field_value(const char *hdr, size_t len, size_t at, size_t nlen, struct rb_buf *out)
{
	buf_reset(out);
	if (at == SIZE_MAX)
		return false;
	mime_field_append(hdr, len, at, nlen, out);
	return true;
}

bool
mime_header_n(const char *hdr, size_t len, const char *name, size_t nlen, struct rb_buf *out)
{
	return field_value(hdr, len, field_line(hdr, len, name, nlen), nlen, out);
}

void
mime_header_lines(const char *hdr, size_t len, const char *const *names, size_t n, size_t *at)
{
	size_t i = 0, missing = n;

	for (size_t k = 0; k < n; k++)
		at[k] = SIZE_MAX;
	/* the same test of a line as mime_header's, for every name still missing */
	while (i < len && missing > 0) {
		const char *line = hdr + i, *nl = memchr(line, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - line) : len - i;

		if (llen == 0)
			break;
		/* a name has no ':', so the line's first ':' must follow it */
		const char *colon = memchr(line, ':', llen);
		for (size_t k = 0; colon != NULL && k < n; k++) {
			size_t nlen = (size_t)(colon - line);
			if (at[k] == SIZE_MAX && mime_same_ci(line, names[k], 1) &&
			    strlen(names[k]) == nlen && mime_same_ci(line, names[k], nlen)) {
				at[k] = i;
				missing--;
			}
		}
		i += llen + 1;
	}
}

static void
collapse_space(struct rb_buf *b)
{
	size_t r, w = 0;
	bool sp = true;

	for (r = 0; r < b->len; r++) {
		unsigned char c = (unsigned char)b->data[r];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (!sp)
				b->data[w++] = ' ';
			sp = true;
		} else {
			b->data[w++] = (char)c;
			sp = false;
		}
	}
	while (w > 0 && b->data[w - 1] == ' ')
		w--;
	b->len = w;
	if (b->data)
		b->data[w] = '\0';
}

static bool plain_value(const char *in, size_t len);

/* A value as mime_header gives it made text: RFC 2047 words decoded, white space
 * collapsed. */
static void
value_to_text(struct rb_buf *out)
{
	/* Most values have nothing to decode: what decoding would do to them (some white
	 * space turned into spaces) collapse_space does anyway, in place. */
	if (plain_value(out->data, out->len)) {
		/* mime_header's value has no tab, CR or LF and no white space at either end:
		 * only a run of spaces is left to collapse */
		if (scan_pair(out->data, out->len, ' ', ' ') < out->len)
			collapse_space(out);
		return;
	}
	struct rb_buf raw = *out;
	*out = (struct rb_buf){0};
	buf_reset(out);
	mime_decode_2047(raw.data, raw.len, out);
	rb_buf_free(&raw);
	collapse_space(out);
}

bool
mime_header_text(const char *hdr, size_t len, const char *name, struct rb_buf *out)
{
	if (!mime_header(hdr, len, name, out))
		return false;
	value_to_text(out);
	return true;
}

void
mime_fields_index(struct mime_fields *f, const char *hdr, size_t len)
{
	size_t i = 0;

	f->hdr = hdr;
	f->len = len;
	f->n = 0;
	f->whole = true;
	/* the lines field_line would look at, in the same walk */
	while (i < len && hdr[i] != '\n') {
		const char *nl = memchr(hdr + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - hdr) : len;

		if (f->n == MIME_FIELDS_MAX || end > UINT32_MAX) {
			f->whole = false;
			return;
		}
		f->start[f->n] = (uint32_t)i;
		f->end[f->n++] = (uint32_t)end;
		i = end + 1;
	}
}

/* field_line over the indexed lines: the same test of each, without finding its end. */
static size_t
indexed_field_line(const struct mime_fields *f, const char *name, size_t nlen)
{
	for (size_t k = 0; nlen > 0 && k < f->n; k++) {
		const char *line = f->hdr + f->start[k];
		/* past the name, the line has at least its ':' before its end */
		if (f->end[k] - f->start[k] > nlen && line[nlen] == ':' && mime_same_ci(line, name, 1) &&
		    (memcmp(line, name, nlen) == 0 || mime_same_ci(line, name, nlen)))
			return f->start[k];
	}
	return SIZE_MAX;
}

bool
mime_fields_get_n(const struct mime_fields *f, const char *name, size_t nlen, bool text,
    struct rb_buf *out)
{
	/* a block of more lines than the index holds is walked whole */
	size_t at = f->whole ? indexed_field_line(f, name, nlen) : field_line(f->hdr, f->len, name, nlen);

	if (!field_value(f->hdr, f->len, at, nlen, out))
		return false;
	if (text)
		value_to_text(out);
	return true;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

void
mime_b64_decode(const char *in, size_t len, struct rb_buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	char *d;

	/* every 4 input bytes give at most 3: written in place */
	rb_buf_reserve(out, len / 4 * 3 + 3);
	d = out->data + out->len;
	for (i = 0; i < len; i++) {
		int v = b64_value((unsigned char)in[i]);
		if (in[i] == '=') {
			bits = 0; /* padding ends a group */
			acc = 0;
			continue;
		}
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*d++ = (char)((acc >> bits) & 0xff);
		}
	}
	out->len = (size_t)(d - out->data);
	out->data[out->len] = '\0';
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
mime_qp_decode(const char *in, size_t len, struct rb_buf *out)
{
	size_t i;
	char *d;

	/* never longer than the input: written in place */
	rb_buf_reserve(out, len);
	d = out->data + out->len;
	for (i = 0; i < len; i++) {
		if (in[i] != '=') {
			const char *eq = memchr(in + i, '=', len - i);
			size_t run = eq ? (size_t)(eq - (in + i)) : len - i;
			memcpy(d, in + i, run);
			d += run;
			i += run - 1;
			continue;
		}
		/* a soft line break: '=' then optional white space then the line end */
		size_t j = i + 1;
		while (j < len && (in[j] == ' ' || in[j] == '\t' || in[j] == '\r'))
			j++;
		if (j >= len || in[j] == '\n') {
			i = j;
			continue;
		}
		if (i + 2 < len + 0 && hex_value((unsigned char)in[i + 1]) >= 0 &&
		    hex_value((unsigned char)in[i + 2]) >= 0) {
			*d++ = (char)(hex_value((unsigned char)in[i + 1]) * 16 +
			    hex_value((unsigned char)in[i + 2]));
			i += 2;
			continue;
		}
		*d++ = '=';
	}
	out->len = (size_t)(d - out->data);
	out->data[out->len] = '\0';
}

bool
mime_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	while (p < e) {
		unsigned char c = *p;
		size_t n;
		if (c < 0x80) {
			/* ASCII runs many bytes at a time */
			p += scan_ascii_run((const char *)p, (size_t)(e - p));
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		if ((size_t)(e - p) <= n)
			return false;
		for (size_t k = 1; k <= n; k++)
			if ((p[k] & 0xc0) != 0x80)
				return false;
		p += n + 1;
	}
	return true;
}

/* Convert with iconv; returns false if the charset is unknown or the text does not
 * convert, leaving out as it was. */
static bool
iconv_to_utf8(const char *charset, const char *in, size_t len, struct rb_buf *out)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	size_t start = out->len;
	char *ip = (char *)in;
	size_t il = len;
	int bad = 0;

	if (cd == (iconv_t)-1)
		return false;
	while (il > 0) {
		char tmp[4096], *op = tmp;
		size_t ol = sizeof tmp;
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		rb_buf_add(out, tmp, sizeof tmp - ol);
		if (r == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			/* an invalid or incomplete sequence: replace one byte and go on */
			if (++bad > 64) {
				iconv_close(cd);
				out->len = start;
				out->data[start] = '\0';
				return false;
			}
			rb_buf_adds(out, "\xef\xbf\xbd");
			ip++;
			il--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	{
		char tmp[64], *op = tmp;
		size_t ol = sizeof tmp;
		iconv(cd, NULL, NULL, &op, &ol);
		rb_buf_add(out, tmp, sizeof tmp - ol);
	}
	iconv_close(cd);
	return true;
}

static bool
is_ascii_charset(const char *cs)
{
	return cs == NULL || *cs == '\0' || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "ascii") == 0 || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/* The charset label as mime_to_utf8 uses it: lower-cased, mail's aliases renamed; "" for
 * none or one too long. */
static void
charset_name(const char *charset, char cs[64])
{
	if (charset && strlen(charset) < 64) {
		size_t i;
		for (i = 0; charset[i]; i++)
			cs[i] = ascii_tolower(charset[i]);
		cs[i] = '\0';
		/* names iconv does not know under the label mail uses */
		if (strcmp(cs, "ks_c_5601-1987") == 0)
			strcpy(cs, "cp949");
		else if (strcmp(cs, "x-sjis") == 0 || strcmp(cs, "shift-jis") == 0)
			strcpy(cs, "shift_jis");
		else if (strcmp(cs, "iso-2022-jp") == 0)
			strcpy(cs, "iso-2022-jp-3"); /* a superset, tolerant of extensions */
	} else {
		cs[0] = '\0';
	}
}

/* Would mime_to_utf8 append in as it is?  (Sure only of the common case: UTF-8 text
 * labelled as such, as ASCII or as none.) */
static bool
utf8_as_is(const char *charset, const char *in, size_t len)
{
	char cs[64];

	charset_name(charset, cs);
	if (!is_ascii_charset(cs) && strncmp(cs, "iso-2022", 8) != 0)
		return false;
	if (memchr(in, 0x1b, len) != NULL && memmem(in, len, "\x1b$", 2) != NULL)
		return false;
	return mime_valid_utf8(in, len);
}

void
mime_to_utf8(const char *charset, const char *in, size_t len, struct rb_buf *out)
{
	char cs[64];

	charset_name(charset, cs);
	if (memchr(in, 0x1b, len) != NULL && memmem(in, len, "\x1b$", 2) != NULL &&
	    (is_ascii_charset(cs) || strncmp(cs, "iso-2022-jp", 11) == 0)) {
		if (iconv_to_utf8("ISO-2022-JP-3", in, len, out) || iconv_to_utf8("ISO-2022-JP", in, len, out))
			return;
	}
	if (mime_valid_utf8(in, len) && (is_ascii_charset(cs) || strncmp(cs, "iso-2022", 8) == 0)) {
		rb_buf_add(out, in, len);
		return;
	}
	if (!is_ascii_charset(cs) && iconv_to_utf8(cs, in, len, out))
		return;
	if (mime_valid_utf8(in, len)) {
		rb_buf_add(out, in, len);
		return;
	}
	/* unlabelled 8-bit text: Japanese mail first, then the Western default */
	if (iconv_to_utf8("SHIFT_JIS", in, len, out) && mime_valid_utf8(out->data, out->len))
		return;
	iconv_to_utf8("WINDOWS-1252", in, len, out);
}

/* One encoded word "=?cs?E?text?=" at in; returns its length, or 0 if it is not one. */
static size_t
decode_word(const char *in, size_t len, struct rb_buf *out)
{
	const char *q1, *q2, *end;
	char cs[64];
	size_t cslen;
	struct rb_buf raw = {0};

	if (len < 8 || in[0] != '=' || in[1] != '?')
		return 0;
	q1 = memchr(in + 2, '?', len - 2);
	if (q1 == NULL || q1 + 3 > in + len || q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	end = NULL;
	for (const char *p = q2 + 1; p + 1 < in + len; p++) {
		if (p[0] == '?' && p[1] == '=') {
			end = p;
			break;
		}
		if (*p == '\n' || *p == ' ')
			break;
	}
	if (end == NULL)
		return 0;
	cslen = (size_t)(q1 - (in + 2));
	if (cslen == 0 || cslen >= sizeof cs)
		return 0;
	memcpy(cs, in + 2, cslen);
	cs[cslen] = '\0';
	{
		char *star = strchr(cs, '*'); /* RFC 2231 language */
		if (star)
			*star = '\0';
	}
	if (q1[1] == 'B' || q1[1] == 'b') {
		mime_b64_decode(q2 + 1, (size_t)(end - (q2 + 1)), &raw);
	} else if (q1[1] == 'Q' || q1[1] == 'q') {
		for (const char *p = q2 + 1; p < end; p++) {
			if (*p == '_')
				rb_buf_addc(&raw, ' ');
			else if (*p == '=' && end - p > 2 && hex_value((unsigned char)p[1]) >= 0 &&
			    hex_value((unsigned char)p[2]) >= 0) {
				rb_buf_addc(&raw, (char)(hex_value((unsigned char)p[1]) * 16 +
				    hex_value((unsigned char)p[2])));
				p += 2;
			} else
				rb_buf_addc(&raw, *p);
		}
	} else {
		return 0;
	}
	mime_to_utf8(cs, raw.data ? raw.data : "", raw.len, out);
	rb_buf_free(&raw);
	return (size_t)(end + 2 - in);
}

/* A value without encoded words, escapes or invalid UTF-8 (most headers): what the
 * general loop below makes of it, in one pass.  Line breaks become spaces, and so does a
 * CR where the loop sees white space (at the start or after white space); a CR inside a
 * word stays.  False, with nothing written, for any other value. */
static bool
plain_value(const char *in, size_t len)
{
	return len == 0 || (scan_pair(in, len, '=', '?') == len && memchr(in, 0x1b, len) == NULL &&
	    mime_valid_utf8(in, len));
}

static bool
copy_plain_value(const char *in, size_t len, struct rb_buf *out)
{
	bool after_space = true;
	char *d;

	if (len == 0)
		return true;
	if (!plain_value(in, len))
		return false;
	rb_buf_reserve(out, len);
	d = out->data + out->len;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == ' ' || c == '\t' || c == '\n') {
			d[i] = c == '\n' ? ' ' : c;
			after_space = true;
		} else if (c == '\r' && after_space) {
			d[i] = ' ';
		} else {
			d[i] = c;
			after_space = false;
		}
	}
	out->len += len;
	out->data[out->len] = '\0';
	return true;
}

void
mime_decode_2047(const char *in, size_t len, struct rb_buf *out)
{
	size_t i = 0, pending_ws = 0, ws_at = 0;
	bool last_was_word = false;

	if (copy_plain_value(in, len, out))
		return;
	while (i < len) {
		size_t n = 0;
		if (in[i] == '=' && i + 1 < len && in[i + 1] == '?') {
			size_t before = out->len;
			n = decode_word(in + i, len - i, out);
			if (n > 0) {
				if (last_was_word && pending_ws) {
					/* drop the white space between two encoded words */
					memmove(out->data + ws_at, out->data + ws_at + pending_ws,
					    out->len - ws_at - pending_ws);
					out->len -= pending_ws;
					out->data[out->len] = '\0';
				}
				(void)before;
				pending_ws = 0;
				last_was_word = true;
				i += n;
				continue;
			}
		}
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r') {
			if (pending_ws == 0)
				ws_at = out->len;
			pending_ws++;
			rb_buf_addc(out, in[i] == '\n' || in[i] == '\r' ? ' ' : in[i]);
			i++;
			continue;
		}
		/* plain text: 8-bit bytes in headers are converted too */
		{
			size_t j = i;
			while (j < len && in[j] != ' ' && in[j] != '\t' && in[j] != '\n' &&
			    !(in[j] == '=' && j + 1 < len && in[j + 1] == '?'))
				j++;
			if (j == i)
				j++;
			mime_to_utf8(NULL, in + i, j - i, out);
			i = j;
		}
		pending_ws = 0;
		last_was_word = false;
	}
}

/* The text of a quoted string whose first byte after the quote is q, written to d (room
 * for all of q), up to the closing quote or the end, backslash escapes undone.  Returns
 * its length; a NUL follows it. */
static size_t
unquote(const char *q, char *d)
{
	char *start = d;

	for (;;) {
		/* the runs between quotes and escapes copied whole */
		size_t run = strcspn(q, "\"\\");
		memcpy(d, q, run);
		d += run;
		q += run;
		if (*q != '\\')
			break;
		/* an escaped byte (a backslash at the very end is kept as it is) */
		*d++ = q[1] ? q[1] : '\\';
		q += q[1] ? 2 : 1;
	}
	*d = '\0';
	return (size_t)(d - start);
}

bool
mime_param(const char *value, const char *name, struct rb_buf *out)
{
	size_t nlen = strlen(name);
	const char *p = value;

	buf_reset(out);
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nlen) != 0)
			continue;
		const char *q = p + nlen;
		if (*q == '*') /* RFC 2231: name*=charset''value, good enough to take the value */
			q++;
		while (*q == ' ')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ')
			q++;
		if (*q == '"') {
			/* unquoted straight into the buffer: never longer than the rest */
			q++;
			rb_buf_reserve(out, strlen(q));
			out->len = unquote(q, out->data);
		} else {
			rb_buf_add(out, q, strcspn(q, "; \t"));
		}
		if (out->data == NULL)
			rb_buf_adds(out, "");
		return true;
	}
	return false;
}

void
mime_media_type(const char *value, struct rb_buf *out)
{
	size_t n;
	bool slash = false;

	rb_buf_clear(out);
	n = value ? strcspn(value, "; ") : 0;
	/* lower-cased straight into the buffer, made big enough once */
	rb_buf_reserve(out, n);
	for (size_t i = 0; i < n; i++) {
		out->data[i] = ascii_tolower(value[i]);
		slash = slash || value[i] == '/';
	}
	out->len = n;
	out->data[n] = '\0';
	if (!slash) {
		rb_buf_clear(out);
		rb_buf_adds(out, "text/plain");
	}
}

struct walk {
	mime_part_fn fn;
	void *arg;
	/* a leaf part's encoding, decoded body and text, used again by the next leaf:
	 * a leaf's buffers are done with once its part has been handed on */
	struct rb_buf cte, dec, text;
	/* an entity's Content-Type, media type and parameter, one set per depth (a
	 * multipart's boundary is in use while its parts are walked), kept for the next
	 * entity at that depth */
	struct rb_buf ct[MIME_MAX_DEPTH + 1], type[MIME_MAX_DEPTH + 1], param[MIME_MAX_DEPTH + 1];
};

static void walk_entity(struct walk *w, const char *msg, size_t len, int depth, bool attached);

/* Is the line at p (length n) a boundary line "--B" or "--B--"? */
static bool
is_boundary(const char *p, size_t n, const char *b, size_t blen, bool *final)
{
	if (n < blen + 2 || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, blen) != 0)
		return false;
	*final = n >= blen + 4 && p[blen + 2] == '-' && p[blen + 3] == '-';
	for (size_t k = blen + 2 + (*final ? 2 : 0); k < n; k++)
		if (p[k] != ' ' && p[k] != '\t' && p[k] != '\r')
			return false;
	return true;
}

static void
walk_multipart(struct walk *w, const char *body, size_t len, const char *boundary, int depth,
    bool attached)
{
	size_t blen = strlen(boundary), i = 0;
	const char *part = NULL;

	while (i < len) {
		const char *line = body + i;
		size_t next;

		if (line[0] == '-') {
			const char *nl = memchr(line, '\n', len - i);
			size_t llen = nl ? (size_t)(nl - line) : len - i;
			bool final;
			if (llen >= 2 && is_boundary(line, llen, boundary, blen, &final)) {
				if (part) {
					size_t plen = (size_t)(line - part);
					if (plen > 0 && part[plen - 1] == '\n')
						plen--; /* the line break before a boundary belongs to it */
					walk_entity(w, part, plen, depth, attached);
				}
				part = final ? NULL : (nl ? nl + 1 : body + len);
				if (final)
					return;
			}
		}
		/* only a line that starts with '-' can be a boundary: skip to the next one
		 * (the returned message's text goes by 16 bytes at a time) */
		next = scan_pair(line, len - i, '\n', '-');
		if (next == len - i)
			break;
		i += next + 1;
	}
	if (part && part < body + len)
		walk_entity(w, part, (size_t)(body + len - part), depth, attached);
}

/* A multipart without a boundary parameter (often a broken fold of the Content-Type):
 * take the first "--" line of the body as its boundary. */
static bool
guess_boundary(const char *body, size_t len, struct rb_buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *line = body + i, *nl = memchr(line, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - line) : len - i;
		if (llen > 2 && line[0] == '-' && line[1] == '-') {
			rb_buf_clear(out);
			rb_buf_add(out, line + 2, llen - 2);
			while (out->len && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\r'))
				out->data[--out->len] = '\0';
			return out->len > 0;
		}
		i += llen + 1;
	}
	return false;
}

static void
walk_entity(struct walk *w, const char *msg, size_t len, int depth, bool attached)
{
	size_t hlen = mime_header_len(msg, len);
	struct rb_buf *ct = &w->ct[depth], *type = &w->type[depth], *param = &w->param[depth];
	struct rb_buf *cte = &w->cte, *dec = &w->dec, *text = &w->text;
	const char *body = msg + hlen;
	size_t blen = len - hlen;
	struct mime_part p;

	/* a part that starts with a blank line has no headers at all */
	if (hlen == 1 && msg[0] == '\n') {
		body = msg + 1;
		blen = len - 1;
	} else if (hlen == len && memchr(msg, ':', len) == NULL) {
		body = msg;
		blen = len;
		hlen = 0;
	}
	mime_header(msg, hlen, "Content-Type", ct);
	mime_media_type(ct->data, type);
	if (strncmp(type->data, "multipart/", 10) == 0 &&
	    ((mime_param(ct->data, "boundary", param) && param->len > 0) ||
	    guess_boundary(body, blen, param))) {
		if (depth < MIME_MAX_DEPTH)
			walk_multipart(w, body, blen, param->data, depth + 1, attached);
		return;
	}
	mime_header(msg, hlen, "Content-Transfer-Encoding", cte);
	rb_buf_clear(dec);
	rb_buf_clear(text);
	if (cte->len && strncasecmp(cte->data, "base64", 6) == 0) {
		mime_b64_decode(body, blen > MIME_MAX_PART ? MIME_MAX_PART : blen, dec);
		body = dec->data ? dec->data : "";
		blen = dec->len;
	} else if (cte->len && strncasecmp(cte->data, "quoted-printable", 16) == 0) {
		mime_qp_decode(body, blen > MIME_MAX_PART ? MIME_MAX_PART : blen, dec);
		body = dec->data ? dec->data : "";
		blen = dec->len;
	}
	if (blen > MIME_MAX_PART)
		blen = MIME_MAX_PART;
	if (strncmp(type->data, "text/", 5) == 0 && strcmp(type->data, "text/rfc822-headers") != 0) {
		const char *cs = mime_param(ct->data, "charset", param) && param->len ? param->data : NULL;
		/* most text is UTF-8 or ASCII already: handed on where it is, not copied */
		if (!utf8_as_is(cs, body, blen)) {
			mime_to_utf8(cs, body, blen, text);
			body = text->data ? text->data : "";
			blen = text->len;
		}
	}
	p.type = type->data;
	p.hdr = msg;
	p.hdr_len = hlen;
	p.body = body;
	p.body_len = blen;
	p.depth = depth;
	p.attached = attached;
	w->fn(&p, w->arg);
}

/* Every buffer of a walk is emptied or written whole before it is read, so a walker's
 * buffers serve message after message. */
struct mime_walker {
	struct walk w;
};

struct mime_walker *
mime_walker_new(void)
{
	return rb_xcalloc(1, sizeof(struct mime_walker));
}

void
mime_walker_free(struct mime_walker *wk)
{
	if (wk == NULL)
		return;
	rb_buf_free(&wk->w.cte);
	rb_buf_free(&wk->w.dec);
	rb_buf_free(&wk->w.text);
	for (size_t d = 0; d <= MIME_MAX_DEPTH; d++) {
		rb_buf_free(&wk->w.ct[d]);
		rb_buf_free(&wk->w.type[d]);
		rb_buf_free(&wk->w.param[d]);
	}
	free(wk);
}

void
mime_walker_walk(struct mime_walker *wk, const char *msg, size_t len, mime_part_fn fn, void *arg)
{
	wk->w.fn = fn;
	wk->w.arg = arg;
	walk_entity(&wk->w, msg, len, 0, false);
}

void
mime_walk(const char *msg, size_t len, mime_part_fn fn, void *arg)
{
	struct mime_walker *wk = mime_walker_new();

	mime_walker_walk(wk, msg, len, fn, arg);
	mime_walker_free(wk);
}
