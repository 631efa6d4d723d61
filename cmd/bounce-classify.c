/* bounce-classify: add reason, category, hard, suggestion and rule to a bounce record stream. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "rules.h"
#include "tsv.h"
#include "typo.h"
#include "util.h"

enum { OPT_VERSION = 256, OPT_STATS };

/* Options. */
static const char *domainsflag; /* -d */
static bool statsflag;          /* --stats */

/* The columns this program writes; status is filled in place only when the input has one. */
static const char *const owned[] = { "reason", "category", "hard", "suggestion", "rule", "status" };
enum { O_REASON, O_CATEGORY, O_HARD, O_SUGGESTION, O_RULE, O_STATUS, O_COUNT };

/* Input columns the classification reads. */
struct cols {
	ssize_t recipient, action, status, smtp_code, diagnostic;
};

struct counts {
	unsigned long long in, out, bad;
	unsigned long long gave_up;  /* records on which a rule's pattern gave up */
};

static void usage(FILE *fp);

/* A bounce is soft when the sender's MTA will try again: a delay or a 4xx reply. */
static bool
is_soft(const char *action, const char *status, const char *smtp_code)
{
	return strcmp(action, "delayed") == 0 || status[0] == '4' || smtp_code[0] == '4';
}

/* The pseudo status of a reason (5.0.911), for records that carry none. */
static void
pseudo_status(const struct reason_info *ri, bool soft, char *buf, size_t size)
{
	if (ri->code == 0) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, size, "%c.0.%d", soft || strcmp(ri->name, "expired") == 0 ? '4' : '5', ri->code);
}

/* "local@corrected.domain" when the recipient's domain looks mistyped, else "". */
static void
suggestion(struct typo *typo, const char *recipient, struct rb_buf *out)
{
	const char *at = strrchr(recipient, '@'), *fixed;

	rb_buf_clear(out);
	if (typo == NULL || at == NULL || at == recipient)
		return;
	fixed = typo_suggest(typo, at + 1, strlen(at + 1));
	if (fixed == NULL)
		return;
	rb_buf_add(out, recipient, (size_t)(at + 1 - recipient));
	rb_buf_adds(out, fixed);
}

/* --stats, in the order of bounce-classify(1): records in = records out + malformed. */
static void
print_stats(const struct counts *n)
{
	rb_stat("records in", n->in);
	rb_stat("records out", n->out);
	rb_stat("malformed", n->bad);
	rb_stat("patterns gave up", n->gave_up);
}

/* A pattern that gave up on the record counted as no match: the reason may not be the one
 * its rule meant, so the admin is told which pattern, and which record. */
static void
report_gave_up(const struct rules *rs, const struct tsv_reader *r, struct counts *n)
{
	unsigned long long line;
	const char *file = rules_gave_up(rs, &line);

	if (file == NULL)
		return;
	rb_warn_at(r->name, r->lineno, "the pattern at %s:%llu gave up (too much backtracking); a later rule decided",
	    rb_display_name(file), line);
	n->gave_up++;
}

static int
classify_record(struct rules *rs, struct typo *typo, const struct tsv_reader *r, const struct cols *c,
	const struct tsv_plan *plan, struct rb_buf *sug)
{
	const struct rule *rule = rules_match(rs, r->field, r->flen);
	const struct reason_info *ri = rule ? rule->reason : rules_reason("undefined");
	const char *status = tsv_get(r, c->status), *vals[O_COUNT];
	bool soft = is_soft(tsv_get(r, c->action), status, tsv_get(r, c->smtp_code));
	bool hard = ri->hard && !soft;
	char pseudo[16];

	vals[O_REASON] = ri->name;
	vals[O_CATEGORY] = strcmp(ri->name, "notaccept") == 0 && !hard ? "transient" : ri->category;
	vals[O_HARD] = hard ? "1" : "0";
	suggestion(strcmp(vals[O_CATEGORY], "address") == 0 ? typo : NULL, tsv_get(r, c->recipient), sug);
	vals[O_SUGGESTION] = sug->data ? sug->data : "";
	vals[O_RULE] = rule ? rule->id : "none";
	/* Never overwrite a status; fill an empty one with the reason's pseudo code, except for
	 * "undefined", which says nothing a later run could use. */
	if (status[0] == '\0' && rule != NULL)
		pseudo_status(ri, soft, pseudo, sizeof pseudo);
	else
		snprintf(pseudo, sizeof pseudo, "%s", "");
	vals[O_STATUS] = status[0] != '\0' ? status : pseudo;
	return tsv_plan_write(plan, r, vals, NULL, stdout);
}

/* Classify one input.  The first input's header is the output header; a later input must
 * have the same columns.  Returns an exit status. */
