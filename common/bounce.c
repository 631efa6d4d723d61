#define _GNU_SOURCE /* memmem, strcasestr, timegm */
#include "bounce.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dsn.h"
#include "mime.h"
#include "scan.h"
#include "util.h"

/* At most this many recipients are taken from one notice (hostile input). */
#define MAX_RCPT 256
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
	{"x-mailer: amazon workmail", "amazonworkmail"},
	{"amazonses.com", "amazonses"},
	{"mail.ru", "mailru"},
	{"yandex", "yandex"},
	{"kundenserver.de", "einsundeins"},
	{"gmx", "gmx"},
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
	{"mail delivery software", "exim"},
	{"the following addresses had permanent fatal errors", "sendmail"},
	{"transcript of session follows", "sendmail"},
	{"this is the mail system at", "postfix"},
	{"mail delivery system", "postfix"},
};

struct scan {
	struct rb_buf text;      /* the notice's own text parts, UTF-8 */
	struct rb_buf html;      /* its HTML parts as text, used when there is no plain text */
	struct rb_buf orig;      /* the header block of the returned message */
	struct rb_buf feedback;  /* the message/feedback-report part */
	struct rb_buf attached;  /* the first returned message, whole (a forwarded bounce) */
	struct dsn_report dsn;
	bool has_feedback;
	bool has_dsn_part;
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

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A table of lower-cased markers compiled into one automaton (scan.h), on first use: every
 * search of a table is then one pass over the text, which it lower-cases as it reads. */
static const struct scan_set *
set_of(const char *const *list, size_t n)
{
	static struct {
		const char *const *list;
		size_t n;
		struct scan_set *set;
	} cache[32];
	static size_t ncache;

	for (size_t i = 0; i < ncache; i++)
		if (cache[i].list == list && cache[i].n == n)
			return cache[i].set;
	if (ncache == NELEM(cache))
		rb_die(RB_EXIT_FATAL, "too many marker tables");
	cache[ncache].list = list;
	cache[ncache].n = n;
	cache[ncache].set = scan_set_new(list, n);
	return cache[ncache++].set;
}

/* Does s[0..len) (up to a NUL), lower-cased, contain one of the markers? */
static bool
any_in(const char *s, size_t len, const char *const *list, size_t n)
{
	return s && scan_set_any(set_of(list, n), s, len);
}

static char *
lowercase_dup(const char *s, size_t n)
{
	char *d = rb_xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '\0';
	return d;
}

/* ---- addresses ---- */

static bool
local_char(unsigned char c)
{
	return isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c)) || c >= 0x80;
}

static bool
domain_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* The first address in s[0..n): its start and end.  The domain must have a dot. */
static bool
find_addr(const char *s, size_t n, size_t *as, size_t *ae)
{
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] != '@')
			continue;
		size_t a = i, e = i + 1;
		while (a > 0 && local_char((unsigned char)s[a - 1]) && s[a - 1] != '@')
			a--;
		while (a < i && (s[a] == '.' || s[a] == '\''))
			a++;
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
	char *d = rb_xstrndup(s, n), *at = strrchr(d, '@');
	for (char *p = at; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
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

static bool find_status_from(const char *s, char *out, size_t outlen, bool after_reply);

/* An RFC 3463 code in s ("5.1.1", "#5.1.10"), copied to out; false if none.  A code
 * that follows an SMTP reply code ("550-5.7.1", "550 '5.7.1") is the remote server's
 * own and is preferred over one a relay wrote before it. */
static bool
find_status(const char *s, char *out, size_t outlen)
{
	return find_status_from(s, out, outlen, true) || find_status_from(s, out, outlen, false);
}

static bool
after_reply_code(const char *s, const char *p)
{
	const char *q = p;

	while (q > s && (q[-1] == '\'' || q[-1] == '"' || q[-1] == ' ' || q[-1] == '-' || q[-1] == '#'))
		q--;
	if (q - s < 3 || q == p)
		return false;
	return (q[-3] == '2' || q[-3] == '4' || q[-3] == '5') && isdigit((unsigned char)q[-2]) &&
	    isdigit((unsigned char)q[-1]) && (q - s == 3 || !isalnum((unsigned char)q[-4]));
}

static bool
find_status_from(const char *s, char *out, size_t outlen, bool after_reply)
{
	for (const char *p = s; *p; p++) {
		if (after_reply && !after_reply_code(s, p))
			continue;
		if (*p < '2' || *p > '5' || p[1] != '.' || !(p[0] == '2' || p[0] == '4' || p[0] == '5'))
			continue;
		if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '.'))
			continue;
		const char *q = p + 2;
		size_t d1 = 0, d2 = 0;
		while (isdigit((unsigned char)q[d1]))
			d1++;
		if (d1 == 0 || d1 > 3 || q[d1] != '.')
			continue;
		q += d1 + 1;
		while (isdigit((unsigned char)q[d2]))
			d2++;
		if (d2 == 0 || d2 > 3)
			continue;
		if (q[d2] == '.' && isdigit((unsigned char)q[d2 + 1]))
			continue; /* an IP address */
		if (isalnum((unsigned char)q[d2]))
			continue;
		size_t len = (size_t)(q + d2 - p);
		if (len >= outlen)
			return false;
		memcpy(out, p, len);
		out[len] = '\0';
		return true;
	}
	return false;
}

