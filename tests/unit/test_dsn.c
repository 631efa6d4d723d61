/* dsn: RFC 3464 field parsing. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "unit.h"

static void
test_report(void)
{
	static const char part[] =
	    "Reporting-MTA: dns; mx.example.org\n"
	    "Arrival-Date: Sat, 28 Nov 2026 23:04:11 +0000\n"
	    "\n"
	    "Final-Recipient: rfc822; one@example.com\n"
	    "Original-Recipient: rfc822;One@Example.com\n"
	    "Action: Failed\n"
	    "Status: 5.1.1 (user unknown)\n"
	    "Remote-MTA: dns; mx.example.com\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <one@example.com>:\n"
	    "    Recipient address rejected\n"
	    "\n"
	    "Final-Recipient: RFC822; two@example.com\n"
	    "Action: delayed\n"
	    "Status: 4.4.7\n";
	struct dsn_report r = {0};

	CHECK_INT(dsn_parse(part, strlen(part), &r), 2);
	CHECK_STR(r.reporting_mta, "mx.example.org");
	CHECK_STR(r.rcpt[0].final_rcpt, "one@example.com");
	CHECK_STR(r.rcpt[0].orig_rcpt, "One@Example.com");
	CHECK_STR(r.rcpt[0].action, "failed");
	CHECK_STR(r.rcpt[0].status, "5.1.1");
	CHECK_STR(r.rcpt[0].remote_mta, "mx.example.com");
	CHECK_STR(r.rcpt[0].diagnostic, "550 5.1.1 <one@example.com>: Recipient address rejected");
	CHECK_STR(r.rcpt[1].final_rcpt, "two@example.com");
	CHECK_STR(r.rcpt[1].status, "4.4.7");
	CHECK_STR(r.rcpt[1].diagnostic, "");
	dsn_free(&r);
	CHECK_INT(r.n, 0);
}

static void
test_fields_in_text(void)
{
	/* fields inside a text part, between prose lines */
	static const char text[] =
	    "An error occurred while trying to deliver the mail:\n"
	    "Reporting-MTA: dsn; a.example\n"
	    "\n"
	    "Action: failed\n"
	    "Final-Recipient: rfc822; x@example.jp\n"
	    "Status: 5.1.1\n"
	    "Thanks.\n";
	struct dsn_report r = {0};

	CHECK_INT(dsn_parse(text, strlen(text), &r), 1);
	CHECK_STR(r.rcpt[0].final_rcpt, "x@example.jp");
	CHECK_STR(r.rcpt[0].status, "5.1.1");
	dsn_free(&r);
	CHECK_INT(dsn_parse("", 0, &r), 0);
	CHECK_INT(dsn_parse("garbage\n\n\n", 10, &r), 0);
	dsn_free(&r);
}

static void
test_strip_type(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"rfc822; a@b.example", "a@b.example"},
		{"rfc822;a@b.example", "a@b.example"},
		{"smtp; 550  5.1.1\t user   unknown ", "550 5.1.1 user unknown"},
		{"X-Unix; mirapoint", "mirapoint"},
		{"no type here", "no type here"},
		{"550 <a@b>; rejected", "550 <a@b>; rejected"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *s = dsn_strip_type(t[i].in);
		CHECK_STR(s, t[i].want);
		free(s);
	}
}

static void
test_status_values(void)
{
	static const struct {
		const char *field, *want;
	} t[] = {
		{"Status: 5.1.1", "5.1.1"},
		{"Status: 5.1.10", "5.1.10"},
		{"Status: 4.4.7 (delayed)", "4.4.7"},
		{"Status: 550", ""},
		{"Status: bogus", ""},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char buf[128];
		struct dsn_report r = {0};
		snprintf(buf, sizeof buf, "Final-Recipient: rfc822; a@b.example\n%s\n", t[i].field);
		CHECK_INT(dsn_parse(buf, strlen(buf), &r), 1);
		if (r.n)
			CHECK_STR(r.rcpt[0].status, t[i].want);
		dsn_free(&r);
	}
}

