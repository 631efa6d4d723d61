/* Unit tests for templates: parsing, address splitting, checks and expansion. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpl.h"
#include "unit.h"
#include "util.h"

/* Load text as a template from a temporary file. */
static int
load(struct tmpl *t, const char *text)
{
	char path[] = "/tmp/test_tmpl.XXXXXX";
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("test_tmpl: temporary file");
		exit(2);
	}
	close(fd);
	rc = tmpl_load(t, path);
	unlink(path);
	return rc;
}

static void
test_load_errors(void)
{
	static const struct { const char *text; int rc; } cases[] = {
		{ "To: {{email}}\nSubject: hi\n\nbody {{token}}\n", 0 },
		{ "To: a@b.example\n\n", 0 },
		{ "To: a@b.example\r\nSubject: crlf\r\n\r\nbody\r\n", 0 },
		{ "To: a@b.example\nSubject: no body separator\n", -1 },
		{ "not a header\n\nbody\n", -1 },
		{ " continuation first\n\nbody\n", -1 },
		{ "To: {{email\n\n", -1 },
		{ "To: a@b.example\n\nHello {{Name}}\n", -1 },
		{ "To: a@b.example\n\nHello {{}}\n", -1 },
		{ "To: a@b.example\n\nHello {{na me}}\n", -1 },
		{ "To: a@b.example\n\nbroken {{token\n}}\n", -1 },
		{ "Bad Name: x\n\n", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tmpl t;
		int rc = load(&t, cases[i].text);

		if (rc != cases[i].rc)
			fprintf(stderr, "case %zu\n", i);
		CHECK_INT(rc, cases[i].rc);
		if (rc == 0)
			tmpl_free(&t);
	}
}

struct values {
	const char *const *kv; /* name, value, name, value, ..., NULL */
};

static int
lookup(void *ctx, const char *name, const char **value)
{
	const struct values *v = ctx;

	*value = NULL;
	for (size_t i = 0; v->kv[i]; i += 2)
		if (strcmp(v->kv[i], name) == 0) {
			if (strcmp(v->kv[i + 1], "REFUSE") == 0)
				return -1;
			*value = v->kv[i + 1];
		}
	return 0;
}

static const char *
problem(void *ctx, const char *name, bool has_fallback)
{
	const struct values *v = ctx;

	for (size_t i = 0; v->kv[i]; i += 2)
		if (strcmp(v->kv[i], name) == 0)
			return NULL;
	return has_fallback ? NULL : "unknown";
}

static void
test_expand(void)
{
	static const char *const kv[] = {
		"name", "Jane", "token", "T-1", "empty", "", "multi", "a\r\nb\rc", "bad", "REFUSE",
		"crend", "x\r", "crcr", "a\r\r\nb", "lf", "a\nb", "crlfend", "\r\n", NULL,
	};
	struct values v = { kv };
	static const struct { const char *body; int rc; const char *out, *missing; } cases[] = {
		{ "Hello {{name}}, {{token}}.", 0, "Hello Jane, T-1.\n", NULL },
		{ "{{ name }}", 0, "Jane\n", NULL },
		{ "Hi {{empty|there}}!", 0, "Hi there!\n", NULL },
		{ "Hi {{empty|}}!", 0, "Hi !\n", NULL },
		{ "Hi {{nocolumn|you}}", 0, "Hi you\n", NULL },
		{ "Hi {{name|fallback unused}}", 0, "Hi Jane\n", NULL },
		{ "tok {{empty}}", -1, NULL, "empty" },
		{ "{{bad}}", -2, NULL, "bad" },
		{ "{{multi}}", 0, "a\nb\nc\n", NULL },
		{ "{{crend}}", 0, "x\n\n", NULL },
		{ "{{crcr}}", 0, "a\n\nb\n", NULL },
		{ "{{lf}}", 0, "a\nb\n", NULL },
		{ "[{{crlfend}}]", 0, "[\n]\n", NULL },
		{ "single { brace } and }} alone", 0, "single { brace } and }} alone\n", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tmpl t;
		struct rb_buf text = { 0 }, out = { 0 };
		const char *missing = NULL;

		rb_buf_printf(&text, "To: x@y.example\n\n%s\n", cases[i].body);
		CHECK_INT(load(&t, text.data), 0);
		int rc = tmpl_expand(&t.body, TMPL_BODY, lookup, &v, &out, &missing);
		CHECK_INT(rc, cases[i].rc);
		if (cases[i].out)
			CHECK_STR(out.data, cases[i].out);
		if (cases[i].missing)
			CHECK_STR(missing, cases[i].missing);
		tmpl_free(&t);
		rb_buf_free(&text);
		rb_buf_free(&out);
	}
}

static void
test_headers(void)
{
	struct tmpl t;
	const struct tmpl_header *h;

	CHECK_INT(load(&t, "From: {{from}}\nTo: \"Doe, {{name}}\" <{{email}}>, {{cc}}\n"
			   "Subject: folded\n  subject {{name}}\nX-Tag: a, b\n\nbody\n"), 0);
	CHECK_INT(t.nhdr, 4);
	h = tmpl_header(&t, "to");
	CHECK(h != NULL && h->address);
	/* The comma inside the quoted name does not split; the template's own comma does. */
	CHECK_INT(h ? h->nitems : 0, 2);
	h = tmpl_header(&t, "X-Tag");
	CHECK(h != NULL && !h->address && h->nitems == 1);
	h = tmpl_header(&t, "Subject");
	CHECK(h != NULL && h->line == 3);
	if (h) {
		static const char *const kv[] = { "name", "Jane", NULL };
		struct values v = { kv };
		struct rb_buf out = { 0 };
		const char *missing;

		CHECK_INT(tmpl_expand(&h->item[0], TMPL_HEADER, lookup, &v, &out, &missing), 0);
		CHECK_STR(out.data, " folded  subject Jane");
		rb_buf_free(&out);
	}
	CHECK(tmpl_header(&t, "Cc") == NULL);
	tmpl_free(&t);
}

static void
test_check(void)
{
	static const char *const kv[] = { "email", "", "token", "", NULL };
	struct values v = { kv };
	struct tmpl t;

	CHECK_INT(load(&t, "To: {{email}}\nSubject: {{subject|Hi}}\n\n{{token}}\n"), 0);
	CHECK_INT(tmpl_check(&t, problem, &v), 0);
	tmpl_free(&t);
	CHECK_INT(load(&t, "To: {{email}}\nSubject: x\n\n{{token}}\n{{tokn}}\n"), 0);
	CHECK_INT(tmpl_check(&t, problem, &v), -1);
	tmpl_free(&t);
}

int
main(void)
{
	test_load_errors();
	test_expand();
	test_headers();
	test_check();
	return unit_done("test_tmpl");
}
