/* Fuzz the archive reader and the bounce engine together, through the same entry points as
 * bounce-extract: the input is written to a memory file, opened with mbox_open (so the
 * reader detects mbox, gzip or a single message itself), and every message it returns is
 * analysed.  The input's length picks the reader's options, so the small read window
 * (separators across reads), the size cap (truncated messages), the header filter and a
 * start offset are all exercised. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bounce.h"
#include "engine.h"
#include "mbox.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
touch(const char *s)
{
	return s == NULL ? 0 : strlen(s);
}

static void
analyse(const struct mbox_msg *m)
{
	struct bounce_result res;
	size_t sum = 0;

	if (m->data == NULL || m->hdr_len > m->len || m->source == NULL || m->file == NULL)
		abort();
	memset(&res, 0, sizeof res);
	bounce_analyse(engine(), m->data, m->len, &res);
	if (res.n > 0 && res.rec == NULL)
		abort();
	if (memchr(res.date, '\0', sizeof res.date) == NULL)
		abort();
	sum += touch(res.mta) + touch(res.message_id) + touch(res.subject);
	for (size_t i = 0; i < res.n; i++) {
		const struct bounce_rec *r = &res.rec[i];

		sum += touch(r->recipient) + touch(r->action) + touch(r->status) + touch(r->smtp_code) +
			touch(r->remote_mta) + touch(r->diagnostic);
	}
	(void)sum;
	bounce_result_free(&res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct mbox_reader *r;
	struct mbox_msg m;
	unsigned mode = (unsigned)(size % 8);
	int fd, rc;
	unsigned long long nmsg = 0;

	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	r = mode == 7 ? mbox_open_at(path, size / 3) : mbox_open(path);
	if (r != NULL) {
		if (mode & 1)
			mbox_set_filter(r, bounce_candidate, engine());
		if (mode & 2) {
			mbox_set_window(r, 1024);
			mbox_set_max_msg(r, 2048 + size % 1024);
		}
		while ((rc = mbox_next(r, &m)) == 1) {
			analyse(&m);
			nmsg++;
		}
		if (mbox_get_stats(r)->messages != nmsg)
			abort();
		mbox_close(r);
	}
	close(fd);
	return 0;
}