/* The text's last line has no line end: its group still counts, with its last field. */
static void
test_last_line_without_lf(void)
{
	static const struct {
		const char *text, *final, *status;
		size_t n;
	} t[] = {
		{"Final-Recipient: rfc822; cut@example.org\nAction: failed\nStatus: 5.1.1", "cut@example.org", "5.1.1", 1},
		{"Final-Recipient: rfc822; cut@example.org", "cut@example.org", "", 1},
		{"Final-Recipient: rfc822; a@example.org\n\nFinal-Recipient: rfc822; b@example.org\nStatus: 4.4.7", "b@example.org", "4.4.7", 2},
		{"Final-Recipient: rfc822; a@example.org\nFinal-Recipient: rfc822; b@example.org\nStatus: 5.2.2", "b@example.org", "5.2.2", 2},
		{"Final-Recipient: rfc822; a@example.org\nStatus: 5.1.1\n", "a@example.org", "5.1.1", 1},
		{"Final-Recipient: rfc822; a@example.org\nDiagnostic-Code: smtp; 550\n  no such user", "a@example.org", "", 1},
		{"Reporting-MTA: dns; mx.example.org", NULL, NULL, 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct dsn_report r = {0};
		CHECK_INT(dsn_parse(t[i].text, strlen(t[i].text), &r), t[i].n);
		if (r.n == t[i].n && r.n > 0) {
			CHECK_STR(r.rcpt[r.n - 1].final_rcpt, t[i].final);
			CHECK_STR(r.rcpt[r.n - 1].status, t[i].status);
		}
		dsn_free(&r);
	}
	/* the folded diagnostic on the last line is unfolded whole */
	static const char folded[] = "Final-Recipient: rfc822; a@example.org\nDiagnostic-Code: smtp; 550\n  no such user";
	struct dsn_report r = {0};
	CHECK_INT(dsn_parse(folded, strlen(folded), &r), 1);
	if (r.n)
		CHECK_STR(r.rcpt[0].diagnostic, "550 no such user");
	dsn_free(&r);
}

/* dsn_strip_type written the plain way, a byte at a time, to compare with. */
static void
strip_type_reference(const char *v, char *out)
{
	const char *semi = strchr(v, ';'), *p = v;
	size_t n = 0;
	bool sp = true;

	if (semi) {
		const char *q = v;
		while (q < semi && (isalnum((unsigned char)*q) || *q == '-' || *q == '.' || *q == ' '))
			q++;
		if (q == semi)
			p = semi + 1;
	}
	for (; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (!sp)
				out[n++] = ' ';
			sp = true;
		} else {
			out[n++] = *p;
			sp = false;
		}
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* Values made of words and white space runs of every length, at every alignment: the
 * eight-bytes-at-a-time copy gives what the plain loop gives. */
static void
test_strip_type_long(void)
{
	static const char *const parts[] = {"a", "word", "longerword", " ", "  ", "   ", "\t",
		" \t ", "\r", "\x0b", ";", "smtp;", "X-Unix; ", ".", "(5.1.1)", "\xc3\xa9"};
	const size_t np = sizeof parts / sizeof parts[0];
	uint32_t seed = 12345;
	int bad = 0;

	for (int it = 0; it < 20000; it++) {
		char in[256] = "", want[256];
		size_t k = (size_t)(it % 24);
		for (size_t i = 0; i < k; i++) {
			seed = seed * 1103515245u + 12345u;
			strcat(in, parts[(seed >> 16) % np]);
		}
		strip_type_reference(in, want);
		char *got = dsn_strip_type(in);
		if (strcmp(got, want) != 0 && bad++ < 3)
			fprintf(stderr, "strip \"%s\": got \"%s\", want \"%s\"\n", in, got, want);
		free(got);
	}
	CHECK_INT(bad, 0);
}

/* Field names in any case, values folded, a group split by a second recipient, the
 * diagnostic from an extension field, a recipient field without a value. */
static void
test_groups(void)
{
	static const char part[] =
	    "REPORTING-mta: dns;  mx.example.org  \n"
	    "final-RECIPIENT: rfc822;a@example.org\n"
	    "ACTION: DELAYED\n"
	    "remote-mta: dns; mx.example.com. (192.0.2.1)\n"
	    "X-Exim-Diagnostic: X-str; retry\n"
	    "    time not reached\n"
	    "Final-Recipient: rfc822; b@example.org\n"
	    "Status: 5.0.0\n"
	    "Diagnostic-Code: smtp;   550   rejected\n"
	    "Action: failed\n"
	    "Action: ignored second\n"
	    "\n"
	    "Final-Recipient:\n"
	    "Original-Recipient: rfc822; c@example.org\n";
	struct dsn_report r = {0};

	CHECK_INT(dsn_parse(part, strlen(part), &r), 3);
	CHECK(r.reporting_mta == NULL);
	CHECK_INT(r.n, 3);
	if (r.n == 3) {
		CHECK_STR(r.rcpt[0].final_rcpt, "a@example.org");
		CHECK_STR(r.rcpt[0].action, "delayed");
		CHECK_STR(r.rcpt[0].remote_mta, "mx.example.com");
		CHECK_STR(r.rcpt[0].status, "");
		CHECK_STR(r.rcpt[0].diagnostic, "retry time not reached");
		CHECK_STR(r.rcpt[1].final_rcpt, "b@example.org");
		CHECK_STR(r.rcpt[1].action, "failed");
		CHECK_STR(r.rcpt[1].status, "5.0.0");
		CHECK_STR(r.rcpt[1].diagnostic, "550 rejected");
		CHECK_STR(r.rcpt[1].orig_rcpt, "");
		CHECK_STR(r.rcpt[2].final_rcpt, "");
		CHECK_STR(r.rcpt[2].orig_rcpt, "c@example.org");
	}
	dsn_free(&r);
	/* the per-message group alone gives the reporting MTA */
	static const char head[] = "Reporting-MTA: dns; one.example\n\nReporting-MTA: dns; two.example\n";
	CHECK_INT(dsn_parse(head, strlen(head), &r), 0);
	CHECK_STR(r.reporting_mta, "one.example");
	dsn_free(&r);
}

int
main(void)
{
	test_last_line_without_lf();
	test_report();
	test_fields_in_text();
	test_strip_type();
	test_strip_type_long();
	test_groups();
	test_status_values();
	return unit_done("test_dsn");
}
