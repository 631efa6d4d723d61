/* bounce-render: one ready-to-send remediation email per actionable record. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mailfmt.h"
#include "tmpl.h"
#include "tsv.h"
#include "util.h"

/* A PDF larger than this is refused: mail systems refuse such messages anyway. */
#define MAX_ATTACH (20u << 20)
/* How much mbox output may wait when stdout and stderr are different files. */
#define HOLD_MAX (64u << 10)

static const char *tflag;        /* template directory */
static const char *fromflag;     /* {{from}} */
static const char *replytoflag;  /* {{reply_to}} */
static const char *domainflag;   /* {{sending_domain}} */
static const char *attachflag;   /* column naming the PDF */
static const char *attachdirflag;
static const char *rejectsflag;
static const char *maildirflag;
static const char *dirflag;
static bool statsflag;

enum { CAT_ADDRESS, CAT_BLOCKED, NCAT };
static const char *const catname[NCAT] = { "address", "blocked" };

/* Headers the program writes itself; a template may not set them. */
static const char *const generated[] = {
	"Date", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-Disposition",
};

struct variant {
	char *lang;
	struct tmpl t;
};

struct tset {
	struct tmpl base[NCAT];
	struct variant *var[NCAT];
	size_t nvar[NCAT];
};

enum sink_kind { SINK_MBOX, SINK_MAILDIR, SINK_DIR };

struct sink {
	enum sink_kind kind;
	const char *path;
	int dirfd, tmpfd, newfd;
	char host[64];
	unsigned long seq;
	struct rb_buf box;     /* the mbox form of the messages not yet given to stdout */
	bool hold;             /* stdout and stderr are different files: box may hold several */
	struct mf_stamp stamp; /* Date, Message-ID and From-line texts of the current second */
};

struct counts {
	unsigned long long in, rendered, skipped, rejected, bad;
};

/* Where a placeholder's value comes from, found once per input instead of once per record. */
struct source {
	const char *name;   /* a template's own string: compared by address */
	const char *option; /* the option giving the value, or NULL */
	ssize_t col;        /* else this column */
	bool url;           /* the value must be an http(s) URL */
};

/* Distinct placeholders remembered per input; more are looked up each time. */
#define NSOURCE 64

/* A header whose placeholders all come from options is the same in every message: it is
 * written once per input and copied after that. */
struct fixed {
	const struct tmpl_header *h;
	bool fixed;           /* only options and literal text */
	bool ready;           /* text and sender hold the header as written */
	struct rb_buf text;   /* the header lines */
	struct rb_buf sender; /* what it adds to the envelope sender */
};

/* Headers remembered per input; more are written each time. */
#define NFIXED 32

/* What one record's expansion needs: the reader and the reason a value was refused, and
 * what is kept from record to record so that rendering one costs little. */
struct record {
	const struct tsv_reader *r;
	struct rb_buf *reason;
	const char *host; /* Message-ID domain when there is no better one */
	struct mf_stamp *stamp;
	struct rb_buf body, value;
	struct source src[NSOURCE], spare;
	size_t nsrc;
	struct fixed fixed[NFIXED];
	size_t nfixed;
};

struct attachment {
	struct rb_buf data;
	const char *filename;
};

static void usage(FILE *fp);

static const char *
option_flag(const char *name)
{
	if (strcmp(name, "from") == 0)
		return "--from";
	if (strcmp(name, "reply_to") == 0)
		return "--reply-to";
	if (strcmp(name, "sending_domain") == 0)
		return "--sending-domain";
	return NULL;
}

static const char *
option_value(const char *name)
{
	if (strcmp(name, "from") == 0)
		return fromflag;
	if (strcmp(name, "reply_to") == 0)
		return replytoflag;
	if (strcmp(name, "sending_domain") == 0)
		return domainflag;
	return NULL;
}

/* A value shown in a message: control characters as '?', at most 80 bytes. */
static const char *
shown(struct rb_buf *b, const char *s)
{
	size_t n = 0;

	rb_buf_clear(b);
	for (; *s && n < 80; s++, n++)
		rb_buf_addc(b, (unsigned char)*s < 0x20 || *s == 0x7F ? '?' : *s);
	if (*s)
		rb_buf_adds(b, "...");
	return b->data ? b->data : "";
}

static bool
is_url_column(const char *name)
{
	size_t n = strlen(name);

	return strcmp(name, "url") == 0 || (n > 4 && strcmp(name + n - 4, "_url") == 0);
}

static bool
http_url(const char *v)
{
	size_t skip;

	if (strncasecmp(v, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(v, "http://", 7) == 0)
		skip = 7;
	else
		return false;
	if (v[skip] == '\0' || v[skip] == '/')
		return false;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || *v == 0x7F || *v == '<' || *v == '>' || *v == '"')
			return false;
	return true;
}