/* An SMTP reply code ("550", "421-") in s; false if none. */
static bool
find_smtp_code(const char *s, char *out)
{
	for (const char *p = s; *p; p++) {
		if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]))
			continue;
		if (p > s && (isalnum((unsigned char)p[-1]) || strchr(".:/-=#+_", p[-1])))
			continue;
		if (p[3] != ' ' && p[3] != '-' && p[3] != '\0' && p[3] != ']' && p[3] != ',' &&
		    p[3] != ')')
			continue;
		if (p[1] > '5')
			continue;
		memcpy(out, p, 3);
		out[3] = '\0';
		return true;
	}
	return false;
}

/* A host name after "host " / "by " / "Server " or before " [ip]"; "" when none. */
static char *
find_remote_host(const char *s)
{
	static const char *const lead[] = {"host ", "server ", "host: ", "mx "};
	for (size_t k = 0; k < NELEM(lead); k++) {
		const char *p = strcasestr(s, lead[k]);
		while (p) {
			const char *h = p + strlen(lead[k]);
			size_t n = 0;
			while (domain_char((unsigned char)h[n]))
				n++;
			while (n > 0 && h[n - 1] == '.')
				n--;
			if (n > 3 && memchr(h, '.', n) && isalpha((unsigned char)h[n - 1]))
				return rb_xstrndup(h, n);
			p = strcasestr(p + 1, lead[k]);
		}
	}
	return rb_xstrdup("");
}

/* ---- dates ---- */

static int
month_of(const char *m)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
		"aug", "sep", "oct", "nov", "dec"};
	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, months[i], 3) == 0)
			return i;
	return -1;
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
	int day, year, hh, mm, ss = 0, off = 0, n = 0;
	const char *p = v;
	time_t t;

	if (v == NULL)
		return false;
	while (*p == ' ')
		p++;
	if (isalpha((unsigned char)*p)) { /* the day of the week */
		const char *c = strchr(p, ',');
		p = c ? c + 1 : strchr(p, ' ');
		if (p == NULL)
			return false;
	}
	if (sscanf(p, " %d %15s %d %d:%d%n", &day, mon, &year, &hh, &mm, &n) < 5)
		return false;
	p += n;
	if (*p == ':') {
		int k = 0;
		if (sscanf(p, ":%d%n", &ss, &k) < 1)
			return false;
		p += k;
	}
	if (sscanf(p, " %15s", zone) == 1) {
		if ((zone[0] == '+' || zone[0] == '-') && isdigit((unsigned char)zone[1])) {
			int z = atoi(zone + 1);
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
	struct rb_buf v = {0};
	int hits = 0;
	static const char *const names[] = {"Received", "Message-ID", "Subject", "From", "Date",
		"Return-Path", "To"};

	for (size_t i = 0; i < NELEM(names); i++)
		if (mime_header(hdr, len, names[i], &v))
			hits++;
	rb_buf_free(&v);
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
			rb_buf_add(&sc->attached, p->body, p->body_len);
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

static void
add_rec(struct bounce_result *res, const char *rcpt, const char *action, const char *status,
    const char *diag, const char *remote)
{
	struct bounce_rec *r;
	char code[8] = "", st[16] = "";
	struct rb_buf d = {0};
	bool sp = true;

	for (size_t i = 0; i < res->n; i++)
		if (rcpt[0] && strcasecmp(res->rec[i].recipient, rcpt) == 0)
			return;
	if (res->n >= MAX_RCPT)
		return;
	/* the diagnostic on one line: white space collapsed */
	for (const char *p = diag ? diag : ""; *p && d.len < MAX_DIAG; p++) {
		if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20) {
			if (!sp)
				rb_buf_addc(&d, ' ');
			sp = true;
		} else {
			rb_buf_addc(&d, *p);
			sp = false;
		}
	}
	while (d.len > 0 && d.data[d.len - 1] == ' ')
		d.data[--d.len] = '\0';
	if (status && *status)
		snprintf(st, sizeof st, "%s", status);
	else if (d.len)
		find_status(d.data, st, sizeof st);
	if (d.len)
		find_smtp_code(d.data, code);
	res->rec = rb_xreallocarray(res->rec, res->n + 1, sizeof *res->rec);
	r = &res->rec[res->n++];
	r->recipient = rb_xstrdup(rcpt);
	r->action = rb_xstrdup(action);
	r->status = rb_xstrdup(st);
	r->smtp_code = rb_xstrdup(code);
	r->remote_mta = remote && *remote ? rb_xstrdup(remote) : (d.len ? find_remote_host(d.data) : rb_xstrdup(""));
	r->diagnostic = d.data ? d.data : rb_xstrdup("");
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
		if (!isspace((unsigned char)l->s[i]))
			return false;
	return true;
}

static size_t
split_lines(const char *text, size_t len, struct line **out)
{
	size_t n = 0, cap = 0, i = 0;
	struct line *v = NULL;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = rb_xreallocarray(v, cap, sizeof *v);
		}
		v[n].s = text + i;
		v[n].n = ll;
		while (v[n].n > 0 && v[n].s[v[n].n - 1] == '\r')
			v[n].n--;
		n++;
		i += ll + 1;
	}
	*out = v;
	return n;
}

