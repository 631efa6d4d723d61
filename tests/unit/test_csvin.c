/* Unit tests for the recipient list: header names, delimiter detection, row storage and
 * the address index. */
#include <stdlib.h>

#include "csvin.h"
#include "unit.h"
#include "util.h"

static void
test_snake_case_table(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "email", "email" },
		{ "View URL", "view_url" },
		{ "E-Mail Address", "e_mail_address" },
		{ "  Token  ", "token" },
		{ "First  Name", "first_name" },
		{ "__a__b__", "a_b" },
		{ "Name (full)", "name_full" },
		{ "CamelCase", "camelcase" },
		{ "Prénom", "pr_nom" },
		{ "2nd line", "2nd_line" },
		{ "a.b/c:d", "a_b_c_d" },
		{ "", "" },
		{ "---", "" },
		{ "\t\"x\"\n", "x" },
	};
	struct rb_buf b = { 0 };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		csvin_snake_case(&b, cases[i].in, strlen(cases[i].in));
		CHECK_STR(b.data, cases[i].want);
		CHECK_INT(b.len, (long long)strlen(cases[i].want));
	}
	rb_buf_free(&b);
}

static FILE *
stream(const char *text)
{
	return fmemopen((void *)text, strlen(text), "r");
}

/* Load text; returns the status and leaves the table in t. */
static int
load(struct csvin_table *t, const char *text, const struct csvin_opts *o)
{
	static const struct csvin_opts none = { 0 };
	FILE *fp = stream(text);
	int status = csvin_load(t, fp, "test.csv", o ? o : &none);

	fclose(fp);
	return status;
}