/* tmpl_check: can every placeholder be filled from this stream's columns or the options? */
static const char *
placeholder_problem(void *ctx, const char *name, bool has_fallback)
{
	const struct tsv_reader *r = ctx;
	const char *flag = option_flag(name);

	if (tsv_column(r, name) >= 0 || option_value(name) != NULL || has_fallback)
		return NULL;
	if (flag == NULL)
		return "no such column in the input, and not an option";
	if (strcmp(flag, "--from") == 0)
		return "no value: give --from";
	if (strcmp(flag, "--reply-to") == 0)
		return "no value: give --reply-to, or write {{reply_to|}}";
	return "no value: give --sending-domain";
}

static const struct source *
source_of(struct record *rec, const char *name)
{
	struct source *src = rec->nsrc < NSOURCE ? &rec->src[rec->nsrc] : &rec->spare;

	for (size_t i = 0; i < rec->nsrc; i++)
		if (rec->src[i].name == name)
			return &rec->src[i];
	src->name = name;
	src->option = option_value(name);
	src->col = src->option ? -1 : tsv_column(rec->r, name);
	src->url = is_url_column(name);
	if (src != &rec->spare)
		rec->nsrc++;
	return src;
}

static bool
only_options(struct record *rec, const struct tmpl_header *h)
{
	for (size_t i = 0; i < h->nitems; i++)
		for (size_t k = 0; k < h->item[i].n; k++) {
			const struct tmpl_part *p = &h->item[i].part[k];

			if (p->name != NULL && source_of(rec, p->name)->option == NULL)
				return false;
		}
	return true;
}

/* The remembered state of header h, or NULL when there is no room to remember it. */
static struct fixed *
fixed_of(struct record *rec, const struct tmpl_header *h)
{
	struct fixed *f;

	for (size_t i = 0; i < rec->nfixed; i++)
		if (rec->fixed[i].h == h)
			return &rec->fixed[i];
	if (rec->nfixed == NFIXED)
		return NULL;
	f = &rec->fixed[rec->nfixed++];
	f->h = h;
	f->fixed = only_options(rec, h);
	return f;
}

static int
lookup(void *ctx, const char *name, const char **value)
{
	struct record *rec = ctx;
	const struct source *src = source_of(rec, name);
	const char *v;
	struct rb_buf s = { 0 };

	if (src->option != NULL) {
		*value = src->option;
		return 0;
	}
	v = tsv_get(rec->r, src->col);
	if (*v != '\0' && src->url && !http_url(v)) {
		rb_buf_printf(rec->reason, "%s is not an http:// or https:// URL: \"%s\"", name, shown(&s, v));
		rb_buf_free(&s);
		return -1;
	}
	*value = v;
	return 0;
}

/* Expand one template sequence into out; on failure the reason is set. */
static int
expand(const struct tmpl_seq *s, enum tmpl_mode mode, struct record *rec, struct rb_buf *out)
{
	const char *missing = NULL;
	int rc = tmpl_expand(s, mode, lookup, rec, out, &missing);

	if (rc == -1)
		rb_buf_printf(rec->reason, "no value for {{%s}}", missing);
	if (rc < 0)
		return -1;
	mf_utf8_sanitize(out);
	if (mode == TMPL_HEADER)
		mf_header_clean(out);
	return 0;
}

static int
address_header(const struct tmpl_header *h, struct record *rec, struct rb_buf *out, struct rb_buf *sender)
{
	struct mf_mailbox *mb = rb_xcalloc(h->nitems, sizeof *mb);
	size_t n = 0;
	int rc = 0;
	struct rb_buf *v = &rec->value, s = { 0 };

	for (size_t i = 0; i < h->nitems && rc == 0; i++) {
		rb_buf_clear(v);
		if (expand(&h->item[i], TMPL_HEADER, rec, v) < 0)
			rc = -1;
		else if (v->len > 0 && mf_parse_mailbox(v->data, &mb[n++]) < 0) {
			rb_buf_printf(rec->reason, "%s: not a plausible address: \"%s\"", h->name, shown(&s, v->data));
			rc = -1;
		}
	}
	if (rc == 0 && n == 0 && (strcasecmp(h->name, "To") == 0 || strcasecmp(h->name, "From") == 0)) {
		rb_buf_printf(rec->reason, "no address for %s", h->name);
		rc = -1;
	}
	if (rc == 0 && n > 0) {
		mf_write_mailboxes(out, h->name, mb, n);
		if (strcasecmp(h->name, "From") == 0)
			rb_buf_adds(sender, mb[0].addr);
	}
	for (size_t i = 0; i < n; i++)
		mf_mailbox_free(&mb[i]);
	free(mb);
	rb_buf_free(&s);
	return rc;
}

