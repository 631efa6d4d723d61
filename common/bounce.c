#define _GNU_SOURCE /* memmem, strcasestr, timegm */
#include "bounce.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ascii.h"
#include "dsn.h"
#include "mime.h"
#include "scan.h"
#include "util.h"

#define MAX_RCPT BOUNCE_MAX_RCPT
/* A diagnostic is cut at this length. */
#define MAX_DIAG 1000

/* Subjects of delivery status notices, lower-cased substrings. */
static const char *const bounce_subjects[] = {
	"undeliver", "undelivered mail", "delivery status notification", "failure notice",
	"returned mail", "mail delivery failed", "delivery failure", "delivery failed",
	"delivery notification", "delivery status", "mail delivery system", "non-delivery",
	"nondeliverable", "non delivery", "could not be delivered", "not delivered",
	"delivery problem", "failed delivery", "mail system error", "error sending your mail",
	"returned to sender", "rejected:", "mail could not", "delivery report",
	"warning: could not send", "message not delivered", "delivery has failed",
	"notice of delivery", "unzustellbar", "nicht zugestellt", "non recapitabile",
	"no entregado", "non remis", "unable to deliver", "delivery error",
	"\xe9\x85\x8d\xe4\xbf\xa1", /* 配信 */
	"\xe4\xb8\x8d\xe9\x81\x94", /* 不達 */
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc", /* 送信エラー */
	"\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc", /* エラー */
	"\xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2", /* не достав */
};

/* Auto-reply subjects, lower-cased substrings. */
static const char *const autoreply_subjects[] = {
	"out of office", "out of the office", "auto reply", "auto-reply", "autoreply",
	"automatic reply", "auto response", "autoresponse", "auto-response", "vacation",
	"away from", "away until", "i am away", "abwesenheit", "absence", "automatische antwort",
	"r\xc3\xa9ponse automatique", "respuesta autom", "risposta automatica",
	"\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1", /* 自動返信 */
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94", /* 自動応答 */
	"\xe4\xb8\x8d\xe5\x9c\xa8", /* 不在 */
};

/* Words of failure in the text of a notice, lower-cased substrings. */
static const char *const failure_words[] = {
	"could not be delivered", "permanent error", "undeliverable", "delivery has failed",
	"not delivered", "unable to deliver", "delivery failed", "user unknown", "unknown user",
	"failed permanently", "error delivering", "permanent fatal error", "delivery to the following",
	"did not reach", "delivery problem", "following address", "following recipient",
	"rejected by", "no such user", "was not delivered", "couldn't be delivered",
	"mailbox full", "mailbox is full", "message could not", "returned mail",
	"not a member", "are not member",
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93", /* 送信できません */
	"\xe5\xa4\xb1\xe6\x95\x97", /* 失敗 */
	"\xd0\xbd\xd0\xb5 \xd0\xbc\xd0\xbe\xd0\xb6\xd0\xb5\xd1\x82 \xd0\xb1\xd1\x8b\xd1\x82\xd1\x8c \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2", /* не может быть достав */
};

/* Words of a warning about a delivery still being tried (subject or text, lower-cased). */
static const char *const delay_words[] = {
	"delayed", "has not yet been delivered", "not yet been delivered", "warning message only",
	"still being retried", "will be retried", "will keep trying", "delay reason",
	"delivery is delayed", "has been delayed", "temporarily deferred", "still trying",
	"will retry", "warning: could not send", "delivery status notification (delay)",
};

/* Words that make a notice final whatever else it says (lower-cased). */
static const char *const permanent_words[] = {
	"permanent error", "failed permanently", "permanent fatal", "i've given up",
	"i'm not going to try again", "could not be delivered", "has been rejected",
	"delivery has failed", "message will be deleted", "undeliverable",
};

/* Lines that begin the returned message inside the text of a notice (lower-cased
 * substrings of a short line). */
static const char *const returned_markers[] = {
	"this is a copy of the message", "below this line is a copy of the message",
	"original message follows", "original message headers", "message headers follow",
	"unsent message follows", "header of the original message", "copy of the message header",
	"returned message", "----- original message", "-------original message",
	"original message:", "copy of the original message", "original message --",
	"undelivered message follows", "headers of the original message", "rejected message follows",
	"content of the original message", "the original message is attached",
	"message text follows", "original mail headers", "bounced e-mail:",
	"\xe5\x85\x83\xe3\x81\xae\xe3\x83\xa1\xe3\x83\x83\xe3\x82\xbb\xe3\x83\xbc\xe3\x82\xb8", /* 元のメッセージ */
};

/* Phrases after which an address on the same line is a failed recipient. */
static const char *const rcpt_phrases[] = {
	"delivered to", "deliver your mail to", "delivering your mail to", "deliver message to",
	"deliver mail to", "unknown user:", "user unknown:", "permanent errors:", "recipient:",
	"recipients:", "delivery to", "undeliverable to", "failed to deliver to", "not reach",
	"no such user", "address failed:", "addresses failed:", "rcpt to:", "rcpt to :",
	"mailbox unavailable:", "could not deliver to", "failed recipient", "your message to",
	"wasn't delivered to", "message for",
	"\xe5\xae\x9b\xe5\x85\x88", /* 宛先 */
};

/* Lines that announce the reason, written on the lines after them (lower-cased). */
static const char *const reason_markers[] = {
	"the response was:", "the response from the remote server was:", "error message below:",
	"non-delivered information", "for the following reason:", "the reason for the problem:",
	"server message", "technical details of permanent failure:",
	"technical details of temporary failure:", "could not be delivered because of",
};

/* Which software wrote a plain-text notice: lower-cased substrings of the header block
 * or the text, first match wins. */
