/* Fuzz the message analysis alone, faster than through the archive reader: the input is
 * one message (LF line ends, as the reader hands it out) given to the header filter, the
 * MIME walker, the header decoders and the bounce engine. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "engine.h"
#include "dsn.h"
#include "mime.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
part(const struct mime_part *p, void *arg)
{
	size_t *n = arg;

	if (p->type == NULL || (p->body == NULL && p->body_len > 0) || p->hdr_len > 0x7fffffff)
		abort();
	/* Delivery-status text is what the engine parses; parse every part that way too. */
	if (p->body_len > 0) {
		struct dsn_report r;

		memset(&r, 0, sizeof r);
		dsn_parse(p->body, p->body_len, &r);
		dsn_free(&r);
	}
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "From", "Subject", "Content-Type", "Date", "To" };
	char *msg = malloc(size + 1);
	struct rb_buf v = { 0 }, param = { 0 };
	struct bounce_result res;
	size_t hlen, nparts = 0;

	if (msg == NULL)
		return 0;
	memcpy(msg, data, size);
	msg[size] = '\0';
	hlen = mime_header_len(msg, size);
	if (hlen > size)
		abort();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (mime_header_text(msg, hlen, names[i], &v) && strlen(v.data) > v.len)
			abort();
		if (mime_header(msg, hlen, names[i], &v))
			mime_param(v.data, "boundary", &param);
	}
	(void)bounce_candidate(msg, hlen, engine());
	mime_walk(msg, size, part, &nparts);
	memset(&res, 0, sizeof res);
	bounce_analyse(engine(), msg, size, &res);
	bounce_result_free(&res);
	rb_buf_free(&v);
	rb_buf_free(&param);
	free(msg);
	return 0;
}