/* A header line of a returned message at column 0: "Received: ", "From: " ... */
static bool
message_header_line(const struct line *l)
{
	static const char *const names[] = {"Received:", "Return-Path:", "Message-ID:", "From:",
		"To:", "Subject:", "Date:", "MIME-Version:", "DKIM-Signature:", "Content-Type:",
		"Delivered-To:", "X-Original-To:", "Authentication-Results:", "X-Received:",
		"ARC-Seal:", "Reply-To:", "X-Envelope-From:", "X-Envelope-To:", "Return-path:",
		"X-Google-Smtp-Source:", "X-Originating-IP:"};
	for (size_t i = 0; i < NELEM(names); i++) {
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
marker_line(const char *s, size_t len, const char *const *list, size_t n)
{
	size_t i = 0;

	while (i < len && s[i] && !isalnum((unsigned char)s[i]) && (unsigned char)s[i] < 0x80)
		i++;
	return scan_set_starts_within(set_of(list, n), s + i, len - i, 12);
}

/* Index of the first line of the returned message in the text, or n. */
static size_t
find_cut(const struct line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].n > 0 && v[i].n < 100) {
			static const char *const received[] = {"was received"};
			if (marker_line(v[i].s, v[i].n, returned_markers, NELEM(returned_markers)) &&
			    !any_in(v[i].s, v[i].n, received, 1))
				return i;
		}
		/* a header block at column 0: "Received:", or header lines in a row of which
		 * one is more than Subject, Date, From or To (those are quoted in notices) */
		if (message_header_line(&v[i])) {
			if (strncasecmp(v[i].s, "Received:", 9) == 0 || strncasecmp(v[i].s, "Return-Path:", 12) == 0)
				return i;
			bool other = false;
			size_t k;
			for (k = i; k < n && k < i + 5 && message_header_line(&v[k]); k++)
				if (!common_header(&v[k]))
					other = true;
			if (k - i >= 2 && other)
				return i;
		}
	}
	return n;
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
phrase_line(const struct line *l, size_t *as, size_t *ae, size_t *rest)
{
	static const char *const mail_from[] = {"mail from"};
	size_t first[NELEM(rcpt_phrases)], mf = SIZE_MAX;
	bool found = false;

	for (size_t k = 0; k < NELEM(rcpt_phrases); k++)
		first[k] = SIZE_MAX;
	/* the first place of every phrase, in one pass */
	if (!scan_set_first(set_of(rcpt_phrases, NELEM(rcpt_phrases)), l->s, l->n, first))
		return false;
	scan_set_first(set_of(mail_from, 1), l->s, l->n, &mf);
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
	char code[8], st[16], *s = rb_xstrndup(l->s, l->n);
	bool hit = (find_smtp_code(s, code) && l->n > 8) || find_status(s, st, sizeof st);

	free(s);
	return hit;
}

