/* bounce: the searches of bounce.c that pass over eight bytes at a time give the same
 * answers as the byte-by-byte versions they replaced, kept here as the reference, on
 * random texts made of the bytes those searches look for. */
#include "bounce.c"

#include <ctype.h>

#include "unit.h"

/* ---- the reference versions, one byte at a time ---- */

static bool
ref_find_smtp_code(const char *s, char *out)
{
	for (const char *p = s; *p; p++) {
		if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || !ascii_isdigit((unsigned char)p[1]) ||
		    !ascii_isdigit((unsigned char)p[2]))
			continue;
		if (p > s && (ascii_isalnum((unsigned char)p[-1]) || strchr(".:/-=#+_", p[-1])))
			continue;
		if (p[3] != ' ' && p[3] != '-' && p[3] != '\0' && p[3] != ']' && p[3] != ',' &&
		    p[3] != ')')
			continue;
		if (p[1] > '5')
			continue;
		memcpy(out, p, 3);
		out[3] = '\0';
		return true;
	}
	return false;
}

static bool
ref_find_status_from(const char *s, char *out, size_t outlen)
{
	const char *first = NULL;
	size_t first_len = 0;

	for (const char *p = s; *p; p++) {
		if (*p < '2' || *p > '5' || p[1] != '.' || !(p[0] == '2' || p[0] == '4' || p[0] == '5'))
			continue;
		if (p > s && (ascii_isalnum((unsigned char)p[-1]) || p[-1] == '.'))
			continue;
		const char *q = p + 2;
		size_t d1 = 0, d2 = 0;
		while (ascii_isdigit((unsigned char)q[d1]))
			d1++;
		if (d1 == 0 || d1 > 3 || q[d1] != '.')
			continue;
		q += d1 + 1;
		while (ascii_isdigit((unsigned char)q[d2]))
			d2++;
		if (d2 == 0 || d2 > 3)
			continue;
		if (q[d2] == '.' && ascii_isdigit((unsigned char)q[d2 + 1]))
			continue;
		if (ascii_isalnum((unsigned char)q[d2]))
			continue;
		size_t len = (size_t)(q + d2 - p);
		if (first == NULL) {
			first = p;
			first_len = len;
		}
		if (after_reply_code(s, p)) {
			if (len < outlen) {
				first = p;
				first_len = len;
			}
			break;
		}
	}
	if (first == NULL || first_len >= outlen)
		return false;
	memcpy(out, first, first_len);
	out[first_len] = '\0';
	return true;
}

static void
ref_collapse_space(const char *diag, struct rb_buf *d)
{
	bool sp = true;

	for (const unsigned char *p = (const unsigned char *)diag; *p && d->len < MAX_DIAG; p++) {
		bool ws = *p <= ' ';
		if (!(ws && sp))
			rb_buf_addc(d, ws ? ' ' : (char)*p);
		sp = ws;
	}
	while (d->len > 0 && d->data[d->len - 1] == ' ')
		d->len--;
	rb_buf_add(d, "", 0);
	d->data[d->len] = '\0';
}

static bool
ref_code_line(const struct line *l)
{
	char code[8], st[16], *s;
	bool maybe = false, hit;

	for (size_t i = 0; i + 1 < l->n && !maybe; i++)
		maybe = (l->s[i] == '2' || l->s[i] == '4' || l->s[i] == '5') &&
		    ((l->s[i + 1] >= '0' && l->s[i + 1] <= '9') || l->s[i + 1] == '.');
	if (!maybe)
		return false;
	s = rb_xstrndup(l->s, l->n);
	hit = (ref_find_smtp_code(s, code) && l->n > 8) || ref_find_status_from(s, st, sizeof st);
	free(s);
	return hit;
}

static bool
ref_local_char(unsigned char c)
{
	return ascii_isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c)) || c >= 0x80;
}

static bool
ref_domain_char(unsigned char c)
{
	return ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
}

static int
ref_month_of(const char *m)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
		"aug", "sep", "oct", "nov", "dec"};
	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, months[i], 3) == 0)
			return i;
	return -1;
}

static char *
ref_addr_norm(const char *s, size_t n)
{
	char *d = rb_xstrndup(s, n), *at = strrchr(d, '@');
	for (char *p = at; p && *p; p++)
		*p = (char)ascii_tolower((unsigned char)*p);
	return d;
}

/* ---- random texts ---- */