static void
test_headers_table(void)
{
	static const struct { const char *text, *cols, *key; } cases[] = {
		{ "Name,E-Mail Address,View URL\n", "name|e_mail_address|view_url", "e_mail_address" },
		{ "name,email,name,Name,NAME\n", "name|email|name_2|name_3|name_4", "email" },
		{ "email,,x,\n", "email|column_2|x|column_4", "email" },
		{ "Recipient,Mail\n", "recipient|mail", "mail" },
		{ "to,e-mail\n", "to|e_mail", "e_mail" },
		{ "matched,email\n", "matched_2|email", "email" },
		{ "name_2,name,name,email\n", "name_2|name|name_3|email", "email" },
		{ "email;name\n", "email|name", "email" },
		{ "a\tb\temail\n", "a|b|email", "email" },
		{ "\"x,y\";email;z\n", "x_y|email|z", "email" },
		{ "\xef\xbb\xbf" "Email,Token\r\n", "email|token", "email" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct csvin_table t;
		struct rb_buf got = { 0 };

		CHECK_INT(load(&t, cases[i].text, NULL), RB_EXIT_OK);
		for (size_t c = 0; c < t.ncols; c++)
			rb_buf_printf(&got, "%s%s", c ? "|" : "", t.cols[c]);
		CHECK_STR(got.data, cases[i].cols);
		if (t.ncols > 0)
			CHECK_STR(t.cols[t.keycol], cases[i].key);
		rb_buf_free(&got);
		csvin_free(&t);
	}
}

static void
test_delimiter_table(void)
{
	static const struct { const char *text; int force; char want; size_t ncols; } cases[] = {
		{ "email,name\n", 0, ',', 2 },
		{ "email;name;token\n", 0, ';', 3 },
		{ "email\tname\n", 0, '\t', 2 },
		{ "email\n", 0, ',', 1 },
		{ "\"a;b;c\",email\n", 0, ',', 2 },   /* delimiters inside quotes do not count */
		{ "email,a;b,c;d\n", 0, ',', 3 },     /* a tie goes to the comma */
		{ "email|name\n", '|', '|', 2 },
		{ "email;name,x\n", ';', ';', 2 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct csvin_opts o = { .delim = cases[i].force };
		struct csvin_table t;

		CHECK_INT(load(&t, cases[i].text, &o), RB_EXIT_OK);
		CHECK_INT(t.delim, cases[i].want);
		CHECK_INT(t.ncols, cases[i].ncols);
		csvin_free(&t);
	}
}

static void
test_rows_and_index(void)
{
	struct csvin_table t;
	const char *vals[3];
	size_t lens[3];
	uint32_t r;

	CHECK_INT(load(&t, "email,name,note\n"
		"Jane@Example.COM,Jane,\"a, \"\"b\"\"\nc\"\n"
		"\n"
		"bob@b.org,Bob,\n"
		"  jane@example.com  ,Jane 2,x\n"
		",Nobody,y\n", NULL), RB_EXIT_OK);
	CHECK_INT(t.nrows, 4);
	CHECK_INT(t.nnokey, 1);
	r = csvin_find(&t, " JANE@example.com\t", 18);
	CHECK(r != CSVIN_NONE);
	csvin_row(&t, r, vals, lens);
	CHECK_STR(vals[1], "Jane");
	CHECK_STR(vals[2], "a, \"b\"\nc");
	CHECK_INT(lens[2], 8);
	r = csvin_next(&t, r);
	CHECK(r != CSVIN_NONE);
	csvin_row(&t, r, vals, lens);
	CHECK_STR(vals[1], "Jane 2");
	CHECK_INT(csvin_next(&t, r), CSVIN_NONE);
	CHECK_INT(csvin_find(&t, "bob@b.org", 9) != CSVIN_NONE, 1);
	CHECK_INT(csvin_find(&t, "bob@b.org.uk", 12), CSVIN_NONE);
	CHECK_INT(csvin_find(&t, "", 0), CSVIN_NONE);
	CHECK_INT(csvin_find(&t, "  ", 2), CSVIN_NONE);
	csvin_free(&t);
}

/* Many addresses: the table grows and every one is still found, in file order. */
static void
test_many(void)
{
	struct rb_buf text = { 0 }, a = { 0 };
	struct csvin_table t;
	size_t missing = 0;

	rb_buf_adds(&text, "email,n\n");
	for (int i = 0; i < 5000; i++)
		rb_buf_printf(&text, "user%d@example.org,%d\n", i % 3000, i);
	CHECK_INT(load(&t, text.data, NULL), RB_EXIT_OK);
	CHECK_INT(t.nrows, 5000);
	for (int i = 0; i < 3000; i++) {
		uint32_t r;
		const char *vals[2];
		size_t lens[2];

		rb_buf_clear(&a);
		rb_buf_printf(&a, "USER%d@example.org", i);
		r = csvin_find(&t, a.data, a.len);
		if (r == CSVIN_NONE) {
			missing++;
			continue;
		}
		csvin_row(&t, r, vals, lens);
		CHECK_INT(atoi(vals[1]), i);
		if (i < 2000)
			CHECK_INT(csvin_next(&t, r) != CSVIN_NONE, 1);
	}
	CHECK_INT(missing, 0);
	rb_buf_free(&text);
	rb_buf_free(&a);
	csvin_free(&t);
}

static void
test_bad_table(void)
{
	static const struct { const char *text; bool lenient; int status; unsigned long long rows, bad; } cases[] = {
		{ "email,a\nx@y,1\nz@y\n", false, RB_EXIT_BADINPUT, 1, 1 },
		{ "email,a\nx@y,1\nz@y\n", true, RB_EXIT_BADINPUT, 1, 1 },
		{ "email,a\nx@y,\"1\nz@y,2\n", false, RB_EXIT_BADINPUT, 0, 1 },
		{ "email,a\nx@y,\"1\nz@y,2\n", true, RB_EXIT_BADINPUT, 1, 1 }, /* read on after it */
		{ "email,a\nx@y,5\" screen\n", false, RB_EXIT_OK, 1, 0 },      /* a stray quote is text */
		{ "email,a\r\nx@y,1\r\n\r\n", false, RB_EXIT_OK, 1, 0 },
		{ "", false, RB_EXIT_FATAL, 0, 0 },
		{ "\n\n", false, RB_EXIT_FATAL, 0, 0 },
		{ "name,x\na,b\n", false, RB_EXIT_FATAL, 0, 0 },
		{ "\"email,a\nx@y,1\n", false, RB_EXIT_FATAL, 0, 0 },
		{ "\xff\xfe" "e\0m\0", false, RB_EXIT_FATAL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct csvin_opts o = { .lenient = cases[i].lenient };
		struct csvin_table t;

		CHECK_INT(load(&t, cases[i].text, &o), cases[i].status);
		if (cases[i].status != RB_EXIT_FATAL) {
			CHECK_INT(t.nrows, cases[i].rows);
			CHECK_INT(t.nbad, cases[i].bad);
		}
		csvin_free(&t);
	}
}

int
main(int argc, char **argv)
{
	(void)argc;
	rb_init(argv[0]);
	test_snake_case_table();
	test_headers_table();
	test_delimiter_table();
	test_rows_and_index();
	test_many();
	test_bad_table();
	return unit_done("csvin");
}
