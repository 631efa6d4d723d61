/* mailfmt: writing RFC 5322 / MIME messages that a strict parser accepts and that no value
 * can break: quoted-printable bodies (RFC 2045), encoded words (RFC 2047), folded header
 * lines, Date and Message-ID, mailbox headers, base64, mboxrd quoting.
 *
 * Everything here writes LF line ends (the local convention for mbox, Maildir and .eml
 * files; the mail transport turns them into CRLF).  Header text is pure ASCII on output. */
#ifndef RB_MAILFMT_H
#define RB_MAILFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

/* Longest header line we write before folding, and the RFC 2047 limit for one word. */
#define MF_FOLD_AT 78
#define MF_WORD_MAX 75
/* Longest quoted-printable line, soft line break included. */
#define MF_QP_LINE 76

/* Replace every invalid UTF-8 sequence in b by U+FFFD, so a declared charset never lies. */
void mf_utf8_sanitize(struct rb_buf *b);

/* Make a value fit for a header: control characters (CR and LF included) become spaces,
 * runs of white space collapse to one space, and leading and trailing space goes. */
void mf_header_clean(struct rb_buf *b);

/* Quoted-printable (RFC 2045 6.7) of text with LF line ends: lines of at most MF_QP_LINE
 * characters, soft breaks as "=\n", trailing white space encoded, and a line start that
 * could be taken for an mbox "From " line or an SMTP "." line encoded as well.  The
 * output always ends with a newline. */
void mf_qp_encode(struct rb_buf *out, const char *s, size_t len);

/* Base64 in lines of 76 characters, each ending in a newline. */
void mf_base64(struct rb_buf *out, const void *p, size_t len);

/* Is s a plausible addr-spec: local@domain, ASCII, no white space, no control characters,
 * none of <>()[],;:"\ , a dot-separated domain of letters, digits and hyphens? */
bool mf_addr_plausible(const char *s);

/* Is name (any case) a header that holds addresses: From, To, Cc, Bcc, Reply-To, Sender? */
bool mf_is_address_header(const char *name);

/* A mailbox taken apart: an optional display name (UTF-8) and the addr-spec. */
struct mf_mailbox {
	char *phrase; /* may be empty */
	char *addr;
};
/* Parse "addr", "Name <addr>" or "\"Name\" <addr>" (after mf_header_clean).  The addr-spec
 * is the text inside the last <...> when the value ends with '>'.  Returns 0, or -1 when
 * the address is not plausible (mb is then empty). */
int mf_parse_mailbox(const char *s, struct mf_mailbox *mb);
void mf_mailbox_free(struct mf_mailbox *mb);

/* A header being written: name, then tokens separated by spaces, folded at MF_FOLD_AT. */
struct mf_header {
	struct rb_buf *out;
	size_t col;   /* column of the current line */
	bool first;   /* nothing written after "Name:" yet */
};
void mf_header_begin(struct mf_header *h, struct rb_buf *out, const char *name);
/* One unbreakable token; space before it (or a fold) unless glue is true. */
void mf_header_token(struct mf_header *h, const char *tok, size_t len, bool glue);
void mf_header_end(struct mf_header *h);

/* Encode text as RFC 2047 words (UTF-8; Q or B, whichever is shorter), split at character
 * boundaries, each at most MF_WORD_MAX characters and fitted to the line.  Q words use only
 * the characters RFC 2047 allows in a phrase, so the same words serve Subject and names. */
void mf_header_encoded_words(struct mf_header *h, const char *s, size_t len);

/* A whole unstructured header (Subject and the like) from a cleaned value: plain words
 * when the value is printable ASCII with nothing that looks like an encoded word and no
 * word too long to fold, otherwise encoded words. */
void mf_write_unstructured(struct rb_buf *out, const char *name, const char *value);
/* An address header from mailboxes: names as atoms, quoted strings or encoded words;
 * the addr-spec never encoded. */
void mf_write_mailboxes(struct rb_buf *out, const char *name, const struct mf_mailbox *mb, size_t n);

/* What Date, Message-ID and the mbox "From " line need that depends only on the second or
 * on the process: formatted once per second, not once per message, and random bytes
 * fetched in batches.  One per run; mf_stamp_init before use. */
struct mf_stamp {
	time_t t;            /* the second the texts below are for, once valid */
	bool valid;
	long pid;
	char date[64];       /* "Thu, 28 Nov 2026 23:04:11 +0000" */
	char idtime[16];     /* "20261128230411" (UTC) */
	char mboxtime[32];   /* "Thu Nov 28 23:04:11 2026" (UTC) */
	unsigned char rnd[64];
	size_t nrnd;         /* unused bytes at the start of rnd */
};
void mf_stamp_init(struct mf_stamp *st);

/* "Thu, 28 Nov 2026 23:04:11 +0000" for t, in local time with its offset. */
void mf_stamp_date(struct mf_stamp *st, struct rb_buf *out, time_t t);
void mf_date(struct rb_buf *out, time_t t);
/* "<YYYYMMDDhhmmss.PID.SEQ.RANDOM@domain>" */
void mf_stamp_message_id(struct mf_stamp *st, struct rb_buf *out, const char *domain, time_t t,
	unsigned long seq);
void mf_message_id(struct rb_buf *out, const char *domain, time_t t, unsigned long seq);

/* A MIME parameter (RFC 2045/2231): name="value" when the value is printable ASCII without
 * quotes or backslashes, otherwise name*=utf-8''percent-encoded, split into continuations
 * (name*0*=, name*1*=, ...) so every line stays short.  Written as "; " tokens of h. */
void mf_header_param(struct mf_header *h, const char *name, const char *value);

/* Append msg to out as one mboxrd message: the "From " line, the message with every line
 * matching ^>*From  given one more '>', and an empty line. */
void mf_stamp_mbox_append(struct mf_stamp *st, struct rb_buf *out, const char *sender, time_t t,
	const char *msg, size_t len);
void mf_mbox_append(struct rb_buf *out, const char *sender, time_t t, const char *msg, size_t len);

#endif
