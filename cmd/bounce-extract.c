/* bounce-extract: find the bounces in mail archives and write one TSV record per
 * (bounce, failed recipient). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "mbox.h"
#include "tsv.h"
#include "util.h"

static const char *const columns[] = {"source", "date", "recipient", "action", "status",
	"smtp_code", "remote_mta", "diagnostic", "mta", "message_id", "subject"};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

static bool sflag;              /* --stats */
static char since[80];          /* --since, as ISO 8601 UTC; "" for none */
static unsigned long long oflag; /* --offset */
static bool offset_given;

struct counts {
	unsigned long long messages, bounces, records, feedback, autoreplies, nonbounces,
	    unparsable, truncated;
	unsigned long long errors; /* problems reported on stderr: the run exits 1 */
};

static void usage(FILE *fp);

/* --since: "2026-11-28", "2026-11-28T23:04", "2026-11-28 23:04:11", optional Z. */
static bool
parse_since(const char *s, char *out, size_t outlen)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) < 3)
		return false;
	s += n;
	if (*s == 'T' || *s == ' ') {
		int k = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &k) < 2)
			return false;
		s += 1 + k;
		if (*s == ':') {
			if (sscanf(s + 1, "%2d%n", &sec, &k) < 1)
				return false;
			s += 1 + k;
		}
	}
	if (*s == 'Z')
		s++;
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
	return true;
}

static int
write_records(const struct mbox_msg *m, const struct bounce_result *res, struct counts *c)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct bounce_rec *r = &res->rec[i];
		const char *f[NCOLUMNS] = {m->source, res->date, r->recipient, r->action, r->status,
			r->smtp_code, r->remote_mta, r->diagnostic, res->mta, res->message_id,
			res->subject};
		if (tsv_write_record(stdout, f, NULL, NCOLUMNS) < 0)
			return -1;
		c->records++;
	}
	return 0;
}

static void
account(const struct bounce_result *res, struct counts *c)
{
	switch (res->kind) {
	case BOUNCE_NONE:
		c->nonbounces++;
		break;
	case BOUNCE_FEEDBACK:
		c->feedback++;
		break;
	case BOUNCE_AUTOREPLY:
		c->autoreplies++;
		break;
	case BOUNCE_FAILURE:
		if (res->n == 1 && res->rec[0].recipient[0] == '\0')
			c->unparsable++;
		else
			c->bounces++;
		break;
	}
}

/* A bounce cut at MBOX_MAX_MSG: said once per message.  A large returned attachment is
 * normal, so the run stays successful when the recipients were still found; a bounce
 * whose recipients were lost with the rest is an error. */
static int
report_truncated(const struct mbox_msg *m, const struct bounce_result *res, struct counts *c)
{
	if (!m->truncated || res->kind == BOUNCE_NONE)
		return RB_EXIT_OK;
	rb_warn("%s: message longer than %u MiB, read its first %u MiB", m->source,
	    MBOX_MAX_MSG >> 20, MBOX_MAX_MSG >> 20);
	if (res->n == 0 || (res->n == 1 && res->rec[0].recipient[0] == '\0')) {
		c->errors++;
		return RB_EXIT_BADINPUT;
	}
	return RB_EXIT_OK;
}

/* --stats, in the order of bounce-extract(1): the messages, the five kinds they fall into,
 * then the records written and the problems met. */
static void
print_stats(const struct counts *c)
{
	rb_stat("messages", c->messages);
	rb_stat("bounces", c->bounces);
	rb_stat("unparsable", c->unparsable);
	rb_stat("feedback", c->feedback);
	rb_stat("autoreplies", c->autoreplies);
	rb_stat("non-bounces", c->nonbounces);
	rb_stat("records", c->records);
	rb_stat("truncated", c->truncated);
	rb_stat("errors", c->errors);
}

