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

/* A record's recipient, action, status, smtp_code and remote_mta share one block, which
 * recipient starts; diagnostic is a block of its own.  Only bounce_result_free frees them. */
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
	size_t dropped;      /* recipients the notice lists beyond the BOUNCE_MAX_RCPT kept */
};

/* At most this many records are made from one notice (hostile input: memory and time
 * stay bounded); the others are counted in bounce_result.dropped for the caller to report. */
#define BOUNCE_MAX_RCPT 256

/* The engine: the marker tables compiled once, and buffers reused from one message to the
 * next.  Build one with bounce_engine_new before the first message and pass it to every
 * call; it is not shared between threads.  bounce_engine_free(NULL) does nothing. */
struct bounce_engine;
struct bounce_engine *bounce_engine_new(void);
void bounce_engine_free(struct bounce_engine *e);

/* The archive reader's filter (mbox_set_filter(r, bounce_candidate, engine)): from the
 * header block alone, can this be a bounce, a feedback report or an auto-reply?  Generous:
 * a false yes costs only time. */
bool bounce_candidate(const char *hdr, size_t len, void *engine);

/* Analyse one message (LF line ends); res is filled and must be freed. */
void bounce_analyse(struct bounce_engine *e, const char *msg, size_t len,
    struct bounce_result *res);
void bounce_result_free(struct bounce_result *res);

/* Date header value to ISO 8601 UTC in out (at least 21 bytes); false if unparsable. */
bool bounce_iso_date(const char *value, char *out, size_t outlen);

#endif