static int
other_header(const struct tmpl_header *h, struct record *rec, struct rb_buf *out)
{
	struct rb_buf *v = &rec->value;
	int rc;

	rb_buf_clear(v);
	rc = expand(&h->item[0], TMPL_HEADER, rec, v);
	if (rc == 0 && v->len == 0 && strcasecmp(h->name, "Subject") == 0) {
		rb_buf_adds(rec->reason, "empty Subject");
		rc = -1;
	}
	if (rc == 0 && v->len > 0)
		mf_write_unstructured(out, h->name, v->data);
	return rc;
}

static void
write_body(struct rb_buf *out, const struct rb_buf *body, const struct attachment *att, time_t now,
	long pid, unsigned long seq)
{
	static const char text_part[] = "Content-Type: text/plain; charset=UTF-8\n"
					"Content-Transfer-Encoding: quoted-printable\n";

	rb_buf_adds(out, "MIME-Version: 1.0\n");
	if (att == NULL) {
		rb_buf_adds(out, text_part);
		rb_buf_addc(out, '\n');
		mf_qp_encode(out, body->data ? body->data : "", body->len);
		return;
	}
	/* "=_" never occurs in quoted-printable or base64, so the boundary cannot either. */
	char boundary[64];
	snprintf(boundary, sizeof boundary, "=_rebounce_%lld_%ld_%lu", (long long)now, pid, seq);
	rb_buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary);
	rb_buf_adds(out, "This is a MIME message.\n");
	rb_buf_printf(out, "\n--%s\n%s\n", boundary, text_part);
	mf_qp_encode(out, body->data ? body->data : "", body->len);
	rb_buf_printf(out, "\n--%s\nContent-Type: application/pdf\n", boundary);
	struct mf_header h;
	mf_header_begin(&h, out, "Content-Disposition");
	mf_header_token(&h, "attachment", 10, false);
	mf_header_param(&h, "filename", att->filename);
	mf_header_end(&h);
	rb_buf_adds(out, "Content-Transfer-Encoding: base64\n\n");
	mf_base64(out, att->data.data, att->data.len);
	rb_buf_printf(out, "\n--%s--\n", boundary);
}

/* Render one record with template t into msg.  Returns 0, or -1 with rec->reason set. */
static int
render(const struct tmpl *t, struct record *rec, const struct attachment *att, unsigned long seq,
	struct rb_buf *msg, struct rb_buf *sender)
{
	time_t now = time(NULL);
	struct rb_buf *body = &rec->body;
	const char *domain;

	rb_buf_clear(msg);
	rb_buf_clear(sender);
	if (tmpl_header(t, "From") == NULL) {
		struct mf_mailbox mb;

		mf_parse_mailbox(fromflag, &mb); /* checked in main */
		mf_write_mailboxes(msg, "From", &mb, 1);
		rb_buf_adds(sender, mb.addr);
		mf_mailbox_free(&mb);
	}
	for (size_t i = 0; i < t->nhdr; i++) {
		const struct tmpl_header *h = &t->hdr[i];
		struct fixed *f = fixed_of(rec, h);
		size_t mark = msg->len, smark = sender->len;

		if (f && f->ready) {
			rb_buf_add(msg, f->text.data, f->text.len);
			rb_buf_add(sender, f->sender.data, f->sender.len);
			continue;
		}
		if ((h->address ? address_header(h, rec, msg, sender) : other_header(h, rec, msg)) < 0)
			return -1;
		if (f && f->fixed) {
			if (msg->len > mark)
				rb_buf_add(&f->text, msg->data + mark, msg->len - mark);
			if (sender->len > smark)
				rb_buf_add(&f->sender, sender->data + smark, sender->len - smark);
			f->ready = true;
		}
	}
	rb_buf_clear(body);
	if (expand(&t->body, TMPL_BODY, rec, body) < 0)
		return -1;
	rb_buf_adds(msg, "Date: ");
	mf_stamp_date(rec->stamp, msg, now);
	rb_buf_adds(msg, "\nMessage-ID: ");
	domain = domainflag ? domainflag : strchr(sender->data ? sender->data : "", '@');
	if (domain && *domain == '@')
		domain++;
	if (domain == NULL || *domain == '\0')
		domain = rec->host;
	mf_stamp_message_id(rec->stamp, msg, domain, now, seq);
	rb_buf_addc(msg, '\n');
	write_body(msg, body, att, now, rec->stamp->pid, seq);
	return 0;
}

