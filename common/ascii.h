/* ASCII character classes, inline.  The programs run in the C locale, where <ctype.h>
 * answers the same for every byte, but through a table reached by a function call on
 * each byte: in the loops over a message's text that call is a measurable share. */
#ifndef REBOUNCE_ASCII_H
#define REBOUNCE_ASCII_H

#include <stdbool.h>

static inline bool
ascii_isdigit(unsigned char c)
{
	return (unsigned)(c - '0') < 10u;
}

static inline bool
ascii_isalpha(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u;
}

static inline bool
ascii_isalnum(unsigned char c)
{
	return ascii_isdigit(c) || ascii_isalpha(c);
}

/* space, \t, \n, \v, \f and \r, as isspace in the C locale */
static inline bool
ascii_isspace(unsigned char c)
{
	return c == ' ' || (unsigned)(c - '\t') < 5u;
}

static inline unsigned char
ascii_tolower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26u ? (unsigned char)(c | 0x20) : c;
}

#endif
