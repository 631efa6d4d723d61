/* Fuzz the string sets: the input names a set of strings and a text; every search the
 * processor has (portable, AVX2, AVX-512) must give what a plain search gives, and none may
 * read outside the text.  The needle search of each string too, over the whole text (NUL
 * bytes included) and up to its first NUL.  Input: strings separated by '\n' up to the first "\n\n", then
 * the text.  The text is copied to a buffer of exactly its size, so that ASan sees any
 * read past its end. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STRINGS 40
#define MAX_LEN 64

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Where string s first starts in text[0..len), or SIZE_MAX. */
static size_t
plain_first(const char *s, const unsigned char *text, size_t len)
{
	size_t k = strlen(s);

	for (size_t i = 0; i + k <= len; i++) {
		size_t j = 0;
		while (j < k && lower(text[i + j]) == (unsigned char)s[j])
			j++;
		if (j == k)
			return i;
	}
	return SIZE_MAX;
}

/* The strings of the input, each 1 to MAX_LEN bytes without NUL; returns how many, and
 * sets *rest to where the text starts. */
static size_t
read_strings(const uint8_t *data, size_t size, char strs[][MAX_LEN + 1], size_t *rest)
{
	size_t n = 0, i = 0;

	while (i < size && n < MAX_STRINGS) {
		size_t j = i;
		while (j < size && data[j] != '\n')
			j++;
		if (j == i) {
			i = j + 1;
			break;
		}
		size_t l = j - i < MAX_LEN ? j - i : MAX_LEN;
		if (memchr(data + i, '\0', l) == NULL) {
			memcpy(strs[n], data + i, l);
			strs[n][l] = '\0';
			n++;
		}
		i = j + 1;
	}
	*rest = i < size ? i : size;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char strs[MAX_STRINGS][MAX_LEN + 1];
	const char *list[MAX_STRINGS];
	size_t rest, n = read_strings(data, size, strs, &rest);

	if (n == 0)
		return 0;
	for (size_t k = 0; k < n; k++)
		list[k] = strs[k];

	size_t tlen = size - rest;
	unsigned char *text = malloc(tlen ? tlen : 1);
	if (text == NULL)
		abort();
	memcpy(text, data + rest, tlen);
	size_t len = strnlen((const char *)text, tlen);

	size_t want[MAX_STRINGS], got[MAX_STRINGS];
	size_t earliest = SIZE_MAX;
	for (size_t k = 0; k < n; k++) {
		want[k] = plain_first(list[k], text, len);
		if (want[k] < earliest)
			earliest = want[k];
	}

	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(list[k]), whole = plain_first(list[k], text, tlen);
		if (scan_find_ci((const char *)text, tlen, list[k], l) != (whole == SIZE_MAX ? tlen : whole) ||
		    scan_contains_ci((const char *)text, tlen, list[k]) != (want[k] != SIZE_MAX))
			abort();
	}

	struct scan_set *set = scan_set_new(list, n);
	static const enum scan_set_path paths[] = {SCAN_SET_PORTABLE, SCAN_SET_AVX2, SCAN_SET_AVX512};
	for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
		if (!scan_set_use(set, paths[p]))
			continue;
		for (size_t k = 0; k < n; k++)
			got[k] = SIZE_MAX;
		bool any = scan_set_first(set, (const char *)text, tlen, got);
		if (any != (earliest != SIZE_MAX) || scan_set_any(set, (const char *)text, tlen) != any)
			abort();
		for (size_t k = 0; k < n; k++)
			if (got[k] != want[k])
				abort();
		size_t limits[] = {0, 1, 7, 12, len / 2, len};
		for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++)
			if (scan_set_starts_within(set, (const char *)text, tlen, limits[l]) !=
			    (earliest != SIZE_MAX && earliest <= limits[l]))
				abort();
	}
	scan_set_free(set);
	free(text);
	return 0;
}
