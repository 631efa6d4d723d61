/* mime: RFC 5322 headers, RFC 2045 transfer encodings, RFC 2046 multipart walking and
 * RFC 2047 encoded words, everything turned into UTF-8 text with LF line ends.
 *
 * Input is a message as the archive reader hands it out (LF line ends).  Nothing here
 * trusts the input: bad base64, a missing boundary, an unknown charset or nesting deeper
 * than MIME_MAX_DEPTH all degrade to "less text", never to a failure. */
#ifndef RB_MIME_H
#define RB_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ascii.h"
#include "util.h"

/* Multiparts nested deeper than this are not opened (hostile input). */
#define MIME_MAX_DEPTH 12
/* A decoded text part longer than this is cut, so one part cannot use unbounded memory. */
#define MIME_MAX_PART (4u << 20)

/* Does the word hold a byte below 0x0e (a NUL, a tab, a LF, a CR or another control
 * byte)?  Eight bytes tested at once; the test is exact for a bound of at most 0x80. */
static inline bool
mime_word_has_control(uint64_t w)
{
	return ((w - 0x0e0e0e0e0e0e0e0eu) & ~w & 0x8080808080808080u) != 0;
}

/* Are a[0..n) and b[0..n) the same, ASCII letters compared without case?  (NUL bytes are
 * bytes like the others.) */
static inline bool
mime_same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i] && ascii_tolower(a[i]) != ascii_tolower(b[i]))
			return false;
	return true;
}

/* Length of the header block at msg (up to and including the empty line after it; the
 * whole input when there is no empty line). */
size_t mime_header_len(const char *msg, size_t len);

/* The first header field NAME (case-insensitive) in a header block, unfolded: continuation
 * line breaks removed, leading and trailing white space trimmed.  Raw (not RFC 2047
 * decoded).  Returns false when absent.  Inline, so that the length of a constant name is
 * known when the program is compiled, not counted at every call. */
bool mime_header_n(const char *hdr, size_t len, const char *name, size_t nlen,
    struct rb_buf *out);

static inline bool
mime_header(const char *hdr, size_t len, const char *name, struct rb_buf *out)
{
	return mime_header_n(hdr, len, name, strlen(name), out);
}

/* The value of the field whose line starts at hdr[at], its name nlen bytes long (hdr[at +
 * nlen] is the ':'), appended to out unfolded and trimmed as mime_header gives it, with a
 * NUL after it (not counted in out->len).  For a caller that has found the line already:
 * the value is read without a second search. */
void mime_field_append(const char *hdr, size_t len, size_t at, size_t nlen, struct rb_buf *out);

/* Where the first field of each of n names starts in a header block, found in one pass:
 * at[k] is the offset of the line of names[k], or SIZE_MAX when it is absent.  Then
 * mime_header(hdr + at[k], len - at[k], names[k], out) reads it as from the whole block. */
void mime_header_lines(const char *hdr, size_t len, const char *const *names, size_t n,
    size_t *at);

/* The same, with RFC 2047 encoded words decoded to UTF-8 and white space collapsed. */
bool mime_header_text(const char *hdr, size_t len, const char *name, struct rb_buf *out);

/* The lines of a header block, found once for a caller that asks it for many fields:
 * each field is then found by a test of each line, not a new walk of the block.  The
 * answers are mime_header's (and mime_header_text's) on the whole block; a block of more
 * lines than the index holds is walked as mime_header walks it. */
#define MIME_FIELDS_MAX 128
struct mime_fields {
	const char *hdr;
	size_t len;
	size_t n;                          /* lines indexed */
	bool whole;                        /* every line of the block is indexed */
	uint32_t start[MIME_FIELDS_MAX];   /* where each line starts */
	uint32_t end[MIME_FIELDS_MAX];     /* where it ends: its LF, or the block's end */
};

void mime_fields_index(struct mime_fields *f, const char *hdr, size_t len);
/* mime_header (text false) or mime_header_text (text true) of the indexed block. */
bool mime_fields_get_n(const struct mime_fields *f, const char *name, size_t nlen, bool text,
    struct rb_buf *out);

static inline bool
mime_field(const struct mime_fields *f, const char *name, struct rb_buf *out)
{
	return mime_fields_get_n(f, name, strlen(name), false, out);
}

static inline bool
mime_field_text(const struct mime_fields *f, const char *name, struct rb_buf *out)
{
	return mime_fields_get_n(f, name, strlen(name), true, out);
}

/* Append the decoded bytes of base64 or quoted-printable text to out.  Invalid input is
 * skipped (base64) or kept literally (quoted-printable). */
void mime_b64_decode(const char *in, size_t len, struct rb_buf *out);
void mime_qp_decode(const char *in, size_t len, struct rb_buf *out);

/* Append in, converted from charset to UTF-8.  An unknown, absent or lying charset falls
 * back to a guess (UTF-8 if valid, ISO-2022-JP when it has its escapes, else Windows-1252). */
void mime_to_utf8(const char *charset, const char *in, size_t len, struct rb_buf *out);

/* Append a header value with RFC 2047 encoded words decoded to UTF-8 (white space between
 * adjacent encoded words dropped, as the RFC says). */
void mime_decode_2047(const char *in, size_t len, struct rb_buf *out);

/* The value of a parameter (boundary, charset, report-type...) of a structured field value
 * such as a Content-Type, unquoted.  Returns false when absent. */
bool mime_param(const char *value, const char *name, struct rb_buf *out);

/* The media type of a Content-Type value, lower-cased ("text/plain" when empty). */
void mime_media_type(const char *value, struct rb_buf *out);

/* True if s is valid UTF-8. */
bool mime_valid_utf8(const char *s, size_t len);

/* One leaf of the MIME tree, handed to the walker's callback. */
struct mime_part {
	const char *type;   /* lower-cased media type, "text/plain" by default */
	const char *hdr;    /* the part's header block (raw) */
	size_t hdr_len;
	const char *body;   /* text parts: decoded to UTF-8; message/ and others: decoded bytes
	                     * (body_len of them, not NUL-terminated) */
	size_t body_len;
	int depth;          /* 0 for the message itself */
	bool attached;      /* inside an attached message (message/rfc822) */
};

typedef void (*mime_part_fn)(const struct mime_part *p, void *arg);

/* Call fn for every leaf part of the message in document order.  message/rfc822 and
 * text/rfc822-headers parts are handed over whole (body = the enclosed message or header
 * block) and not descended into. */
void mime_walk(const char *msg, size_t len, mime_part_fn fn, void *arg);

/* The same walk with buffers kept from one message to the next: for a caller that walks
 * many messages.  The callback must not start another walk with the same walker.
 * mime_walker_free(NULL) does nothing. */
struct mime_walker;
struct mime_walker *mime_walker_new(void);
void mime_walker_walk(struct mime_walker *w, const char *msg, size_t len, mime_part_fn fn,
    void *arg);
void mime_walker_free(struct mime_walker *w);

#endif
