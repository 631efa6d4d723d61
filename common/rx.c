#define PCRE2_CODE_UNIT_WIDTH 8
#include "rx.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

struct rx {
	pcre2_code *code;
	pcre2_match_data *md;
};

struct rx *
rx_compile(const char *pattern, size_t len, char *err, size_t errsize, size_t *erroff)
{
	int errcode;
	PCRE2_SIZE off;
	pcre2_code *code;
	struct rx *rx;

	code = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_DUPNAMES,
		&errcode, &off, NULL);
	if (code == NULL) {
		if (err != NULL && errsize > 0 &&
		    pcre2_get_error_message(errcode, (PCRE2_UCHAR *)err, errsize) < 0)
			snprintf(err, errsize, "PCRE2 error %d", errcode);
		if (erroff != NULL)
			*erroff = off;
		return NULL;
	}
	/* JIT is an optimisation: where it is unavailable the interpreter gives the same answers. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	rx = rb_xmalloc(sizeof *rx);
	rx->code = code;
	rx->md = pcre2_match_data_create(1, NULL);
	if (rx->md == NULL)
		rb_die(RB_EXIT_FATAL, "out of memory");
	return rx;
}

int
rx_match(struct rx *rx, const char *subject, size_t len, const char **mark)
{
	int rc = pcre2_match(rx->code, (PCRE2_SPTR)subject, len, 0, 0, rx->md, NULL);

	if (mark != NULL)
		*mark = rc >= 0 ? (const char *)pcre2_get_mark(rx->md) : NULL;
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void
rx_free(struct rx *rx)
{
	if (rx == NULL)
		return;
	pcre2_match_data_free(rx->md);
	pcre2_code_free(rx->code);
	free(rx);
}
