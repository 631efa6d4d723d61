/* Unit tests for message writing: quoted-printable, encoded words, folding, addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailfmt.h"
#include "unit.h"
#include "util.h"

static char *
qp(const char *s)
{
	struct rb_buf b = { 0 };

	mf_qp_encode(&b, s, strlen(s));
	return b.data;
}

static void
test_qp_table(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "\n" },
		{ "plain text", "plain text\n" },
		{ "a=b", "a=3Db\n" },
		{ "two\nlines\n", "two\nlines\n" },
		{ "trailing space \nx", "trailing space=20\nx\n" },
		{ "trailing tab\t", "trailing tab=09\n" },
		{ "Gr\xC3\xBC\xC3\x9F" "e", "Gr=C3=BC=C3=9Fe\n" },
		{ "From here", "=46rom here\n" },
		{ ".\nend", "=2E\nend\n" },
		{ "ctl\x01\x7F", "ctl=01=7F\n" },
		{ "cr\rin line", "cr=0Din line\n" },
		/* 76 characters fit; 77 get a soft break before the last one. */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\nab\n" },
		/* An escape is never split by a soft break. */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\n=3Db\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = qp(cases[i].in);
		CHECK_STR(got, cases[i].out);
		free(got);
	}
}

static size_t
longest_line(const char *s)
{
	size_t max = 0;

	while (*s) {
		size_t n = strcspn(s, "\n");
		if (n > max)
			max = n;
		s += n;
		if (*s)
			s++;
	}
	return max;
}

static void
test_qp_long_lines(void)
{
	struct rb_buf in = { 0 };

	for (int i = 0; i < 300; i++)
		rb_buf_adds(&in, i % 3 ? "\xC3\xA9" : "x ");
	char *got = qp(in.data);
	CHECK(longest_line(got) <= MF_QP_LINE);
	free(got);
	rb_buf_free(&in);
}

static char *
unstructured(const char *name, const char *value)
{
	struct rb_buf b = { 0 };

	mf_write_unstructured(&b, name, value);
	return b.data;
}

static void
test_unstructured_table(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "Hello world", "Subject: Hello world\n" },
		/* B when it is shorter than Q. */
		{ "Gr\xC3\xBC\xC3\x9F" "e", "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\n" },
		{ "caf\xC3\xA9 au lait", "Subject: =?UTF-8?Q?caf=C3=A9_au_lait?=\n" },
		/* Text that a decoder would take for an encoded word is encoded itself. */
		{ "=?utf-8?q?x?=", "Subject: =?UTF-8?B?PT91dGYtOD9xP3g/PQ==?=\n" },
		{ "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "Subject: =?UTF-8?B?5pel5pys6Kqe?=\n" },
		/* Plain words fold at white space before column 78. */
		{ "one two three four five six seven eight nine ten eleven twelve thirteen fourteen",
		  "Subject: one two three four five six seven eight nine ten eleven twelve\n thirteen fourteen\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = unstructured("Subject", cases[i].in);
		CHECK_STR(got, cases[i].out);
		free(got);
	}
}

/* Every line at most 78 characters, every encoded word at most 75, whole characters. */
static void
test_encoded_word_limits(void)
{
	struct rb_buf in = { 0 };

	for (int i = 0; i < 60; i++)
		rb_buf_adds(&in, "\xE2\x82\xAC \xC3\xA4"); /* euro sign, space, a-umlaut */
	char *got = unstructured("Subject", in.data);
	CHECK(longest_line(got) <= MF_FOLD_AT);
	for (char *w = strstr(got, "=?"); w; w = strstr(w + 2, "=?")) {
		char *end = strstr(w + 10, "?=");
		CHECK(end != NULL);
		if (end == NULL)
			break;
		CHECK(end + 2 - w <= MF_WORD_MAX);
		/* The first byte after the charset and encoding never continues a character. */
		CHECK(!(w[10] == '=' && (w[11] == '8' || w[11] == '9' || w[11] == 'A' || w[11] == 'B')));
		w = end;
	}
	free(got);
	rb_buf_free(&in);
}

