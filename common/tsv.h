/* tsv: the record stream between the filters (DESIGN.md, "The record stream").
 *
 * The writer is the only place that escapes and the reader the only place that
 * unescapes: TAB, LF, CR and backslash inside a field travel as \t \n \r \\. */
#ifndef RB_TSV_H
#define RB_TSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct rb_buf;

/* A record longer than this is reported and skipped, so memory stays bounded. */
#define TSV_MAX_LINE (16u << 20)

struct tsv_reader {
	FILE *fp;
	const char *name;          /* for messages: "stdin" or the path */
	unsigned long long lineno; /* line of the current record */
	/* input buffering (private): records are split in place in this buffer */
	char *in;
	size_t inlen, inpos, incap;
	unsigned long long inoff;  /* offset in the stream of in[0] */
	size_t chunk;              /* bytes asked of fp at a time */
	bool eof;
	bool warned_cr;
	/* the header */
	size_t ncols;
	char **cols;
	/* the current record: unescaped, NUL-terminated fields and their lengths, valid until
	 * the next tsv_read; tsv_plan_write writes them as they were read (a value to change
	 * goes in its vals, not in place) */
	char **field;
	size_t *flen;
	bool plain;                /* no field holds a byte the writer escapes (private) */
	/* accounting */
	unsigned long long nrecords; /* records returned */
	unsigned long long nbad;     /* records reported and skipped */
};

/* Start reading a stream: reads and checks the header line.  Returns 1 when a header was
 * read, 0 on an empty stream (nothing to do), -1 on an error (reported). */
int tsv_open(struct tsv_reader *r, FILE *fp, const char *name);
/* tsv_open reading chunk bytes at a time (tests use small sizes to reach the refill paths). */
int tsv_open_size(struct tsv_reader *r, FILE *fp, const char *name, size_t chunk);
/* Next record: 1 a record, 0 end of stream, -1 read error (reported).  Malformed records
 * (wrong field count, over-long line, bad escape) are reported, counted in nbad and skipped. */
int tsv_read(struct tsv_reader *r);
void tsv_close(struct tsv_reader *r);
/* The input already read after the current record: raw (not split, not unescaped), and it
 * may end inside a record; *offset is where it starts in the stream.  A caller may look
 * ahead in it (to prefetch, say), not change it; it is valid until the next tsv_read. */
const char *tsv_ahead(const struct tsv_reader *r, size_t *len, unsigned long long *offset);

/* A name as the record contract writes it: one or more of a-z, 0-9 and '_'. */
bool tsv_is_column_name(const char *s);
/* Whether r's header has exactly these columns, in this order: a filter reading several
 * inputs writes one header, so every later input must match the first. */
bool tsv_same_header(const struct tsv_reader *r, char *const *cols, size_t ncols);
/* Index of a column by name, or -1. */
ssize_t tsv_column(const struct tsv_reader *r, const char *name);
/* Value of a column of the current record, "" when the column is absent (idx < 0). */
const char *tsv_get(const struct tsv_reader *r, ssize_t idx);

/* Escape one field into fp.  Returns 0, or -1 on a write error. */
int tsv_write_field(FILE *fp, const char *s, size_t len);
/* Write n fields (lens may be NULL for NUL-terminated fields) and a newline. */
int tsv_write_record(FILE *fp, const char *const *fields, const size_t *lens, size_t n);
/* Unescape src in place; returns the new length, or -1 on a dangling or unknown escape. */
ssize_t tsv_unescape(char *s, size_t len);

/* The writer's scan of a value it has copied: the index of the first byte of p[0..len) that
 * needs an escape, or len.  It overwrites p[len..len + TSV_SCAN_PAD).  Two versions,
 * exported so that the tests can compare them: the portable one, and one with SSE2 (the
 * portable one where SSE2 is not available), which the writer uses. */
#define TSV_SCAN_PAD 16
size_t tsv_scan_special_portable(char *p, size_t len);
size_t tsv_scan_special_simd(char *p, size_t len);

/* A filter's output plan: every input column passes through in order; each owned column
 * replaces an input column of the same name or is appended at the end. */
struct tsv_plan {
	size_t nin;      /* input columns */
	size_t nowned;   /* owned columns */
	ssize_t *slot;   /* for each owned column: input index it replaces, or -1 */
	const char *const *owned;
	ssize_t *out_of; /* for each input column: owned index replacing it, or -1 */
	struct rb_buf *out; /* the record being written (private) */
};
void tsv_plan_init(struct tsv_plan *p, const struct tsv_reader *r, const char *const *owned, size_t nowned);
void tsv_plan_free(struct tsv_plan *p);
int tsv_plan_write_header(const struct tsv_plan *p, const struct tsv_reader *r, FILE *fp);
/* Write the current record of r with the owned values (lens may be NULL). */
int tsv_plan_write(const struct tsv_plan *p, const struct tsv_reader *r, const char *const *vals,
	const size_t *lens, FILE *fp);

#endif
