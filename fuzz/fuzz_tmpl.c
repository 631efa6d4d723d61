/* Fuzz the template engine: the input is a template file, loaded with tmpl_load (from a
 * memory file), checked against a fixed record's columns and expanded against that record
 * the way bounce-render does, values built to break a message included.  The headers
 * written must stay headers (no value adds a line that is not a continuation) and the
 * quoted-printable body must keep its line limit and never start a line with "From ". */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mailfmt.h"
#include "tmpl.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const record[][2] = {
	{ "recipient", "jane@gmial.com" },
	{ "suggestion", "jane@gmail.com" },
	{ "name", "Jane \"J\" Doe,\r\nBcc: evil@attacker.example" },
	{ "token", "t1\n.\nFrom the token\r\n\r\nX-Injected: yes" },
	{ "view_url", "https://certs.example/v/1?a=b&c={{token}}" },
	{ "subject", "=?utf-8?q?not_encoded?= \xff\xfe\xc3 bad UTF-8 and a very long word "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ "category", "address" },
	{ "empty", "" },
	{ "from", "Certificates <certs@certs.example>" },
	{ "reply_to", "help@certs.example" },
	{ "sending_domain", "certs.example" },
};
#define NREC (sizeof record / sizeof record[0])

static const char *
find(const char *name)
{
	for (size_t i = 0; i < NREC; i++)
		if (strcmp(record[i][0], name) == 0)
			return record[i][1];
	return NULL;
}

static const char *
problem(void *ctx, const char *name, bool has_fallback)
{
	(void)ctx;
	return find(name) != NULL || has_fallback ? NULL : "no such column in the input, and not an option";
}

static int
lookup(void *ctx, const char *name, const char **value)
{
	(void)ctx;
	*value = find(name);
	return 0;
}

/* Every line a header writer produced is "Name: ..." or a folded continuation. */
static void
check_header_lines(const struct rb_buf *b, size_t from)
{
	const char *p = b->data + from, *end = b->data + b->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL || nl == p || memchr(p, '\r', (size_t)(nl - p)) || memchr(p, '\0', (size_t)(nl - p)))
			abort();
		if (*p != ' ' && *p != '\t' && memchr(p, ':', (size_t)(nl - p)) == NULL)
			abort();
		p = nl + 1;
	}
}

static void
check_qp(const struct rb_buf *b)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > MF_QP_LINE || (n >= 5 && memcmp(p, "From ", 5) == 0))
			abort();
		p += n + 1;
	}
}

static void
render(const struct tmpl *t)
{
	struct rb_buf msg = { 0 }, v = { 0 }, body = { 0 }, qp = { 0 };
	const char *missing;

	for (size_t i = 0; i < t->nhdr; i++) {
		const struct tmpl_header *h = &t->hdr[i];
		size_t before = msg.len;

		if (h->address) {
			struct mf_mailbox *mb = rb_xcalloc(h->nitems ? h->nitems : 1, sizeof *mb);
			size_t n = 0;

			for (size_t k = 0; k < h->nitems; k++) {
				rb_buf_clear(&v);
				if (tmpl_expand(&h->item[k], TMPL_HEADER, lookup, NULL, &v, &missing) < 0)
					continue;
				mf_utf8_sanitize(&v);
				mf_header_clean(&v);
				if (v.len > 0 && mf_parse_mailbox(v.data, &mb[n]) == 0)
					n++;
			}
			if (n > 0)
				mf_write_mailboxes(&msg, h->name, mb, n);
			for (size_t k = 0; k < n; k++)
				mf_mailbox_free(&mb[k]);
			free(mb);
		} else if (h->nitems > 0) {
			rb_buf_clear(&v);
			if (tmpl_expand(&h->item[0], TMPL_HEADER, lookup, NULL, &v, &missing) == 0) {
				mf_utf8_sanitize(&v);
				mf_header_clean(&v);
				if (v.len > 0)
					mf_write_unstructured(&msg, h->name, v.data);
			}
		}
		if (msg.len > before)
			check_header_lines(&msg, before);
	}
	if (tmpl_expand(&t->body, TMPL_BODY, lookup, NULL, &body, &missing) == 0) {
		mf_utf8_sanitize(&body);
		mf_qp_encode(&qp, body.data ? body.data : "", body.len);
		check_qp(&qp);
	}
	rb_buf_free(&msg);
	rb_buf_free(&v);
	rb_buf_free(&body);
	rb_buf_free(&qp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct tmpl t;
	int fd = memfd_create("fuzz.eml", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(&t, 0, sizeof t);
	if (tmpl_load(&t, path) == 0) {
		(void)tmpl_header(&t, "Subject");
		if (tmpl_check(&t, problem, NULL) == 0)
			render(&t);
		tmpl_free(&t);
	}
	close(fd);
	return 0;
}