static const struct {
	const char *marker;
	const char *mta;
} mta_markers[] = {
	{"qmail-send program", "qmail"},
	{"x-powermta", "powermta"},
	{"sendgrid.net", "sendgrid"},
	{"x-msg-ref: server-", "messagelabs"},
	{"symantec email security", "messagelabs"},
	{"x-mailer: amazon workmail", "amazonworkmail"},
	{"amazonses.com", "amazonses"},
	{"mail.ru", "mailru"},
	{"yandex", "yandex"},
	{"kundenserver.de", "einsundeins"},
	{"gmx.", "gmx"},
	{"google groups", "googlegroups"},
	{"mailer-daemon@googlemail.com", "gmail"},
	{"delivery has failed to these recipients", "office365"},
	{"outlook.com", "office365"},
	{"msexch", "exchange2003"},
	{"did not reach the following recipient", "exchange2003"},
	{"opensmtpd", "opensmtpd"},
	{"this is the mailer-daemon, please do not reply", "opensmtpd"},
	{"courier mail server", "courier"},
	{"domino directory", "domino"},
	{"lotus", "notes"},
	{"was not delivered to:", "domino"},
	{"dragonfly mail agent", "dragonfly"},
	{"m-filter", "mfilter"},
	{"interscan", "interscanmss"},
	{"mailfoundry", "mailfoundry"},
	{"mailmarshal", "mailmarshalsmtp"},
	{"mxlogic", "mxlogic"},
	{"active!hunter", "activehunter"},
	{"biglobe", "biglobe"},
	{"ezweb", "ezweb"},
	{"au one net", "kddi"},
	{"vzwpix", "verizon"},
	{"zoho", "zoho"},
	{"yahoo", "yahoo"},
	{"imail", "imailserver"},
	{"smtpd32", "imailserver"},
	{"javamail", "apachejames"},
	{"x-mlserver: fml", "fml"},
	{"x-sef-processed", "surfcontrol"},
	{"the following recipients were affected", "mailmarshalsmtp"},
	{"vtext.", "verizon"},
	{"informations de diagnostic pour les administrateurs", "exchange2007"},
	{"x-nai-header", "mcafee"},
	{"modified by mcafee", "mcafee"},
	{"generating server:", "exchange2007"},
	{"generierender server", "exchange2007"},
	{"serveur de g\xc3\xa9n\xc3\xa9ration", "exchange2007"},
	{"servidor de generaci\xc3\xb3n", "exchange2007"},
	{"server di generazione", "exchange2007"},
	{"genererende server", "exchange2007"},
	{"servidor de gera\xc3\xa7\xc3\xa3o", "exchange2007"},
	{"\xe7\x94\x9f\xe6\x88\x90\xe3\x82\xb5\xe3\x83\xbc\xe3\x83\x90\xe3\x83\xbc", "exchange2007"}, /* 生成サーバー */
	{"\xe7\x94\x9f\xe6\x88\x90\xe6\x9c\x8d\xe5\x8a\xa1\xe5\x99\xa8", "exchange2007"}, /* 生成服务器 */
	{"x-ms-exchange-message-is-ndr", "exchange2007"},
	{"this is a copy of the message, including all the headers", "exim"},
	{"mail delivery software", "exim"},
	{"the following addresses had permanent fatal errors", "sendmail"},
	{"transcript of session follows", "sendmail"},
	{"this is the mail system at", "postfix"},
	{"mail delivery system", "postfix"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- eight bytes at a time ----
 * The per-byte loops over a diagnostic look for bytes that are rare in it (a digit of a
 * code, white space twice); a word of eight bytes without any is passed over at once.
 * The masks are exact for every byte (no carry runs from one byte into the next), so a
 * word is only ever passed over when none of its bytes is a candidate. */
#define BYTES_ONES UINT64_C(0x0101010101010101)
#define BYTES_HIGH UINT64_C(0x8080808080808080)

static inline uint64_t
word_at(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

/* The high bit of every byte of w that is at most c (c below 0x80). */
static inline uint64_t
bytes_at_most(uint64_t w, unsigned char c)
{
	/* a byte's low seven bits plus 0x7f - c reach its high bit when they exceed c */
	return ~(w | ((w & ~BYTES_HIGH) + BYTES_ONES * (unsigned char)(0x7f - c))) & BYTES_HIGH;
}

/* The high bit of every byte of w from lo to hi (0 < lo <= hi < 0x80). */
static inline uint64_t
bytes_between(uint64_t w, unsigned char lo, unsigned char hi)
{
	return bytes_at_most(w, hi) & ~bytes_at_most(w, (unsigned char)(lo - 1));
}

/* The high bit of every byte of w equal to c. */
static inline uint64_t
bytes_equal(uint64_t w, unsigned char c)
{
	return bytes_at_most(w ^ (BYTES_ONES * c), 0);
}

/* Two strings searched in the notice's text besides the tables: the first with them, the
 * second (anywhere in the text) on its own. */
static const char resend_words[] = "do not need to resend";
static const char final_rcpt_field[] = "final-recipient:";

/* The notice's text is searched once for the strings of several tables together (the
 * engine's text_marker list, in this order); where each string first occurs answers the
 * questions those tables were searched for one by one: a word of failure, of delay, of a
 * permanent failure, the software's marker. */
enum {
	TM_FAILURE = 0,
	TM_DELAY = TM_FAILURE + (int)NELEM(failure_words),
	TM_PERMANENT = TM_DELAY + (int)NELEM(delay_words),
	TM_MTA = TM_PERMANENT + (int)NELEM(permanent_words),
	TM_RESEND = TM_MTA + (int)NELEM(mta_markers),
	TM_COUNT
};

/* How far into the text some searches look. */
#define WORDING_SPAN 8192
#define MTA_TEXT_SPAN 4096

struct scan {
	struct rb_buf text;      /* the notice's own text parts, UTF-8 */
	struct rb_buf html;      /* its HTML parts as text, used when there is no plain text */
	struct rb_buf orig;      /* the header block of the returned message */
	struct rb_buf feedback;  /* the message/feedback-report part */
	struct rb_buf attached;  /* the first returned message, whole (a forwarded bounce), when
	                          * it is not a part of msg as it is */
	const char *msg;         /* the message analysed, which stays put while it is */
	size_t msg_len;
	const char *att;         /* the first returned message where it is in msg, or NULL */
	size_t att_len;
	struct dsn_report dsn;
	bool has_feedback;
	bool has_dsn_part;
	/* Where each text marker first starts in the text (SIZE_MAX: nowhere); the search
	 * ends at the text's first NUL byte, and text_nul says whether it has one. */
	size_t text_first[TM_COUNT];
	size_t text_scanned;     /* how much of the text has been searched for them */
	size_t text_end;         /* the text's length up to its first NUL */
	bool text_nul;
};

static const char *
S(const struct rb_buf *b)
{
	return b->data ? b->data : "";
}

static bool
contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

/* A needle lower-cased once, for scan_find_ci's many places at a time over many lines. */
struct ci_needle {
	const char *needle;
	size_t k;
	char low[256];
};

static void
ci_needle_init(struct ci_needle *nd, const char *needle)
{
	nd->needle = needle;
	nd->k = strlen(needle);
	if (nd->k < sizeof nd->low)
		for (size_t i = 0; i < nd->k; i++)
			nd->low[i] = (char)ascii_tolower((unsigned char)needle[i]);
}

/* The first offset of the needle (not empty) in s[0..n), ASCII letters compared without
 * case, or SIZE_MAX.  A needle too long to be lower-cased in place is compared a place at
 * a time. */
static size_t
find_ci_needle(const char *s, size_t n, const struct ci_needle *nd)
{
	size_t k = nd->k;

	if (k == 0)
		return SIZE_MAX;
	if (k < sizeof nd->low) {
		size_t at = scan_find_ci(s, n, nd->low, k);
		return at < n ? at : SIZE_MAX;
	}
	int c0 = ascii_tolower((unsigned char)nd->needle[0]);
	for (size_t i = 0; i + k <= n; i++)
		if (ascii_tolower((unsigned char)s[i]) == c0 && strncasecmp(s + i, nd->needle, k) == 0)
			return i;
	return SIZE_MAX;
}

static size_t
find_ci(const char *s, size_t n, const char *needle)
{
	struct ci_needle nd;

	ci_needle_init(&nd, needle);
	return find_ci_needle(s, n, &nd);
}

/* The engine: every marker table compiled into one string set (scan.h), on its first use,
 * so that every search of a table is one pass over the text, which it lower-cases as it
 * reads.  Built once by the caller and passed down; nothing here is global. */
#define MAX_SETS 32
/* The sets are found by their table's address in an open-addressed table of this size
 * (a power of two, at least twice MAX_SETS). */
#define SET_SLOTS 64
/* analyse reads a returned notice one level deeper, at most twice (inner_bounce). */
#define MAX_DEPTH 2

struct line;

struct bounce_engine {
	struct {
		const char *const *list;
		size_t n;
		struct scan_set *set;
	} sets[SET_SLOTS];
	size_t nsets;
	const char *mta_marker[NELEM(mta_markers)];  /* the markers of mta_markers[] */
	/* mta_prefix[k]: the set of the first k markers, made on first use (mta_name) */
	struct scan_set *mta_prefix[NELEM(mta_markers) + 1];
	const char *text_marker[TM_COUNT];           /* the strings of the text's one pass */
	size_t text_marker_len[TM_COUNT];            /* their lengths */
	size_t text_marker_max;                      /* the length of the longest */
	/* The outermost notice's text buffers, kept from one message to the next: a
	 * notice's text grows them through several sizes, which the next one need not
	 * repeat.  (A returned notice read inside another has its own.) */
	struct rb_buf kept[5];
	/* Buffers of one depth of analyse (a returned notice is read one deeper), kept
	 * from one message to the next instead of made and freed for each. */
	struct work {
		struct rb_buf top[6];     /* struct top's header values */
		struct rb_buf v;          /* a header value asked for in passing */
		struct rb_buf diag;       /* scan_text's and fill_from_text's diagnostic */
		struct line *lines;       /* the text's lines */
		size_t lines_cap;
	} work[MAX_DEPTH + 1];
	struct rb_buf cand[3];        /* bounce_candidate's header values */
	struct mime_walker *walker;
};

struct bounce_engine *
bounce_engine_new(void)
{
	struct bounce_engine *eng = rb_xcalloc(1, sizeof *eng);

	for (size_t i = 0; i < NELEM(mta_markers); i++)
		eng->mta_marker[i] = mta_markers[i].marker;
	memcpy(eng->text_marker + TM_FAILURE, failure_words, sizeof failure_words);
	memcpy(eng->text_marker + TM_DELAY, delay_words, sizeof delay_words);
	memcpy(eng->text_marker + TM_PERMANENT, permanent_words, sizeof permanent_words);
	memcpy(eng->text_marker + TM_MTA, eng->mta_marker, sizeof eng->mta_marker);
	eng->text_marker[TM_RESEND] = resend_words;
	for (size_t k = 0; k < TM_COUNT; k++) {
		eng->text_marker_len[k] = strlen(eng->text_marker[k]);
		if (eng->text_marker_len[k] > eng->text_marker_max)
			eng->text_marker_max = eng->text_marker_len[k];
	}
	eng->walker = mime_walker_new();
	return eng;
}

void
bounce_engine_free(struct bounce_engine *eng)
{
	if (eng == NULL)
		return;
	for (size_t i = 0; i < SET_SLOTS; i++)
		scan_set_free(eng->sets[i].set);
	for (size_t k = 0; k < NELEM(eng->mta_prefix); k++)
		scan_set_free(eng->mta_prefix[k]);
	for (size_t i = 0; i < NELEM(eng->kept); i++)
		rb_buf_free(&eng->kept[i]);
	for (size_t d = 0; d <= MAX_DEPTH; d++) {
		struct work *w = &eng->work[d];
		for (size_t i = 0; i < NELEM(w->top); i++)
			rb_buf_free(&w->top[i]);
		rb_buf_free(&w->v);
		rb_buf_free(&w->diag);
		free(w->lines);
	}
	for (size_t i = 0; i < NELEM(eng->cand); i++)
		rb_buf_free(&eng->cand[i]);
	mime_walker_free(eng->walker);
	free(eng);
}

/* The string set of a table (a static array, known by its address). */
static const struct scan_set *
set_of(struct bounce_engine *eng, const char *const *list, size_t n)
{
	size_t i = (size_t)(((uintptr_t)list >> 3) * 0x9e3779b1u) % SET_SLOTS;

	/* asked for many times a message: one probe, mostly */
	for (; eng->sets[i].list != NULL; i = (i + 1) % SET_SLOTS)
		if (eng->sets[i].list == list && eng->sets[i].n == n)
			return eng->sets[i].set;
	if (eng->nsets == MAX_SETS)
		rb_die(RB_EXIT_FATAL, "too many marker tables");
	eng->nsets++;
	eng->sets[i].list = list;
	eng->sets[i].n = n;
	eng->sets[i].set = scan_set_new(list, n);
	return eng->sets[i].set;
}

/* Does s[0..len) (up to a NUL), lower-cased, contain one of the markers? */
static bool
any_in(struct bounce_engine *eng, const char *s, size_t len, const char *const *list, size_t n)
{
	return s && scan_set_any(set_of(eng, list, n), s, len);
}

/* Get ready to search the notice's text for the text markers (once the MIME walk has
 * gathered the text).  The search is done on demand, as far as a question needs: the
 * returned message inline in a text part can be long and is mostly not asked about. */
static void
mark_text_start(struct scan *sc)
{
	for (size_t k = 0; k < TM_COUNT; k++)
		sc->text_first[k] = SIZE_MAX;
	sc->text_end = strnlen(S(&sc->text), sc->text.len);
	sc->text_nul = sc->text_end < sc->text.len;
	sc->text_scanned = 0;
}

/* Extend the search of the text markers to the text's first upto bytes.  It resumes
 * far enough back to see every marker that ends past the part already searched. */
static void
mark_text_upto(struct bounce_engine *eng, struct scan *sc, size_t upto)
{
	size_t from, found[TM_COUNT];

	if (upto > sc->text_end)
		upto = sc->text_end;
	if (upto <= sc->text_scanned)
		return;
	from = sc->text_scanned > eng->text_marker_max ? sc->text_scanned - eng->text_marker_max : 0;
	if (sc->text_scanned == 0) {
		/* the first search: its offsets are the text's, and nothing is known yet */
		scan_set_first(set_of(eng, eng->text_marker, TM_COUNT), S(&sc->text), upto, sc->text_first);
		sc->text_scanned = upto;
		return;
	}
	for (size_t k = 0; k < TM_COUNT; k++)
		found[k] = SIZE_MAX;
	scan_set_first(set_of(eng, eng->text_marker, TM_COUNT), S(&sc->text) + from, upto - from, found);
	for (size_t k = 0; k < TM_COUNT; k++)
		if (found[k] != SIZE_MAX && from + found[k] < sc->text_first[k])
			sc->text_first[k] = from + found[k];
	sc->text_scanned = upto;
}

/* The earliest start of a text marker of the group [from, to), SIZE_MAX if none occurs. */
static size_t
group_first(const struct scan *sc, int from, int to)
{
	size_t first = SIZE_MAX;

	for (int k = from; k < to; k++)
		if (sc->text_first[k] < first)
			first = sc->text_first[k];
	return first;
}

/* Does text marker k occur wholly within the text's first span bytes?  (The caller has
 * had that much searched.) */
static bool
marker_within(const struct bounce_engine *eng, const struct scan *sc, int k, size_t span)
{
	return sc->text_first[k] != SIZE_MAX && sc->text_first[k] + eng->text_marker_len[k] <= span;
}

/* Does the text's first 8 KB have a word of failure?  Asked only when the headers
 * leave the question open. */
static bool
failure_wording(struct bounce_engine *eng, struct scan *sc)
{
	mark_text_upto(eng, sc, WORDING_SPAN);
	for (int k = TM_FAILURE; k < TM_DELAY; k++)
		if (marker_within(eng, sc, k, WORDING_SPAN))
			return true;
	return false;
}

/* ---- addresses ---- */

/* The bytes of an address by class, looked up once a byte in the loops that walk over
 * every byte of one: ADDR_LOCAL a letter, a digit, one of .!#$%&'*+/=?^_`{|}~- or any
 * byte from 0x80 up; ADDR_DOMAIN a letter, a digit, '.', '-' or '_'. */
enum { ADDR_LOCAL = 1, ADDR_DOMAIN = 2 };
static const unsigned char addr_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 3, 3, 1,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 0, 1,
	0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 3,
	1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static bool
local_char(unsigned char c)
{
	return (addr_class[c] & ADDR_LOCAL) != 0;
}

static bool
domain_char(unsigned char c)
{
	return (addr_class[c] & ADDR_DOMAIN) != 0;
}

/* The first address in s[0..n): its start and end.  The domain must have a dot. */
static bool
find_addr(const char *s, size_t n, size_t *as, size_t *ae)
{
	for (size_t i = 1; i + 1 < n; i++) {
		/* the next '@' by memchr: the bytes between are most of the text */
		const char *at = memchr(s + i, '@', n - 1 - i);
		if (at == NULL)
			break;
		i = (size_t)(at - s);
		size_t a = i, e = i + 1;
		while (a > 0 && local_char((unsigned char)s[a - 1]) && s[a - 1] != '@')
			a--;
		while (a < i && (s[a] == '.' || s[a] == '\''))
			a++;
		/* a quoted local part: "john smith"@example.org */
		if (a == i && s[i - 1] == '"') {
			size_t q = i - 1;
			while (q > 0 && i - q < 65 && s[q - 1] != '"' && s[q - 1] != '\n' && s[q - 1] != '<')
				q--;
			if (q > 0 && s[q - 1] == '"' && q + 1 < i)
				a = q - 1;
		}
		while (e < n && domain_char((unsigned char)s[e]))
			e++;
		while (e > i + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
			e--;
		if (a == i || e == i + 1)
			continue;
		if (memchr(s + i + 1, '.', e - i - 1) == NULL)
			continue;
		*as = a;
		*ae = e;
		return true;
	}
	return false;
}

/* Normalised copy: domain lower-cased. */
static char *
addr_norm(const char *s, size_t n)
{
	char *d = rb_xstrndup(s, n);
	/* the copy ends at its first NUL (a quoted local part may hold one) */
	size_t len = strnlen(d, n);
	const char *at = memrchr(d, '@', len);

	/* from the last '@' on, a loop without a test of each byte for the end */
	for (size_t i = at ? (size_t)(at - d) : len; i < len; i++)
		d[i] = (char)ascii_tolower((unsigned char)d[i]);
	return d;
}

/* The address in a header or field value ("Name <a@b>", "rfc822; a@b"), or NULL. */
static char *
addr_in(const char *v)
{
	size_t as, ae;
	const char *lt = v ? strchr(v, '<') : NULL;

	if (v == NULL)
		return NULL;
	if (lt && find_addr(lt, strlen(lt), &as, &ae))
		return addr_norm(lt + as, ae - as);
	if (find_addr(v, strlen(v), &as, &ae))
		return addr_norm(v + as, ae - as);
	return NULL;
}

/* ---- codes ---- */

static bool find_status_from(const char *s, char *out, size_t outlen);

/* An RFC 3463 code in s ("5.1.1", "#5.1.10"), copied to out; false if none.  A code
 * that follows an SMTP reply code ("550-5.7.1", "550 '5.7.1") is the remote server's
 * own and is preferred over one a relay wrote before it. */
static bool
find_status(const char *s, char *out, size_t outlen)
{
	return find_status_from(s, out, outlen);
}

static bool
after_reply_code(const char *s, const char *p)
{
	const char *q = p;

	while (q > s && (q[-1] == '\'' || q[-1] == '"' || q[-1] == ' ' || q[-1] == '-' || q[-1] == '#'))
		q--;
	if (q - s < 3 || q == p)
		return false;
	return (q[-3] == '2' || q[-3] == '4' || q[-3] == '5') && ascii_isdigit((unsigned char)q[-2]) &&
	    ascii_isdigit((unsigned char)q[-1]) && (q - s == 3 || !ascii_isalnum((unsigned char)q[-4]));
}

/* The length of the RFC 3463 code that starts at p in s ("5.1.1", not inside a word, a
 * number or an IP address), or 0. */
static size_t
status_code_at(const char *s, const char *p)
{
	/* the cheap test first: a class digit and a dot */
	if (*p < '2' || *p > '5' || p[1] != '.' || !(p[0] == '2' || p[0] == '4' || p[0] == '5'))
		return 0;
	if (p > s && (ascii_isalnum((unsigned char)p[-1]) || p[-1] == '.'))
		return 0;
	const char *q = p + 2;
	size_t d1 = 0, d2 = 0;
	while (ascii_isdigit((unsigned char)q[d1]))
		d1++;
	if (d1 == 0 || d1 > 3 || q[d1] != '.')
		return 0;
	q += d1 + 1;
	while (ascii_isdigit((unsigned char)q[d2]))
		d2++;
	if (d2 == 0 || d2 > 3)
		return 0;
	if (q[d2] == '.' && ascii_isdigit((unsigned char)q[d2 + 1]))
		return 0; /* an IP address */
	if (ascii_isalnum((unsigned char)q[d2]))
		return 0;
	return (size_t)(q + d2 - p);
}

/* Can no code start in the eight bytes at p (nine readable)?  A code starts with a class
 * digit followed by a dot; most of a diagnostic's words have none. */
static bool
no_status_start(const char *p)
{
	return (bytes_between(word_at(p), '2', '5') & bytes_equal(word_at(p + 1), '.')) == 0;
}

/* Both of find_status's searches in one pass: the first code that follows a reply code
 * (when it fits out), else the first code of all. */
static bool
find_status_from(const char *s, char *out, size_t outlen)
{
	const char *first = NULL, *end = s + strlen(s);
	size_t first_len = 0;

	for (const char *p = s; p < end; p++) {
		/* eight places passed over at once (the word after them ends by the NUL) */
		while (end - p >= 8 && no_status_start(p))
			p += 8;
		if (p == end)
			break;
		size_t len = status_code_at(s, p);
		if (len == 0)
			continue;
		if (first == NULL) {
			first = p;
			first_len = len;
		}
		if (after_reply_code(s, p)) {
			if (len < outlen) {
				first = p;
				first_len = len;
			}
			/* a code after a reply too long for out: the first of all, as the
			 * search without replies would find it */
			break;
		}
	}
	if (first == NULL || first_len >= outlen)
		return false;
	memcpy(out, first, first_len);
	out[first_len] = '\0';
	return true;
}

/* An SMTP reply code ("550", "421-") in s; false if none. */
static bool
smtp_code_at(const char *s, const char *p)
{
	if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || !ascii_isdigit((unsigned char)p[1]) ||
	    !ascii_isdigit((unsigned char)p[2]))
		return false;
	if (p > s && (ascii_isalnum((unsigned char)p[-1]) || strchr(".:/-=#+_", p[-1])))
		return false;
	if (p[3] != ' ' && p[3] != '-' && p[3] != '\0' && p[3] != ']' && p[3] != ',' &&
	    p[3] != ')')
		return false;
	return p[1] <= '5';
}

static bool
find_smtp_code(const char *s, char *out)
{
	const char *end = s + strlen(s);

	for (const char *p = s; p < end; p++) {
		/* eight places passed over at once: a reply starts with a class digit, and
		 * most of a diagnostic's bytes are no digit from 2 to 5 */
		while (end - p >= 8 && bytes_between(word_at(p), '2', '5') == 0)
			p += 8;
		if (p == end)
			break;
		if (smtp_code_at(s, p)) {
			memcpy(out, p, 3);
			out[3] = '\0';
			return true;
		}
	}
	return false;
}

/* A host name after "host " / "by " / "Server " or before " [ip]"; NULL when none. */
static char *
find_remote_host(const char *s)
{
	static const char *const lead[] = {"host ", "server ", "host: ", "mx "};
	size_t len = strlen(s);

	for (size_t k = 0; k < NELEM(lead); k++) {
		size_t at = find_ci(s, len, lead[k]);
		while (at != SIZE_MAX) {
			const char *h = s + at + strlen(lead[k]);
			size_t n = 0;
			while (domain_char((unsigned char)h[n]))
				n++;
			while (n > 0 && h[n - 1] == '.')
				n--;
			if (n > 3 && memchr(h, '.', n) && ascii_isalpha((unsigned char)h[n - 1]))
				return rb_xstrndup(h, n);
			size_t more = find_ci(s + at + 1, len - at - 1, lead[k]);
			at = more == SIZE_MAX ? SIZE_MAX : at + 1 + more;
		}
	}
	return NULL;
}

/* ---- dates ---- */

static int
month_of(const char *m)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
		"aug", "sep", "oct", "nov", "dec"};
	/* strncasecmp(m, months[i], 3) == 0 by hand: a month's name has no NUL, so a
	 * shorter m differs at its own NUL */
	unsigned char c0 = ascii_tolower((unsigned char)m[0]);
	for (int i = 0; i < 12; i++)
		if (c0 == (unsigned char)months[i][0] && ascii_tolower((unsigned char)m[1]) == (unsigned char)months[i][1] &&
		    ascii_tolower((unsigned char)m[2]) == (unsigned char)months[i][2])
			return i;
	return -1;
}

/* The parts of sscanf's conversions that bounce_iso_date uses, by hand: white space,
 * "%d" (optional sign, at least one digit) and "%Ns" (N bytes of a word at most). */
static const char *
skip_space(const char *p)
{
	while (ascii_isspace((unsigned char)*p))
		p++;
	return p;
}

static const char *
scan_int(const char *p, int *out)
{
	bool neg = false;
	long long v = 0;

	p = skip_space(p);
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!ascii_isdigit((unsigned char)*p))
		return NULL;
	for (; ascii_isdigit((unsigned char)*p); p++)
		if (v < INT_MAX)
			v = v * 10 + (*p - '0');
	if (v > INT_MAX)
		v = INT_MAX;
	*out = (int)(neg ? -v : v);
	return p;
}

