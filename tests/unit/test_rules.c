/* Unit tests for the rules: required literals, loading errors, precedence, groups, and the
 * prefilter never changing an answer. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "rules.h"
#include "rx.h"
#include "unit.h"
#include "util.h"

#define SHARE_RULES "share/rules"
#define CASES "tests/fixtures/classify/cases.tsv"

/* The literals of a pattern joined by '|', or "*" when none are claimed. */
static char *
literals(const char *pattern)
{
	char **lit, *out;
	size_t n = rx_literals(pattern, 3, &lit);
	struct rb_buf b = { 0 };

	rb_buf_adds(&b, n ? "" : "*");
	for (size_t i = 0; i < n; i++) {
		rb_buf_printf(&b, "%s%s", i ? "|" : "", lit[i]);
		free(lit[i]);
	}
	free(lit);
	out = rb_xstrdup(b.data);
	rb_buf_free(&b);
	return out;
}

static void
test_literals(void)
{
	static const struct { const char *pattern, *want; } cases[] = {
		{ "User Unknown", "user unknown" },
		{ "^5\\.1\\.1$", "5.1.1" },
		{ "mailbox ?full|over quota", "mailbox|over quota" },
		{ "user(?:name)? (?:is )?(?:unknown|not found)", "unknown|not found" },
		{ "(?:^|\\.)google\\.com$", "google.com" },
		{ "colou?r", "colo" },
		{ "\\bspam(?!haus)", "spam" },
		{ "(?<!sender )address rejected", "address rejected" },
		{ "(?i)no such user", "no such user" },
		{ "[a-z]+ unknown", " unknown" },
		{ "ab|cd", "*" },              /* too short to be worth a lookup */
		{ "a.b.c", "*" },
		{ "x\\d+y", "*" },
		{ "foo\\Qbar", "*" },          /* quoting is not followed: claim nothing */
		{ "\\x41bcdef", "*" },
		{ "(unclosed", "*" },
		{ "abc|.*", "*" },             /* one branch can match anything */
		{ "(?:abcd)?efgh", "efgh" },
		{ "(?:abcd)+", "abcd" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = literals(cases[i].pattern);

		CHECK_STR(got, cases[i].want);
		free(got);
	}
}

static int
load(const char *text)
{
	struct rules *rs = rules_new();
	int rc = rules_load_string(rs, "test", text);

	if (rc == 0)
		rc = rules_compile(rs);
	rules_free(rs);
	return rc;
}

static void
test_load_errors(void)
{
	CHECK_INT(load("a\tuserunknown\tdiagnostic\tuser unknown\n"), 0);
	CHECK_INT(load("# only a comment\n\n"), 0);
	CHECK_INT(load("a\tuserunknown\tdiagnostic\tfoo(bar\n"), -1);
	CHECK_INT(load("a\tnosuchreason\tdiagnostic\tx\n"), -1);
	CHECK_INT(load("a\tuserunknown\tDiagnostic\tx\n"), -1);
	CHECK_INT(load("a\tuserunknown\tdiagnostic\n"), -1);
	CHECK_INT(load("a\tuserunknown\tdiagnostic@nogroup\tx\n"), -1);
	CHECK_INT(load("@g\t(\n"), -1);
	CHECK_INT(load("@g:Bad\tx\n"), -1);
	CHECK_INT(load("@g\tgoogle\\.com$\na\tsuspend\tdiagnostic@g\tdisabled\n"), 0);
}

/* n rules of the given pattern, each with a distinct id. */
static char *
rules_text(size_t n, const char *pattern)
{
	struct rb_buf b = { 0 };

	for (size_t i = 0; i < n; i++)
		rb_buf_printf(&b, "r%zu\tblocked\tdiagnostic\t%s\n", i, pattern);
	return b.data;
}

/* A string of n copies of unit. */
static char *
repeat(const char *unit, size_t n)
{
	struct rb_buf b = { 0 };

	rb_buf_adds(&b, "");
	for (size_t i = 0; i < n; i++)
		rb_buf_adds(&b, unit);
	return b.data;
}

static void
test_limits(void)
{
	char *text, *pat;

	/* At most RULES_MAX rules and group definitions, all files together. */
	text = rules_text(RULES_MAX, "x");
	CHECK_INT(load(text), 0);
	free(text);
	text = rules_text(RULES_MAX + 1, "x");
	CHECK_INT(load(text), -1);
	free(text);
	{
		struct rules *rs = rules_new();

		text = rules_text(RULES_MAX - 1, "x");
		CHECK_INT(rules_load_string(rs, "a", text), 0);
		CHECK_INT(rules_load_string(rs, "b", "@g\tx\n"), 0);
		CHECK_INT(rules_load_string(rs, "c", "@h\ty\n"), -1);
		CHECK_INT(rules_count(rs), RULES_MAX - 1);
		rules_free(rs);
		free(text);
	}
	/* A pattern of RULES_PATTERN_MAX bytes (mostly a comment, so that it compiles), not
	 * one more. */
	pat = repeat("x", RULES_PATTERN_MAX);
	memcpy(pat, "x(?#", 4);
	pat[RULES_PATTERN_MAX - 1] = ')';
	text = rules_text(1, pat);
	CHECK_INT(load(text), 0);
	free(text);
	free(pat);
	pat = repeat("x", RULES_PATTERN_MAX + 1);
	text = rules_text(1, pat);
	CHECK_INT(load(text), -1);
	free(text);
	text = rb_xstrdup("@g\t");
	text = rb_xrealloc(text, strlen(text) + strlen(pat) + 2);
	strcat(strcat(text, pat), "\n");
	CHECK_INT(load(text), -1);
	free(text);
	free(pat);
	/* RULES_SIZE_MAX: a pattern that compiles large counts as large; fewer such rules fit. */
	{
		struct rules *rs = rules_new();
		size_t n = 0;

		while (n < RULES_MAX && rules_load_string(rs, "big", "r\tblocked\tdiagnostic\t(?:[ab]c){1000}\n") == 0)
			n++;
		CHECK(n > 50 && n < 200);
		CHECK_INT(rules_count(rs), n);
		rules_free(rs);
	}
}

/* Classify one record of the columns below; returns the rule id or "". */
static const char *
classify(struct rules *rs, const char *status, const char *remote, const char *recipient, const char *diag)
{
	static char *cols[] = { "status", "remote_mta", "recipient", "diagnostic" };
	char *field[4];
	size_t flen[4];
	const struct rule *r;

	field[0] = (char *)status, field[1] = (char *)remote, field[2] = (char *)recipient, field[3] = (char *)diag;
	for (int i = 0; i < 4; i++)
		flen[i] = strlen(field[i]);
	rules_bind(rs, cols, 4);
	r = rules_match(rs, field, flen);
	return r ? r->id : "";
}

static void
test_precedence_and_groups(void)
{
	struct rules *rs = rules_new();

	CHECK_INT(rules_load_string(rs, "admin",
		"admin\tfiltered\tdiagnostic\tuser unknown.*example\\.net\n"), 0);
	CHECK_INT(rules_load_string(rs, "shipped",
		"@google\t(?:^|\\.)google\\.com$\n"
		"@nostatus:status\t^$\n"
		"g\tsuspend\tdiagnostic@google\tis disabled\n"
		"s\tuserunknown\tstatus\t^5\\.1\\.1$\n"
		"n\tfiltered\tdiagnostic@nostatus\tuser unknown\n"
		"late-first\tmailboxfull\tdiagnostic\tfull\n"
		"t\tuserunknown\tdiagnostic\tuser unknown\n"
		"d\thostunknown\trecipient_domain\t^nx\\.\n"), 0);
	CHECK_INT(rules_compile(rs), 0);
	CHECK_STR(classify(rs, "5.1.1", "", "a@example.net", "user unknown at example.net"), "admin");
	CHECK_STR(classify(rs, "5.1.1", "", "a@example.org", "user unknown"), "s");
	CHECK_STR(classify(rs, "", "", "a@example.org", "user unknown"), "n");
	CHECK_STR(classify(rs, "5.0.0", "", "a@example.org", "user unknown"), "t");
	/* Order decides, not the place of the match in the text. */
	CHECK_STR(classify(rs, "5.0.0", "", "a@example.org", "mailbox full: user unknown"), "late-first");
	CHECK_STR(classify(rs, "5.0.0", "", "a@example.org", "user unknown; mailbox full"), "late-first");
	/* A host group is in view through the remote host or the recipient's domain. */
	CHECK_STR(classify(rs, "5.2.1", "aspmx.l.google.com", "a@example.org", "account is disabled"), "g");
	CHECK_STR(classify(rs, "5.2.1", "", "a@google.com", "account is disabled"), "g");
	CHECK_STR(classify(rs, "5.2.1", "mx.example.org", "a@example.org", "account is disabled"), "");
	CHECK_STR(classify(rs, "", "", "a@nx.example", ""), "d");
	rules_free(rs);
}

/* A rule whose pattern is an alternation is run a branch at a time, when the branches
 * stand alone: the rule must match exactly when its whole pattern does, whatever the
 * pattern holds (back references, inline options, classes and quotes with a '|', ...). */
static void
test_branches_table(void)
{
	static const char *patterns[] = {
		"user unknown|no such user|mailbox unavailable",
		"(?i)zzq|abc(x)\\1def",
		"(?-i)ABC|def",
		"foo[|]bar|q[^]|]w|\\Qa|b\\Ezzz",
		"unknown|(?<!sender )address rejected|^[^:]*\\bnope$",
		"(a)|(?<n>bb)\\k<n>",
		"never ever|",
		"x[[:alpha:]|]y|z\\|w",
		"(?:a|b)c|d(?=e)|f(?!g)h|i",
		"(*LIMIT_MATCH=1000)ac|bb",
		"a(*COMMIT)c|bb|zw",
		"^5\\.1\\.1$|^5\\.2\\.",
	};
	static const char *subjects[] = {
		"", "User Unknown", "no such user here", "zzq", "ZZQ", "abcxxdef", "abcxdef", "abc", "ABC",
		"DEF", "foo|bar", "foo bar", "q]w", "q|w", "qxw", "a|bzzz", "abzzz", "unknown",
		"address rejected", "sender address rejected", "x: nope", "nope", "a", "bb", "bbbb",
		"xqy", "x|y", "z|w", "zw", "ac", "bc", "de", "dx", "fgh", "fxh", "i", "5.1.1", "5.2.9",
	};

	for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
		struct rules *rs = rules_new();
		struct rb_buf text = { 0 };
		char err[256];
		size_t off;
		struct rx *rx = rx_compile(patterns[p], strlen(patterns[p]), err, sizeof err, &off);
		struct rx_ctx *ctx = rx_ctx_new();

		CHECK(rx != NULL);
		rb_buf_printf(&text, "r\tblocked\tdiagnostic\t%s\n", patterns[p]);
		CHECK_INT(rules_load_string(rs, "branches", text.data), 0);
		CHECK_INT(rules_compile(rs), 0);
		for (size_t i = 0; rx != NULL && i < sizeof subjects / sizeof subjects[0]; i++) {
			bool whole = rx_match(rx, ctx, subjects[i], strlen(subjects[i]), NULL) == 1;
			const char *got = classify(rs, "", "", "a@example.org", subjects[i]);

			if (strcmp(got, whole ? "r" : "") != 0)
				fprintf(stderr, "pattern \"%s\" on \"%s\": rule %s, whole pattern %s\n",
					patterns[p], subjects[i], got, whole ? "matches" : "does not");
			CHECK_STR(got, whole ? "r" : "");
		}
		rx_free(rx);
		rx_ctx_free(ctx);
		rb_buf_free(&text);
		rules_free(rs);
	}
}

