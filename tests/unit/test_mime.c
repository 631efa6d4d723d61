/* mime: transfer encodings, RFC 2047 words, header unfolding, parameters, the walker. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "unit.h"

static void
test_base64(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"", ""},
		{"TWFu", "Man"},
		{"TWE=", "Ma"},
		{"TQ==", "M"},
		{"TW\nFu\r\n", "Man"},
		{"T!W*F u", "Man"},       /* garbage is skipped */
		{"44Gr44KD44O844KT", "\xe3\x81\xab\xe3\x82\x83\xe3\x83\xbc\xe3\x82\x93"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rb_buf b = {0};
		mime_b64_decode(t[i].in, strlen(t[i].in), &b);
		rb_buf_addc(&b, '\0');
		CHECK_STR(b.data, t[i].want);
		rb_buf_free(&b);
	}
}

static void
test_qp(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"plain", "plain"},
		{"a=3Db", "a=b"},
		{"soft=\nbreak", "softbreak"},
		{"soft= \nbreak", "softbreak"},
		{"5.1.=\n1", "5.1.1"},
		{"bad=ZZ", "bad=ZZ"},
		{"end=", "end"},
		{"=E3=81=AB", "\xe3\x81\xab"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rb_buf b = {0};
		mime_qp_decode(t[i].in, strlen(t[i].in), &b);
		rb_buf_addc(&b, '\0');
		CHECK_STR(b.data, t[i].want);
		rb_buf_free(&b);
	}
}

static void
test_2047(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"plain text", "plain text"},
		{"=?UTF-8?B?44Gr44KD44KT44GT?=", "\xe3\x81\xab\xe3\x82\x83\xe3\x82\x93\xe3\x81\x93"},
		{"=?iso-8859-15?Q?Delivery_Status_Notification_=28Failure=29?=",
		    "Delivery Status Notification (Failure)"},
		{"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"},      /* space between words dropped */
		{"=?UTF-8?Q?a?= b", "a b"},
		{"=?ISO-2022-JP?B?GyRCRy0kQSRjJHMbKEI=?=", "\xe7\x8c\xab\xe3\x81\xa1\xe3\x82\x83\xe3\x82\x93"},
		{"=?bogus", "=?bogus"},
		{"=?x?Z?abc?=", "=?x?Z?abc?="},
		/* line breaks become spaces, a CR only where white space is expected: the
		 * same without an encoded word (copied in one pass) and with a broken one */
		{"a\r\nb\tc\r\r d", "a\r b\tc\r\r d"},
		{"a\r\nb\tc\r\r d =?bogus", "a\r b\tc\r\r d =?bogus"},
		{"\r\r x\n\r", "   x  "},
		{"\r\r x\n\r=?bogus", "   x  =?bogus"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rb_buf b = {0};
		mime_decode_2047(t[i].in, strlen(t[i].in), &b);
		rb_buf_addc(&b, '\0');
		CHECK_STR(b.data, t[i].want);
		rb_buf_free(&b);
	}
}

static void
test_headers(void)
{
	static const char hdr[] =
	    "From: a@b.example\n"
	    "Subject: one\n two\n\tthree\n"
	    "X-Empty:\n"
	    "Message-Id:\n <id@host>\n"
	    "subject: second\n"
	    "\n"
	    "To: not a header\n";
	static const struct {
		const char *name, *want;
	} t[] = {
		{"Subject", "one two three"},
		{"SUBJECT", "one two three"},
		{"Message-ID", "<id@host>"},
		{"X-Empty", ""},
		{"From", "a@b.example"},
	};
	struct rb_buf b = {0};
	size_t hl = mime_header_len(hdr, strlen(hdr));

	CHECK_INT(hl, strlen(hdr) - strlen("To: not a header\n"));
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		CHECK(mime_header(hdr, hl, t[i].name, &b));
		CHECK_STR(b.data, t[i].want);
	}
	CHECK(!mime_header(hdr, hl, "To", &b));
	CHECK_STR(b.data, "");
	CHECK(!mime_header(hdr, hl, "Sub", &b));
	rb_buf_free(&b);
}

/* Values with folds, tabs, CRs and white space at their ends, long enough for the
 * word-at-a-time copy, its last word and its byte-by-byte rest. */
static void
test_header_unfolding(void)
{
	static const struct {
		const char *hdr, *name, *want;
	} t[] = {
		{"A: 12345678\n", "A", "12345678"},
		{"A: 123456789\n", "A", "123456789"},
		{"A: 1234567\n", "A", "1234567"},
		{"A: one\ttwo three four five six\n", "A", "one two three four five six"},
		{"A: one two three four five six\tseven\n", "A", "one two three four five six seven"},
		{"A: one two three four\r\n five six seven\r\n", "A", "one two three four five six seven"},
		{"A:\r\n \t  leading after an empty first line\n", "A", "leading after an empty first line"},
		{"A: trailing white space \t\r\n \n", "A", "trailing white space"},
		{"A: \x0b vertical tab and form feed \x0c\n", "A", "vertical tab and form feed"},
		{"A:    \n  \n", "A", ""},
		{"A:", "A", ""},
		{"B: x\nA: last line without a line end", "A", "last line without a line end"},
		{"Ab: x\nA : y\nA: z\n", "A", "z"},
		{"AB\nC: x\nAB\nC: y\n", "AB\nC", NULL},
		{"A: x\n\nB: y\n", "B", NULL},
		{"X: 1\n: y\n", "", NULL},
	};
	struct rb_buf b = {0};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		bool found = mime_header(t[i].hdr, strlen(t[i].hdr), t[i].name, &b);
		CHECK_INT(found, t[i].want != NULL);
		CHECK_STR(b.data, t[i].want ? t[i].want : "");
		CHECK_INT(b.len, strlen(b.data));
	}
	rb_buf_free(&b);
}