static int
classify_file(const char *path, struct rules *rs, struct typo *typo, struct tsv_plan *plan,
	char ***header, size_t *nheader, struct counts *n)
{
	const char *name = rb_display_name(path);
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct tsv_reader r;
	struct rb_buf sug = { 0 };
	struct cols c;
	int rc, status = RB_EXIT_OK;

	if (fp == NULL) {
		rb_warn_at(name, 0, "cannot open:");
		return RB_EXIT_BADINPUT;
	}
	rc = tsv_open(&r, fp, name);
	if (rc <= 0) {
		status = rc < 0 ? RB_EXIT_BADINPUT : RB_EXIT_OK;
		goto done;
	}
	c = (struct cols){ tsv_column(&r, "recipient"), tsv_column(&r, "action"), tsv_column(&r, "status"),
		tsv_column(&r, "smtp_code"), tsv_column(&r, "diagnostic") };
	if (c.status < 0 && c.diagnostic < 0 && c.action < 0 && c.smtp_code < 0) {
		rb_warn_at(name, r.lineno, "no column to classify by: want status, diagnostic, smtp_code or action");
		status = RB_EXIT_FATAL;
		goto done;
	}
	if (*header == NULL) {
		*nheader = r.ncols;
		*header = rb_xcalloc(r.ncols, sizeof **header);
		for (size_t i = 0; i < r.ncols; i++)
			(*header)[i] = rb_xstrdup(r.cols[i]);
		tsv_plan_init(plan, &r, owned, c.status >= 0 ? O_COUNT : O_COUNT - 1);
		if (tsv_plan_write_header(plan, &r, stdout) < 0) {
			rb_warn("write error:");
			status = RB_EXIT_FATAL;
			goto done;
		}
	} else if (!tsv_same_header(&r, *header, *nheader)) {
		rb_warn_at(name, r.lineno, "header differs from the first input's; file skipped");
		status = RB_EXIT_BADINPUT;
		goto done;
	}
	rules_bind(rs, r.cols, r.ncols);
	while ((rc = tsv_read(&r)) > 0) {
		if (classify_record(rs, typo, &r, &c, plan, &sug) < 0) {
			rb_warn("write error:");
			status = RB_EXIT_FATAL;
			goto done;
		}
		report_gave_up(rs, &r, n);
		n->out++;
	}
	if (rc < 0 || r.nbad > 0)
		status = RB_EXIT_BADINPUT;
done:
	n->in += r.nrecords + r.nbad;
	n->bad += r.nbad;
	rb_buf_free(&sug);
	tsv_close(&r);
	if (fp != stdin)
		fclose(fp);
	return status;
}

static struct typo *
load_domains(const char *list)
{
	char *path = rb_share_path("domains");
	struct typo *typo = typo_new();

	if (typo_load_known(typo, path) < 0 || (list != NULL && typo_load_list(typo, list) < 0)) {
		free(path);
		typo_free(typo);
		return NULL;
	}
	free(path);
	return typo;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "domains", required_argument, NULL, 'd' },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	static char outbuf[1 << 16];
	struct rules *rs;
	struct typo *typo;
	struct tsv_plan plan = { 0 };
	struct counts n = { 0 };
	char *shipped, **header = NULL;
	size_t nheader = 0;
	int ch, status = RB_EXIT_OK;
	bool ok;

	rb_init(argv[0]);
	rs = rules_new();
	while ((ch = getopt_long(argc, argv, "d:hr:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': domainsflag = optarg; break;
		case 'r':
			/* Admin rules are loaded first, so they take precedence over the shipped ones. */
			if (rules_load(rs, optarg) < 0) {
				rules_free(rs);
				return RB_EXIT_FATAL;
			}
			break;
		case OPT_STATS: statsflag = true; break;
		case OPT_VERSION: rules_free(rs); rb_print_version(); return rb_finish(RB_EXIT_OK);
		case 'h': rules_free(rs); usage(stdout); return rb_finish(RB_EXIT_OK);
		default: rules_free(rs); usage(stderr); return RB_EXIT_FATAL;
		}
	}
	argc -= optind;
	argv += optind;

	shipped = rb_share_path("rules");
	ok = rules_load(rs, shipped) == 0 && rules_compile(rs) == 0;
	free(shipped);
	if (!ok || (typo = load_domains(domainsflag)) == NULL) {
		rules_free(rs);
		return RB_EXIT_FATAL;
	}

	/* One write a record: a larger buffer, fewer system calls, and no lock taken on each
	 * (one thread). */
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	if (argc == 0) {
		static char *dash[] = { "-", NULL };

		argc = 1;
		argv = dash;
	}
	for (int i = 0; i < argc && status != RB_EXIT_FATAL; i++) {
		status = rb_worse(status, classify_file(argv[i], rs, typo, &plan, &header, &nheader, &n));
	}
	for (size_t i = 0; i < nheader; i++)
		free(header[i]);
	free(header);
	tsv_plan_free(&plan);
	typo_free(typo);
	rules_free(rs);
	status = rb_finish(status);
	if (statsflag)
		print_stats(&n);
	return status;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-r RULES]... [-d RECIPIENTS] [--stats] [FILE ...]\n"
		"Add reason, category, hard, suggestion and rule columns to a bounce record stream.\n"
		"  -r, --rules FILE     rules tried before the shipped ones (repeatable)\n"
		"  -d, --domains FILE   recipient list (CSV or addresses) whose domains guide typo fixes\n"
		"      --stats          print records in, out and malformed on stderr\n"
		"  -h, --help           this help\n"
		"      --version        print the version\n",
		rb_progname());
}
