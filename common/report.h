/* report: the counts behind bounce-summary, kept in bounded memory, and their three renderings
 * (a text report for a cron mail, a TSV table for programs, one self-contained HTML page).
 *
 * Records are added one at a time from a tsv_reader; columns are found by name and any of
 * them may be missing.  Every table holds at most a fixed number of distinct keys: past that,
 * records are counted in an "(other)" bucket and the report says so. */
#ifndef RB_REPORT_H
#define RB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tsv.h"

/* Distinct keys tracked per table (domains, reasons, corrections, ...). */
#define REPORT_KEY_LIMIT 100000u
/* Distinct bounce messages (sources) counted exactly; past that, counted where the source changes. */
#define REPORT_SOURCE_LIMIT 1000000u
/* Longest value kept from a field; longer ones are cut (hostile input must not cost memory). */
#define REPORT_VALUE_MAX 256u

enum report_format { REPORT_TEXT, REPORT_TSV, REPORT_HTML };

struct report_opts {
	size_t list_max;   /* entries shown in the corrections and needs-a-human lists */
	size_t top_max;    /* entries shown in the domain and reason tables of text and HTML */
	size_t key_limit;  /* distinct keys tracked per table (REPORT_KEY_LIMIT) */
	const char *title; /* heading of the report */
};

struct report;

/* counts_only: keep only the totals, categories and reasons (enough for a --previous run). */
struct report *report_new(const struct report_opts *opts, bool counts_only);
void report_free(struct report *rep);

/* Find the columns of a newly opened input; call once per input before its records. */
void report_begin(struct report *rep, const struct tsv_reader *r);
/* Count the current record of r. */
void report_add(struct report *rep, const struct tsv_reader *r);
/* Count records an input reported as malformed and skipped. */
void report_add_malformed(struct report *rep, unsigned long long n);

/* Write the report; prev (may be NULL) is an earlier run to compare categories and reasons
 * with.  Returns 0, or -1 on a write error. */
int report_write(const struct report *rep, const struct report *prev, enum report_format fmt, FILE *fp);

/* The accounting for --stats on stderr, one counter a line (rb_stat): records, bounce
 * messages, malformed records. */
void report_stats(const struct report *rep);

#endif
