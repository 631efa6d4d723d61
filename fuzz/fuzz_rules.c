/* Fuzz the rules loader: the input is an admin's rules file, loaded, compiled and then
 * matched against a few fixed records the way bounce-classify does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *const cols[] = {
	"source", "recipient", "action", "status", "smtp_code", "remote_mta", "diagnostic", "mta",
};
#define NCOLS (sizeof cols / sizeof cols[0])

static char *const records[][NCOLS] = {
	{ "a.mbox:0", "jane@gmial.com", "failed", "5.1.1", "550", "mx.gmial.com",
	  "550 5.1.1 <jane@gmial.com>: Recipient address rejected: User unknown", "postfix" },
	{ "b.eml", "bob@outlook.com", "failed", "5.7.1", "550", "outlook-com.olc.protection.outlook.com",
	  "550 5.7.1 Service unavailable; client host blocked using Spamhaus", "exchange" },
	{ "c.mbox:99", "", "delayed", "4.4.7", "", "", "", "" },
	{ "d", "no-at-sign", "", "", "", "", "\xff\xfe\x00binary", "" },
};

static void
match_all(struct rules *rs)
{
	size_t flen[NCOLS];

	for (size_t r = 0; r < sizeof records / sizeof records[0]; r++) {
		for (size_t i = 0; i < NCOLS; i++)
			flen[i] = strlen(records[r][i]);
		const struct rule *ru = rules_match(rs, records[r], flen);
		if (ru != NULL && (ru->id == NULL || ru->reason == NULL || ru->reason->category == NULL))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct rules *rs;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rs = rules_new();
	if (rules_load_string(rs, "fuzz.rules", text) == 0 && rules_compile(rs) == 0) {
		rules_bind(rs, cols, NCOLS);
		match_all(rs);
		/* A header without the columns the rules name must be harmless too. */
		rules_bind(rs, cols, 2);
		match_all(rs);
	}
	rules_free(rs);
	free(text);
	return 0;
}