static const char *
scan_word(const char *p, char *out, size_t max)
{
	size_t n = 0;

	p = skip_space(p);
	while (*p && !ascii_isspace((unsigned char)*p) && n < max)
		out[n++] = *p++;
	out[n] = '\0';
	return n ? p : NULL;
}

/* atoi of p, which starts with a digit, by hand (the library's goes through strtol, a
 * good share of a date's cost): the digits' value, LONG_MAX when it is larger, as an
 * int as atoi makes it. */
static int
leading_number(const char *p)
{
	long v = 0;

	for (; ascii_isdigit((unsigned char)*p); p++) {
		int d = *p - '0';
		v = v > (LONG_MAX - d) / 10 ? LONG_MAX : v * 10 + d;
	}
	return (int)v;
}

/* Days from 1970-01-01 to year-month-day (month 1-12) of the Gregorian calendar; a day
 * past the month's end counts on into the next, as timegm takes it. */
static long long
days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* v (0 to 99) as two decimal digits at out. */
static void
two_digits(char *out, int v)
{
	out[0] = (char)('0' + v / 10);
	out[1] = (char)('0' + v % 10);
}

/* Write secs (since 1970, UTC) as "YYYY-MM-DDTHH:MM:SSZ" when its year has four digits;
 * false, with nothing written, otherwise. */
static bool
format_utc(long long secs, char *out, size_t outlen)
{
	long long z = (secs >= 0 ? secs : secs - 86399) / 86400, rem = secs - z * 86400;
	long long era, doe, yoe, y, doy, mp;
	int m, d;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);
	if (y < 1000 || y > 9999 || outlen < 21)
		return false;
	static const char shape[] = "YYYY-MM-DDTHH:MM:SSZ";
	memcpy(out, shape, sizeof shape);
	two_digits(out, (int)(y / 100));
	two_digits(out + 2, (int)(y % 100));
	two_digits(out + 5, m);
	two_digits(out + 8, d);
	two_digits(out + 11, (int)(rem / 3600));
	two_digits(out + 14, (int)(rem / 60 % 60));
	two_digits(out + 17, (int)(rem % 60));
	return true;
}

bool
bounce_iso_date(const char *v, char *out, size_t outlen)
{
	static const struct {
		const char *name;
		int minutes;
	} zones[] = {{"UT", 0}, {"UTC", 0}, {"GMT", 0}, {"Z", 0}, {"EST", -300}, {"EDT", -240},
		{"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480},
		{"PDT", -420}, {"JST", 540}, {"CET", 60}, {"CEST", 120}, {"BST", 60}};
	struct tm tm = {0};
	char mon[16] = "", zone[16] = "";
	int day, year, hh, mm, ss = 0, off = 0;
	const char *p = v;
	time_t t;

	if (v == NULL)
		return false;
	while (*p == ' ')
		p++;
	if (ascii_isalpha((unsigned char)*p)) { /* the day of the week */
		const char *c = strchr(p, ',');
		p = c ? c + 1 : strchr(p, ' ');
		if (p == NULL)
			return false;
	}
	/* " %d %15s %d %d:%d", then ":%d", then " %15s" */
	if ((p = scan_int(p, &day)) == NULL || (p = scan_word(p, mon, 15)) == NULL ||
	    (p = scan_int(p, &year)) == NULL || (p = scan_int(p, &hh)) == NULL || *p++ != ':' ||
	    (p = scan_int(p, &mm)) == NULL)
		return false;
	if (*p == ':' && (p = scan_int(p + 1, &ss)) == NULL)
		return false;
	if (scan_word(p, zone, 15) != NULL) {
		if ((zone[0] == '+' || zone[0] == '-') && ascii_isdigit((unsigned char)zone[1])) {
			int z = leading_number(zone + 1);
			off = (z / 100) * 60 + z % 100;
			if (zone[0] == '-')
				off = -off;
		} else {
			for (size_t i = 0; i < NELEM(zones); i++)
				if (strcasecmp(zone, zones[i].name) == 0)
					off = zones[i].minutes;
		}
	}
	if (year < 100)
		year += year < 50 ? 2000 : 1900;
	tm.tm_mon = month_of(mon);
	if (tm.tm_mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970 ||
	    year > 9999)
		return false;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	/* the common case by hand: timegm, gmtime_r and strftime cost thousands of
	 * instructions; the library stays the judge of odd years */
	long long secs = days_from_civil(year, tm.tm_mon + 1, day) * 86400LL + hh * 3600LL +
	    mm * 60LL + ss - off * 60LL;
	if (format_utc(secs, out, outlen))
		return true;
	t = timegm(&tm) - (time_t)off * 60;
	if (gmtime_r(&t, &tm) == NULL)
		return false;
	return strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

/* ---- the MIME walk ---- */

/* Does a part's header block look like a message's (a returned message sent without a
 * Content-Type of its own)? */
static bool
looks_like_message_headers(const char *hdr, size_t len)
{
	int hits = 0;
	static const char *const names[] = {"Received", "Message-ID", "Subject", "From", "Date",
		"Return-Path", "To"};
	size_t at[NELEM(names)];

	/* where each is, found in one pass: their values are not needed */
	mime_header_lines(hdr, len, names, NELEM(names), at);
	for (size_t i = 0; i < NELEM(names); i++)
		if (at[i] != SIZE_MAX)
			hits++;
	return hits >= 2;
}

static void
strip_html(const char *s, size_t n, struct rb_buf *out)
{
	bool tag = false;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '<') {
			tag = true;
			if (n - i > 3 && (strncasecmp(s + i, "<br", 3) == 0 || strncasecmp(s + i, "<p", 2) == 0 ||
			    strncasecmp(s + i, "<div", 4) == 0 || strncasecmp(s + i, "<tr", 3) == 0))
				rb_buf_addc(out, '\n');
		} else if (s[i] == '>' && tag) {
			tag = false;
		} else if (!tag) {
			if (s[i] == '&' && n - i >= 4 && strncmp(s + i, "&lt;", 4) == 0) {
				rb_buf_addc(out, '<');
				i += 3;
			} else if (s[i] == '&' && n - i >= 4 && strncmp(s + i, "&gt;", 4) == 0) {
				rb_buf_addc(out, '>');
				i += 3;
			} else if (s[i] == '&' && n - i >= 6 && strncmp(s + i, "&nbsp;", 6) == 0) {
				rb_buf_addc(out, ' ');
				i += 5;
			} else if (s[i] == '&' && n - i >= 5 && strncmp(s + i, "&amp;", 5) == 0) {
				rb_buf_addc(out, '&');
				i += 4;
			} else {
				rb_buf_addc(out, s[i]);
			}
		}
	}
	rb_buf_addc(out, '\n');
}