/* Every case of the table and many variations: the same answer with and without the
 * prefilter. */
static void
test_prefilter_equivalence(void)
{
	static const char *statuses[] = { "", "5.0.0", "5.1.1", "5.7.1", "4.4.7", "5.0.911" };
	static const char *remotes[] = { "", "gmail-smtp-in.l.google.com", "mx.cox.net", "mx3.qq.com", "lsean.ezweb.ne.jp" };
	struct rules *rs = rules_new();
	FILE *fp;
	char line[4096];
	int compared = 0, differ = 0;

	CHECK_INT(rules_load(rs, SHARE_RULES), 0);
	CHECK_INT(rules_compile(rs), 0);
	CHECK((fp = fopen(CASES, "r")) != NULL);
	while (fp && fgets(line, sizeof line, fp)) {
		char *col[11], *p = line;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		while (n < 11 && p) {
			col[n++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (n < 7)
			continue;
		for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++)
			for (size_t r = 0; r < sizeof remotes / sizeof remotes[0]; r++) {
				const char *with, *without;

				rules_prefilter(rs, true);
				with = classify(rs, statuses[s], remotes[r], col[5], col[6]);
				rules_prefilter(rs, false);
				without = classify(rs, statuses[s], remotes[r], col[5], col[6]);
				compared++;
				if (strcmp(with, without) != 0) {
					differ++;
					fprintf(stderr, "prefilter changes \"%s\" (status %s, host %s): %s, not %s\n",
						col[6], statuses[s], remotes[r], with, without);
				}
			}
	}
	if (fp)
		fclose(fp);
	CHECK(compared > 500);
	CHECK_INT(differ, 0);
	rules_free(rs);
}

/* Answers are remembered by the values the rules read: with one binding, every case
 * asked twice (the second time from the memo, or after its slot was reused) gets the
 * answer worked out without the prefilter and the memo. */
static void
test_memo(void)
{
	static char *cols[] = { "status", "remote_mta", "recipient", "diagnostic", "subject" };
	static const char *statuses[] = { "", "5.1.1", "4.4.7" };
	static const char *remotes[] = { "", "mx.cox.net", "gmail-smtp-in.l.google.com" };
	struct rules *rs = rules_new();
	char **diag = NULL, line[4096];
	size_t ndiag = 0, n = 0, differ = 0;
	const char **want;
	FILE *fp;

	CHECK_INT(rules_load(rs, SHARE_RULES), 0);
	CHECK_INT(rules_compile(rs), 0);
	CHECK((fp = fopen(CASES, "r")) != NULL);
	while (fp && fgets(line, sizeof line, fp)) {
		char *p = line;

		line[strcspn(line, "\n")] = '\0';
		for (int c = 0; c < 6 && p; c++)
			if ((p = strchr(p, '\t')) != NULL)
				p++;
		if (p == NULL)
			continue;
		p[strcspn(p, "\t")] = '\0';
		diag = rb_xreallocarray(diag, ndiag + 1, sizeof *diag);
		diag[ndiag++] = rb_xstrdup(p);
	}
	if (fp)
		fclose(fp);
	want = rb_xcalloc(ndiag * 9 + 1, sizeof *want);
	rules_bind(rs, cols, 5);
	for (int pass = 0; pass < 3; pass++) {
		rules_prefilter(rs, pass > 0);
		n = 0;
		for (size_t d = 0; d < ndiag; d++)
			for (size_t st = 0; st < 3; st++)
				for (size_t rm = 0; rm < 3; rm++, n++) {
					/* The subject is not read by any rule: it must not split the memo. */
					char subject[32];
					char *field[5] = { (char *)statuses[st], (char *)remotes[rm], "a@example.org",
						diag[d], subject };
					size_t flen[5];
					const struct rule *r;

					snprintf(subject, sizeof subject, "s%d", pass);
					for (int i = 0; i < 5; i++)
						flen[i] = strlen(field[i]);
					r = rules_match(rs, field, flen);
					if (pass == 0)
						want[n] = r ? r->id : "";
					else if (strcmp(r ? r->id : "", want[n]) != 0)
						differ++;
				}
	}
	CHECK(n > 500);
	CHECK_INT(differ, 0);
	for (size_t d = 0; d < ndiag; d++)
		free(diag[d]);
	free(diag);
	free(want);
	rules_free(rs);
}

/* A match that backtracks without end gives up, as a matching error, and a rule that does
 * so does not match. */
static void
test_match_limit(void)
{
	char err[256], *subject = repeat("x", 40);
	size_t off;
	struct rx *rx = rx_compile("(*NO_START_OPT)(x+x+)+y", 23, err, sizeof err, &off);
	struct rx_ctx *ctx = rx_ctx_new();
	struct rules *rs = rules_new();

	CHECK(rx != NULL);
	CHECK_INT(rx_match(rx, ctx, subject, strlen(subject), NULL), -1);
	CHECK_INT(rx_match(rx, ctx, "xxy", 3, NULL), 1);
	CHECK_INT(rules_load_string(rs, "t", "a\tblocked\tdiagnostic\t(*NO_START_OPT)(x+x+)+y\n"
		"b\tuserunknown\tdiagnostic\tx\n"), 0);
	CHECK_INT(rules_compile(rs), 0);
	CHECK_STR(classify(rs, "", "", "a@example.org", subject), "b");
	CHECK_STR(classify(rs, "", "", "a@example.org", "xxy"), "a");
	rules_free(rs);
	rx_ctx_free(ctx);
	rx_free(rx);
	free(subject);
}

static void
test_vocabulary(void)
{
	CHECK_STR(rules_reason("userunknown")->category, "address");
	CHECK_INT(rules_reason("userunknown")->code, 911);
	CHECK(rules_reason("userunknown")->hard);
	CHECK_STR(rules_reason("mesgtoobig")->category, "blocked");
	CHECK_STR(rules_reason("expired")->category, "transient");
	CHECK_STR(rules_reason("feedback")->category, "complaint");
	CHECK_STR(rules_reason("vacation")->category, "ignore");
	CHECK(rules_reason("nosuchreason") == NULL);
}

int
main(int argc, char **argv)
{
	(void)argc;
	rb_init(argv[0]);
	/* Loading errors are reported on stderr; they are expected here, so hide them. */
	int saved = dup(2), devnull = open("/dev/null", O_WRONLY);

	if (saved < 0 || devnull < 0 || dup2(devnull, 2) < 0)
		return 2;
	test_load_errors();
	test_limits();
	fflush(stderr);
	if (dup2(saved, 2) < 0)
		return 2;
	close(saved);
	close(devnull);
	test_literals();
	test_precedence_and_groups();
	test_branches_table();
	test_prefilter_equivalence();
	test_memo();
	test_match_limit();
	test_vocabulary();
	return unit_done("test_rules");
}