/* Read one input; returns the exit status it calls for. */
static int
extract(const char *path, struct bounce_engine *e, struct counts *c)
{
	struct mbox_reader *r = offset_given ? mbox_open_at(path, oflag) : mbox_open(path);
	struct mbox_msg m;
	struct bounce_result res;
	int status = RB_EXIT_OK, got;

	if (r == NULL) {
		c->errors++;
		return RB_EXIT_BADINPUT;
	}
	mbox_set_filter(r, bounce_candidate, e);
	while ((got = mbox_next(r, &m)) == 1) {
		c->messages++;
		if (m.truncated)
			c->truncated++;
		if (m.body_skipped) {
			c->nonbounces++;
			continue;
		}
		bounce_analyse(e, m.data, m.len, &res);
		account(&res, c);
		if (report_truncated(&m, &res, c) != RB_EXIT_OK)
			status = RB_EXIT_BADINPUT;
		if (res.dropped > 0) {
			/* memory stays bounded, but nothing is dropped silently */
			rb_warn("%s: report lists %zu recipients; only the first %zu written", m.source,
			    res.n + res.dropped, res.n);
			c->errors++;
			status = RB_EXIT_BADINPUT;
		}
		/* --since: bounces dated after it; an undated bounce is kept */
		if (since[0] == '\0' || res.date[0] == '\0' || strcmp(res.date, since) > 0) {
			if (write_records(&m, &res, c) < 0) {
				bounce_result_free(&res);
				mbox_close(r);
				return RB_EXIT_FATAL;
			}
		}
		bounce_result_free(&res);
	}
	if (got < 0)
		status = RB_EXIT_BADINPUT;
	/* each unreadable file of a directory, each corrupt stream: one error apiece */
	c->errors += mbox_get_stats(r)->errors;
	mbox_close(r);
	return status;
}

int
main(int argc, char *argv[])
{
	static char outbuf[1 << 16];
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"offset", required_argument, NULL, 'o'},
		{"since", required_argument, NULL, 's'},
		{"stats", no_argument, NULL, 'S'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct counts c = {0};
	struct bounce_engine *e;
	int ch, status = RB_EXIT_OK;
	char *end;

	rb_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return rb_finish(RB_EXIT_OK);
		case 'o':
			oflag = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || *optarg == '-') {
				rb_warn("--offset: not a byte offset: %s", optarg);
				usage(stderr);
				return RB_EXIT_FATAL;
			}
			offset_given = true;
			break;
		case 's':
			if (!parse_since(optarg, since, sizeof since)) {
				rb_warn("--since: not an ISO 8601 date: %s", optarg);
				usage(stderr);
				return RB_EXIT_FATAL;
			}
			break;
		case 'S':
			sflag = true;
			break;
		case 'V':
			rb_print_version();
			return rb_finish(RB_EXIT_OK);
		default:
			usage(stderr);
			return RB_EXIT_FATAL;
		}
	}
	argc -= optind;
	argv += optind;
	if (offset_given && argc != 1) {
		rb_warn("--offset needs exactly one archive");
		usage(stderr);
		return RB_EXIT_FATAL;
	}

	/* records leave in 64 KiB writes: a pipe to the next stage gets a sixteenth of the
	 * system calls of stdio's default */
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	if (tsv_write_record(stdout, columns, NULL, NCOLUMNS) < 0)
		return rb_finish(RB_EXIT_FATAL);
	e = bounce_engine_new();
	if (argc == 0) {
		status = extract("-", e, &c);
	} else {
		for (int i = 0; i < argc && status != RB_EXIT_FATAL; i++) {
			int s = extract(argv[i], e, &c);
			if (s > status)
				status = s;
		}
	}
	bounce_engine_free(e);
	status = rb_finish(status);
	if (sflag)
		print_stats(&c);
	return status;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [--since DATE] [--offset N] [--stats] [ARCHIVE ...]\n"
	    "Find the bounces in mbox, gzip'd mbox, Maildir or .eml ARCHIVEs (stdin when none or\n"
	    "\"-\") and write one TSV record per bounce and failed recipient.\n"
	    "      --since DATE     only bounces dated after DATE (YYYY-MM-DD[THH:MM[:SS]][Z], UTC)\n"
	    "      --offset N       start reading the one ARCHIVE at byte N\n"
	    "      --stats          print the accounting of messages on stderr\n"
	    "  -h, --help           this help\n"
	    "      --version        print the version\n",
	    rb_progname());
}