static uint64_t
next_random(uint64_t *state)
{
	/* xorshift64*: the same texts on every run */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/* A text of n bytes (and a NUL) mostly of the bytes the searches care about. */
static void
random_text(uint64_t *state, char *s, size_t n)
{
	static const char alphabet[] = "2455.. .--#'\"\t\n\r\x01\x1f\x7f\xc3\xa9" "a1Z9_:/=+],)0";
	uint64_t r = next_random(state);
	/* some texts are mostly letters and spaces, as diagnostics are */
	bool wordy = r & 1;

	for (size_t i = 0; i < n; i++) {
		r = next_random(state);
		if (wordy && r % 4 != 0)
			s[i] = (r >> 8) % 6 == 0 ? ' ' : (char)('a' + (r >> 16) % 26);
		else
			s[i] = alphabet[(r >> 8) % (sizeof alphabet - 1)];
	}
	s[n] = '\0';
}

static void
test_codes_match_reference(void)
{
	uint64_t state = 0x9e3779b97f4a7c15u;
	char s[1300], got[16], want[16];
	int mismatches = 0;

	for (int round = 0; round < 200000; round++) {
		size_t n = round < 100000 ? (size_t)(round % 40) : (size_t)(next_random(&state) % (sizeof s - 1));
		random_text(&state, s, n);
		bool g = find_smtp_code(s, got), w = ref_find_smtp_code(s, want);
		if (g != w || (g && strcmp(got, want) != 0))
			mismatches++;
		for (size_t outlen = 6; outlen <= 16; outlen += 10) {
			g = find_status_from(s, got, outlen);
			w = ref_find_status_from(s, want, outlen);
			if (g != w || (g && strcmp(got, want) != 0))
				mismatches++;
		}
	}
	CHECK_INT(mismatches, 0);
}

static void
test_code_lines_match_reference(void)
{
	uint64_t state = 0x6a09e667f3bcc908u;
	char s[400];
	int mismatches = 0;

	for (int round = 0; round < 100000; round++) {
		size_t n = (size_t)(next_random(&state) % (round < 50000 ? 40 : sizeof s));
		random_text(&state, s, n);
		/* a line is not a string: its bytes after n are the next line's */
		struct line l = {s, n > 0 ? n - next_random(&state) % 3 % n : 0};
		if (code_line(&l) != ref_code_line(&l))
			mismatches++;
	}
	CHECK_INT(mismatches, 0);
}

/* Every name of a header line passes message_header_line's test of the first letter. */
static void
test_message_header_initials(void)
{
	for (size_t i = 0; i < NELEM(message_header_names); i++) {
		char upper[64], lower[64];
		size_t k = strlen(message_header_names[i]);
		for (size_t j = 0; j <= k; j++) {
			upper[j] = (char)toupper((unsigned char)message_header_names[i][j]);
			lower[j] = (char)ascii_tolower((unsigned char)message_header_names[i][j]);
		}
		struct line u = {upper, k}, w = {lower, k};
		CHECK(message_header_line(&u));
		CHECK(message_header_line(&w));
	}
	struct line none = {"Bounce: x", 9};
	CHECK(!message_header_line(&none));
}

static void
test_collapse_matches_reference(void)
{
	uint64_t state = 0x2545f4914f6cdd1du;
	char s[2600];
	int mismatches = 0;

	for (int round = 0; round < 50000; round++) {
		size_t n = round < 20000 ? (size_t)(round % 48) : (size_t)(next_random(&state) % (sizeof s - 1));
		random_text(&state, s, n);
		struct rb_buf got = {0}, want = {0};
		collapse_space(s, &got);
		ref_collapse_space(s, &want);
		if (got.len != want.len || strcmp(got.data, want.data) != 0)
			mismatches++;
		rb_buf_free(&got);
		rb_buf_free(&want);
	}
	CHECK_INT(mismatches, 0);
	/* words one space apart, and runs of white space of every kind */
	struct rb_buf d = {0};
	collapse_space("  550  5.1.1\t\r\n<a@b.example>:\x01User   unknown in table  ", &d);
	CHECK_STR(d.data, "550 5.1.1 <a@b.example>: User unknown in table");
	rb_buf_free(&d);
	collapse_space(NULL, &d);
	CHECK_STR(d.data, "");
	rb_buf_free(&d);
}

static void
test_months_and_addresses(void)
{
	static const char bytes[] = "aAjJnNuUyYoOcCtTfFeEbBmMrRpPlLgGsSvVdDzZ@.\0";
	uint64_t state = 0xbb67ae8584caa73bu;
	int mismatches = 0;

	for (int round = 0; round < 200000; round++) {
		char m[8] = {0};
		size_t n = (size_t)(next_random(&state) % 8);
		for (size_t i = 0; i < n; i++)
			m[i] = bytes[next_random(&state) % (sizeof bytes - 1)];
		if (month_of(m) != ref_month_of(m))
			mismatches++;
		char *got = addr_norm(m, n), *want = ref_addr_norm(m, n);
		if (memcmp(got, want, n + 1) != 0)
			mismatches++;
		free(got);
		free(want);
	}
	CHECK_INT(mismatches, 0);
	static const char *const numbers[] = {"0", "0130", "1200xyz", "99999999999999", "7", "00000000000000012"};
	for (size_t i = 0; i < NELEM(numbers); i++)
		CHECK_INT(leading_number(numbers[i]), atoi(numbers[i]));
	char out[32];
	CHECK(bounce_iso_date("Mon, 2 Mar 2026 23:04:11 -0130", out, sizeof out));
	CHECK_STR(out, "2026-03-03T00:34:11Z");
	CHECK(bounce_iso_date("1 JAN 1999 00:00 GMT", out, sizeof out));
	CHECK_STR(out, "1999-01-01T00:00:00Z");
}

static void
test_address_classes(void)
{
	for (int c = 0; c < 256; c++) {
		CHECK_INT(local_char((unsigned char)c), ref_local_char((unsigned char)c));
		CHECK_INT(domain_char((unsigned char)c), ref_domain_char((unsigned char)c));
	}
}

int
main(void)
{
	test_codes_match_reference();
	test_code_lines_match_reference();
	test_message_header_initials();
	test_collapse_matches_reference();
	test_address_classes();
	test_months_and_addresses();
	return unit_done("test_bounce_scan");
}