/* Lines that only say where an address came from, not why it failed. */
static bool
provenance_line(const struct line *l)
{
	size_t i = 0;

	while (i < l->n && isspace((unsigned char)l->s[i]))
		i++;
	return (l->n - i >= 15 && (strncasecmp(l->s + i, "(generated from", 15) == 0 ||
	    strncasecmp(l->s + i, "(expanded from ", 15) == 0)) ||
	    (l->n - i >= 13 && strncasecmp(l->s + i, "generated by ", 13) == 0);
}

static bool
mentions(const struct line *l, const char *addr)
{
	size_t k = strlen(addr);

	for (size_t i = 0; k && i + k <= l->n; i++)
		if (strncasecmp(l->s + i, addr, k) == 0)
			return true;
	return false;
}

/* A heading of decoration: "----- Non-delivered information -----", "=====". */
static bool
decoration_line(const struct line *l)
{
	size_t i = 0;

	while (i < l->n && isspace((unsigned char)l->s[i]))
		i++;
	return l->n - i >= 3 && strchr("-=*#", l->s[i]) && l->s[i + 1] == l->s[i] && l->s[i + 2] == l->s[i];
}

/* The lines after a line that announces the reason ("The response was:"), into para;
 * with coded, only those that carry an SMTP reply or status code.  False when the notice
 * has no such line before the returned message. */