static void
test_addr_plausible(void)
{
	static const struct { const char *addr; bool ok; } cases[] = {
		{ "jane@example.org", true },
		{ "jane.doe+cert@mail.example.org", true },
		{ "o'brien@example.ie", true },
		{ "user@localhost", true },
		{ "", false },
		{ "no-at-sign", false },
		{ "two@@example.org", false },
		{ "a@b@example.org", false },
		{ "with space@example.org", false },
		{ "<jane@example.org>", false },
		{ "jane@example.org, evil@x", false },
		{ "jane@example.org\r\nBcc: evil@x", false },
		{ "\"quoted\"@example.org", false },
		{ ".lead@example.org", false },
		{ "double..dot@example.org", false },
		{ "jane@", false },
		{ "@example.org", false },
		{ "jane@exa_mple.org", false },
		{ "jane@.example.org", false },
		{ "jane@example..org", false },
		{ "j\xC3\xA4ne@example.org", false },
		{ "../../etc/passwd@x", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool got = mf_addr_plausible(cases[i].addr);
		if (got != cases[i].ok)
			fprintf(stderr, "case %zu: %s\n", i, cases[i].addr);
		CHECK(got == cases[i].ok);
	}
}

static void
test_parse_mailbox(void)
{
	static const struct { const char *in, *phrase, *addr; } cases[] = {
		{ "jane@example.org", "", "jane@example.org" },
		{ "Jane Doe <jane@example.org>", "Jane Doe", "jane@example.org" },
		{ "<jane@example.org>", "", "jane@example.org" },
		{ "\"Doe, Jane\" <jane@example.org>", "Doe, Jane", "jane@example.org" },
		{ "\"Say \\\"hi\\\"\" <jane@example.org>", "Say \"hi\"", "jane@example.org" },
		/* The address is the last <...>: a name cannot supply it. */
		{ "Evil <evil@x.example> <jane@example.org>", "Evil <evil@x.example>", "jane@example.org" },
		{ "Jane <bad address>", NULL, NULL },
		{ "Jane", NULL, NULL },
		{ "a@b.example, c@d.example", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mf_mailbox mb;
		int rc = mf_parse_mailbox(cases[i].in, &mb);

		CHECK_INT(rc, cases[i].addr ? 0 : -1);
		if (rc == 0 && cases[i].addr) {
			CHECK_STR(mb.phrase, cases[i].phrase);
			CHECK_STR(mb.addr, cases[i].addr);
			mf_mailbox_free(&mb);
		}
	}
}

static void
test_mailboxes_table(void)
{
	static const struct { const char *phrase, *addr, *out; } cases[] = {
		{ "", "jane@example.org", "To: jane@example.org\n" },
		{ "Jane Doe", "jane@example.org", "To: Jane Doe <jane@example.org>\n" },
		{ "Doe, Jane", "jane@example.org", "To: \"Doe, Jane\" <jane@example.org>\n" },
		{ "J. \"Jay\" Doe", "j@example.org", "To: \"J. \\\"Jay\\\" Doe\" <j@example.org>\n" },
		{ "J\xC3\xBCrgen M\xC3\xBCller", "j@example.org", "To: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.org>\n" },
		{ "Ren\xC3\xA9 Dupont-Leclerc", "r@example.org",
		  "To: =?UTF-8?Q?Ren=C3=A9_Dupont-Leclerc?= <r@example.org>\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rb_buf b = { 0 };
		struct mf_mailbox mb = { (char *)cases[i].phrase, (char *)cases[i].addr };

		mf_write_mailboxes(&b, "To", &mb, 1);
		CHECK_STR(b.data, cases[i].out);
		rb_buf_free(&b);
	}
}

static void
test_clean_and_sanitize(void)
{
	static const struct { const char *in, *out; } clean[] = {
		{ "  Jane \r\nBcc: evil@x ", "Jane Bcc: evil@x" },
		{ "tab\there", "tab here" },
		{ "\x01\x02", "" },
		{ "a\x7F" "b", "a b" },
	};
	for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
		struct rb_buf b = { 0 };

		rb_buf_adds(&b, clean[i].in);
		mf_header_clean(&b);
		CHECK_STR(b.data, clean[i].out);
		rb_buf_free(&b);
	}
	static const struct { const char *in, *out; } utf8[] = {
		{ "ok \xC3\xA9", "ok \xC3\xA9" },
		{ "bad \xC3", "bad \xEF\xBF\xBD" },
		{ "latin1 \xE9t\xE9", "latin1 \xEF\xBF\xBDt\xEF\xBF\xBD" },
		{ "overlong \xC0\xAF", "overlong \xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "surrogate \xED\xA0\x80", "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
	};
	for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
		struct rb_buf b = { 0 };

		rb_buf_adds(&b, utf8[i].in);
		mf_utf8_sanitize(&b);
		CHECK_STR(b.data, utf8[i].out);
		rb_buf_free(&b);
	}
}

static void
test_base64(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" },
		{ "f", "Zg==\n" },
		{ "fo", "Zm8=\n" },
		{ "foo", "Zm9v\n" },
		{ "foobar", "Zm9vYmFy\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rb_buf b = { 0 };

		mf_base64(&b, cases[i].in, strlen(cases[i].in));
		CHECK_STR(b.data ? b.data : "", cases[i].out);
		rb_buf_free(&b);
	}
	struct rb_buf b = { 0 };
	char zeros[100] = { 0 };
	mf_base64(&b, zeros, sizeof zeros);
	CHECK_INT(strcspn(b.data, "\n"), 76);
	rb_buf_free(&b);
}

static void
test_params(void)
{
	static const struct { const char *value, *out; } cases[] = {
		{ "cert.pdf", "Content-Disposition: attachment; filename=\"cert.pdf\"\n" },
		{ "Zertifikat M\xC3\xBCller.pdf",
		  "Content-Disposition: attachment; filename*=utf-8''Zertifikat%20M%C3%BCller.pdf\n" },
		{ "Zertifikat Frau M\xC3\xBCller.pdf",
		  "Content-Disposition: attachment;\n filename*=utf-8''Zertifikat%20Frau%20M%C3%BCller.pdf\n" },
		{ "a\"b.pdf", "Content-Disposition: attachment; filename*=utf-8''a%22b.pdf\n" },
		{ "\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4.pdf",
		  "Content-Disposition: attachment;\n"
		  " filename*0*=utf-8''%C3%A4%C3%A4%C3%A4%C3%A4%C3%A4%C3%A4%C3%A4%C3%A4;\n"
		  " filename*1*=%C3%A4.pdf\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rb_buf b = { 0 };
		struct mf_header h;

		mf_header_begin(&h, &b, "Content-Disposition");
		mf_header_token(&h, "attachment", 10, false);
		mf_header_param(&h, "filename", cases[i].value);
		mf_header_end(&h);
		CHECK_STR(b.data, cases[i].out);
		rb_buf_free(&b);
	}
}

static void
test_mbox_quoting(void)
{
	static const char msg[] = "Subject: x\n\nFrom here\n>From there\nnot From\n>>From x\n";
	struct rb_buf b = { 0 };

	mf_mbox_append(&b, "a@example.org", 0, msg, sizeof msg - 1);
	CHECK_STR(b.data, "From a@example.org Thu Jan  1 00:00:00 1970\n"
			  "Subject: x\n\n>From here\n>>From there\nnot From\n>>>From x\n\n");
	rb_buf_free(&b);
}

static void
test_date_and_id(void)
{
	struct rb_buf b = { 0 };

	mf_message_id(&b, "mail.example.org", 0, 7);
	CHECK(strncmp(b.data, "<19700101000000.", 16) == 0);
	CHECK(strstr(b.data, ".7.") != NULL);
	CHECK(strcmp(b.data + b.len - 18, "@mail.example.org>") == 0);
	rb_buf_clear(&b);
	mf_date(&b, 86400 * 365);
	CHECK(strlen(b.data) >= 30);
	CHECK(strstr(b.data, " 1971 ") != NULL || strstr(b.data, " 1970 ") != NULL);
	rb_buf_free(&b);
}

/* The encoders take shortcuts (whole plain lines, eight bytes at a time, runs without
 * "From "); these are the plain byte-by-byte definitions they must agree with. */
static void
ref_qp(struct rb_buf *out, const unsigned char *s, size_t len)
{
	size_t start = 0;

	if (len == 0)
		rb_buf_addc(out, '\n');
	while (start < len) {
		size_t end = start, col = 0;

		while (end < len && s[end] != '\n')
			end++;
		for (size_t i = start; i < end; i++) {
			unsigned char c = s[i];
			bool last = i + 1 == end;

			for (;;) {
				bool enc = c < 33 || c > 126 || c == '=';

				if ((c == ' ' || c == '\t') && !last)
					enc = false;
				if (col == 0 && (c == 'F' || c == '.'))
					enc = true;
				size_t w = enc ? 3 : 1;
				if (col + w > (last ? 76u : 75u)) {
					rb_buf_adds(out, "=\n");
					col = 0;
					continue;
				}
				if (enc)
					rb_buf_printf(out, "=%02X", c);
				else
					rb_buf_addc(out, (char)c);
				col += w;
				break;
			}
		}
		rb_buf_addc(out, '\n');
		start = end + 1;
	}
}

static void
ref_mbox_body(struct rb_buf *out, const char *msg, size_t len)
{
	size_t start = 0;

	while (start < len) {
		size_t end = start, k = start;

		while (end < len && msg[end] != '\n')
			end++;
		while (k < end && msg[k] == '>')
			k++;
		if (end - k >= 5 && memcmp(msg + k, "From ", 5) == 0)
			rb_buf_addc(out, '>');
		rb_buf_add(out, msg + start, end - start);
		rb_buf_addc(out, '\n');
		start = end + 1;
	}
	rb_buf_addc(out, '\n');
}

/* Is s valid UTF-8 by the byte-by-byte definition (no overlongs, surrogates, > U+10FFFF)? */
static bool
ref_utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 4, cp = c & 0x07;
		else
			return false;
		if (len - i < need)
			return false;
		for (size_t k = 1; k < need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need;
	}
	return true;
}

/* Lines built from a small alphabet that hits every case: plain, '=', controls, tab and
 * space (inside and at the end), 0x7F, UTF-8, 'F'/'.'/'>' at line starts, "From ". */
static size_t
random_text(unsigned char *buf, size_t cap, uint32_t *seed)
{
	static const char *const pieces[] = { "a", "word ", "=", "\t", " ", "\x7F", "\x01", "\r", "\xC3\xA9",
		"\xC3", "\xED\xA0\x80", "\xF0\x9F\x98\x80", "F", ".", ">", "From ", "\n", "\n", "~", "!",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	size_t n = 0;

	*seed = *seed * 1103515245u + 12345u;
	size_t want = (*seed >> 8) % cap;
	while (n < want) {
		*seed = *seed * 1103515245u + 12345u;
		const char *p = pieces[(*seed >> 8) % (sizeof pieces / sizeof pieces[0])];
		size_t pl = strlen(p);

		if (n + pl > cap)
			break;
		memcpy(buf + n, p, pl);
		n += pl;
	}
	return n;
}

static void
test_fast_paths_agree(void)
{
	uint32_t seed = 1;
	unsigned char text[400];
	int qp_bad = 0, mbox_bad = 0, utf8_bad = 0;

	for (int round = 0; round < 3000; round++) {
		size_t n = random_text(text, sizeof text, &seed);
		struct rb_buf got = { 0 }, want = { 0 };

		mf_qp_encode(&got, (const char *)text, n);
		ref_qp(&want, text, n);
		qp_bad += got.len != want.len || memcmp(got.data, want.data, got.len) != 0;

		rb_buf_clear(&got);
		rb_buf_clear(&want);
		mf_mbox_append(&got, "a@example.org", 0, (const char *)text, n);
		rb_buf_adds(&want, "From a@example.org Thu Jan  1 00:00:00 1970\n");
		ref_mbox_body(&want, (const char *)text, n);
		mbox_bad += got.len != want.len || memcmp(got.data, want.data, got.len) != 0;

		rb_buf_clear(&got);
		rb_buf_add(&got, text, n);
		mf_utf8_sanitize(&got);
		utf8_bad += !ref_utf8_valid((const unsigned char *)got.data, got.len) ||
			    (ref_utf8_valid(text, n) && (got.len != n || memcmp(got.data, text, n) != 0));
		rb_buf_free(&got);
		rb_buf_free(&want);
	}
	CHECK_INT(qp_bad, 0);
	CHECK_INT(mbox_bad, 0);
	CHECK_INT(utf8_bad, 0);
}

static void
test_mbox_edges(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "\n" },
		{ "no newline", "no newline\n\n" },
		{ "From x", ">From x\n\n" },
		{ "a From b\nFrom\nFrom:\n", "a From b\nFrom\nFrom:\n\n" },
		{ "x\n>>From y\nF", "x\n>>>From y\nF\n\n" },
		{ "\nFrom \n", "\n>From \n\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rb_buf b = { 0 };

		mf_mbox_append(&b, "", 0, cases[i].in, strlen(cases[i].in));
		CHECK(strncmp(b.data, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n", 44) == 0);
		CHECK_STR(b.data + 44, cases[i].out);
		rb_buf_free(&b);
	}
}

/* One stamp gives what the one-shot functions give, second after second. */
static void
test_stamp(void)
{
	struct mf_stamp st;
	char want_pid[32];

	mf_stamp_init(&st);
	snprintf(want_pid, sizeof want_pid, ".%ld.", (long)getpid());
	for (time_t t = 86400 * 365; t < 86400 * 365 + 3; t++) {
		for (int twice = 0; twice < 2; twice++) {
			struct rb_buf a = { 0 }, b = { 0 };

			mf_stamp_date(&st, &a, t);
			mf_date(&b, t);
			CHECK_STR(a.data, b.data);
			rb_buf_clear(&a);
			rb_buf_clear(&b);
			mf_stamp_message_id(&st, &a, "example.org", t, 42);
			mf_message_id(&b, "example.org", t, 42);
			CHECK_INT(a.len, b.len);
			CHECK(strncmp(a.data, b.data, 16) == 0);
			CHECK(strstr(a.data, want_pid) != NULL);
			CHECK(strstr(a.data, ".42.") != NULL);
			CHECK(strspn(a.data + a.len - 21, "0123456789abcdef") == 8);
			rb_buf_clear(&a);
			rb_buf_clear(&b);
			mf_stamp_mbox_append(&st, &a, "s@example.org", t, "x\n", 2);
			mf_mbox_append(&b, "s@example.org", t, "x\n", 2);
			CHECK_STR(a.data, b.data);
			rb_buf_free(&a);
			rb_buf_free(&b);
		}
	}
	/* Many ids from one stamp: the random part is refilled as it runs out. */
	struct rb_buf ids = { 0 };
	for (unsigned long i = 0; i < 100; i++)
		mf_stamp_message_id(&st, &ids, "example.org", 0, i);
	CHECK(strstr(ids.data, ".99.") != NULL);
	rb_buf_free(&ids);
}

int
main(void)
{
	test_qp_table();
	test_qp_long_lines();
	test_unstructured_table();
	test_encoded_word_limits();
	test_addr_plausible();
	test_parse_mailbox();
	test_mailboxes_table();
	test_clean_and_sanitize();
	test_base64();
	test_params();
	test_mbox_quoting();
	test_date_and_id();
	test_fast_paths_agree();
	test_mbox_edges();
	test_stamp();
	return unit_done("test_mailfmt");
}