/* mime_field_append reads a value from its line, after what the buffer holds. */
static void
test_field_append(void)
{
	static const char hdr[] =
	    "Final-Recipient: rfc822; a@b.example\n"
	    "Diagnostic-Code: smtp; 550 5.1.1\n"
	    "    no such user here\n"
	    "Status: 5.1.1\n";
	static const char *const names[] = {"Status", "Diagnostic-Code", "X-Absent", "final-recipient"};
	size_t at[4];
	struct rb_buf b = {0};

	mime_header_lines(hdr, strlen(hdr), names, 4, at);
	CHECK_INT(at[2], SIZE_MAX);
	CHECK_INT(at[3], 0);
	rb_buf_adds(&b, "before|");
	mime_field_append(hdr, strlen(hdr), at[1], strlen(names[1]), &b);
	CHECK_STR(b.data, "before|smtp; 550 5.1.1    no such user here");
	mime_field_append(hdr, strlen(hdr), at[0], strlen(names[0]), &b);
	CHECK_STR(b.data, "before|smtp; 550 5.1.1    no such user here5.1.1");
	rb_buf_free(&b);
	/* into an empty buffer, an empty value */
	mime_field_append("A:  \n", 5, 0, 1, &b);
	CHECK_STR(b.data, "");
	CHECK_INT(b.len, 0);
	rb_buf_free(&b);
}

/* The inline ASCII classes give <ctype.h>'s answers in the C locale, for every byte. */
static void
test_ascii_classes(void)
{
	int bad = 0;

	for (int c = 0; c < 256; c++) {
		char ch = (char)c;
		bad += ascii_isspace((unsigned char)c) != (isspace(c) != 0);
		bad += ascii_isalnum((unsigned char)c) != (isalnum(c) != 0);
		bad += ascii_isalpha((unsigned char)c) != (isalpha(c) != 0);
		bad += ascii_isdigit((unsigned char)c) != (isdigit(c) != 0);
		bad += ascii_tolower((unsigned char)c) != tolower(c);
		for (int d = 0; d < 256; d++) {
			char dh = (char)d;
			bad += mime_same_ci(&ch, &dh, 1) != (strncasecmp(&ch, &dh, 1) == 0 || (c == 0 && d == 0));
		}
	}
	CHECK_INT(bad, 0);
}

static void
test_params(void)
{
	static const struct {
		const char *value, *name, *want;
	} t[] = {
		{"multipart/report; report-type=delivery-status; boundary=\"a b\"", "boundary", "a b"},
		{"multipart/report; report-type=delivery-status; boundary=\"a b\"", "report-type", "delivery-status"},
		{"text/plain; charset=ISO-2022-JP", "charset", "ISO-2022-JP"},
		{"text/plain;charset=\"utf-8\";format=flowed", "format", "flowed"},
		{"text/plain", "charset", NULL},
	};
	struct rb_buf b = {0};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		bool found = mime_param(t[i].value, t[i].name, &b);
		CHECK(found == (t[i].want != NULL));
		if (t[i].want)
			CHECK_STR(b.data, t[i].want);
	}
	mime_media_type("Multipart/Mixed; boundary=x", &b);
	CHECK_STR(b.data, "multipart/mixed");
	mime_media_type(NULL, &b);
	CHECK_STR(b.data, "text/plain");
	rb_buf_free(&b);
}