/* Read the PDF named by rel under the real directory root.  Returns 0, or -1 with reason. */
static int
load_attachment(const char *root, const char *rel, struct attachment *att, struct rb_buf *reason)
{
	struct rb_buf path = { 0 }, s = { 0 };
	char *real = NULL;
	int fd = -1, rc = -1;
	struct stat st;
	size_t rootlen = strlen(root);

	rb_buf_clear(&att->data);
	att->filename = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	if (*rel == '\0') {
		rb_buf_printf(reason, "no value in column %s for --attach", attachflag);
		goto out;
	}
	rb_buf_printf(&path, "%s/%s", root, rel);
	if (*rel == '/' || strcmp(rel, "..") == 0 || strncmp(rel, "../", 3) == 0 || strstr(rel, "/../") ||
	    (strlen(rel) >= 3 && strcmp(rel + strlen(rel) - 3, "/..") == 0)) {
		rb_buf_printf(reason, "attachment \"%s\" is outside the attachment directory", shown(&s, rel));
		goto out;
	}
	real = realpath(path.data, NULL);
	if (real == NULL) {
		rb_buf_printf(reason, "attachment \"%s\": %s", shown(&s, rel), strerror(errno));
		goto out;
	}
	if (strncmp(real, root, rootlen) != 0 || (real[rootlen] != '/' && strcmp(root, "/") != 0)) {
		rb_buf_printf(reason, "attachment \"%s\" is outside the attachment directory", shown(&s, rel));
		goto out;
	}
	fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rb_buf_printf(reason, "attachment \"%s\": %s", shown(&s, rel), strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_ATTACH) {
		rb_buf_printf(reason, "attachment \"%s\": %s", shown(&s, rel),
			S_ISREG(st.st_mode) ? "larger than 20 MiB" : "not a regular file");
		goto out;
	}
	rb_buf_reserve(&att->data, (size_t)st.st_size);
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n < 0) {
			rb_buf_printf(reason, "attachment \"%s\": %s", shown(&s, rel), strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (att->data.len + (size_t)n > MAX_ATTACH) {
			rb_buf_printf(reason, "attachment \"%s\": larger than 20 MiB", shown(&s, rel));
			goto out;
		}
		rb_buf_add(&att->data, chunk, (size_t)n);
	}
	if (att->data.len < 5 || memcmp(att->data.data, "%PDF-", 5) != 0) {
		rb_buf_printf(reason, "attachment \"%s\" is not a PDF file", shown(&s, rel));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(real);
	rb_buf_free(&path);
	rb_buf_free(&s);
	return rc;
}

/* Language tags become lower-case with '-'; anything else means "no language". */
static bool
normal_lang(const char *v, char *out, size_t cap)
{
	size_t n = strlen(v);

	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = v[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '_')
			c = '-';
		if (c != '\0' && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		out[i] = c;
	}
	return true;
}

static const struct tmpl *
choose_template(const struct tset *ts, int cat, const char *lang)
{
	char tag[32];

	if (normal_lang(lang, tag, sizeof tag)) {
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < ts->nvar[cat]; i++)
				if (strcmp(ts->var[cat][i].lang, tag) == 0)
					return &ts->var[cat][i].t;
			char *dash = strchr(tag, '-');
			if (dash == NULL)
				break;
			*dash = '\0';
		}
	}
	return &ts->base[cat];
}

/* Structural checks that need no input: exit 2 on failure. */
static void
check_template(const struct tmpl *t)
{
	const struct tmpl_header *h;

	for (size_t i = 0; i < sizeof generated / sizeof generated[0]; i++)
		if ((h = tmpl_header(t, generated[i])) != NULL) {
			rb_warn_at(t->path, h->line, "%s is written by bounce-render; remove it from the template",
				h->name);
			exit(RB_EXIT_FATAL);
		}
	if (tmpl_header(t, "To") == NULL)
		rb_die(RB_EXIT_FATAL, "%s: no To header", t->path);
	if (tmpl_header(t, "Subject") == NULL)
		rb_die(RB_EXIT_FATAL, "%s: no Subject header", t->path);
	if (tmpl_header(t, "From") == NULL && fromflag == NULL)
		rb_die(RB_EXIT_FATAL, "%s: no From header; add one or give --from", t->path);
}

static void
load_one(struct tmpl *t, const char *dir, const char *file)
{
	struct rb_buf p = { 0 };

	rb_buf_printf(&p, "%s/%s", dir, file);
	if (tmpl_load(t, p.data) < 0)
		exit(RB_EXIT_FATAL);
	check_template(t);
	rb_buf_free(&p);
}

