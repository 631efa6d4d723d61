/* Unit tests for domain typo correction: the distance, the recipient-list heuristics, and the
 * two fixture sets (misspellings with their corrections, real domains left alone). */
#include <stdlib.h>

#include "typo.h"
#include "unit.h"
#include "util.h"

#define SHARE "share/domains"
#define TYPOS "tests/fixtures/classify/typos.tsv"
#define REAL "tests/fixtures/classify/real-domains.txt"

static const char *
suggest(struct typo *t, const char *d)
{
	const char *s = typo_suggest(t, d, strlen(d));

	return s ? s : "";
}

static void
test_distance(void)
{
	static const struct { const char *a, *b; int max, want; } cases[] = {
		{ "gmail.com", "gmail.com", 2, 0 },
		{ "gmial.com", "gmail.com", 2, 1 },   /* transposition is one edit */
		{ "gmal.com", "gmail.com", 2, 1 },
		{ "gmaill.com", "gmail.com", 2, 1 },
		{ "hotmial.con", "hotmail.com", 2, 2 },
		{ "abc", "xyz", 2, 3 },               /* capped at max + 1 */
		{ "", "abc", 5, 3 },
		{ "a", "", 1, 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK_INT(typo_distance(cases[i].a, strlen(cases[i].a), cases[i].b, strlen(cases[i].b),
			cases[i].max), cases[i].want);
}

static void
test_rules(struct typo *t)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "gmail.com", "" },          /* known */
		{ "GMIAL.COM", "gmail.com" }, /* case does not matter */
		{ "ymail.com", "" },          /* real, one edit from gmail.com */
		{ "mail.com", "" },
		{ "email.com", "" },
		{ "gmx.de", "" },
		{ "gmx.com", "" },
		{ "live.ca", "" },
		{ "126.com", "" },
		{ "163.com", "" },
		{ "web.de", "" },
		{ "me.com", "" },
		{ "mac.com", "" },
		{ "gm.com", "" },             /* short names are not guessed at */
		{ "qq.cm", "qq.com" },        /* but their endings are fixed */
		{ "example.org", "" },
		{ "", "" },
		{ "nodot", "" },
		{ "gmailcom", "gmail.com" }, /* the dot forgotten */
		{ "bad domain.com", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK_STR(suggest(t, cases[i].in), cases[i].want);
}

static void
test_recipient_list(void)
{
	struct typo *t = typo_new();

	for (int i = 0; i < 40; i++)
		typo_count(t, "acme-corp.example", 17);
	typo_count(t, "acme-crop.example", 17);
	for (int i = 0; i < 6; i++)
		typo_count(t, "acme-labs.example", 17);
	CHECK_STR(suggest(t, "acme-crop.example"), "acme-corp.example");
	CHECK_STR(suggest(t, "acme-corp.example"), "");
	CHECK_STR(suggest(t, "acme-labs.example"), ""); /* frequent enough to be real */
	CHECK_STR(suggest(t, "acme-corx.example"), "acme-corp.example");
	typo_free(t);
}

/* The fixture sets: every misspelling corrected right, no real domain changed. */
static void
test_fixtures(struct typo *t)
{
	FILE *fp;
	char line[512];
	int total = 0, right = 0, real = 0, changed = 0;

	CHECK((fp = fopen(TYPOS, "r")) != NULL);
	while (fp && fgets(line, sizeof line, fp)) {
		char *tab = strchr(line, '\t'), *nl;
		const char *got;

		if (line[0] == '#' || tab == NULL)
			continue;
		*tab++ = '\0';
		if ((nl = strchr(tab, '\n')) != NULL)
			*nl = '\0';
		total++;
		got = suggest(t, line);
		if (strcmp(got, tab) == 0)
			right++;
		else
			fprintf(stderr, "typo: %s: got \"%s\", want \"%s\"\n", line, got, tab);
	}
	if (fp)
		fclose(fp);
	CHECK((fp = fopen(REAL, "r")) != NULL);
	while (fp && fgets(line, sizeof line, fp)) {
		char *nl = strchr(line, '\n');
		const char *got;

		if (nl)
			*nl = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		real++;
		got = suggest(t, line);
		if (*got) {
			changed++;
			fprintf(stderr, "real: %s: changed to \"%s\"\n", line, got);
		}
	}
	if (fp)
		fclose(fp);
	printf("typos: %d/%d corrected right (%.1f%%); real domains: %d/%d changed (%.1f%%)\n", right, total,
		total ? 100.0 * right / total : 0.0, changed, real, real ? 100.0 * changed / real : 0.0);
	CHECK(total >= 100);
	CHECK(real >= 150);
	CHECK(right * 100 >= total * 95);
	CHECK(changed * 100 <= real);
}

int
main(int argc, char **argv)
{
	struct typo *t = typo_new();

	(void)argc;
	rb_init(argv[0]);
	CHECK_INT(typo_load_known(t, SHARE), 0);
	test_distance();
	test_rules(t);
	test_recipient_list();
	test_fixtures(t);
	typo_free(t);
	return unit_done("test_typo");
}
