/* csvin: a recipient list (CSV, RFC 4180, parsed by libcsv) loaded into memory and indexed
 * by e-mail address for a hash join.
 *
 * Header names become snake_case column names (csvin_snake_case).  The delimiter is
 * detected from the header line (',' ';' or TAB, counted outside quotes) unless forced.
 * A row whose field count differs from the header's, a value over 1 MiB, a row over 4 MiB
 * of input, or a quote left open at the end of the file, is a bad row: reported as
 * "file:line: ...", with line the row's first line (for a row too long, the line where
 * reading it stopped is skipped and reading goes on from the next). */
#ifndef RB_CSVIN_H
#define RB_CSVIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define CSVIN_NONE UINT32_MAX

struct csvin_opts {
	int delim;       /* field delimiter; 0 detects it from the header line */
	const char *key; /* name of the e-mail column (snake-cased before use); NULL detects it */
	bool lenient;    /* skip bad rows instead of refusing the file */
};

struct csvin_slot {
	uint32_t hash;
	uint32_t head;    /* first row with this address, CSVIN_NONE when the slot is free */
	const char *data; /* that row's storage: one memory access less per probe */
};

struct csvin_table {
	const char *name;    /* for messages */
	unsigned char delim; /* the delimiter used */
	size_t ncols;
	char **cols;         /* unique snake_case column names */
	size_t keycol;       /* the e-mail column */
	/* accounting */
	unsigned long long nrows;   /* rows loaded (with or without an address) */
	unsigned long long nbad;    /* bad rows reported (skipped under lenient) */
	unsigned long long nnokey;  /* rows loaded whose address is empty */
	/* storage (private): each row is the offset and length of its trimmed address, ncols
	 * uint32_t lengths, then the NUL-terminated values */
	char **row;
	uint32_t *next;      /* next row with the same address, in file order */
	uint32_t *hash;      /* each row's address hash, kept until the index is built */
	size_t rowcap;
	struct csvin_slot *slot;
	size_t nslots, nkeys;
	char **block;        /* arena blocks holding the rows */
	size_t nblocks, blockcap;
	char *arena;
	size_t arena_used, arena_size;
};

/* Load the CSV read from fp.  Returns RB_EXIT_OK; RB_EXIT_BADINPUT when bad rows were
 * reported (without lenient the table then holds nothing useful); RB_EXIT_FATAL when the
 * file cannot be used at all (read error, no header, no e-mail column), reported. */
int csvin_load(struct csvin_table *t, FILE *fp, const char *name, const struct csvin_opts *o);
void csvin_free(struct csvin_table *t);

/* The first row whose address equals addr (trimmed, ASCII case-insensitive), or CSVIN_NONE. */
uint32_t csvin_find(const struct csvin_table *t, const char *addr, size_t len);
/* Hints for a caller that knows the addresses it will look up a few lookups ahead, in a
 * table larger than the caches: csvin_hint fetches the slot of addr and gives its hash
 * (false when addr is empty); csvin_hint_row, with that hash once the slot is there,
 * fetches the row it leads to.  Neither changes anything. */
bool csvin_hint(const struct csvin_table *t, const char *addr, size_t len, uint32_t *hash);
void csvin_hint_row(const struct csvin_table *t, uint32_t hash);
/* The next row with the same address, or CSVIN_NONE. */
static inline uint32_t
csvin_next(const struct csvin_table *t, uint32_t row)
{
	return t->next[row];
}
/* The values of a row: vals[i] (NUL-terminated) and lens[i] for each of the ncols columns. */
void csvin_row(const struct csvin_table *t, uint32_t row, const char **vals, size_t *lens);

/* A header name as a column name: ASCII lower case, every run of other bytes turned into
 * one '_', no '_' at either end.  Empty when nothing alphanumeric is left. */
void csvin_snake_case(struct rb_buf *out, const char *name, size_t len);

/* Header names (after snake-casing) taken as the e-mail column, in order of preference. */
extern const char *const csvin_key_names[];

#endif
