/* mbox: the archive reader.  One interface over an mbox (mboxo or mboxrd quoting), a gzip'd
 * mbox or message (detected by its magic bytes, not its name), a Maildir (cur/ and new/), a
 * directory of message files, a single message file (.eml) and stdin ("-").
 *
 * Every message is returned, so the caller can account for all of them.  The data handed
 * out always has LF line ends (CRLF and lone CR are converted), the mbox "From " line is
 * removed and mboxrd ">From " quoting undone.  Memory stays bounded: a message longer than
 * MBOX_MAX_MSG is cut there and flagged. */
#ifndef RB_MBOX_H
#define RB_MBOX_H

#include <stdbool.h>
#include <stddef.h>

#define MBOX_MAX_MSG (8u << 20)
#define MBOX_MAX_ENVELOPE 1000u

struct mbox_msg {
	const char *data;          /* the message (headers, blank line, body); valid until the next call */
	size_t len;
	size_t hdr_len;            /* length of the header block, including the blank line after it */
	const char *file;          /* display name of the file the message came from */
	unsigned long long offset; /* byte offset of the message in its (decompressed) file */
	const char *source;        /* DESIGN.md's source column: "FILE:OFFSET" in an mbox, else the path */
	bool truncated;            /* longer than MBOX_MAX_MSG: data holds the first part (also set
	                            * on the last message of an input that ends in an error) */
	bool body_skipped;         /* the filter declined it: data holds only the header block */
	const char *envelope;      /* the mbox "From " line without "From " and line end ("" if none),
	                            * at most MBOX_MAX_ENVELOPE bytes */
	size_t envelope_len;
};

/* Decides from the header block (LF line ends) whether a message's body is wanted.
 * Returning false lets the reader skip the body without copying or converting it. */
typedef bool (*mbox_filter_fn)(const char *hdr, size_t len, void *arg);

struct mbox_reader;

struct mbox_stats {
	unsigned long long files;     /* files opened (a Maildir counts each message file) */
	unsigned long long messages;  /* messages returned */
	unsigned long long truncated; /* messages cut at MBOX_MAX_MSG */
	unsigned long long errors;    /* read errors, corrupt gzip streams, unreadable files (reported) */
	unsigned long long bytes;     /* bytes read (decompressed) */
};

/* Open an input: a path or "-" for stdin.  Returns NULL after reporting when it cannot
 * be opened at all. */
struct mbox_reader *mbox_open(const char *path);
/* The same, starting at a byte offset of the (decompressed) file, which should be a message
 * boundary recorded by an earlier run; offsets in the returned messages stay absolute. */
struct mbox_reader *mbox_open_at(const char *path, unsigned long long offset);
void mbox_set_filter(struct mbox_reader *r, mbox_filter_fn fn, void *arg);
/* Reader options, to be set before the first mbox_next: the largest message kept (default
 * and ceiling MBOX_MAX_MSG) and the size of the read window (default 1 MiB, at least 1 KiB;
 * small windows let tests put separators across reads). */
void mbox_set_max_msg(struct mbox_reader *r, size_t max);
void mbox_set_window(struct mbox_reader *r, size_t size);
/* 1: a message in *m; 0: end of this input; -1: an error was reported and the input ends
 * here (messages before it were returned).  In a directory an unreadable or corrupt file is
 * reported and skipped, the others are still read, and the directory then ends with -1. */
int mbox_next(struct mbox_reader *r, struct mbox_msg *m);
const struct mbox_stats *mbox_get_stats(const struct mbox_reader *r);
void mbox_close(struct mbox_reader *r);

/* The scan that walks a message the reader reads in place (one that lies wholly in its
 * window): the index of the first CR of p[0..len), or of the first LF followed inside p by
 * 'F' (a separator, perhaps) or '>' (a quoted "From " line, perhaps), whichever comes
 * first; len when there is none.  Exported so that the tests can compare its versions:
 * mbox_scan_marks_for returns the version for a path, or NULL when this build or processor
 * lacks it; the reader uses the widest there is. */
typedef size_t (*mbox_scan_fn)(const char *p, size_t len);
enum mbox_scan_path { MBOX_SCAN_PORTABLE, MBOX_SCAN_SSE2, MBOX_SCAN_AVX2, MBOX_SCAN_AVX512 };
mbox_scan_fn mbox_scan_marks_for(enum mbox_scan_path path);

#endif
