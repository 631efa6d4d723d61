#!/usr/bin/env python3
"""Synthetic, deterministic inputs for `make bench`, and the timer it uses.

    bench-gen.py version                 generator version (part of the cached file names)
    bench-gen.py bounces N OUT           an mbox of N bounces in six reporting formats
    bench-gen.py mixed MB OUT            an mbox of about MB MiB: 1 message in 20 a bounce,
                                         the rest ordinary mail, some with large attachments
    bench-gen.py records N OUT           N records in bounce-extract's columns (TSV)
    bench-gen.py csv N OUT               a recipient CSV of N rows that the records match
    bench-gen.py measure [-n RUNS] [-e LOG] CMD [| CMD ...]
                                         run a pipeline RUNS times, stdout to /dev/null,
                                         stderr to /dev/null or appended to LOG; print
                                         "median_s best_s median_cpu_s peak_rss_kb statuses how"

The same arguments always give the same bytes: every choice comes from a seeded generator.
The generators print "messages=M bounces=B bytes=S" (or "records=N bytes=S") on stdout.
Peak RSS is the largest resident set of any process of the pipeline: GNU time's %M when
GNU time is installed, else the VmHWM that /proc reports, polled every 5 ms (BENCH_RSS=poll
forces the polling).
"""

import base64
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

VERSION = "1"
SEED = 20260302
BLOCK = 1 << 20

FIRST = ("jane john maria ahmed yuki ben chloe dieter grace ines kenji lena marco nina "
         "olivia owen paul priya rui sofia tom amara hannah daniel clara heike li sam "
         "noor elena").split()
LAST = ("doe smith garcia hassan tanaka carter moreau hartmann liu duarte yamamoto "
        "fischer rossi kowalski grant price schneider natarajan silva lindqvist becker "
        "okafor brooks osei brandt keller wong patel novak berg").split()
DOMAINS = ("example.com example.net example.org kestrel-engineering.example "
           "orchard-health.example harbourline-logistics.example northfield-college.example "
           "alder-pharma.example fenwick-institute.example riverbend-arts.example "
           "mail.example.com staff.example.org students.example.net "
           "gmial.com hotmial.com yaho.com outlok.com").split()
COURSES = ("Data Stewardship Foundations", "Records Management Basics",
           "Advanced Data Stewardship", "Information Security Awareness",
           "Research Data Planning", "Archival Description Workshop")