static void
test_charsets(void)
{
	static const struct {
		const char *cs, *in, *want;
	} t[] = {
		{"iso-8859-1", "caf\xe9", "caf\xc3\xa9"},
		{"windows-1252", "it\x92s", "it\xe2\x80\x99s"},
		{"shift_jis", "\x94\x4c", "\xe7\x8c\xab"},
		{"euc-jp", "\xc7\xad", "\xe7\x8c\xab"},
		{"iso-2022-jp", "\x1b$BG-\x1b(B", "\xe7\x8c\xab"},
		{NULL, "\x1b$BG-\x1b(B", "\xe7\x8c\xab"},         /* unlabelled JIS */
		{"us-ascii", "caf\xc3\xa9", "caf\xc3\xa9"},        /* lying label, valid UTF-8 */
		{"x-unknown", "plain", "plain"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rb_buf b = {0};
		mime_to_utf8(t[i].cs, t[i].in, strlen(t[i].in), &b);
		rb_buf_addc(&b, '\0');
		CHECK_STR(b.data, t[i].want);
		rb_buf_free(&b);
	}
}

struct seen {
	char types[512];
	char bodies[512];
};

static void
collect(const struct mime_part *p, void *arg)
{
	struct seen *s = arg;
	size_t n = strlen(s->bodies);

	strncat(s->types, p->type, sizeof s->types - strlen(s->types) - 2);
	strcat(s->types, ",");
	if (strncmp(p->type, "text/", 5) == 0 && p->body_len < sizeof s->bodies - n - 2) {
		memcpy(s->bodies + n, p->body, p->body_len);
		s->bodies[n + p->body_len] = '|';
		s->bodies[n + p->body_len + 1] = '\0';
	}
}

static void
test_walk(void)
{
	static const struct {
		const char *msg, *types, *bodies;
	} t[] = {
		{"Subject: x\n\nbody\n", "text/plain,", "body\n|"},
		{"Content-Type: multipart/mixed; boundary=\"b\"\n\npre\n--b\nContent-Type: text/plain\n\none\n"
		 "--b\nContent-Type: message/rfc822\n\nSubject: orig\n\nx\n--b--\nepilogue\n",
		    "text/plain,message/rfc822,", "one|"},
		{"Content-Type: multipart/alternative;\nboundary=\"q\"\n\n--q\nContent-Transfer-Encoding: base64\n\n"
		 "aGk=\n--q--\n", "text/plain,", "hi|"},   /* boundary lost by a broken fold */
		{"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nno headers\n--b--\n", "text/plain,",
		    "no headers|"},
		{"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nunterminated\n",
		    "text/plain,", "unterminated\n|"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct seen s = {"", ""};
		mime_walk(t[i].msg, strlen(t[i].msg), collect, &s);
		CHECK_STR(s.types, t[i].types);
		CHECK_STR(s.bodies, t[i].bodies);
	}
	/* nesting deeper than the limit is not followed (and does not crash) */
	{
		struct rb_buf m = {0};
		struct seen s = {"", ""};
		for (int d = 0; d < 200; d++)
			rb_buf_printf(&m, "Content-Type: multipart/mixed; boundary=z%d\n\n--z%d\n", d, d);
		rb_buf_adds(&m, "\ndeep\n");
		mime_walk(m.data, m.len, collect, &s);
		CHECK_STR(s.types, "");
		rb_buf_free(&m);
	}
}

/* The index of a header block answers as the walk of the block does, for every name, on
 * random blocks: short and long (past the index's lines), folded, with NUL, CR and
 * encoded words, with and without a last LF or an empty line. */
static void
test_fields_index(void)
{
#define P(s) { s, sizeof s - 1 }
	static const struct {
		const char *s;
		size_t n;
	} pieces[] = {P("From: a@b.example\n"), P("from:x\n"), P("To: <c@d>\n"),
		P("Subject: =?utf-8?q?caf=C3=A9?=\n"), P("Subject:  two  spaces \n"), P(" folded on\n"),
		P("\tand on\n"), P("X-A: 1\n"), P("X-A:\n"), P("Date: Mon, 1 Jan 2024\n"), P("Fro"),
		P("From"), P("From :x\n"), P("x\n"), P("\n"), P("\r\n"), P("Received: from x\0y\n"),
		P("To:\0\n"), P(":\n")};
#undef P
	static const char *const names[] = {"From", "To", "Subject", "X-A", "Date", "Received",
		"X", "Fro", "", "From ", "Missing"};
	struct rb_buf block = {0}, a = {0}, b = {0};
	struct mime_fields *f = malloc(sizeof *f);
	unsigned seed = 7;
	int bad = 0;

	CHECK(f != NULL);
	for (int round = 0; round < 3000 && f != NULL; round++) {
		size_t npieces = round % 10 == 0 ? 300 : (size_t)(rand_r(&seed) % 12);
		rb_buf_clear(&block);
		rb_buf_add(&block, "", 0);
		for (size_t i = 0; i < npieces; i++) {
			size_t k = (size_t)rand_r(&seed) % (sizeof pieces / sizeof pieces[0]);
			rb_buf_add(&block, pieces[k].s, pieces[k].n);
		}
		mime_fields_index(f, block.data, block.len);
		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
			for (int text = 0; text < 2; text++) {
				bool x = text ? mime_header_text(block.data, block.len, names[k], &a) :
				    mime_header(block.data, block.len, names[k], &a);
				bool y = mime_fields_get_n(f, names[k], strlen(names[k]), text != 0, &b);
				bad += x != y || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0);
			}
	}
	CHECK_INT(bad, 0);
	free(f);
	rb_buf_free(&block);
	rb_buf_free(&a);
	rb_buf_free(&b);
}

int
main(void)
{
	test_base64();
	test_qp();
	test_2047();
	test_headers();
	test_header_unfolding();
	test_field_append();
	test_fields_index();
	test_ascii_classes();
	test_params();
	test_charsets();
	test_walk();
	return unit_done("test_mime");
}