static void
on_part(const struct mime_part *p, void *arg)
{
	struct scan *sc = arg;

	if (p->attached)
		return;
	if (strcmp(p->type, "message/delivery-status") == 0 ||
	    strcmp(p->type, "message/global-delivery-status") == 0) {
		sc->has_dsn_part = true;
		dsn_parse(p->body, p->body_len, &sc->dsn);
	} else if (strcmp(p->type, "message/feedback-report") == 0) {
		sc->has_feedback = true;
		rb_buf_add(&sc->feedback, p->body, p->body_len);
	} else if (strncmp(p->type, "message/", 8) == 0 || strcmp(p->type, "text/rfc822-headers") == 0) {
		if (sc->orig.len == 0) {
			rb_buf_add(&sc->orig, p->body, mime_header_len(p->body, p->body_len));
			/* mostly not needed: pointed at when it lies in the message as it is,
			 * copied only when decoding made it */
			uintptr_t b = (uintptr_t)p->body, m0 = (uintptr_t)sc->msg;
			if (b >= m0 && b - m0 <= sc->msg_len && p->body_len <= sc->msg_len - (b - m0)) {
				sc->att = p->body;
				sc->att_len = p->body_len;
			} else {
				rb_buf_add(&sc->attached, p->body, p->body_len);
			}
		}
	} else if (p->depth > 0 && looks_like_message_headers(p->hdr, p->hdr_len)) {
		if (sc->orig.len == 0)
			rb_buf_add(&sc->orig, p->hdr, p->hdr_len);
	} else if (strcmp(p->type, "text/html") == 0) {
		strip_html(p->body, p->body_len, &sc->html);
	} else if (strncmp(p->type, "text/", 5) == 0) {
		if (sc->text.len < MIME_MAX_PART) {
			rb_buf_add(&sc->text, p->body, p->body_len);
			rb_buf_addc(&sc->text, '\n');
		}
	}
}

/* ---- records ---- */

/* Fill r's strings: recipient, action, status, smtp_code and remote_mta copied into one
 * block, which recipient starts (bounce_result_free frees it and the diagnostic); the
 * diagnostic, already allocated, is taken over. */
static void
set_rec(struct bounce_rec *r, const char *rcpt, const char *action, const char *status,
    const char *code, const char *remote, char *diag)
{
	const char *v[5] = {rcpt, action, status, code, remote};
	size_t len[5], total = 0;
	char *block, *p;

	for (size_t i = 0; i < 5; i++) {
		len[i] = strlen(v[i]);
		total += len[i] + 1;
	}
	p = block = rb_xmalloc(total);
	char **dst[5] = {&r->recipient, &r->action, &r->status, &r->smtp_code, &r->remote_mta};
	for (size_t i = 0; i < 5; i++) {
		memcpy(p, v[i], len[i] + 1);
		*dst[i] = p;
		p += len[i] + 1;
	}
	r->diagnostic = diag;
}

/* Eight bytes of a diagnostic at p, after white space (*sp) or not, written to o as
 * collapse_space writes them, when their white space is only single bytes after other
 * bytes: the common case of words one space apart.  False, with nothing written, when
 * they need a closer look. */
static bool
collapse_word(const unsigned char *p, char *o, bool *sp)
{
	uint64_t w = word_at((const char *)p), ws = bytes_at_most(w, ' ');

	if ((*sp && p[0] <= ' ') || (ws & (ws << 8 | ws >> 8)) != 0)
		return false;
	/* the white space bytes become spaces: every bit of their bytes from the high one */
	uint64_t mask = (ws >> 7) * 0xff;
	w = (w & ~mask) | (BYTES_ONES * ' ' & mask);
	memcpy(o, &w, sizeof w);
	*sp = p[7] <= ' ';
	return true;
}

/* The diagnostic on one line, into d (empty): white space (the C locale's) or a control
 * byte, all at or below ' ', becomes one space, none at the ends; at most MAX_DIAG bytes,
 * written straight into a buffer of the size they can reach. */
static void
collapse_space(const char *diag, struct rb_buf *d)
{
	bool sp = true;
	size_t dlen = diag ? strlen(diag) : 0;

	rb_buf_reserve(d, dlen < MAX_DIAG ? dlen : MAX_DIAG);
	const unsigned char *p = (const unsigned char *)(diag ? diag : ""), *pe = p + dlen;
	while (p < pe && d->len < MAX_DIAG) {
		/* a stretch that cannot fill the buffer: no test of its length inside */
		size_t chunk = (size_t)(pe - p) < MAX_DIAG - d->len ? (size_t)(pe - p) : MAX_DIAG - d->len;
		char *o = d->data;
		size_t olen = d->len;
		const unsigned char *ce = p + chunk;
		while (p < ce) {
			/* eight bytes at once when they need no byte's own test (no more written
			 * than read, so within the stretch's room) */
			if (ce - p >= 8 && collapse_word(p, o + olen, &sp)) {
				p += 8;
				olen += 8;
				continue;
			}
			for (const unsigned char *e = ce - p < 8 ? ce : p + 8; p < e; p++) {
				/* without branches, as words and spaces alternate */
				bool ws = *p <= ' ';
				o[olen] = ws ? ' ' : (char)*p;
				olen += !(ws && sp);
				sp = ws;
			}
		}
		d->len = olen;
	}
	while (d->len > 0 && d->data[d->len - 1] == ' ')
		d->len--;
	d->data[d->len] = '\0';
}

static void
add_rec(struct bounce_result *res, const char *rcpt, const char *action, const char *status,
    const char *diag, const char *remote)
{
	struct bounce_rec *r;
	char code[8] = "", st[16] = "";
	struct rb_buf d = {0};

	for (size_t i = 0; i < res->n; i++)
		if (rcpt[0] && strcasecmp(res->rec[i].recipient, rcpt) == 0)
			return;
	if (res->n >= MAX_RCPT) {
		res->dropped++;
		return;
	}
	collapse_space(diag, &d);
	if (status && *status) {
		size_t k = strnlen(status, sizeof st - 1);
		memcpy(st, status, k);
		st[k] = '\0';
	} else if (d.len)
		find_status(d.data, st, sizeof st);
	if (d.len)
		find_smtp_code(d.data, code);
	res->rec = rb_xreallocarray(res->rec, res->n + 1, sizeof *res->rec);
	r = &res->rec[res->n++];
	char *host = remote && *remote ? NULL : d.len ? find_remote_host(d.data) : NULL;
	set_rec(r, rcpt, action, st, code, remote && *remote ? remote : host ? host : "",
	    d.data ? d.data : rb_xstrdup(""));
	free(host);
}

/* ---- the plain-text scanner ---- */

struct line {
	const char *s;
	size_t n;
};

static bool
blank_line(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!ascii_isspace((unsigned char)l->s[i]))
			return false;
	return true;
}

/* The lines of a text, split as far as they are asked for: the returned message after
 * the cut is mostly never looked at.  The vector (v, cap) is the caller's, kept from one
 * text to the next. */
struct lines {
	const char *text;
	size_t len, pos;     /* the text, and where its part not yet split starts */
	struct line *v;
	size_t n, cap;
};

static void
lines_start(struct lines *L, const char *text, size_t len, struct line *v, size_t cap)
{
	*L = (struct lines){.text = text, .len = len, .v = v, .cap = cap};
}

/* Is there a line i?  (v may move: read it again after each call.) */
static bool
have_line(struct lines *L, size_t i)
{
	while (L->n <= i && L->pos < L->len) {
		const char *p = L->text + L->pos, *nl = memchr(p, '\n', L->len - L->pos);
		size_t ll = nl ? (size_t)(nl - p) : L->len - L->pos;
		if (L->n == L->cap) {
			L->cap = L->cap ? L->cap * 2 : 64;
			L->v = rb_xreallocarray(L->v, L->cap, sizeof *L->v);
		}
		struct line *l = &L->v[L->n++];
		l->s = p;
		l->n = ll;
		while (l->n > 0 && l->s[l->n - 1] == '\r')
			l->n--;
		L->pos += ll + 1;
	}
	return i < L->n;
}

/* The header names that mark a returned message's header block at column 0. */
static const char *const message_header_names[] = {"Received:", "Return-Path:", "Message-ID:",
	"From:", "To:", "Subject:", "Date:", "MIME-Version:", "DKIM-Signature:", "Content-Type:",
	"Delivered-To:", "X-Original-To:", "Authentication-Results:", "X-Received:", "ARC-Seal:",
	"Reply-To:", "X-Envelope-From:", "X-Envelope-To:", "Return-path:", "X-Google-Smtp-Source:",
	"X-Originating-IP:"};

/* A header line of a returned message at column 0: "Received: ", "From: " ... */
static bool
message_header_line(const struct line *l)
{
	const char *const *names = message_header_names;
	/* the letters the names start with, a bit each (the unit test checks them) */
	static const uint32_t initials = 1u << ('a' - 'a') | 1u << ('c' - 'a') | 1u << ('d' - 'a') |
	    1u << ('f' - 'a') | 1u << ('m' - 'a') | 1u << ('r' - 'a') | 1u << ('s' - 'a') |
	    1u << ('t' - 'a') | 1u << ('x' - 'a');
	if (l->n == 0)
		return false;
	/* the first letter first: most lines start with none of the names' (all letters,
	 * lower-cased by setting the bit 0x20) */
	unsigned char c0 = (unsigned char)l->s[0];
	if (c0 >= 'A' && c0 <= 'Z')
		c0 = (unsigned char)(c0 + ('a' - 'A'));
	if (c0 < 'a' || c0 > 'z' || ((initials >> (c0 - 'a')) & 1) == 0)
		return false;
	for (size_t i = 0; i < NELEM(message_header_names); i++) {
		if (c0 != ((unsigned char)names[i][0] | 0x20))
			continue;
		size_t k = strlen(names[i]);
		if (l->n >= k && strncasecmp(l->s, names[i], k) == 0)
			return true;
	}
	return false;
}