# (status, smtp code, diagnostic): the failures a certificate run meets.
FAILURES = (
    ("5.1.1", "550", "5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("5.1.1", "550", "5.1.1 The email account that you tried to reach does not exist."),
    ("5.1.1", "550", "5.1.1 <{rcpt}>... User unknown"),
    ("5.1.10", "550", "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"),
    ("5.7.1", "550", "5.7.1 Message rejected due to security policy"),
    ("5.7.1", "550", "5.7.1 Delivery not authorized, message refused by recipient's policy"),
    ("5.7.1", "554", "5.7.1 Service unavailable; Client host [192.0.2.40] blocked using bl.example.net"),
    ("5.7.23", "550", "5.7.23 The message was rejected because of Sender Policy Framework violation"),
    ("5.7.26", "550", "5.7.26 Unauthenticated email from certs.example.org is not accepted due to domain's DMARC policy"),
    ("5.7.1", "550", "5.7.1 Message rejected as spam by Content Filtering."),
    ("5.2.2", "552", "5.2.2 <{rcpt}>: Mailbox full, quota exceeded"),
    ("4.2.2", "452", "4.2.2 The email account that you tried to reach is over quota."),
    ("5.2.1", "550", "5.2.1 <{rcpt}>: Mailbox disabled, not accepting messages"),
    ("5.3.4", "552", "5.3.4 Message size exceeds fixed maximum message size"),
    ("4.4.1", "", "connect to {mx}[203.0.113.25]:25: Connection timed out"),
    ("5.4.4", "", "Host or domain name not found. Name service error for name={domain} type=MX: Host not found"),
)

WORDS = ("the certificate course module cohort record archive report review team meeting "
         "schedule invoice payment budget draft final update question answer please thanks "
         "data stewardship policy retention access request approval deadline week month "
         "library training session room speaker agenda minutes notes list change plan "
         "project result summary office remote support ticket account password").split()


def address(k):
    """The k-th recipient: the same k always gives the same address."""
    f = FIRST[k % len(FIRST)]
    l = LAST[(k // len(FIRST)) % len(LAST)]
    d = DOMAINS[(k * 2654435761 >> 7) % len(DOMAINS)]
    return f"{f}.{l}{k}@{d}", f"{f.title()} {l.title()}"


def token(k):
    alpha = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    x = (k * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
    out = []
    for _ in range(12):
        out.append(alpha[x % len(alpha)])
        x //= len(alpha)
        if x == 0:
            x = (k + 1) * 1099511628211
    return "".join(out)


def paragraph(rng, words):
    line, out, n = [], [], 0
    for w in rng.choices(WORDS, k=words):
        line.append(w)
        n += len(w) + 1
        if n > 66:
            out.append(" ".join(line))
            line, n = [], 0
    if line:
        out.append(" ".join(line))
    return "\n".join(out).capitalize() + ".\n"


class Clock:
    """Message dates: 2026, moving forward a few seconds a message."""

    def __init__(self, rng):
        self.rng = rng
        self.t = 1767225600  # 2026-01-01T00:00:00Z

    def tick(self):
        self.t += self.rng.randrange(5, 90)
        g = time.gmtime(self.t)
        sep = time.strftime("%a %b ", g) + f"{g.tm_mday:2d}" + time.strftime(" %H:%M:%S %Y", g)
        return sep, time.strftime("%a, %d %b %Y %H:%M:%S +0000", g), self.t


def original(rng, k, when, body=True):
    rcpt, name = address(k)
    course = COURSES[k % len(COURSES)]
    head = (f"Return-Path: <certificates@certs.example.org>\n"
            f"Date: {when}\n"
            f"From: Certificates Team <certificates@certs.example.org>\n"
            f"To: {name} <{rcpt}>\n"
            f"Subject: Your certificate for {course}\n"
            f"Message-ID: <cert-{k}@certs.example.org>\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=utf-8\n")
    if not body:
        return head
    text = "".join(paragraph(rng, rng.randrange(40, 120)) + "\n" for _ in range(rng.randrange(3, 7)))
    return (head + f"\nDear {name},\n\ncongratulations on completing {course}.\n\n"
            f"Your certificate is ready: https://certs.example.org/view/C-{k}\n\n"
            + text + "Kind regards,\nThe Certificates Team\n")


def postfix(rng, f, rcpts, when, qid):
    status, code, diag, rcpt = f[0][0], f[0][1], f[0][2], rcpts[0]
    delayed = status.startswith("4")
    subj = "Delayed Mail (still being retried)" if delayed else "Undelivered Mail Returned to Sender"
    b = f"{qid}.{rng.randrange(10**9, 10**10)}/mx.certs.example.org"
    notes, dsn = [], []
    for (st, cd, dg), r in zip(f, rcpts):
        mx = "mx." + r.split("@")[1]
        notes.append(f"<{r}>: host {mx}[203.0.113.{rng.randrange(1, 254)}] said: {cd} {dg} "
                     f"(in reply to RCPT TO command)\n" if cd else f"<{r}>: {dg}\n")
        dsn.append(f"Final-Recipient: rfc822; {r}\nOriginal-Recipient: rfc822;{r}\n"
                   f"Action: {'delayed' if st.startswith('4') else 'failed'}\nStatus: {st}\n"
                   + (f"Remote-MTA: dns; {mx}\nDiagnostic-Code: smtp; {cd} {dg}\n" if cd
                      else f"Diagnostic-Code: X-Postfix; {dg}\n"))
    return (f"Return-Path: <>\nDate: {when}\n"
            f"From: MAILER-DAEMON@certs.example.org (Mail Delivery System)\nSubject: {subj}\n"
            f"To: certificates@certs.example.org\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"{b}\"\n"
            f"Message-Id: <{qid}@mx.certs.example.org>\n\nThis is a MIME-encapsulated message.\n\n"
            f"--{b}\nContent-Description: Notification\nContent-Type: text/plain; charset=utf-8\n\n"
            f"This is the mail system at host mx.certs.example.org.\n\n"
            f"I'm sorry to have to inform you that your message could not\n"
            f"be delivered to one or more recipients. It's attached below.\n\n"
            f"For further assistance, please send mail to postmaster.\n\n"
            f"                   The mail system\n\n" + "\n".join(notes) +
            f"\n--{b}\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; mx.certs.example.org\nX-Postfix-Queue-ID: {qid}\n"
            f"Arrival-Date: {when}\n\n" + "\n".join(dsn) +
            f"\n--{b}\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n\n")


def sendmail(rng, f, rcpts, when, qid):
    status, code, diag = f[0]
    b = f"{qid}.{rng.randrange(10**9, 10**10)}/relay.certs.example.org"
    lines = "".join(f"<{r}>\n    (reason: {cd} {dg})\n" for (st, cd, dg), r in zip(f, rcpts))
    dsn = "\n".join(f"Final-Recipient: RFC822; {r}\nAction: failed\nStatus: {st}\n"
                    f"Remote-MTA: DNS; mx.{r.split('@')[1]}\nDiagnostic-Code: SMTP; {cd} {dg}\n"
                    for (st, cd, dg), r in zip(f, rcpts))
    return (f"Return-Path: <MAILER-DAEMON@relay.certs.example.org>\nDate: {when}\n"
            f"From: Mail Delivery Subsystem <MAILER-DAEMON@relay.certs.example.org>\n"
            f"Message-Id: <{qid}@relay.certs.example.org>\nTo: <certificates@certs.example.org>\n"
            f"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n"
            f"\tboundary=\"{b}\"\nSubject: Returned mail: see transcript for details\n"
            f"Auto-Submitted: auto-generated (failure)\n\nThis is a MIME-encapsulated message\n\n"
            f"--{b}\n\nThe original message was received at {when}\n"
            f"from app1.certs.example.org [192.0.2.40]\n\n"
            f"   ----- The following addresses had permanent fatal errors -----\n{lines}\n"
            f"   ----- Transcript of session follows -----\n... while talking to mx.{rcpts[0].split('@')[1]}.:\n"
            f">>> DATA\n<<< {code} {diag}\n\n"
            f"--{b}\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; relay.certs.example.org\nArrival-Date: {when}\n\n{dsn}\n"
            f"--{b}\nContent-Type: message/rfc822\n\n")


def exim(rng, f, rcpts, when, qid):
    body = "".join(f"  {r}\n    host mx.{r.split('@')[1]} [203.0.113.{rng.randrange(1, 254)}]\n"
                   f"    SMTP error from remote mail server after RCPT TO:<{r}>:\n    {cd} {dg}\n"
                   if cd else f"  {r}\n    Unrouteable address\n"
                   for (st, cd, dg), r in zip(f, rcpts))
    return (f"Return-path: <>\nX-Failed-Recipients: {', '.join(rcpts)}\nAuto-Submitted: auto-replied\n"
            f"From: Mail Delivery System <Mailer-Daemon@smtp2.certs.example.org>\n"
            f"To: certificates@certs.example.org\nContent-Type: text/plain; charset=us-ascii\n"
            f"Subject: Mail delivery failed: returning message to sender\n"
            f"Message-Id: <E{qid}@smtp2.certs.example.org>\nDate: {when}\n\n"
            f"This message was created automatically by mail delivery software.\n\n"
            f"A message that you sent could not be delivered to one or more of its\n"
            f"recipients. This is a permanent error. The following address(es) failed:\n\n{body}\n"
            f"------ This is a copy of the message, including all the headers. ------\n\n")


def qmail(rng, f, rcpts, when, qid):
    body = "".join(f"<{r}>:\n203.0.113.{rng.randrange(1, 254)} does not like recipient.\n"
                   f"Remote host said: {cd} {dg}\nGiving up on 203.0.113.9.\n\n"
                   if cd else f"<{r}>:\nSorry, I couldn't find any host named {r.split('@')[1]}. (#5.1.2)\n\n"
                   for (st, cd, dg), r in zip(f, rcpts))
    return (f"Return-Path: <>\nDate: {when}\nFrom: MAILER-DAEMON@mx4.example.net\n"
            f"To: certificates@certs.example.org\nSubject: failure notice\n"
            f"Message-ID: <{qid}.qmail@mx4.example.net>\n\n"
            f"Hi. This is the qmail-send program at mx4.example.net.\n"
            f"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            f"This is a permanent error; I've given up. Sorry it didn't work out.\n\n{body}"
            f"--- Below this line is a copy of the message.\n\n")


def exchange(rng, f, rcpts, when, qid):
    b = f"{rng.getrandbits(128):032x}"
    gen = f"AM{rng.randrange(1, 9)}PR03MB{rng.randrange(1000, 9999)}.eurprd03.prod.outlook.com"
    people = "".join(f"{r}<mailto:{r}>\nRemote Server returned '{cd or '550'} {dg}'\n\n"
                     for (st, cd, dg), r in zip(f, rcpts))
    dsn = "\n".join(f"Final-Recipient: rfc822;{r}\nAction: failed\nStatus: {st}\n"
                    f"Diagnostic-Code: smtp;{cd or '550'} {dg}\n" for (st, cd, dg), r in zip(f, rcpts))
    return (f"Return-Path: <>\nMIME-Version: 1.0\nFrom: <postmaster@{rcpts[0].split('@')[1]}>\n"
            f"To: <certificates@certs.example.org>\nDate: {when}\n"
            f"Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"{b}\"\n"
            f"X-MS-Exchange-Message-Is-Ndr:\nContent-Language: en-US\n"
            f"Message-ID: <{qid}@{gen}>\nSubject: Undeliverable: Your certificate\n"
            f"Auto-Submitted: auto-replied\n\n--{b}\nContent-Type: text/plain; charset=\"us-ascii\"\n\n"
            f"Delivery has failed to these recipients or groups:\n\n{people}"
            f"Diagnostic information for administrators:\n\nGenerating server: {gen}\n\n"
            f"--{b}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;{gen}\n"
            f"Arrival-Date: {when}\n\n{dsn}\n--{b}\nContent-Type: message/rfc822\n\n")


def gmail(rng, f, rcpts, when, qid):
    st, cd, dg = f[0]
    r = rcpts[0]
    return (f"Return-Path: <>\nMIME-Version: 1.0\n"
            f"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
            f"To: certificates@certs.example.org\nAuto-Submitted: auto-replied\n"
            f"Subject: Delivery Status Notification (Failure)\n"
            f"Message-ID: <{qid}.GMR@mx.google.com>\nDate: {when}\nX-Failed-Recipients: {r}\n"
            f"Content-Type: text/plain; charset=\"UTF-8\"\n\n"
            f"Delivery to the following recipient failed permanently:\n\n     {r}\n\n"
            f"Technical details of permanent failure:\n"
            f"Google tried to deliver your message, but it was rejected by the server for the "
            f"recipient domain {r.split('@')[1]} by mx.{r.split('@')[1]}. [203.0.113.7].\n\n"
            f"The error that the other server returned was:\n{cd or '550'} {dg}\n\n"
            f"----- Original message -----\n\n")


FORMATS = (postfix, sendmail, exim, qmail, exchange, gmail)
MULTI = (postfix, sendmail, exim, qmail, exchange)
CLOSE = {postfix: True, sendmail: True, exchange: True}


def bounce(rng, clock, pool):
    """One bounce message (separator line included) for 1 to 3 recipients."""
    sep, when, _ = clock.tick()
    fmt = FORMATS[rng.randrange(len(FORMATS))]
    n = 1 if fmt is gmail or rng.random() < 0.9 else rng.randrange(2, 4)
    ks = [rng.randrange(pool) for _ in range(n)]
    rcpts = [address(k)[0] for k in ks]
    fails = []
    for r in rcpts:
        st, cd, dg = FAILURES[rng.randrange(len(FAILURES))]
        dom = r.split("@")[1]
        dg = dg.format(rcpt=r, mx="mx." + dom, domain=dom)
        if not cd and fmt in (sendmail, exchange, gmail):
            # Only Postfix, Exim and qmail word DNS and connection failures their own way.
            cd = "550" if st[0] == "5" else "451"
            dg = f"{st} {dg}"
        fails.append((st, cd, dg))
    qid = f"{rng.getrandbits(48):012X}"
    text = fmt(rng, fails, rcpts, when, qid) + original(rng, ks[0], when)
    if fmt in CLOSE:
        b = text.split('boundary="', 1)[1].split('"', 1)[0]
        text += f"\n--{b}--\n"
    return f"From MAILER-DAEMON {sep}\n{text}\n"


class Attachments:
    """Base64 bodies cut from one pool of random bytes, so large ones cost a slice."""

    LINE = 77  # 76 characters and a newline

    def __init__(self, rng):
        raw = rng.randbytes(3 * 1024 * 1024)
        enc = base64.b64encode(raw).decode()
        self.lines = len(enc) // 76
        self.pool = "".join(enc[i * 76:(i + 1) * 76] + "\n" for i in range(self.lines))

    def body(self, rng, size):
        n = min(max(1, size // self.LINE), self.lines)
        start = rng.randrange(self.lines - n + 1)
        return self.pool[start * self.LINE:(start + n) * self.LINE]


def ordinary(rng, clock, att):
    sep, when, t = clock.tick()
    k = rng.randrange(100000)
    sender, name = address(k)
    subject = " ".join(rng.choices(WORDS, k=rng.randrange(3, 8))).capitalize()
    text = "".join(paragraph(rng, rng.randrange(30, 160)) + "\n" for _ in range(rng.randrange(1, 12)))
    if rng.random() < 0.1:
        text += ">From the minutes of the last meeting: nothing to add.\n"
    head = (f"From {sender} {sep}\nReturn-Path: <{sender}>\nDate: {when}\nFrom: {name} <{sender}>\n"
            f"To: Certificates Team <certificates@certs.example.org>\nSubject: {subject}\n"
            f"Message-ID: <{t}.{k}@{sender.split('@')[1]}>\nMIME-Version: 1.0\n")
    r = rng.random()
    if r < 0.05:
        b = f"=_att_{t}_{k}"
        size = rng.randrange(100 * 1024, 2 * 1024 * 1024)
        kind, ext = rng.choice((("application/pdf", "pdf"), ("image/jpeg", "jpg"),
                                ("application/zip", "zip")))
        return (head + f"Content-Type: multipart/mixed; boundary=\"{b}\"\n\n"
                f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
                f"--{b}\nContent-Type: {kind}; name=\"file-{k}.{ext}\"\n"
                f"Content-Disposition: attachment; filename=\"file-{k}.{ext}\"\n"
                f"Content-Transfer-Encoding: base64\n\n{att.body(rng, size)}\n--{b}--\n\n")
    if r < 0.35:
        b = f"=_alt_{t}_{k}"
        html = "<html><body><p>" + text.replace("\n\n", "</p><p>") + "</p></body></html>\n"
        return (head + f"Content-Type: multipart/alternative; boundary=\"{b}\"\n\n"
                f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
                f"--{b}\nContent-Type: text/html; charset=utf-8\n\n{html}\n--{b}--\n\n")
    return head + f"Content-Type: text/plain; charset=utf-8\n\n{text}\n"


class Writer:
    """Collects text and writes it in large blocks; counts what it wrote."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, "w", encoding="utf-8", newline="\n")
        self.parts, self.pending, self.bytes = [], 0, 0

    def add(self, s):
        self.parts.append(s)
        self.pending += len(s)
        self.bytes += len(s)
        if self.pending >= BLOCK:
            self.flush()

    def flush(self):
        self.f.write("".join(self.parts))
        self.parts, self.pending = [], 0

    def close(self):
        self.flush()
        self.f.close()


def gen_bounces(n, path):
    rng = random.Random(SEED)
    clock = Clock(rng)
    w = Writer(path)
    for _ in range(n):
        w.add(bounce(rng, clock, 110000))
    w.close()
    print(f"messages={n} bounces={n} bytes={w.bytes}")


def gen_mixed(mb, path):
    rng = random.Random(SEED + 1)
    clock = Clock(rng)
    att = Attachments(rng)
    w = Writer(path)
    limit = mb * 1024 * 1024
    n = nb = 0
    while w.bytes < limit:
        n += 1
        if n % 20 == 0:
            nb += 1
            w.add(bounce(rng, clock, 110000))
        else:
            w.add(ordinary(rng, clock, att))
    w.close()
    print(f"messages={n} bounces={nb} bytes={w.bytes}")


COLUMNS = ("source", "date", "recipient", "action", "status", "smtp_code", "remote_mta",
           "diagnostic", "mta", "message_id", "subject")
MTAS = ("postfix", "sendmail", "exim", "qmail", "exchange", "gmail", "rfc3464")


def gen_records(n, path):
    rng = random.Random(SEED + 2)
    w = Writer(path)
    w.add("\t".join(COLUMNS) + "\n")
    off = 0
    for i in range(n):
        # One record in ten names an address outside the CSV, as in real runs.
        k = rng.randrange(n + n // 9)
        rcpt = address(k)[0]
        dom = rcpt.split("@")[1]
        st, cd, dg = FAILURES[rng.randrange(len(FAILURES))]
        dg = dg.format(rcpt=rcpt, mx="mx." + dom, domain=dom)
        off += rng.randrange(3000, 6000)
        g = time.gmtime(1767225600 + i * 7)
        w.add(f"archive.mbox:{off}\t{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}T"
              f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}Z\t{rcpt}\t"
              f"{'delayed' if st[0] == '4' else 'failed'}\t{st}\t{cd}\t"
              f"{'mx.' + dom if cd else ''}\t{(cd + ' ' if cd else '') + dg}\t"
              f"{MTAS[i % len(MTAS)]}\t<cert-{k}@certs.example.org>\t"
              f"Your certificate for {COURSES[k % len(COURSES)]}\n")
    w.close()
    print(f"records={n} bytes={w.bytes}")


def gen_csv(n, path):
    w = Writer(path)
    w.add("name,email,token,view_url,pdf_url\n")
    for k in range(n):
        rcpt, name = address(k)
        w.add(f"{name},{rcpt},{token(k)},https://certs.example.org/view/C-{k},"
              f"https://certs.example.org/pdf/C-{k}.pdf\n")
    w.close()
    print(f"records={n} bytes={w.bytes}")


def gnu_time():
    """GNU time's path when it is installed: it reports a clean peak RSS per process."""
    for path in ("/usr/bin/time", "/bin/time"):
        try:
            r = subprocess.run([path, "--version"], capture_output=True, text=True)
        except OSError:
            continue
        if "GNU" in r.stdout + r.stderr:
            return path
    return None


def vm_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_once(stages, timer, errlog):
    """Run the stages as one pipeline; return (seconds, CPU seconds of all its processes,
    peak RSS in KiB, exit statuses).

    A process started from this one carries this interpreter's memory into its own peak
    until it executes, so the peak comes from GNU time (which starts each program from a
    small process) or, without it, from polling VmHWM in /proc while the programs run.
    """
    procs, prev, reports = [], None, []
    start = time.monotonic()
    for i, argv in enumerate(stages):
        last = i == len(stages) - 1
        if timer:
            fd, report = tempfile.mkstemp(prefix="bench-rss.")
            os.close(fd)
            reports.append(report)
            argv = [timer, "-q", "-f", "%M", "-o", report] + argv
        try:
            p = subprocess.Popen(argv, stdin=prev if prev is not None else subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL if last else subprocess.PIPE,
                                 stderr=errlog)
        except OSError as e:
            sys.exit(f"bench-gen.py: {argv[0]}: {e.strerror}")
        if prev is not None:
            prev.close()
        prev = p.stdout
        procs.append(p)
    rss, cpu, codes, running = 0, 0.0, {}, {p.pid: p for p in procs}
    while running:
        for pid in list(running):
            if not timer:
                rss = max(rss, vm_hwm(pid))
            done, st, ru = os.wait4(pid, 0 if timer else os.WNOHANG)
            if done:
                # user and system time, the program's own when GNU time runs it
                cpu += ru.ru_utime + ru.ru_stime
                running.pop(pid).returncode = codes[pid] = os.waitstatus_to_exitcode(st)
        if running and not timer:
            time.sleep(0.005)
    secs = time.monotonic() - start
    for report in reports:
        with open(report) as f:
            for line in f:
                if line.strip().isdigit():
                    rss = max(rss, int(line))
        os.unlink(report)
    return secs, cpu, rss, [codes[p.pid] for p in procs]


def measure(args):
    runs, errlog = 3, subprocess.DEVNULL
    while args[:1] in (["-n"], ["-e"]):
        if args[0] == "-n":
            runs = int(args[1])
        else:
            errlog = open(args[1], "a")
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    stages, cur = [], []
    for a in args:
        if a == "|":
            stages.append(cur)
            cur = []
        else:
            cur.append(a)
    stages.append(cur)
    if any(not s for s in stages):
        sys.exit("bench-gen.py: measure: empty command in the pipeline")
    timer = None if os.environ.get("BENCH_RSS") == "poll" else gnu_time()
    times, cpus, peak, worst = [], [], 0, [0] * len(stages)
    for _ in range(runs):
        secs, cpu, rss, codes = run_once(stages, timer, errlog)
        times.append(secs)
        cpus.append(cpu)
        peak = max(peak, rss)
        worst = [c if c != 0 else w for w, c in zip(worst, codes)]
    how = "gnu-time" if timer else "vmhwm-poll"
    print(f"{statistics.median(times):.3f} {min(times):.3f} {statistics.median(cpus):.3f} "
          f"{peak} {','.join(map(str, worst))} {how}")


def main(argv):
    if len(argv) >= 2 and argv[1] == "version":
        print(VERSION)
        return
    if len(argv) >= 2 and argv[1] == "measure":
        measure(argv[2:])
        return
    gens = {"bounces": gen_bounces, "mixed": gen_mixed, "records": gen_records, "csv": gen_csv}
    if len(argv) != 4 or argv[1] not in gens or not argv[2].isdigit():
        sys.stderr.write(__doc__)
        sys.exit(2)
    gens[argv[1]](int(argv[2]), argv[3])


if __name__ == "__main__":
    main(sys.argv)
