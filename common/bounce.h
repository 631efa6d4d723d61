/* bounce: is this message a bounce, and what does it say about each recipient.
 *
 * Three sources, tried in order: an RFC 3464 report (message/delivery-status), an RFC 5965
 * feedback report, then the plain text of the notice, read with a table of markers
 * (where the returned message starts, which software wrote it, which words mean failure)
 * and a general scanner for recipient lines ("addr:", "<addr>", ">>> addr", "RCPT TO:<addr>",
 * "could not be delivered to: addr" ...).  RFC 3834 auto-replies are recognised too. */
#ifndef RB_BOUNCE_H
#define RB_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>

enum bounce_kind {
	BOUNCE_NONE,      /* not a bounce: no record */
	BOUNCE_FAILURE,   /* a delivery status notice (records may have an empty recipient) */
	BOUNCE_FEEDBACK,  /* an RFC 5965 feedback report */
	BOUNCE_AUTOREPLY  /* an RFC 3834 automatic reply */
};

struct bounce_rec {
	char *recipient;
	char *action;
	char *status;
	char *smtp_code;
	char *remote_mta;
	char *diagnostic;
};

struct bounce_result {
	enum bounce_kind kind;
	char date[32];       /* ISO 8601 UTC, "" if the Date header does not parse */
	char *mta;
	char *message_id;    /* of the returned (original) message */
	char *subject;
	struct bounce_rec *rec;
	size_t n;
};

/* The archive reader's filter: from the header block alone, can this be a bounce, a
 * feedback report or an auto-reply?  Generous: a false yes costs only time. */
bool bounce_candidate(const char *hdr, size_t len, void *arg);

/* Analyse one message (LF line ends); res is filled and must be freed. */
void bounce_analyse(const char *msg, size_t len, struct bounce_result *res);
void bounce_result_free(struct bounce_result *res);

/* Date header value to ISO 8601 UTC in out (at least 21 bytes); false if unparsable. */
bool bounce_iso_date(const char *value, char *out, size_t outlen);

#endif
