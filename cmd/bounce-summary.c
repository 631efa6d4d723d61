/* bounce-summary: a report on a bounce record stream: counts by category, reason and domain,
 * the domains that block most, the suggested corrections and the addresses that need a human. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "tsv.h"
#include "util.h"

static enum report_format formatflag = REPORT_TEXT;
static const char *previousflag;
static bool statsflag;
enum { OPT_VERSION = 256 };

static struct report_opts opts = { 50, 10, REPORT_KEY_LIMIT, NULL };

static void usage(FILE *fp);

/* Parse a count option "0".."1000000000"; exits with a usage error otherwise. */
static size_t
parse_count(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > 1000000000ULL) {
		rb_warn("%s: \"%s\" is not a number from 0 to 1000000000", opt, s);
		usage(stderr);
		exit(RB_EXIT_FATAL);
	}
	return (size_t)v;
}

/* Count the records of one input.  Returns RB_EXIT_OK, RB_EXIT_BADINPUT when records were
 * malformed, or RB_EXIT_FATAL when the input could not be opened or read. */
static int
summarise(struct report *rep, const char *path)
{
	struct tsv_reader r;
	FILE *fp = stdin;
	int rc, status = RB_EXIT_OK;

	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL) {
		rb_warn_at(path, 0, "cannot open:");
		return RB_EXIT_FATAL;
	}
	rc = tsv_open(&r, fp, rb_display_name(path));
	if (rc > 0) {
		report_begin(rep, &r);
		while ((rc = tsv_read(&r)) > 0)
			report_add(rep, &r);
		report_add_malformed(rep, r.nbad);
		if (r.nbad > 0)
			status = RB_EXIT_BADINPUT;
	}
	if (rc < 0)
		status = RB_EXIT_FATAL;
	tsv_close(&r);
	if (fp != stdin)
		fclose(fp);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "previous", required_argument, NULL, 'p' },
		{ "list", required_argument, NULL, 'n' },
		{ "top", required_argument, NULL, 't' },
		{ "title", required_argument, NULL, 'T' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct report *rep, *prev = NULL;
	int ch, status = RB_EXIT_OK;

	rb_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "f:p:n:t:T:sh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "text") == 0)
				formatflag = REPORT_TEXT;
			else if (strcmp(optarg, "tsv") == 0)
				formatflag = REPORT_TSV;
			else if (strcmp(optarg, "html") == 0)
				formatflag = REPORT_HTML;
			else {
				rb_warn("unknown format \"%s\": use text, tsv or html", optarg);
				usage(stderr);
				return RB_EXIT_FATAL;
			}
			break;
		case 'p': previousflag = optarg; break;
		case 'n': opts.list_max = parse_count("-n", optarg); break;
		case 't': opts.top_max = parse_count("-t", optarg); break;
		case 'T': opts.title = optarg; break;
		case 's': statsflag = true; break;
		case 'h': usage(stdout); return rb_finish(RB_EXIT_OK);
		case OPT_VERSION: rb_print_version(); return rb_finish(RB_EXIT_OK);
		default: usage(stderr); return RB_EXIT_FATAL;
		}
	}
	argc -= optind;
	argv += optind;

	if (previousflag != NULL) {
		int ps;

		prev = report_new(&opts, true);
		ps = summarise(prev, previousflag);
		if (ps == RB_EXIT_FATAL) {
			report_free(prev);
			return RB_EXIT_FATAL;
		}
		status = rb_worse(status, ps);
	}
	rep = report_new(&opts, false);
	if (argc == 0)
		status = rb_worse(status, summarise(rep, "-"));
	for (int i = 0; i < argc; i++)
		status = rb_worse(status, summarise(rep, argv[i]));
	if (status == RB_EXIT_FATAL)
		status = RB_EXIT_BADINPUT; /* an unreadable input is reported; the rest is summarised */
	if (report_write(rep, prev, formatflag, stdout) < 0) {
		rb_warn("write error on stdout:");
		status = RB_EXIT_FATAL;
	}
	status = rb_finish(status);
	if (statsflag)
		report_stats(rep);
	report_free(rep);
	report_free(prev);
	return status;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-s] [-f text|tsv|html] [-p PREVIOUS] [-n N] [-t N] [-T TITLE] [FILE ...]\n"
		"Summarise a bounce record stream (TSV, as written by bounce-classify or bounce-join).\n"
		"  -f, --format FMT     text (default: for a cron mail), tsv (for programs) or html\n"
		"  -p, --previous FILE  an earlier run's records: show the change per category and reason\n"
		"  -n, --list N         corrections and addresses needing a human shown (default 50)\n"
		"  -t, --top N          domains shown in the domain tables (default 10)\n"
		"  -T, --title TITLE    heading of the report (default \"Bounce summary\")\n"
		"  -s, --stats          print the accounting of the input to stderr\n"
		"  -h, --help           this help\n"
		"      --version        print the version\n",
		rb_progname());
}