/* The base template of each category, and every CATEGORY.LANG.eml beside it. */
static void
load_templates(struct tset *ts, const char *dir)
{
	DIR *d;
	struct dirent *e;

	memset(ts, 0, sizeof *ts);
	for (int c = 0; c < NCAT; c++) {
		char file[32];

		snprintf(file, sizeof file, "%s.eml", catname[c]);
		load_one(&ts->base[c], dir, file);
	}
	if ((d = opendir(dir)) == NULL)
		rb_die(RB_EXIT_FATAL, "%s: cannot read template directory:", dir);
	while ((e = readdir(d)) != NULL) {
		for (int c = 0; c < NCAT; c++) {
			size_t cl = strlen(catname[c]), n = strlen(e->d_name);
			char tag[32];

			if (n <= cl + 5 || strncmp(e->d_name, catname[c], cl) != 0 || e->d_name[cl] != '.' ||
			    strcmp(e->d_name + n - 4, ".eml") != 0 || n - cl - 5 >= sizeof tag)
				continue;
			memcpy(tag, e->d_name + cl + 1, n - cl - 5);
			tag[n - cl - 5] = '\0';
			if (!normal_lang(tag, tag, sizeof tag))
				continue;
			ts->var[c] = rb_xreallocarray(ts->var[c], ts->nvar[c] + 1, sizeof *ts->var[c]);
			struct variant *v = &ts->var[c][ts->nvar[c]++];
			v->lang = rb_xstrdup(tag);
			load_one(&v->t, dir, e->d_name);
		}
	}
	closedir(d);
}

static void
free_templates(struct tset *ts)
{
	for (int c = 0; c < NCAT; c++) {
		tmpl_free(&ts->base[c]);
		for (size_t i = 0; i < ts->nvar[c]; i++) {
			free(ts->var[c][i].lang);
			tmpl_free(&ts->var[c][i].t);
		}
		free(ts->var[c]);
	}
}

/* Every template must be fillable from this stream before anything is written. */
static void
check_stream(const struct tset *ts, const struct tsv_reader *r)
{
	if (tsv_column(r, "category") < 0)
		rb_die(RB_EXIT_FATAL, "%s: no category column (run bounce-classify first)", r->name);
	for (int c = 0; c < NCAT; c++) {
		if (tmpl_check(&ts->base[c], placeholder_problem, (void *)r) < 0)
			exit(RB_EXIT_FATAL);
		for (size_t i = 0; i < ts->nvar[c]; i++)
			if (tmpl_check(&ts->var[c][i].t, placeholder_problem, (void *)r) < 0)
				exit(RB_EXIT_FATAL);
	}
	if (attachflag && tsv_column(r, attachflag) < 0)
		rb_die(RB_EXIT_FATAL, "%s: no column %s for --attach", r->name, attachflag);
}

static int
mkdir_ok(const char *path)
{
	return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static int
open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		rb_die(RB_EXIT_FATAL, "%s:", path);
	return fd;
}

static void
sink_open(struct sink *k)
{
	memset(k, 0, sizeof *k);
	k->dirfd = k->tmpfd = k->newfd = -1;
	mf_stamp_init(&k->stamp);
	if (maildirflag) {
		struct rb_buf p = { 0 };

		k->kind = SINK_MAILDIR;
		k->path = maildirflag;
		if (mkdir_ok(maildirflag) < 0)
			rb_die(RB_EXIT_FATAL, "%s:", maildirflag);
		for (int i = 0; i < 3; i++) {
			rb_buf_clear(&p);
			rb_buf_printf(&p, "%s/%s", maildirflag, (const char *[]){ "tmp", "new", "cur" }[i]);
			if (mkdir_ok(p.data) < 0)
				rb_die(RB_EXIT_FATAL, "%s:", p.data);
			if (i == 0)
				k->tmpfd = open_dir(p.data);
			else if (i == 1)
				k->newfd = open_dir(p.data);
		}
		rb_buf_free(&p);
		/* Maildir names keep '/' and ':' out of the host part. */
		if (gethostname(k->host, sizeof k->host - 1) != 0 || k->host[0] == '\0')
			strcpy(k->host, "localhost");
		for (char *c = k->host; *c; c++)
			if (*c == '/' || *c == ':' || *c == '.')
				*c = '_';
	} else if (dirflag) {
		k->kind = SINK_DIR;
		k->path = dirflag;
		if (mkdir_ok(dirflag) < 0)
			rb_die(RB_EXIT_FATAL, "%s:", dirflag);
		k->dirfd = open_dir(dirflag);
	} else {
		struct stat out, err;

		k->kind = SINK_MBOX;
		/* Every warning flushes stdout first, so that messages and warnings keep their
		 * order in a file that has both.  When they go to different files that order
		 * cannot be seen, and messages can be written in large blocks instead. */
		k->hold = fstat(STDOUT_FILENO, &out) == 0 && fstat(STDERR_FILENO, &err) == 0 &&
			  (out.st_dev != err.st_dev || out.st_ino != err.st_ino);
	}
}

/* Give the waiting mbox output to stdout; when it was held back, empty the stdio buffer
 * as well, so that the flush before the next warning has nothing to write. */
static void
sink_flush(struct sink *k)
{
	if (k->box.len == 0)
		return;
	if (fwrite(k->box.data, 1, k->box.len, stdout) != k->box.len || (k->hold && fflush(stdout) != 0))
		rb_die(RB_EXIT_FATAL, "write error on stdout:");
	rb_buf_clear(&k->box);
}