static bool
common_header(const struct line *l)
{
	static const char *const names[] = {"Subject:", "Date:", "From:", "To:"};
	for (size_t i = 0; i < NELEM(names); i++)
		if (l->n >= strlen(names[i]) && strncasecmp(l->s, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

/* Does a lower-cased line begin with one of the markers?  Decoration ("-----", "***")
 * and a short lead ("the ", "a ") may come first; a marker deep inside a sentence
 * ("delete your own text from the attached returned message") is not one. */
static bool
marker_line(struct bounce_engine *eng, const char *s, size_t len, const char *const *list, size_t n)
{
	size_t i = 0;

	while (i < len && s[i] && !ascii_isalnum((unsigned char)s[i]) && (unsigned char)s[i] < 0x80)
		i++;
	return scan_set_starts_within(set_of(eng, list, n), s + i, len - i, 12);
}

/* Index of the first line of the returned message in the text, or the number of lines
 * (all then split). */
static size_t
find_cut(struct bounce_engine *eng, struct lines *L)
{
	for (size_t i = 0; have_line(L, i); i++) {
		const struct line *v = L->v;
		if (v[i].n > 0 && v[i].n < 100) {
			static const char *const received[] = {"was received"};
			if (marker_line(eng, v[i].s, v[i].n, returned_markers, NELEM(returned_markers)) &&
			    !any_in(eng, v[i].s, v[i].n, received, 1))
				return i;
		}
		/* a header block at column 0: "Received:", or header lines in a row of which
		 * one is more than Subject, Date, From or To (those are quoted in notices) */
		if (message_header_line(&v[i])) {
			if (strncasecmp(v[i].s, "Received:", 9) == 0 || strncasecmp(v[i].s, "Return-Path:", 12) == 0)
				return i;
			bool other = false;
			size_t k;
			for (k = i; k < i + 5 && have_line(L, k) && message_header_line(&L->v[k]); k++)
				if (!common_header(&L->v[k]))
					other = true;
			if (k - i >= 2 && other)
				return i;
		}
	}
	return L->n;
}

/* Skip list bullets and quoting before a recipient: "  * ", ">>> ", "- ". */
static size_t
skip_bullets(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '*' || s[i] == '>' || s[i] == '-' ||
		    s[i] == '#')
			i++;
		else if (n - i >= 3 && (unsigned char)s[i] == 0xe3 && (unsigned char)s[i + 1] == 0x83 &&
		    (unsigned char)s[i + 2] == 0xbb) /* ・ */
			i += 3;
		else if (n - i >= 3 && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0xa2) /* • */
			i += 3;
		else
			break;
	}
	return i;
}

struct cand {
	char *addr;
	size_t line;   /* where it was found */
	size_t rest;   /* offset in the line where the diagnostic starts */
};

/* A recipient line: the address first on the line (after bullets, quotes, '<'), then
 * nothing, ':' or more words.  Returns the address and where the rest starts. */
static bool
recipient_line(const struct line *l, size_t *as, size_t *ae, size_t *rest)
{
	size_t i = skip_bullets(l->s, l->n), a, e;

	while (i < l->n && (l->s[i] == '"' || l->s[i] == '<' || l->s[i] == '\''))
		i++;
	if (l->n - i >= 7 && strncasecmp(l->s + i, "mailto:", 7) == 0)
		i += 7;
	if (!find_addr(l->s + i, l->n - i, &a, &e) || a != 0)
		return false;
	*as = i;
	*ae = i + e;
	i += e;
	/* a trailing dot of the domain: "<a@example.org.>:" */
	if (i + 1 < l->n && l->s[i] == '.' && l->s[i + 1] == '>')
		i++;
	while (i < l->n && (l->s[i] == '"' || l->s[i] == '>' || l->s[i] == '\''))
		i++;
	if (i < l->n && l->s[i] != ':' && l->s[i] != ' ' && l->s[i] != '\t' && l->s[i] != '<' &&
	    l->s[i] != '.' && l->s[i] != ',' && l->s[i] != ';' && l->s[i] != '(' && l->s[i] != '[' &&
	    (unsigned char)l->s[i] < 0x80)
		return false;
	while (i < l->n && (l->s[i] == ':' || l->s[i] == ' ' || l->s[i] == '\t' || l->s[i] == ','))
		i++;
	*rest = i;
	return true;
}

/* An address after a recipient phrase on the line ("could not be delivered to: <a@b>"). */
static bool
phrase_line(struct bounce_engine *eng, const struct line *l, size_t *as, size_t *ae, size_t *rest)
{
	static const char *const mail_from[] = {"mail from"};
	size_t first[NELEM(rcpt_phrases)], mf = SIZE_MAX;
	bool found = false;

	/* the address is found by its '@': a line without one has none to give */
	if (memchr(l->s, '@', l->n) == NULL)
		return false;
	for (size_t k = 0; k < NELEM(rcpt_phrases); k++)
		first[k] = SIZE_MAX;
	/* the first place of every phrase, in one pass */
	if (!scan_set_first(set_of(eng, rcpt_phrases, NELEM(rcpt_phrases)), l->s, l->n, first))
		return false;
	scan_set_first(set_of(eng, mail_from, 1), l->s, l->n, &mf);
	for (size_t k = 0; k < NELEM(rcpt_phrases) && !found; k++) {
		if (first[k] == SIZE_MAX)
			continue;
		size_t off = first[k] + strlen(rcpt_phrases[k]), a, e;
		/* the address must follow the phrase closely */
		if (!find_addr(l->s + off, l->n - off, &a, &e) || a > 12)
			continue;
		if (mf < first[k])
			continue;
		*as = off + a;
		*ae = off + e;
		*rest = *ae;
		while (*rest < l->n && strchr(">\"'.:, ", l->s[*rest]))
			(*rest)++;
		found = true;
	}
	return found;
}

static bool
excluded(char *const *ex, size_t nex, const char *a)
{
	for (size_t i = 0; i < nex; i++)
		if (ex[i] && strcasecmp(ex[i], a) == 0)
			return true;
	return false;
}

/* Does the line carry an SMTP reply or an RFC 3463 code? */
static bool
code_line(const struct line *l)
{
	char code[8], st[16], room[256], *s;
	bool maybe = false, hit;

	/* Either code starts with 2, 4 or 5, then a digit (a reply) or a dot (a status):
	 * most lines have no such pair, and need no closer look.  Eight places at a time
	 * where no byte from '2' to '5' is followed by one from '.' to '9'. */
	size_t i = 0;
	for (; i + 9 <= l->n; i += 8)
		if ((bytes_between(word_at(l->s + i), '2', '5') &
		    bytes_between(word_at(l->s + i + 1), '.', '9')) != 0)
			break;
	for (; i + 1 < l->n && !maybe; i++)
		maybe = (l->s[i] == '2' || l->s[i] == '4' || l->s[i] == '5') &&
		    ((l->s[i + 1] >= '0' && l->s[i + 1] <= '9') || l->s[i + 1] == '.');
	if (!maybe)
		return false;
	/* the line as a string, on the stack when it fits */
	if (l->n < sizeof room) {
		memcpy(room, l->s, l->n);
		room[l->n] = '\0';
		s = room;
	} else {
		s = rb_xstrndup(l->s, l->n);
	}
	hit = (find_smtp_code(s, code) && l->n > 8) || find_status(s, st, sizeof st);
	if (s != room)
		free(s);
	return hit;
}

/* Lines that only say where an address came from, not why it failed. */
static bool
provenance_line(const struct line *l)
{
	size_t i = 0;

	while (i < l->n && ascii_isspace((unsigned char)l->s[i]))
		i++;
	return (l->n - i >= 15 && (strncasecmp(l->s + i, "(generated from", 15) == 0 ||
	    strncasecmp(l->s + i, "(expanded from ", 15) == 0)) ||
	    (l->n - i >= 13 && strncasecmp(l->s + i, "generated by ", 13) == 0);
}

static bool
mentions(const struct line *l, const char *addr)
{
	return find_ci(l->s, l->n, addr) != SIZE_MAX;
}

static bool
mentions_needle(const struct line *l, const struct ci_needle *nd)
{
	return find_ci_needle(l->s, l->n, nd) != SIZE_MAX;
}

/* A heading of decoration: "----- Non-delivered information -----", "=====". */
static bool
decoration_line(const struct line *l)
{
	size_t i = 0;

	while (i < l->n && ascii_isspace((unsigned char)l->s[i]))
		i++;
	return l->n - i >= 3 && strchr("-=*#", l->s[i]) && l->s[i + 1] == l->s[i] && l->s[i + 2] == l->s[i];
}

/* The lines after a line that announces the reason ("The response was:"), into para;
 * with coded, only those that carry an SMTP reply or status code.  False when the notice
 * has no such line before the returned message. */
static bool
announced_reason(struct bounce_engine *eng, const struct line *v, size_t cut, bool coded,
    struct rb_buf *para)
{
	char code[8], st[16];

	for (size_t i = 0; i < cut; i++) {
		if (v[i].n == 0 || v[i].n >= 100)
			continue;
		if (!marker_line(eng, v[i].s, v[i].n, reason_markers, NELEM(reason_markers)))
			continue;
		size_t j = i + 1;
		while (j < cut && j < i + 3 && (blank_line(&v[j]) || decoration_line(&v[j])))
			j++;
		rb_buf_clear(para);
		for (size_t k = j; k < cut && k < j + 6 && !blank_line(&v[k]); k++) {
			rb_buf_add(para, v[k].s, v[k].n);
			rb_buf_addc(para, ' ');
		}
		if (para->len && (!coded || find_smtp_code(S(para), code) ||
		    find_status(S(para), st, sizeof st)))
			return true;
	}
	return false;
}

/* A title between stars: "** Address not found **". */
static bool
title_line(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	/* no title without its first stars: the length of a long text is not needed then */
	if (strncmp(s, "**", 2) != 0)
		return false;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n > 4 && strncmp(s, "**", 2) == 0 && strncmp(s + n - 2, "**", 2) == 0 &&
	    memchr(s + 2, '\n', n - 4) == NULL && memmem(s + 2, n - 4, "**", 2) == NULL;
}

/* The diagnostic for a recipient found at line i: the rest of its line and the lines after
 * it up to an empty line or the next recipient; when that says nothing, a line of a session
 * transcript that names the recipient with a reply code, then (the only recipient of the
 * notice) the first line with an SMTP reply in it, else the next paragraph. */
static void
diagnostic_for(struct bounce_engine *eng, const struct line *v, size_t cut, const struct cand *c,
    const struct cand *next, bool alone, struct rb_buf *out)
{
	size_t i, end = next ? next->line : cut;
	bool letters = false;
	struct ci_needle addr;

	ci_needle_init(&addr, c->addr);
	rb_buf_clear(out);
	rb_buf_add(out, v[c->line].s + c->rest, v[c->line].n - c->rest);
	for (i = c->line + 1; i < end && i < c->line + 8 && !blank_line(&v[i]); i++) {
		if (provenance_line(&v[i]))
			continue;
		rb_buf_addc(out, ' ');
		rb_buf_add(out, v[i].s, v[i].n);
	}
	for (size_t k = 0; k < out->len && !letters; k++)
		if (ascii_isalpha((unsigned char)out->data[k]) || (unsigned char)out->data[k] >= 0x80)
			letters = true;
	/* a title between stars ("** Message not delivered **") says nothing of the reason */
	if (letters && title_line(S(out)))
		letters = false;
	char code[8], st[16];
	if (letters && find_status(S(out), st, sizeof st))
		return;
	if (letters && find_smtp_code(S(out), code)) {
		/* "(reason: 550 MAILBOX NOT FOUND)": the transcript's line for the recipient
		 * may carry the status code ("550 5.1.1 <a@b>... User unknown") */
		for (i = 0; i < cut; i++) {
			char *l;
			if (i == c->line || !mentions_needle(&v[i], &addr))
				continue;
			l = rb_xstrndup(v[i].s, v[i].n);
			bool hit = find_smtp_code(l, code) && find_status(l, st, sizeof st);
			free(l);
			if (hit) {
				rb_buf_addc(out, ' ');
				rb_buf_add(out, v[i].s, v[i].n);
				break;
			}
		}
		return;
	}
	/* "because:" only announces the reason */
	if (letters && out->len < 40 && out->data[out->len - 1] == ':')
		letters = false;
	/* the reason announced on a line of its own with a code ("Error message below:") */
	if (!letters || alone) {
		struct rb_buf para = {0};
		bool hit = announced_reason(eng, v, cut, true, &para);
		if (hit) {
			rb_buf_clear(out);
			rb_buf_add(out, para.data, para.len);
		}
		rb_buf_free(&para);
		if (hit)
			return;
	}
	/* a transcript line naming this recipient: "<<< 550 <a@b>... User unknown" */
	for (i = 0; i < cut; i++) {
		if (i == c->line || !mentions_needle(&v[i], &addr) || !code_line(&v[i]))
			continue;
		if (!letters)
			rb_buf_clear(out);
		else
			rb_buf_addc(out, ' ');
		rb_buf_add(out, v[i].s, v[i].n);
		return;
	}
	/* the address again on a line of its own, the reply on the next line (the
	 * administrators' part of an Exchange notice: "a@b\n#550 5.1.1 ...") */
	for (i = c->line + 1; i + 1 < cut; i++) {
		size_t as, ae, rest;
		if (!mentions_needle(&v[i], &addr) || !recipient_line(&v[i], &as, &ae, &rest) ||
		    rest < v[i].n || !code_line(&v[i + 1]))
			continue;
		if (!letters)
			rb_buf_clear(out);
		else
			rb_buf_addc(out, ' ');
		rb_buf_add(out, v[i + 1].s, v[i + 1].n);
		return;
	}
	if (letters && !alone)
		return;
	/* a line with an SMTP reply or status code anywhere before the returned message */
	for (i = 0; i < cut; i++) {
		if (code_line(&v[i])) {
			if (!letters)
				rb_buf_clear(out);
			else
				rb_buf_addc(out, ' ');
			for (size_t j = i; j < cut && j < i + 6 && !blank_line(&v[j]); j++) {
				rb_buf_add(out, v[j].s, v[j].n);
				rb_buf_addc(out, ' ');
			}
			return;
		}
	}
	/* the only recipient, its line without a code: the reason announced on a line of
	 * its own ("The response was:") says more */
	if (letters) {
		struct rb_buf para = {0};
		if (alone && announced_reason(eng, v, cut, false, &para)) {
			rb_buf_clear(out);
			rb_buf_add(out, para.data, para.len);
		}
		rb_buf_free(&para);
		return;
	}
	/* the reason announced on a line of its own ("Non-delivered information") */
	if (announced_reason(eng, v, cut, false, out))
		return;
	/* the next paragraph, or the one after it when that only announces it ("because:");
	 * a list of recipients one a line shares the paragraph after the list */
	i = c->line + 1;
	if (next && next->line == i) {
		size_t as, ae, rest;
		while (i < cut && recipient_line(&v[i], &as, &ae, &rest))
			i++;
		end = cut;
	}
	for (int para = 0; para < 2; para++) {
		rb_buf_clear(out);
		for (; i < end && (blank_line(&v[i]) || decoration_line(&v[i])); i++)
			;
		for (; i < end && !blank_line(&v[i]) && out->len < MAX_DIAG; i++) {
			rb_buf_add(out, v[i].s, v[i].n);
			rb_buf_addc(out, ' ');
		}
		while (out->len && out->data[out->len - 1] == ' ')
			out->data[--out->len] = '\0';
		if (!(out->len && out->len < 40 && out->data[out->len - 1] == ':'))
			break;
	}
	/* the reason written just above the address ("User not listed in ...\naddr") */
	if (out->len == 0 && c->line > 0 && !blank_line(&v[c->line - 1]) && !decoration_line(&v[c->line - 1]) &&
	    v[c->line - 1].s[v[c->line - 1].n - 1] != ':' && !mentions_needle(&v[c->line - 1], &addr))
		rb_buf_add(out, v[c->line - 1].s, v[c->line - 1].n);
	/* the line itself, when it says more than the address ("Unknown user: a@b") */
	if (out->len == 0 && v[c->line].n > strlen(c->addr) + 8)
		rb_buf_add(out, v[c->line].s, v[c->line].n);
}

/* A recipient named only elsewhere (X-Failed-Recipients, a report): the first line of the
 * notice that mentions it, the diagnostic starting after the address. */
static bool
mention_cand(const struct line *v, size_t cut, char *addr, struct cand *out)
{
	struct ci_needle nd;

	ci_needle_init(&nd, addr);
	for (size_t i = 0; i < cut; i++) {
		size_t at = find_ci_needle(v[i].s, v[i].n, &nd);
		if (at == SIZE_MAX)
			continue;
		size_t r = at + strlen(addr);
		while (r < v[i].n && strchr(">\"':,. \t", v[i].s[r]))
			r++;
		if (code_line(&v[i])) /* "550 5.1.2 a@b... Host unknown": the whole line */
			for (r = 0; r < v[i].n && (ascii_isspace((unsigned char)v[i].s[r]) || v[i].s[r] == '<'); r++)
				;
		out->addr = addr;
		out->line = i;
		out->rest = r;
		return true;
	}
	return false;
}

/* The header block of the returned message inline in the text, from the cut on. */
static void
inline_orig(struct lines *L, size_t cut, struct rb_buf *orig)
{
	size_t i = cut;

	/* the lines up to the seventh after the cut, as the search below would see them */
	while (have_line(L, i) && !message_header_line(&L->v[i]) && i <= cut + 6)
		i++;
	if (!have_line(L, i) || i > cut + 6)
		return;
	for (; have_line(L, i) && !blank_line(&L->v[i]); i++) {
		rb_buf_add(orig, L->v[i].s, L->v[i].n);
		rb_buf_addc(orig, '\n');
	}
	rb_buf_addc(orig, '\n');
}

struct top {
	const char *hdr;
	size_t hlen;
	struct mime_fields f;  /* the header block's lines, for its many fields */
	struct rb_buf from, to, subject, ctype, failed, autosub;
	char *from_addr, *to_addr;
	bool daemon;        /* From a mailer-daemon or postmaster */
	bool subject_hit;   /* a bounce subject */
	bool auto_replied;
};

/* delay_notice for a text with a NUL byte, line by line as each line's search stops at
 * its own NUL: the first line of the resend notice or of a permanent word decides. */
static bool
delay_notice_by_line(struct bounce_engine *eng, bool delay, const struct line *v, size_t lines)
{
	for (size_t i = 0; i < lines; i++) {
		if (mentions(&v[i], resend_words))
			return true;
		if (any_in(eng, v[i].s, v[i].n, delay_words, NELEM(delay_words)))
			delay = true;
		if (any_in(eng, v[i].s, v[i].n, permanent_words, NELEM(permanent_words)))
			return false;
	}
	return delay;
}

/* Is offset a on the same line as offset b, or on an earlier one? */
static bool
same_line_or_before(const char *text, size_t a, size_t b)
{
	return a <= b || memchr(text + b, '\n', a - b) == NULL;
}

/* A warning that delivery is still being tried, not a failure: delay wording in the
 * subject or the notice's first 200 lines before the returned message, and no word of a
 * permanent failure there.  "THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR
 * MESSAGE." outranks "could not be delivered for more than 4 hour(s)" when it comes first. */
static bool
delay_notice(struct bounce_engine *eng, const struct top *t, struct scan *sc,
    struct lines *L, size_t cut)
{
	bool delay = any_in(eng, S(&t->subject), t->subject.len, delay_words, NELEM(delay_words));
	size_t lines = cut < 200 ? cut : 200;
	const char *text = S(&sc->text);

	if (sc->text_nul)
		return delay_notice_by_line(eng, delay, L->v, lines);
	/* no marker spans a line break, so the markers of the lines before `lines` are
	 * those that start before it */
	size_t end = have_line(L, lines) ? (size_t)(L->v[lines].s - text) : sc->text.len;
	mark_text_upto(eng, sc, end);
	size_t resend = sc->text_first[TM_RESEND], perm = group_first(sc, TM_PERMANENT, TM_MTA);
	if (resend < end && (perm >= end || same_line_or_before(text, resend, perm)))
		return true;
	if (perm < end)
		return false;
	return delay || group_first(sc, TM_DELAY, TM_PERMANENT) < end;
}

static void
scan_text(struct bounce_engine *eng, const struct top *t, struct scan *sc, struct bounce_result *res,
    bool strong, struct work *w)
{
	struct line *v;
	struct lines L;
	size_t cut;
	bool n;                  /* has the text a line at all? */
	struct cand *c = NULL;
	size_t nc = 0, over = 0;
	struct rb_buf diag = w->diag;
	/* the notice's own addresses are nobody who failed: To, From and Reply-To */
	char *reply_to = mime_field(&t->f, "Reply-To", &diag) ? addr_in(S(&diag)) : NULL;

	lines_start(&L, S(&sc->text), sc->text.len, w->lines, w->lines_cap);
	cut = find_cut(eng, &L);
	n = have_line(&L, 0);
	char *ex[3] = {t->to_addr, t->from_addr, reply_to};
	const char *action;

	action = delay_notice(eng, t, sc, &L, cut) ? "delayed" : "failed";
	rb_buf_clear(&diag);
	if (sc->orig.len == 0 && have_line(&L, cut))
		inline_orig(&L, cut, &sc->orig);
	/* no line past these is asked for: the vector stays where it is */
	v = L.v;
	w->lines = L.v;
	w->lines_cap = L.cap;
	for (size_t i = 0; i < cut; i++) {
		size_t as, ae, rest;
		if (!recipient_line(&v[i], &as, &ae, &rest) && !phrase_line(eng, &v[i], &as, &ae, &rest))
			continue;
		char *a = addr_norm(v[i].s + as, ae - as);
		bool dup = excluded(ex, 3, a);
		for (size_t k = 0; k < nc && !dup; k++)
			if (strcasecmp(c[k].addr, a) == 0)
				dup = true;
		if (dup || nc >= MAX_RCPT) {
			/* beyond the cap a recipient is only counted (duplicates of a kept one
			 * aside): the caller reports it */
			over += !dup;
			free(a);
			continue;
		}
		c = rb_xreallocarray(c, nc + 1, sizeof *c);
		c[nc].addr = a;
		c[nc].line = i;
		c[nc].rest = rest;
		nc++;
	}
	/* X-Failed-Recipients names the recipients outright */
	if (t->failed.len) {
		const char *p = S(&t->failed);
		size_t as, ae;
		while (find_addr(p, strlen(p), &as, &ae)) {
			char *a = addr_norm(p + as, ae - as);
			const struct cand *m = NULL;
			for (size_t k = 0; k < nc; k++)
				if (strcasecmp(c[k].addr, a) == 0)
					m = &c[k];
			struct cand at;
			if (m)
				diagnostic_for(eng, v, cut, m, m + 1 < c + nc ? m + 1 : NULL, nc <= 1, &diag);
			else if (mention_cand(v, cut, a, &at))
				diagnostic_for(eng, v, cut, &at, NULL, nc == 0, &diag);
			else if (nc == 1)
				diagnostic_for(eng, v, cut, &c[0], NULL, true, &diag);
			else {
				struct cand none = {a, 0, v && n ? v[0].n : 0};
				if (n)
					diagnostic_for(eng, v, cut, &none, NULL, nc == 0, &diag);
			}
			add_rec(res, a, action, NULL, S(&diag), NULL);
			free(a);
			p += ae;
		}
	}
	if (res->n == 0) {
		res->dropped += over;
		for (size_t k = 0; k < nc; k++) {
			diagnostic_for(eng, v, cut, &c[k], k + 1 < nc ? &c[k + 1] : NULL, nc == 1, &diag);
			add_rec(res, c[k].addr, action, NULL, S(&diag), NULL);
		}
	}
	/* no recipient in the text: the returned message's To, when the notice is clearly one */
	if (res->n == 0 && strong && !t->auto_replied && sc->orig.len) {
		struct rb_buf to = {0};
		if (mime_header(S(&sc->orig), sc->orig.len, "To", &to)) {
			char *a = addr_in(S(&to));
			if (a && !excluded(ex, 3, a)) {
				struct cand whole = {a, 0, 0};
				if (n && !mention_cand(v, cut, a, &whole))
					whole.line = whole.rest = 0;
				if (n)
					diagnostic_for(eng, v, cut, &whole, NULL, true, &diag);
				else
					rb_buf_clear(&diag);
				add_rec(res, a, action, NULL, S(&diag), NULL);
			}
			free(a);
		}
		rb_buf_free(&to);
	}
	for (size_t k = 0; k < nc; k++)
		free(c[k].addr);
	free(c);
	free(reply_to);
	w->diag = diag;
}

/* The index of the first of the markers [0, k) of mta_markers that occurs in s[0..len),
 * or k when none does.  Only those k are searched for, as a set of their own: a set of
 * fewer strings lets fewer places of the text through its sieve. */
static size_t
first_mta_marker(struct bounce_engine *eng, const char *s, size_t len, size_t k)
{
	size_t first[NELEM(mta_markers)];

	if (k == 0)
		return 0;
	if (eng->mta_prefix[k] == NULL)
		eng->mta_prefix[k] = scan_set_new(eng->mta_marker, k);
	for (size_t i = 0; i < k; i++)
		first[i] = SIZE_MAX;
	if (!scan_set_first(eng->mta_prefix[k], s, len, first))
		return k;
	for (size_t i = 0; i < k; i++)
		if (first[i] != SIZE_MAX)
			return i;
	return k;
}

/* The software named by the notice: the first marker of the table found in the text's
 * first 4 KB or in the header block.  Only the first marker known to occur matters: one
 * after it cannot change the answer, and is not looked for. */
static const char *
mta_name(struct bounce_engine *eng, const struct top *t, struct scan *sc)
{
	size_t upto = sc->text_end < MTA_TEXT_SPAN ? sc->text_end : MTA_TEXT_SPAN;
	size_t best = NELEM(mta_markers);   /* the first marker known to occur, or none */

	/* (nothing is known of a text not searched yet) */
	for (size_t i = 0; sc->text_scanned > 0 && i < NELEM(mta_markers) && best == NELEM(mta_markers); i++)
		if (marker_within(eng, sc, TM_MTA + (int)i, MTA_TEXT_SPAN))
			best = i;
	/* the header block first: the software's own header (From: Mail Delivery System)
	 * often names it there, and leaves only the markers before its own to look for in
	 * the longer text */
	best = first_mta_marker(eng, t->hdr, t->hlen, best);
	/* the part of the span not yet searched, for this table's markers alone: no other
	 * question is asked of the text after this one */
	if (upto > sc->text_scanned) {
		size_t from = sc->text_scanned > eng->text_marker_max ?
		    sc->text_scanned - eng->text_marker_max : 0;
		best = first_mta_marker(eng, S(&sc->text) + from, upto - from, best);
	}
	return best < NELEM(mta_markers) ? mta_markers[best].mta : "unknown";
}

/* The software that wrote a delivery status report: a family named by a marker of its
 * own template or headers, not by a domain name the text may mention; else "rfc3464". */
static const char *
report_mta(struct bounce_engine *eng, const struct top *t, struct scan *sc)
{
	static const char *const own[] = {"mcafee", "exchange2007", "exchange2003", "domino",
		"postfix", "sendmail", "exim", "courier", "qmail", "opensmtpd", "interscanmss",
		"mailmarshalsmtp", "activehunter", "mfilter", "imailserver", "dragonfly", "messagelabs",
		"powermta", "sendgrid", "amazonses"};
	const char *m = mta_name(eng, t, sc);
	const char *rep = sc->dsn.reporting_mta;

	/* SES receiving mail for a domain reports from its inbound hosts; SES sending mail
	 * from amazonses.com */
	if (rep != NULL && strncasecmp(rep, "inbound-smtp.", 13) == 0 && contains_ci(rep, ".amazonaws.com"))
		return "receivingses";

	/* Exchange Online marks its reports; outlook.com elsewhere may be a recipient's */
	if (strcmp(m, "office365") == 0) {
		if (scan_contains_ci(t->hdr, t->hlen, "\nx-ms-exchange-message-is-ndr:"))
			return m;
		if (contains_ci(S(&sc->text), "delivery has failed to these recipients"))
			return "exchange2007";
	}

	for (size_t i = 0; i < NELEM(own); i++)
		if (strcmp(m, own[i]) == 0)
			return m;
	return "rfc3464";
}

static void
read_top(struct bounce_engine *eng, const char *msg, size_t len, struct top *t, struct work *w)
{
	static const char *const daemons[] = {"mailer-daemon", "postmaster", "mail delivery",
		"mail.delivery", "mailer daemon", "ndr administrator", "mail deliver", "post_master",
		"mailerdaemon"};
	struct rb_buf v = {0};

	memset(t, 0, sizeof *t);
	t->from = w->top[0];
	t->to = w->top[1];
	t->subject = w->top[2];
	t->ctype = w->top[3];
	t->failed = w->top[4];
	t->autosub = w->top[5];
	t->hdr = msg;
	t->hlen = mime_header_len(msg, len);
	mime_fields_index(&t->f, msg, t->hlen);
	mime_field_text(&t->f, "From", &t->from);
	mime_field(&t->f, "To", &t->to);
	mime_field_text(&t->f, "Subject", &t->subject);
	mime_field(&t->f, "Content-Type", &t->ctype);
	mime_field(&t->f, "X-Failed-Recipients", &t->failed);
	mime_field(&t->f, "Auto-Submitted", &t->autosub);
	t->from_addr = addr_in(S(&t->from));
	t->to_addr = addr_in(S(&t->to));
	t->daemon = any_in(eng, S(&t->from), t->from.len, daemons, NELEM(daemons));
	/* a list manager returning a post (fml: X-MLServer, From: list-admin@) */
	if (!t->daemon && scan_contains_ci(S(&t->from), t->from.len, "-admin@") &&
	    mime_field(&t->f, "X-MLServer", &v))
		t->daemon = true;
	t->subject_hit = any_in(eng, S(&t->subject), t->subject.len, bounce_subjects,
	    NELEM(bounce_subjects));
	t->auto_replied = contains_ci(S(&t->autosub), "auto-replied");
	rb_buf_free(&v);
}

/* The header values' buffers go back to w for the next message. */
static void
free_top(struct top *t, struct work *w)
{
	w->top[0] = t->from;
	w->top[1] = t->to;
	w->top[2] = t->subject;
	w->top[3] = t->ctype;
	w->top[4] = t->failed;
	w->top[5] = t->autosub;
	free(t->from_addr);
	free(t->to_addr);
}

/* Was the message sent with the null reverse path of notices (Return-Path: <>)? */
static bool
null_sender(const struct top *t)
{
	struct rb_buf v = {0};
	bool yes = mime_field(&t->f, "Return-Path", &v) && strcmp(S(&v), "<>") == 0;

	rb_buf_free(&v);
	return yes;
}

/* A reply written by a person: "Re:", "AW:", "SV:" in front of the subject, and not from
 * a mailer-daemon.  (A forwarded notice, "Fwd: Returned mail", still tells of a failure.) */
static bool
person_reply(const struct top *t)
{
	static const char *const leads[] = {"re:", "aw:", "sv:"};
	const char *s = S(&t->subject);

	if (t->daemon)
		return false;
	while (*s == ' ')
		s++;
	for (size_t i = 0; i < NELEM(leads); i++)
		if (strncasecmp(s, leads[i], strlen(leads[i])) == 0)
			return true;
	return false;
}

static bool
is_autoreply(struct bounce_engine *eng, const struct top *t, struct rb_buf *scratch)
{
	struct rb_buf v = *scratch;
	bool yes = t->auto_replied;

	if (mime_field(&t->f, "X-Autoreply", &v) ||
	    mime_field(&t->f, "X-Autorespond", &v) ||
	    mime_field(&t->f, "X-Autoresponse", &v))
		yes = true;
	if (mime_field(&t->f, "Precedence", &v) && contains_ci(S(&v), "auto_reply"))
		yes = true;
	if (mime_field(&t->f, "X-Auto-Response-Suppress", &v) && t->subject.len &&
	    strncasecmp(S(&t->subject), "Automatic reply", 15) == 0)
		yes = true;
	if (any_in(eng, S(&t->subject), t->subject.len, autoreply_subjects, NELEM(autoreply_subjects)))
		yes = true;
	*scratch = v;
	return yes && !t->daemon;
}

static void
feedback_records(const struct top *t, struct scan *sc, struct bounce_result *res)
{
	struct rb_buf v = {0}, type = {0};
	char *a = NULL;

	if (mime_header(S(&sc->feedback), sc->feedback.len, "Original-Rcpt-To", &v) ||
	    mime_header(S(&sc->feedback), sc->feedback.len, "Removal-Recipient", &v))
		a = addr_in(S(&v));
	/* a complaint of Hotmail's JMRP: the returned message names whom it was for */
	if (a == NULL && mime_header(S(&sc->orig), sc->orig.len, "X-HmXmrOriginalRecipient", &v))
		a = addr_in(S(&v));
	if (a == NULL && mime_header(S(&sc->orig), sc->orig.len, "To", &v))
		a = addr_in(S(&v));
	if (!mime_header(S(&sc->feedback), sc->feedback.len, "Feedback-Type", &type))
		rb_buf_add(&type, "abuse", 5);
	add_rec(res, a ? a : "", "feedback", NULL, S(&type), NULL);
	/* a report on a message to several: one Original-Rcpt-To each */
	for (const char *l = S(&sc->feedback); a && (l = strcasestr(l, "\nOriginal-Rcpt-To:")) != NULL;) {
		l += 18;
		const char *nl = strchr(l, '\n');
		char *line = rb_xstrndup(l, nl ? (size_t)(nl - l) : strlen(l)), *b = addr_in(line);
		if (b)
			add_rec(res, b, "feedback", NULL, S(&type), NULL);
		free(b);
		free(line);
	}
	(void)t;
	free(a);
	rb_buf_free(&v);
	rb_buf_free(&type);
}

/* ---- Amazon SES notifications (JSON, by SNS mail or event publishing) ---- */

/* The end of the JSON value starting at p (a string, object, array or bare word). */
static const char *
json_skip(const char *p, const char *end)
{
	int depth = 0;
	bool str = false;

	for (; p < end; p++) {
		if (str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				str = false;
		} else if (*p == '"') {
			str = true;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if ((*p == '}' || *p == ']') && --depth <= 0) {
			return p + 1;
		}
	}
	return end;
}

/* Where the value of "key" starts within s[0..n), or NULL. */
static const char *
json_value(const char *s, size_t n, const char *key)
{
	size_t k = strlen(key);
	const char *end = s + n;

	for (const char *p = s; p + k + 2 < end; p++) {
		if (*p != '"' || strncmp(p + 1, key, k) != 0 || p[k + 1] != '"')
			continue;
		const char *q = p + k + 2;
		while (q < end && ascii_isspace((unsigned char)*q))
			q++;
		if (q >= end || *q != ':')
			continue;
		for (q++; q < end && ascii_isspace((unsigned char)*q); q++)
			;
		return q < end ? q : NULL;
	}
	return NULL;
}

/* The string value of "key" in s[0..n), unescaped; "" when absent or not a string. */
static char *
json_string(const char *s, size_t n, const char *key)
{
	const char *v = json_value(s, n, key), *end = s + n;
	struct rb_buf b = {0};

	rb_buf_add(&b, "", 0);
	if (v == NULL || *v != '"')
		return b.data ? b.data : rb_xstrdup("");
	for (v++; v < end && *v != '"'; v++) {
		if (*v == '\\' && v + 1 < end) {
			v++;
			rb_buf_addc(&b, *v == 'n' || *v == 't' || *v == 'r' ? ' ' : *v);
		} else {
			rb_buf_addc(&b, *v);
		}
	}
	return b.data ? b.data : rb_xstrdup("");
}

/* A notification of Amazon SES: {"notificationType":"Bounce","bounce":{...
 * "bouncedRecipients":[{"emailAddress":...,"status":...,"diagnosticCode":...}]}}, or a
 * complaint ("complainedRecipients").  Mail clients wrap the JSON at any character,
 * so the lines are joined first.  True when the text was such a notification (a
 * delivery notice gives no record). */
static bool
ses_json_records(const struct scan *sc, struct bounce_result *res)
{
	const char *t = S(&sc->text);
	struct rb_buf j = {0};
	char *type;
	bool complaint;

	while (ascii_isspace((unsigned char)*t))
		t++;
	if (*t != '{')
		return false;
	for (; *t; t++)
		if (*t != '\n' && *t != '\r')
			rb_buf_addc(&j, *t);
	type = json_string(S(&j), j.len, "notificationType");
	if (*type == '\0') {
		free(type);
		type = json_string(S(&j), j.len, "eventType");
	}
	complaint = strcmp(type, "Complaint") == 0;
	if (strcmp(type, "Bounce") != 0 && !complaint) {
		bool known = *type != '\0';
		free(type);
		rb_buf_free(&j);
		return known;
	}
	free(type);
	const char *end = S(&j) + j.len;
	const char *arr = json_value(S(&j), j.len, complaint ? "complainedRecipients" : "bouncedRecipients");
	char *ftype = complaint ? json_string(S(&j), j.len, "complaintFeedbackType") : NULL;
	res->kind = complaint ? BOUNCE_FEEDBACK : BOUNCE_FAILURE;
	for (const char *p = arr && *arr == '[' ? arr + 1 : end; p < end && *p != ']';) {
		if (*p != '{') {
			p++;
			continue;
		}
		const char *e = json_skip(p, end);
		size_t n = (size_t)(e - p);
		char *a = json_string(p, n, "emailAddress"), *act = json_string(p, n, "action");
		char *st = json_string(p, n, "status"), *dc = json_string(p, n, "diagnosticCode");
		char *diag = dsn_strip_type(dc), *addr = addr_in(a);
		if (addr && complaint)
			add_rec(res, addr, "feedback", NULL, ftype && *ftype ? ftype : "abuse", NULL);
		else if (addr)
			add_rec(res, addr, *act ? act : "failed", st, diag, NULL);
		free(a);
		free(act);
		free(st);
		free(dc);
		free(diag);
		free(addr);
		p = e;
	}
	free(ftype);
	if (res->n > 0) {
		res->mta = rb_xstrdup(complaint ? "feedback" : "amazonses");
		res->subject = json_string(S(&j), j.len, "subject");
		const char *h = json_value(S(&j), j.len, "commonHeaders");
		res->message_id = h ? json_string(h, (size_t)(json_skip(h, end) - h), "messageId") : rb_xstrdup("");
	} else {
		res->kind = BOUNCE_NONE;
	}
	rb_buf_free(&j);
	return true;
}

static void
dsn_records(struct scan *sc, struct bounce_result *res)
{
	res->dropped += sc->dsn.more;
	for (size_t i = 0; i < sc->dsn.n; i++) {
		struct dsn_rcpt *d = &sc->dsn.rcpt[i];
		char *a = addr_in(d->final_rcpt);
		char st[16] = "";

		if (a == NULL)
			a = addr_in(d->orig_rcpt);
		if (a == NULL)
			continue;
		if (strcmp(d->action, "delivered") == 0 || strcmp(d->action, "relayed") == 0 ||
		    strcmp(d->action, "expanded") == 0) {
			free(a);
			continue;
		}
		/* a generic status in the report, a specific one in the diagnostic: take that */
		const char *status = d->status;
		if ((status[0] == '\0' || strcmp(status + 1, ".0.0") == 0) &&
		    find_status(d->diagnostic, st, sizeof st) && st[0] == (status[0] ? status[0] : st[0]))
			status = st;
		add_rec(res, a, d->action[0] ? d->action : "failed", status, d->diagnostic, d->remote_mta);
		free(a);
	}
}

static void analyse(struct bounce_engine *eng, const char *msg, size_t len, struct bounce_result *res,
    int depth);

/* Does any recipient group of the report say something other than success? */
static bool
dsn_any_failure(const struct dsn_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *a = r->rcpt[i].action;
		if (strcmp(a, "delivered") != 0 && strcmp(a, "relayed") != 0 && strcmp(a, "expanded") != 0)
			return true;
	}
	return false;
}

/* Records of a report without a Diagnostic-Code: the notice's text often says why
 * ("<a@b>... Deferred: Connection timed out with mx"); take the diagnostic from there. */
static void
fill_from_text(struct bounce_engine *eng, const struct scan *sc, struct bounce_result *res,
    struct work *w)
{
	struct line *v;
	struct lines L;
	size_t cut;
	struct rb_buf diag = w->diag;
	bool missing = false;

	for (size_t k = 0; k < res->n; k++)
		if (res->rec[k].diagnostic[0] == '\0' && res->rec[k].recipient[0])
			missing = true;
	if (!missing || sc->text.len == 0)
		return;
	lines_start(&L, S(&sc->text), sc->text.len, w->lines, w->lines_cap);
	cut = find_cut(eng, &L);
	/* diagnostic_for reads no line past the cut, and the first whatever the cut */
	have_line(&L, 0);
	v = w->lines = L.v;
	w->lines_cap = L.cap;
	for (size_t k = 0; k < res->n; k++) {
		struct bounce_rec *r = &res->rec[k];
		struct cand at;
		if (r->diagnostic[0] || r->recipient[0] == '\0' || !mention_cand(v, cut, r->recipient, &at))
			continue;
		diagnostic_for(eng, v, cut, &at, NULL, res->n == 1, &diag);
		struct bounce_result one = {0};
		add_rec(&one, r->recipient, r->action, r->status, S(&diag), r->remote_mta);
		if (one.n == 1) {
			/* the diagnostic, and the codes r lacks, from one */
			struct bounce_rec old = *r, *o = &one.rec[0];
			free(old.diagnostic);
			set_rec(r, old.recipient, old.action, old.status[0] ? old.status : o->status,
			    old.smtp_code[0] ? old.smtp_code : o->smtp_code, old.remote_mta, o->diagnostic);
			o->diagnostic = NULL;
			free(old.recipient);
		}
		bounce_result_free(&one);
	}
	w->diag = diag;
}

void
bounce_analyse(struct bounce_engine *eng, const char *msg, size_t len, struct bounce_result *res)
{
	analyse(eng, msg, len, res, 0);
}

/* A notice that returns another notice (forwarded by a relay or a filter): the inner one
 * names the recipients.  Adopts its records and returns true when it has some. */
static bool
inner_bounce(struct bounce_engine *eng, struct scan *sc, struct bounce_result *res, int depth)
{
	struct bounce_result in;
	struct rb_buf v = {0};
	bool daemon_like;

	/* the returned message in a buffer of its own, as the reader hands out messages */
	if (sc->att != NULL) {
		rb_buf_add(&sc->attached, sc->att, sc->att_len);
		sc->att = NULL;
	}
	const char *m = S(&sc->attached);
	size_t hl = mime_header_len(m, sc->attached.len);

	if (depth >= 2 || sc->attached.len == 0)
		return false;
	mime_header(m, hl, "Content-Type", &v);
	daemon_like = contains_ci(S(&v), "report");
	mime_header(m, hl, "From", &v);
	daemon_like = daemon_like || contains_ci(S(&v), "mailer-daemon") || contains_ci(S(&v), "postmaster");
	rb_buf_free(&v);
	if (!daemon_like)
		return false;
	analyse(eng, m, sc->attached.len, &in, depth + 1);
	if (in.kind != BOUNCE_FAILURE || in.n == 0 || in.rec[0].recipient[0] == '\0') {
		bounce_result_free(&in);
		return false;
	}
	res->rec = in.rec;
	res->n = in.n;
	res->dropped = in.dropped;
	res->mta = in.mta;
	res->message_id = in.message_id;
	res->subject = in.subject;
	return true;
}

/* The engine's kept buffers, emptied, become the notice's text buffers; they are given
 * back, with whatever room they grew, when the notice is done. */
static void
take_kept(struct bounce_engine *eng, struct scan *sc)
{
	struct rb_buf *b[] = {&sc->text, &sc->html, &sc->orig, &sc->feedback, &sc->attached};

	for (size_t i = 0; i < NELEM(b); i++) {
		*b[i] = eng->kept[i];
		rb_buf_clear(b[i]);
	}
}

static void
give_back_kept(struct bounce_engine *eng, struct scan *sc)
{
	struct rb_buf *b[] = {&sc->text, &sc->html, &sc->orig, &sc->feedback, &sc->attached};

	for (size_t i = 0; i < NELEM(b); i++)
		eng->kept[i] = *b[i];
}

static void
analyse(struct bounce_engine *eng, const char *msg, size_t len, struct bounce_result *res,
    int depth)
{
	struct top t;
	struct scan sc;
	struct work *w = &eng->work[depth];
	struct rb_buf v = w->v;
	bool report_dsn, report_fb, strong, person;

	memset(res, 0, sizeof *res);
	memset(&sc, 0, sizeof sc);
	if (depth == 0)
		take_kept(eng, &sc);
	sc.msg = msg;
	sc.msg_len = len;
	read_top(eng, msg, len, &t, w);
	mime_walker_walk(eng->walker, msg, len, on_part, &sc);
	if (sc.text.len == 0 && sc.html.len)
		rb_buf_add(&sc.text, sc.html.data, sc.html.len);
	mark_text_start(&sc);
	report_dsn = scan_contains_ci(S(&t.ctype), t.ctype.len, "multipart/report") &&
	    scan_contains_ci(S(&t.ctype), t.ctype.len, "delivery-status");
	report_fb = scan_contains_ci(S(&t.ctype), t.ctype.len, "feedback-report");
	strong = t.subject_hit || report_dsn || sc.has_dsn_part || t.failed.len > 0 ||
	    (t.daemon && failure_wording(eng, &sc));
	/* a person's reply ("Re: undeliverable mail?") that only talks about a bounce is no
	 * notice, whatever its wording */
	person = person_reply(&t) && !report_dsn && !sc.has_dsn_part && t.failed.len == 0;
	if (person)
		strong = false;

	if (sc.has_feedback || report_fb ||
	    scan_contains_ci(S(&sc.orig), sc.orig.len, "\nx-hmxmroriginalrecipient:") ||
	    strncasecmp(S(&sc.orig), "X-HmXmrOriginalRecipient:", 25) == 0) {
		res->kind = BOUNCE_FEEDBACK;
		feedback_records(&t, &sc, res);
	} else if (ses_json_records(&sc, res)) {
		/* an Amazon SES notification, read whole */
	} else {
		dsn_records(&sc, res);
		if (res->n == 0 && !sc.has_dsn_part) {
			/* fields of a report written into a text part */
			struct dsn_report inl = {0};
			if (scan_contains_ci(S(&sc.text), sc.text.len, final_rcpt_field) &&
			    dsn_parse(S(&sc.text), sc.text.len, &inl)) {
				struct dsn_report keep = sc.dsn;
				sc.dsn = inl;
				dsn_records(&sc, res);
				sc.dsn = keep;
			}
			dsn_free(&inl);
		}
		if (res->n > 0)
			fill_from_text(eng, &sc, res, w);
		/* a report whose every recipient was delivered, relayed or expanded: no failure */
		if (res->n == 0 && sc.has_dsn_part && sc.dsn.n > 0 && !dsn_any_failure(&sc.dsn))
			goto done;
		if (res->n > 0 && sc.has_dsn_part) {
			res->kind = BOUNCE_FAILURE;
			res->mta = rb_xstrdup(report_mta(eng, &t, &sc));
		} else if (res->n == 0 && inner_bounce(eng, &sc, res, depth)) {
			res->kind = BOUNCE_FAILURE;
		} else {
			if (res->n == 0 && (strong || t.daemon || (!person && failure_wording(eng, &sc))))
				scan_text(eng, &t, &sc, res, strong, w);
			if (res->n > 0 && (strong || t.daemon || (!person && failure_wording(eng, &sc)))) {
				res->kind = BOUNCE_FAILURE;
			} else if (!strong && is_autoreply(eng, &t, &v)) {
				res->kind = BOUNCE_AUTOREPLY;
				bounce_result_free(res);
				memset(res, 0, sizeof *res);
				res->kind = BOUNCE_AUTOREPLY;
				add_rec(res, t.from_addr ? t.from_addr : "", "autoreply", NULL, "", NULL);
				mime_field_text(&t.f, "Subject", &v);
			} else if (strong && !t.auto_replied && (t.daemon || report_dsn || sc.has_dsn_part ||
			    t.failed.len > 0 || null_sender(&t))) {
				/* a bounce without a recipient; a subject alone ("Delivery failed: your
				 * parcel") from a person or a shop is not enough */
				res->kind = BOUNCE_FAILURE;
				add_rec(res, "", "failed", NULL, "", NULL);
			} else {
				bounce_result_free(res);
				memset(res, 0, sizeof *res);
			}
		}
	}
done:
	if (res->kind != BOUNCE_NONE) {
		if (res->mta == NULL)
			res->mta = rb_xstrdup(res->kind == BOUNCE_FEEDBACK ? "feedback" :
			    res->kind == BOUNCE_AUTOREPLY ? "rfc3834" : mta_name(eng, &t, &sc));
		mime_field(&t.f, "Date", &v);
		if (!bounce_iso_date(S(&v), res->date, sizeof res->date))
			res->date[0] = '\0';
		if (res->message_id) {
			/* taken from an inner notice */
		} else if (res->kind == BOUNCE_AUTOREPLY) {
			mime_field(&t.f, "In-Reply-To", &v);
			res->message_id = rb_xstrdup(S(&v));
			res->subject = rb_xstrdup("");
		} else {
			mime_header(S(&sc.orig), sc.orig.len, "Message-ID", &v);
			res->message_id = rb_xstrdup(S(&v));
			mime_header_text(S(&sc.orig), sc.orig.len, "Subject", &v);
			res->subject = rb_xstrdup(S(&v));
		}
	}
	w->v = v;
	free_top(&t, w);
	if (depth == 0) {
		give_back_kept(eng, &sc);
	} else {
		rb_buf_free(&sc.text);
		rb_buf_free(&sc.html);
		rb_buf_free(&sc.orig);
		rb_buf_free(&sc.feedback);
		rb_buf_free(&sc.attached);
	}
	dsn_free(&sc.dsn);
}

void
bounce_result_free(struct bounce_result *res)
{
	/* a record's other strings share the block that recipient starts */
	for (size_t i = 0; i < res->n; i++) {
		free(res->rec[i].recipient);
		free(res->rec[i].diagnostic);
	}
	free(res->rec);
	free(res->mta);
	free(res->message_id);
	free(res->subject);
	res->rec = NULL;
	res->mta = res->message_id = res->subject = NULL;
	res->n = 0;
}

bool
bounce_candidate(const char *hdr, size_t len, void *engine)
{
	struct bounce_engine *eng = engine;
	static const char *const header_markers[] = {
		"x-failed-recipients:", "multipart/report", "auto-submitted:", "x-autoreply",
		"x-autorespond", "precedence: auto_reply", "feedback-report", "delivery-status",
		"x-ms-embedded-report", "x-mailer: amazon workmail", "sns.amazonaws",
		"aws notification message", "complaint about message from", "x-mlserver:",
	};
	/* the engine's buffers, kept from one message to the next */
	struct rb_buf *fromp = &eng->cand[0], *subjp = &eng->cand[1], *rpp = &eng->cand[2];
	struct rb_buf from = *fromp, subj = *subjp, rp = *rpp;
	bool yes = false;

	yes = any_in(eng, hdr, len, header_markers, NELEM(header_markers));
	if (!yes) {
		mime_header_text(hdr, len, "From", &from);
		static const char *const senders[] = {"mailer-daemon", "postmaster", "mail delivery",
			"mailer daemon", "mail.delivery", "ndr", "post_master", "mailerdaemon",
			"mail deliver"};
		yes = any_in(eng, S(&from), from.len, senders, NELEM(senders)) || from.len == 0;
	}
	if (!yes && mime_header(hdr, len, "Return-Path", &rp)) {
		const char *p = S(&rp);
		yes = strcmp(p, "<>") == 0 || contains_ci(p, "mailer-daemon");
	}
	if (!yes) {
		static const char *const more[] = {"bounce", "failure", "error", "fail", "returned"};
		mime_header_text(hdr, len, "Subject", &subj);
		yes = any_in(eng, S(&subj), subj.len, bounce_subjects, NELEM(bounce_subjects)) ||
		    any_in(eng, S(&subj), subj.len, autoreply_subjects, NELEM(autoreply_subjects)) ||
		    any_in(eng, S(&subj), subj.len, more, NELEM(more));
	}
	*fromp = from;
	*subjp = subj;
	*rpp = rp;
	return yes;
}
