/* dsn: RFC 3464 delivery status notifications (the message/delivery-status part).
 *
 * The part is a per-message group of fields, then one group per recipient, groups
 * separated by empty lines.  Fields are unfolded; address and diagnostic types
 * ("rfc822;", "smtp;", "dns;") are removed.  Also usable on text that merely contains
 * such fields (some servers put them in a text/plain part). */
#ifndef RB_DSN_H
#define RB_DSN_H

#include <stddef.h>

/* The six values of a recipient share one allocation, which final_rcpt starts and
 * dsn_free frees: they may be changed in place but not freed or replaced one by one. */
struct dsn_rcpt {
	char *final_rcpt;   /* Final-Recipient, type removed; "" if absent */
	char *orig_rcpt;    /* Original-Recipient, type removed */
	char *action;       /* lower-cased */
	char *status;       /* the code, comment removed: "5.1.1" */
	char *remote_mta;   /* type removed */
	char *diagnostic;   /* Diagnostic-Code, type removed, one line */
};

/* At most this many recipient groups are kept from one notice (hostile input: memory
 * stays bounded); the groups beyond are counted in more. */
#define DSN_MAX_GROUPS 1024

struct dsn_report {
	char *reporting_mta;
	struct dsn_rcpt *rcpt;
	size_t n;
	size_t more;        /* recipient groups found beyond DSN_MAX_GROUPS, not kept */
};

/* Parse text into r (zeroed by the caller or by dsn_free).  Returns the number of
 * recipient groups found, kept or not. */
size_t dsn_parse(const char *text, size_t len, struct dsn_report *r);
void dsn_free(struct dsn_report *r);

/* Value of one field line after "Name:", with an RFC 3464 type prefix ("rfc822;") removed
 * and white space collapsed; a helper shared with the plain-text scanners. */
char *dsn_strip_type(const char *v);

#endif