static void
sink_close(struct sink *k)
{
	sink_flush(k);
	if (k->dirfd >= 0)
		close(k->dirfd);
	if (k->tmpfd >= 0)
		close(k->tmpfd);
	if (k->newfd >= 0)
		close(k->newfd);
	rb_buf_free(&k->box);
}

static void
write_file(int dirfd, const char *dir, const char *name, const struct rb_buf *msg, bool sync)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
	size_t off = 0;

	if (fd < 0)
		rb_die(RB_EXIT_FATAL, "%s/%s: %s", dir, name,
			errno == EEXIST ? "exists; not overwritten" : strerror(errno));
	while (off < msg->len) {
		ssize_t n = write(fd, msg->data + off, msg->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rb_die(RB_EXIT_FATAL, "%s/%s: write error:", dir, name);
		off += (size_t)n;
	}
	if ((sync && fsync(fd) != 0) || close(fd) != 0)
		rb_die(RB_EXIT_FATAL, "%s/%s: write error:", dir, name);
}

/* A file name made only of safe characters, so no recipient can leave the directory. */
static void
safe_name(struct rb_buf *out, unsigned long seq, const char *cat, const char *recipient)
{
	size_t n = 0;

	rb_buf_printf(out, "%06lu-%s-", seq, cat);
	for (const char *c = recipient; *c && n < 64; c++, n++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			  *c == '@' || *c == '.' || *c == '_' || *c == '+' || *c == '-';

		rb_buf_addc(out, ok ? *c : '_');
	}
	if (n == 0)
		rb_buf_adds(out, "unknown");
	rb_buf_adds(out, ".eml");
}

static void
sink_put(struct sink *k, const struct rb_buf *msg, const char *sender, const char *cat, const char *recipient)
{
	struct rb_buf name = { 0 };

	k->seq++;
	switch (k->kind) {
	case SINK_MBOX:
		mf_stamp_mbox_append(&k->stamp, &k->box, sender, time(NULL), msg->data, msg->len);
		if (!k->hold || k->box.len >= HOLD_MAX)
			sink_flush(k);
		break;
	case SINK_MAILDIR:
		/* time.PpidQcount.host, written in tmp/ and linked into new/ when complete. */
		rb_buf_printf(&name, "%lld.P%ldQ%lu.%s", (long long)time(NULL), k->stamp.pid, k->seq, k->host);
		write_file(k->tmpfd, k->path, name.data, msg, true);
		if (linkat(k->tmpfd, name.data, k->newfd, name.data, 0) != 0)
			rb_die(RB_EXIT_FATAL, "%s/new/%s:", k->path, name.data);
		if (unlinkat(k->tmpfd, name.data, 0) != 0)
			rb_die(RB_EXIT_FATAL, "%s/tmp/%s:", k->path, name.data);
		break;
	case SINK_DIR:
		safe_name(&name, k->seq, cat, recipient);
		write_file(k->dirfd, k->path, name.data, msg, false);
		break;
	}
	rb_buf_free(&name);
}

static int
category_of(const char *v)
{
	for (int c = 0; c < NCAT; c++)
		if (strcmp(v, catname[c]) == 0)
			return c;
	return -1;
}

/* Returns 0, or -1 on a write error (errno set). */
static int
write_reject(FILE *fp, const struct tsv_reader *r, const char *reason)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (tsv_write_field(fp, r->field[i], r->flen[i]) < 0 || putc('\t', fp) == EOF)
			return -1;
	if (tsv_write_field(fp, reason, strlen(reason)) < 0 || putc('\n', fp) == EOF)
		return -1;
	return 0;
}

/* The rejects file has one header: every input must have the same columns. */
static void
rejects_header(FILE *fp, const struct tsv_reader *r, struct rb_buf *cols)
{
	struct rb_buf now = { 0 };

	for (size_t i = 0; i < r->ncols; i++)
		rb_buf_printf(&now, "%s\t", r->cols[i]);
	rb_buf_adds(&now, "reject_reason\n");
	if (cols->len == 0) {
		rb_buf_add(cols, now.data, now.len);
		if (fputs(now.data, fp) == EOF)
			rb_die(RB_EXIT_FATAL, "%s: write error:", rejectsflag);
	} else if (strcmp(cols->data, now.data) != 0)
		rb_die(RB_EXIT_FATAL, "%s: columns differ from the first input's; --rejects needs the same columns",
			r->name);
	rb_buf_free(&now);
}