static bool
announced_reason(const struct line *v, size_t cut, bool coded, struct rb_buf *para)
{
	char code[8], st[16];

	for (size_t i = 0; i < cut; i++) {
		if (v[i].n == 0 || v[i].n >= 100)
			continue;
		if (!marker_line(v[i].s, v[i].n, reason_markers, NELEM(reason_markers)))
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

/* The diagnostic for a recipient found at line i: the rest of its line and the lines after
 * it up to an empty line or the next recipient; when that says nothing, a line of a session
 * transcript that names the recipient with a reply code, then (the only recipient of the
 * notice) the first line with an SMTP reply in it, else the next paragraph. */
static void
diagnostic_for(const struct line *v, size_t cut, const struct cand *c, const struct cand *next,
    bool alone, struct rb_buf *out)
{
	size_t i, end = next ? next->line : cut;
	bool letters = false;

	rb_buf_clear(out);
	rb_buf_add(out, v[c->line].s + c->rest, v[c->line].n - c->rest);
	for (i = c->line + 1; i < end && i < c->line + 8 && !blank_line(&v[i]); i++) {
		if (provenance_line(&v[i]))
			continue;
		rb_buf_addc(out, ' ');
		rb_buf_add(out, v[i].s, v[i].n);
	}
	for (size_t k = 0; k < out->len; k++)
		if (isalpha((unsigned char)out->data[k]) || (unsigned char)out->data[k] >= 0x80)
			letters = true;
	char code[8], st[16];
	if (letters && (find_smtp_code(S(out), code) || find_status(S(out), st, sizeof st)))
		return;
	/* "because:" only announces the reason */
	if (letters && out->len < 40 && out->data[out->len - 1] == ':')
		letters = false;
	/* the reason announced on a line of its own with a code ("Error message below:") */
	if (!letters || alone) {
		struct rb_buf para = {0};
		bool hit = announced_reason(v, cut, true, &para);
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
		if (i == c->line || !mentions(&v[i], c->addr) || !code_line(&v[i]))
			continue;
		if (!letters)
			rb_buf_clear(out);
		else
			rb_buf_addc(out, ' ');
		rb_buf_add(out, v[i].s, v[i].n);
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
	if (letters)
		return;
	/* the reason announced on a line of its own ("Non-delivered information") */
	if (announced_reason(v, cut, false, out))
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
	    v[c->line - 1].s[v[c->line - 1].n - 1] != ':' && !mentions(&v[c->line - 1], c->addr))
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
	for (size_t i = 0; i < cut; i++) {
		if (!mentions(&v[i], addr))
			continue;
		size_t k = strlen(addr), r = 0;
		for (size_t j = 0; j + k <= v[i].n; j++)
			if (strncasecmp(v[i].s + j, addr, k) == 0) {
				r = j + k;
				break;
			}
		while (r < v[i].n && strchr(">\"':,. \t", v[i].s[r]))
			r++;
		if (code_line(&v[i])) /* "550 5.1.2 a@b... Host unknown": the whole line */
			for (r = 0; r < v[i].n && (isspace((unsigned char)v[i].s[r]) || v[i].s[r] == '<'); r++)
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
inline_orig(const struct line *v, size_t n, size_t cut, struct rb_buf *orig)
{
	size_t i = cut;

	while (i < n && !message_header_line(&v[i]))
		i++;
	if (i >= n || i > cut + 6)
		return;
	for (; i < n && !blank_line(&v[i]); i++) {
		rb_buf_add(orig, v[i].s, v[i].n);
		rb_buf_addc(orig, '\n');
	}
	rb_buf_addc(orig, '\n');
}

struct top {
	const char *hdr;
	size_t hlen;
	struct rb_buf from, to, subject, ctype, failed, autosub;
	char *from_addr, *to_addr;
	bool daemon;        /* From a mailer-daemon or postmaster */
	bool subject_hit;   /* a bounce subject */
	bool auto_replied;
};

/* A warning that delivery is still being tried, not a failure: delay wording in the
 * subject or the notice, and no word of a permanent failure. */
static bool
delay_notice(const struct top *t, const struct line *v, size_t cut)
{
	bool delay = any_in(S(&t->subject), t->subject.len, delay_words, NELEM(delay_words));
	bool final = false;

	for (size_t i = 0; i < cut && i < 200 && !final; i++) {
		if (any_in(v[i].s, v[i].n, delay_words, NELEM(delay_words)))
			delay = true;
		if (any_in(v[i].s, v[i].n, permanent_words, NELEM(permanent_words)))
			final = true;
	}
	return delay && !final;
}

static void
scan_text(const struct top *t, struct scan *sc, struct bounce_result *res, bool strong)
{
	struct line *v;
	size_t n = split_lines(S(&sc->text), sc->text.len, &v), cut = find_cut(v, n);
	struct cand *c = NULL;
	size_t nc = 0;
	char *ex[2] = {t->to_addr, t->from_addr};
	struct rb_buf diag = {0};
	const char *action = delay_notice(t, v, cut) ? "delayed" : "failed";

	if (sc->orig.len == 0 && cut < n)
		inline_orig(v, n, cut, &sc->orig);
	for (size_t i = 0; i < cut && nc < MAX_RCPT; i++) {
		size_t as, ae, rest;
		if (!recipient_line(&v[i], &as, &ae, &rest) && !phrase_line(&v[i], &as, &ae, &rest))
			continue;
		char *a = addr_norm(v[i].s + as, ae - as);
		bool dup = excluded(ex, 2, a);
		for (size_t k = 0; k < nc && !dup; k++)
			if (strcasecmp(c[k].addr, a) == 0)
				dup = true;
		if (dup) {
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
				diagnostic_for(v, cut, m, m + 1 < c + nc ? m + 1 : NULL, nc <= 1, &diag);
			else if (mention_cand(v, cut, a, &at))
				diagnostic_for(v, cut, &at, NULL, nc == 0, &diag);
			else if (nc == 1)
				diagnostic_for(v, cut, &c[0], NULL, true, &diag);
			else {
				struct cand none = {a, 0, v && n ? v[0].n : 0};
				if (n)
					diagnostic_for(v, cut, &none, NULL, nc == 0, &diag);
			}
			add_rec(res, a, action, NULL, S(&diag), NULL);
			free(a);
			p += ae;
		}
	}
	if (res->n == 0) {
		for (size_t k = 0; k < nc; k++) {
			diagnostic_for(v, cut, &c[k], k + 1 < nc ? &c[k + 1] : NULL, nc == 1, &diag);
			add_rec(res, c[k].addr, action, NULL, S(&diag), NULL);
		}
	}
	/* no recipient in the text: the returned message's To, when the notice is clearly one */
	if (res->n == 0 && strong && !t->auto_replied && sc->orig.len) {
		struct rb_buf to = {0};
		if (mime_header(S(&sc->orig), sc->orig.len, "To", &to)) {
			char *a = addr_in(S(&to));
			if (a && !excluded(ex, 2, a)) {
				struct cand whole = {a, 0, 0};
				if (n && !mention_cand(v, cut, a, &whole))
					whole.line = whole.rest = 0;
				if (n)
					diagnostic_for(v, cut, &whole, NULL, true, &diag);
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
	free(v);
	rb_buf_free(&diag);
}

/* The software named by the notice. */
static const char *
mta_name(const struct top *t, const struct scan *sc)
{
	static const char *markers[NELEM(mta_markers)];
	size_t tl = sc->text.len > 4096 ? 4096 : sc->text.len, first[NELEM(mta_markers)];

	if (markers[0] == NULL)
		for (size_t i = 0; i < NELEM(mta_markers); i++)
			markers[i] = mta_markers[i].marker;
	/* the first marker of the table found in the text or the header block */
	for (size_t i = 0; i < NELEM(mta_markers); i++)
		first[i] = SIZE_MAX;
	scan_set_first(set_of(markers, NELEM(markers)), S(&sc->text), tl, first);
	scan_set_first(set_of(markers, NELEM(markers)), t->hdr, t->hlen, first);
	for (size_t i = 0; i < NELEM(mta_markers); i++)
		if (first[i] != SIZE_MAX)
			return mta_markers[i].mta;
	return "unknown";
}

static void
read_top(const char *msg, size_t len, struct top *t)
{
	struct rb_buf v = {0};
	char *lc;

	memset(t, 0, sizeof *t);
	t->hdr = msg;
	t->hlen = mime_header_len(msg, len);
	mime_header_text(msg, t->hlen, "From", &t->from);
	mime_header(msg, t->hlen, "To", &t->to);
	mime_header_text(msg, t->hlen, "Subject", &t->subject);
	mime_header(msg, t->hlen, "Content-Type", &t->ctype);
	mime_header(msg, t->hlen, "X-Failed-Recipients", &t->failed);
	mime_header(msg, t->hlen, "Auto-Submitted", &t->autosub);
	t->from_addr = addr_in(S(&t->from));
	t->to_addr = addr_in(S(&t->to));
	lc = lowercase_dup(S(&t->from), t->from.len);
	t->daemon = strstr(lc, "mailer-daemon") || strstr(lc, "postmaster") ||
	    strstr(lc, "mail delivery") || strstr(lc, "mail.delivery") || strstr(lc, "mailer daemon") ||
	    strstr(lc, "ndr administrator") || strstr(lc, "mail deliver") ||
	    strstr(lc, "post_master") || strstr(lc, "mailerdaemon");
	/* a list manager returning a post (fml: X-MLServer, From: list-admin@) */
	if (!t->daemon && strstr(lc, "-admin@") && mime_header(msg, t->hlen, "X-MLServer", &v))
		t->daemon = true;
	free(lc);
	t->subject_hit = any_in(S(&t->subject), t->subject.len, bounce_subjects, NELEM(bounce_subjects));
	t->auto_replied = contains_ci(S(&t->autosub), "auto-replied");
	rb_buf_free(&v);
}

static void
free_top(struct top *t)
{
	rb_buf_free(&t->from);
	rb_buf_free(&t->to);
	rb_buf_free(&t->subject);
	rb_buf_free(&t->ctype);
	rb_buf_free(&t->failed);
	rb_buf_free(&t->autosub);
	free(t->from_addr);
	free(t->to_addr);
}

/* Was the message sent with the null reverse path of notices (Return-Path: <>)? */
static bool
null_sender(const struct top *t)
{
	struct rb_buf v = {0};
	bool yes = mime_header(t->hdr, t->hlen, "Return-Path", &v) && strcmp(S(&v), "<>") == 0;

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
is_autoreply(const struct top *t)
{
	struct rb_buf v = {0};
	bool yes = t->auto_replied;

	if (mime_header(t->hdr, t->hlen, "X-Autoreply", &v) ||
	    mime_header(t->hdr, t->hlen, "X-Autorespond", &v) ||
	    mime_header(t->hdr, t->hlen, "X-Autoresponse", &v))
		yes = true;
	if (mime_header(t->hdr, t->hlen, "Precedence", &v) && contains_ci(S(&v), "auto_reply"))
		yes = true;
	if (mime_header(t->hdr, t->hlen, "X-Auto-Response-Suppress", &v) && t->subject.len &&
	    strncasecmp(S(&t->subject), "Automatic reply", 15) == 0)
		yes = true;
	if (any_in(S(&t->subject), t->subject.len, autoreply_subjects, NELEM(autoreply_subjects)))
		yes = true;
	rb_buf_free(&v);
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
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || *q != ':')
			continue;
		for (q++; q < end && isspace((unsigned char)*q); q++)
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

	while (isspace((unsigned char)*t))
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

static void analyse(const char *msg, size_t len, struct bounce_result *res, int depth);

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
fill_from_text(const struct scan *sc, struct bounce_result *res)
{
	struct line *v;
	size_t n, cut;
	struct rb_buf diag = {0};
	bool missing = false;

	for (size_t k = 0; k < res->n; k++)
		if (res->rec[k].diagnostic[0] == '\0' && res->rec[k].recipient[0])
			missing = true;
	if (!missing || sc->text.len == 0)
		return;
	n = split_lines(S(&sc->text), sc->text.len, &v);
	cut = find_cut(v, n);
	for (size_t k = 0; k < res->n; k++) {
		struct bounce_rec *r = &res->rec[k];
		struct cand at;
		if (r->diagnostic[0] || r->recipient[0] == '\0' || !mention_cand(v, cut, r->recipient, &at))
			continue;
		diagnostic_for(v, cut, &at, NULL, res->n == 1, &diag);
		struct bounce_result one = {0};
		add_rec(&one, r->recipient, r->action, r->status, S(&diag), r->remote_mta);
		if (one.n == 1) {
			free(r->diagnostic);
			r->diagnostic = one.rec[0].diagnostic;
			one.rec[0].diagnostic = NULL;
			if (r->smtp_code[0] == '\0') {
				free(r->smtp_code);
				r->smtp_code = one.rec[0].smtp_code;
				one.rec[0].smtp_code = NULL;
			}
			if (r->status[0] == '\0') {
				free(r->status);
				r->status = one.rec[0].status;
				one.rec[0].status = NULL;
			}
		}
		bounce_result_free(&one);
	}
	free(v);
	rb_buf_free(&diag);
}

void
bounce_analyse(const char *msg, size_t len, struct bounce_result *res)
{
	analyse(msg, len, res, 0);
}

/* A notice that returns another notice (forwarded by a relay or a filter): the inner one
 * names the recipients.  Adopts its records and returns true when it has some. */
static bool
inner_bounce(const struct scan *sc, struct bounce_result *res, int depth)
{
	struct bounce_result in;
	const char *m = S(&sc->attached);
	size_t hl = mime_header_len(m, sc->attached.len);
	struct rb_buf v = {0};
	bool daemon_like;

	if (depth >= 2 || sc->attached.len == 0)
		return false;
	mime_header(m, hl, "Content-Type", &v);
	daemon_like = contains_ci(S(&v), "report");
	mime_header(m, hl, "From", &v);
	daemon_like = daemon_like || contains_ci(S(&v), "mailer-daemon") || contains_ci(S(&v), "postmaster");
	rb_buf_free(&v);
	if (!daemon_like)
		return false;
	analyse(m, sc->attached.len, &in, depth + 1);
	if (in.kind != BOUNCE_FAILURE || in.n == 0 || in.rec[0].recipient[0] == '\0') {
		bounce_result_free(&in);
		return false;
	}
	res->rec = in.rec;
	res->n = in.n;
	res->mta = in.mta;
	res->message_id = in.message_id;
	res->subject = in.subject;
	return true;
}

static void
analyse(const char *msg, size_t len, struct bounce_result *res, int depth)
{
	struct top t;
	struct scan sc;
	struct rb_buf v = {0};
	bool report_dsn, report_fb, strong, wording;
	char *lc;

	memset(res, 0, sizeof *res);
	memset(&sc, 0, sizeof sc);
	read_top(msg, len, &t);
	mime_walk(msg, len, on_part, &sc);
	if (sc.text.len == 0 && sc.html.len)
		rb_buf_add(&sc.text, sc.html.data, sc.html.len);
	lc = lowercase_dup(S(&t.ctype), t.ctype.len);
	report_dsn = strstr(lc, "multipart/report") && strstr(lc, "delivery-status");
	report_fb = strstr(lc, "feedback-report") != NULL;
	free(lc);
	wording = any_in(S(&sc.text), sc.text.len > 8192 ? 8192 : sc.text.len, failure_words,
	    NELEM(failure_words));
	strong = t.subject_hit || report_dsn || sc.has_dsn_part || t.failed.len > 0 ||
	    (t.daemon && wording);
	/* a person's reply ("Re: undeliverable mail?") that only talks about a bounce is no
	 * notice */
	if (person_reply(&t) && !report_dsn && !sc.has_dsn_part && t.failed.len == 0)
		strong = wording = false;

	if (sc.has_feedback || report_fb || strcasestr(S(&sc.orig), "\nX-HmXmrOriginalRecipient:") ||
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
			static const char *const final_rcpt[] = {"final-recipient:"};
			if (any_in(S(&sc.text), sc.text.len, final_rcpt, 1) &&
			    dsn_parse(S(&sc.text), sc.text.len, &inl)) {
				struct dsn_report keep = sc.dsn;
				sc.dsn = inl;
				dsn_records(&sc, res);
				sc.dsn = keep;
			}
			dsn_free(&inl);
			/* the text's own recipient lines carry better diagnostics */
			for (size_t i = 0; i < res->n; i++)
				;
		}
		if (res->n > 0)
			fill_from_text(&sc, res);
		/* a report whose every recipient was delivered, relayed or expanded: no failure */
		if (res->n == 0 && sc.has_dsn_part && sc.dsn.n > 0 && !dsn_any_failure(&sc.dsn))
			goto done;
		if (res->n > 0 && sc.has_dsn_part) {
			res->kind = BOUNCE_FAILURE;
			res->mta = rb_xstrdup("rfc3464");
		} else if (res->n == 0 && inner_bounce(&sc, res, depth)) {
			res->kind = BOUNCE_FAILURE;
		} else {
			if (res->n == 0 && (strong || t.daemon || wording))
				scan_text(&t, &sc, res, strong);
			if (res->n > 0 && (strong || t.daemon || wording)) {
				res->kind = BOUNCE_FAILURE;
			} else if (!strong && is_autoreply(&t)) {
				res->kind = BOUNCE_AUTOREPLY;
				for (size_t i = 0; i < res->n; i++)
					;
				bounce_result_free(res);
				memset(res, 0, sizeof *res);
				res->kind = BOUNCE_AUTOREPLY;
				add_rec(res, t.from_addr ? t.from_addr : "", "autoreply", NULL, "", NULL);
				mime_header_text(msg, t.hlen, "Subject", &v);
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
		struct rb_buf d = {0};
		if (res->mta == NULL)
			res->mta = rb_xstrdup(res->kind == BOUNCE_FEEDBACK ? "feedback" :
			    res->kind == BOUNCE_AUTOREPLY ? "rfc3834" : mta_name(&t, &sc));
		mime_header(msg, t.hlen, "Date", &d);
		if (!bounce_iso_date(S(&d), res->date, sizeof res->date))
			res->date[0] = '\0';
		rb_buf_free(&d);
		if (res->message_id) {
			/* taken from an inner notice */
		} else if (res->kind == BOUNCE_AUTOREPLY) {
			mime_header(msg, t.hlen, "In-Reply-To", &v);
			res->message_id = rb_xstrdup(S(&v));
			res->subject = rb_xstrdup("");
		} else {
			mime_header(S(&sc.orig), sc.orig.len, "Message-ID", &v);
			res->message_id = rb_xstrdup(S(&v));
			mime_header_text(S(&sc.orig), sc.orig.len, "Subject", &v);
			res->subject = rb_xstrdup(S(&v));
		}
	}
	rb_buf_free(&v);
	free_top(&t);
	rb_buf_free(&sc.text);
	rb_buf_free(&sc.html);
	rb_buf_free(&sc.orig);
	rb_buf_free(&sc.feedback);
	rb_buf_free(&sc.attached);
	dsn_free(&sc.dsn);
}

void
bounce_result_free(struct bounce_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->rec[i].recipient);
		free(res->rec[i].action);
		free(res->rec[i].status);
		free(res->rec[i].smtp_code);
		free(res->rec[i].remote_mta);
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
bounce_candidate(const char *hdr, size_t len, void *arg)
{
	static const char *const header_markers[] = {
		"x-failed-recipients:", "multipart/report", "auto-submitted:", "x-autoreply",
		"x-autorespond", "precedence: auto_reply", "feedback-report", "delivery-status",
		"x-ms-embedded-report", "x-mailer: amazon workmail", "sns.amazonaws",
		"aws notification message", "complaint about message from", "x-mlserver:",
	};
	struct rb_buf from = {0}, subj = {0}, rp = {0};
	bool yes = false;

	(void)arg;
	yes = any_in(hdr, len, header_markers, NELEM(header_markers));
	if (!yes) {
		mime_header_text(hdr, len, "From", &from);
		static const char *const senders[] = {"mailer-daemon", "postmaster", "mail delivery",
			"mailer daemon", "mail.delivery", "ndr", "post_master", "mailerdaemon",
			"mail deliver"};
		yes = any_in(S(&from), from.len, senders, NELEM(senders)) || from.len == 0;
	}
	if (!yes && mime_header(hdr, len, "Return-Path", &rp)) {
		const char *p = S(&rp);
		yes = strcmp(p, "<>") == 0 || contains_ci(p, "mailer-daemon");
	}
	if (!yes) {
		static const char *const more[] = {"bounce", "failure", "error", "fail", "returned"};
		mime_header_text(hdr, len, "Subject", &subj);
		yes = any_in(S(&subj), subj.len, bounce_subjects, NELEM(bounce_subjects)) ||
		    any_in(S(&subj), subj.len, autoreply_subjects, NELEM(autoreply_subjects)) ||
		    any_in(S(&subj), subj.len, more, NELEM(more));
	}
	rb_buf_free(&from);
	rb_buf_free(&subj);
	rb_buf_free(&rp);
	return yes;
}
