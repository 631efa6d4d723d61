/* typo: correction of mistyped recipient domains (gmial.com → gmail.com).
 *
 * Two sources say which domains are real: the shipped list of consumer and ISP mail domains
 * (share/domains) and, optionally, the recipient list, where a domain that is frequent is
 * taken as real and a rare domain a small edit away from a frequent one as a typo of it.
 * A domain that is itself known is never corrected. */
#ifndef RB_TYPO_H
#define RB_TYPO_H

#include <stddef.h>

struct typo;

struct typo *typo_new(void);
void typo_free(struct typo *t);
/* Add the known domains of a file, one a line, # comments.  Returns 0 or -1 (reported). */
int typo_load_known(struct typo *t, const char *path);
/* Add one known domain (for tests and callers with their own lists). */
void typo_add_known(struct typo *t, const char *domain);
/* Count the domains of a recipient list: a CSV or a plain file of addresses or domains.
 * Returns 0 or -1 (reported). */
int typo_load_list(struct typo *t, const char *path);
/* Count one domain occurrence of the recipient list. */
void typo_count(struct typo *t, const char *domain, size_t len);

/* The corrected domain for domain (lower-case or not), or NULL when it is known, or no
 * known domain is close enough.  The result stays valid until typo_free. */
const char *typo_suggest(struct typo *t, const char *domain, size_t len);

/* Optimal-string-alignment (Damerau-Levenshtein) distance, capped: returns max + 1 as soon
 * as the distance is known to exceed max. */
int typo_distance(const char *a, size_t alen, const char *b, size_t blen, int max);

#endif