static void
process(struct tsv_reader *r, const struct tset *ts, const char *root, struct sink *k, FILE *rejfp,
	const char *host, struct counts *n)
{
	ssize_t icat = tsv_column(r, "category"), irec = tsv_column(r, "recipient");
	ssize_t ilang = tsv_column(r, "language") >= 0 ? tsv_column(r, "language") : tsv_column(r, "lang");
	ssize_t iatt = attachflag ? tsv_column(r, attachflag) : -1;
	struct rb_buf msg = { 0 }, sender = { 0 }, reason = { 0 }, s = { 0 };
	struct attachment att = { 0 };
	struct record rec = { .r = r, .reason = &reason, .host = host, .stamp = &k->stamp, .nsrc = 0 };
	int rc;

	while ((rc = tsv_read(r)) > 0) {
		int cat = category_of(tsv_get(r, icat));
		const char *recipient = tsv_get(r, irec);

		n->in++;
		if (cat < 0) {
			n->skipped++;
			continue;
		}
		rb_buf_clear(&reason);
		if ((iatt < 0 || load_attachment(root, tsv_get(r, iatt), &att, &reason) == 0) &&
		    render(choose_template(ts, cat, tsv_get(r, ilang)), &rec, iatt < 0 ? NULL : &att,
			    (unsigned long)n->in, &msg, &sender) == 0) {
			sink_put(k, &msg, sender.data, catname[cat], recipient);
			n->rendered++;
			continue;
		}
		n->rejected++;
		rb_warn_at(r->name, r->lineno, "%s: %s; not rendered",
			*recipient ? shown(&s, recipient) : "(no recipient)", reason.data);
		if (rejfp && write_reject(rejfp, r, reason.data) < 0) {
			int saved = errno;

			sink_flush(k); /* the messages rendered so far are still delivered */
			errno = saved;
			rb_die(RB_EXIT_FATAL, "%s: write error:", rejectsflag);
		}
	}
	if (rc < 0)
		n->bad++;
	n->bad += r->nbad;
	rb_buf_free(&msg);
	rb_buf_free(&sender);
	rb_buf_free(&reason);
	rb_buf_free(&s);
	rb_buf_free(&rec.body);
	rb_buf_free(&rec.value);
	for (size_t i = 0; i < rec.nfixed; i++) {
		rb_buf_free(&rec.fixed[i].text);
		rb_buf_free(&rec.fixed[i].sender);
	}
	rb_buf_free(&att.data);
}

/* Render the records of one input; rejected and malformed records are counted in n.
 * An input that cannot be opened or read is reported and skipped, the others are still
 * rendered: returns RB_EXIT_BADINPUT for it, else RB_EXIT_OK. */
static int
render_file(const char *path, const struct tset *ts, const char *root, struct sink *k, FILE *rejfp,
	struct rb_buf *rejcols, const char *host, struct counts *n)
{
	const char *name = rb_display_name(path);
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct tsv_reader r;
	int rc;

	if (fp == NULL) {
		rb_warn_at(name, 0, "cannot open:");
		return RB_EXIT_BADINPUT;
	}
	rc = tsv_open(&r, fp, name);
	if (rc > 0) {
		check_stream(ts, &r);
		if (rejfp)
			rejects_header(rejfp, &r, rejcols);
		process(&r, ts, root, k, rejfp, host, n);
		sink_flush(k);
	}
	tsv_close(&r);
	if (fp != stdin)
		fclose(fp);
	return rc < 0 ? RB_EXIT_BADINPUT : RB_EXIT_OK;
}

/* An address option: absent, or one mailbox; a bad one is reported. */
static bool
address_ok(const char *v, const char *opt)
{
	struct mf_mailbox mb;

	if (v == NULL)
		return true;
	if (mf_parse_mailbox(v, &mb) < 0) {
		rb_warn("%s: not a plausible address: \"%s\"", opt, v);
		return false;
	}
	mf_mailbox_free(&mb);
	return true;
}

/* A domain option: absent, or a name that can follow the '@' of an address. */
static bool
domain_ok(const char *v, const char *opt)
{
	struct rb_buf d = { 0 };
	bool ok;

	if (v == NULL)
		return true;
	rb_buf_printf(&d, "x@%s", v);
	ok = mf_addr_plausible(d.data);
	rb_buf_free(&d);
	if (!ok)
		rb_warn("%s: not a domain name: \"%s\"", opt, v);
	return ok;
}

/* --stats, in the order of bounce-render(1): records in = rendered + not actionable +
 * rejected + malformed (n->in counts the records read whole, n->bad the others). */
static void
print_stats(const struct counts *n)
{
	rb_stat("records in", n->in + n->bad);
	rb_stat("rendered", n->rendered);
	rb_stat("not actionable", n->skipped);
	rb_stat("rejected", n->rejected);
	rb_stat("malformed", n->bad);
}

