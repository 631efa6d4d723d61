/* rules: the classification rules (share/rules and an admin's -r files) and the reason
 * vocabulary of DESIGN.md.
 *
 * A rule says: when FIELD of a record matches PATTERN (and, optionally, the record is in a
 * named group: its remote host or recipient domain is a host of the group, or another
 * column matches the group's pattern), the reason is REASON.  Rules are tried in the order
 * they were loaded; the first that matches decides.
 *
 * Speed: each field of a record is scanned once by an Aho-Corasick automaton over the
 * literals the rules' patterns require (rx_literals); only rules whose literals occur, and
 * the few without known literals, are run, each a JIT-compiled PCRE2 match (compiled when
 * first needed).  A pattern that is an alternation is run a branch at a time, only the
 * branches whose literals occur.  A record typically costs one pass over its diagnostic
 * and one or two short pattern matches. */
#ifndef RB_RULES_H
#define RB_RULES_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a field the patterns look at; a longer diagnostic is judged by its start. */
#define RULES_SUBJECT_MAX 4096

/* Memory stays bounded whatever the rule files hold: all files together may hold at most
 * RULES_MAX rules and group definitions, no pattern may be longer than RULES_PATTERN_MAX
 * bytes, and their lines and compiled patterns together may take at most RULES_SIZE_MAX
 * bytes.  The shipped rules are about 300, 115 KiB by that count, their longest pattern
 * 2200 bytes.  Once run, a rule costs about 2 KiB (mostly its JIT code) plus up to twice
 * its compiled size: with files at the limits a run stays within 64 MiB (48 MiB
 * measured with rule sets made to cost the most). */
#define RULES_MAX 10000u
#define RULES_PATTERN_MAX 32768u
#define RULES_SIZE_MAX (4u << 20)

struct reason_info {
	const char *name;
	const char *category; /* address, blocked, transient, complaint, ignore */
	int code;             /* pseudo status detail: 911 gives 5.0.911 or 4.0.911; 0 none */
	bool hard;            /* a permanent failure of this reason cannot succeed on retry */
};

/* The vocabulary entry for a reason word, or NULL. */
const struct reason_info *rules_reason(const char *name);

struct rule {
	char *id;
	const struct reason_info *reason;
	char *field;
	char *group;            /* host group name, or NULL */
	char *pattern;
	const char *file;       /* where it was defined, for messages */
	unsigned long long line;
};

struct rules;

struct rules *rules_new(void);
void rules_free(struct rules *rs);
/* Append the rules of a file.  Returns 0, or -1 after reporting "FILE:LINE: problem" (a
 * pattern that does not compile, a limit above exceeded, ...). */
int rules_load(struct rules *rs, const char *path);
/* Parse rules from a string (name is used in messages).  Returns 0 or -1 as above. */
int rules_load_string(struct rules *rs, const char *name, const char *text);
/* Compile every block; call once after the last load.  Returns 0 or -1 (reported). */
int rules_compile(struct rules *rs);
size_t rules_count(const struct rules *rs);

/* Resolve the fields the rules use against a header (column names).  Call before matching
 * and again whenever the header changes.  The virtual field recipient_domain is the part
 * of the recipient column after its last '@'. */
void rules_bind(struct rules *rs, char *const *cols, size_t ncols);
/* Turn the literal prefilter off or on (on by default); answers must not change. */
void rules_prefilter(struct rules *rs, bool on);
/* The first rule matching a record (field values and lengths in header order), or NULL. */
const struct rule *rules_match(struct rules *rs, char *const *field, const size_t *flen);
/* Where the first pattern is defined (file, and line in *line) that gave up on the record
 * last given to rules_match: it hit PCRE2's limit on the work or memory of one match
 * (rx.h), counted as no match, and a later rule decided.  NULL when none gave up. */
const char *rules_gave_up(const struct rules *rs, unsigned long long *line);

#endif