int
main(int argc, char *argv[])
{
	enum { OPT_FROM = 256, OPT_REPLY_TO, OPT_DOMAIN, OPT_ATTACH, OPT_ATTACH_DIR, OPT_REJECTS,
		OPT_MAILDIR, OPT_DIR, OPT_STATS, OPT_VERSION };
	static const struct option longopts[] = {
		{ "templates", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "reply-to", required_argument, NULL, OPT_REPLY_TO },
		{ "sending-domain", required_argument, NULL, OPT_DOMAIN },
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "attach-dir", required_argument, NULL, OPT_ATTACH_DIR },
		{ "rejects", required_argument, NULL, OPT_REJECTS },
		{ "maildir", required_argument, NULL, OPT_MAILDIR },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct tset ts;
	struct sink k;
	struct counts n = { 0 };
	FILE *rejfp = NULL;
	struct rb_buf rejcols = { 0 };
	char *tdir, *root = NULL, host[256] = "";
	int c, status = RB_EXIT_OK;

	rb_init(argv[0]);
	/* One write per message, not one per piece of it: rejects can be many. */
	setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
	while ((c = getopt_long(argc, argv, "ht:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': tflag = optarg; break;
		case OPT_FROM: fromflag = optarg; break;
		case OPT_REPLY_TO: replytoflag = optarg; break;
		case OPT_DOMAIN: domainflag = optarg; break;
		case OPT_ATTACH: attachflag = optarg; break;
		case OPT_ATTACH_DIR: attachdirflag = optarg; break;
		case OPT_REJECTS: rejectsflag = optarg; break;
		case OPT_MAILDIR: maildirflag = optarg; break;
		case OPT_DIR: dirflag = optarg; break;
		case OPT_STATS: statsflag = true; break;
		case 'h': usage(stdout); return rb_finish(RB_EXIT_OK);
		case OPT_VERSION: rb_print_version(); return rb_finish(RB_EXIT_OK);
		default: usage(stderr); return RB_EXIT_FATAL;
		}
	}
	argc -= optind;
	argv += optind;

	if (maildirflag && dirflag) {
		rb_warn("--maildir and --dir exclude each other");
		usage(stderr);
		return RB_EXIT_FATAL;
	}
	if (!attachflag != !attachdirflag) {
		rb_warn("--attach and --attach-dir go together");
		usage(stderr);
		return RB_EXIT_FATAL;
	}
	if (!address_ok(fromflag, "--from") || !address_ok(replytoflag, "--reply-to") ||
	    !domain_ok(domainflag, "--sending-domain")) {
		usage(stderr);
		return RB_EXIT_FATAL;
	}
	if (attachdirflag && (root = realpath(attachdirflag, NULL)) == NULL)
		rb_die(RB_EXIT_FATAL, "%s:", attachdirflag);

	if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
		strcpy(host, "localhost");
	tdir = tflag ? rb_xstrdup(tflag) : rb_share_path("templates");
	load_templates(&ts, tdir);
	if (rejectsflag && (rejfp = fopen(rejectsflag, "w")) == NULL)
		rb_die(RB_EXIT_FATAL, "%s:", rejectsflag);
	sink_open(&k);

	if (argc == 0)
		status = render_file("-", &ts, root, &k, rejfp, &rejcols, host, &n);
	for (int i = 0; i < argc; i++)
		status = rb_worse(status, render_file(argv[i], &ts, root, &k, rejfp, &rejcols, host, &n));

	if (rejfp && fclose(rejfp) != 0)
		rb_die(RB_EXIT_FATAL, "%s: write error:", rejectsflag);
	if (status == RB_EXIT_OK && (n.rejected > 0 || n.bad > 0))
		status = RB_EXIT_BADINPUT;
	sink_close(&k);
	free_templates(&ts);
	free(tdir);
	free(root);
	rb_buf_free(&rejcols);
	status = rb_finish(status);
	if (statsflag)
		print_stats(&n);
	return status;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-t DIR] [--from ADDR] [--reply-to ADDR] [--sending-domain DOMAIN]\n"
		"       [--attach COLUMN --attach-dir DIR] [--rejects FILE] [--maildir DIR | --dir DIR]\n"
		"       [--stats] [FILE ...]\n"
		"Write one remediation email per record of category address or blocked.\n"
		"  -t, --templates DIR        CATEGORY.eml, CATEGORY.LANG.eml (default: the shipped ones)\n"
		"      --from ADDR            {{from}}, and From when a template has none\n"
		"      --reply-to ADDR        {{reply_to}}\n"
		"      --sending-domain DOM   {{sending_domain}}, and the Message-ID domain\n"
		"      --attach COLUMN        attach the PDF this column names ...\n"
		"      --attach-dir DIR       ... found under this directory\n"
		"      --rejects FILE         write the records not rendered here, with reject_reason\n"
		"      --maildir DIR          deliver into a Maildir instead of an mbox on stdout\n"
		"      --dir DIR              write one NNNNNN-CATEGORY-RECIPIENT.eml per message\n"
		"      --stats                print the accounting on stderr\n"
		"  -h, --help                 this help\n"
		"      --version              print the version\n",
		rb_progname());
}
