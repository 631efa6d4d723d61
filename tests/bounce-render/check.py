#!/usr/bin/env python3
"""Parse rendered messages with Python's email package (strict: every defect is an error)
and print what a mail client would see, so the Bats tests can assert on it.

usage: check.py mbox FILE | check.py eml FILE...
"""
import email
import email.header
import email.policy
import hashlib
import mailbox
import re
import sys

STRICT = email.policy.default.clone(raise_on_defect=True)


def fail(msg):
    print("check.py: " + msg, file=sys.stderr)
    sys.exit(1)


def check_raw(data, where):
    head = data.split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        if len(line) > 78:
            fail(f"{where}: header line longer than 78: {line!r}")
        if any(b > 126 or (b < 32 and b != 9) for b in line):
            fail(f"{where}: header line not printable ASCII: {line!r}")
    for line in data.split(b"\n"):
        if len(line) > 998:
            fail(f"{where}: line longer than 998")
    if b"\r" in data:
        fail(f"{where}: raw CR in message")


def rfc2047_name(data):
    """The To display name decoded as RFC 2047 6.2 says: white space between adjacent
    encoded words is dropped.  (The new email API keeps it inside phrases.)"""
    raw = email.message_from_bytes(data, policy=email.policy.compat32)["To"]
    raw = re.sub(r"\n[ \t]", " ", raw).strip()
    if not raw.endswith(">"):
        return ""
    phrase = raw[: raw.rindex("<")].strip()
    if phrase.startswith('"') and phrase.endswith('"'):
        return re.sub(r"\\(.)", r"\1", phrase[1:-1])
    return str(email.header.make_header(email.header.decode_header(phrase)))


def show(data, where):
    check_raw(data, where)
    msg = email.message_from_bytes(data, policy=STRICT)
    for part in msg.walk():
        if part.defects:
            fail(f"{where}: defects {part.defects}")
    names = list(msg.keys())
    for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
        if names.count(name) != 1:
            fail(f"{where}: {names.count(name)} {name} headers")
    if msg["Date"].datetime is None:
        fail(f"{where}: Date does not parse")
    if not re.fullmatch(r"<[^<>@\s]+@[A-Za-z0-9.-]+>", str(msg["Message-ID"])):
        fail(f"{where}: bad Message-ID {msg['Message-ID']}")
    print("headers: " + ",".join(names))
    for name in ("From", "To", "Reply-To", "Subject"):
        if msg[name] is not None:
            print(f"{name.lower()}: {msg[name]}")
    for a in msg["To"].addresses:
        print(f"to-addr: {a.addr_spec}")
    print(f"to-name: {rfc2047_name(data)}")
    print(f"mime-version: {msg['MIME-Version']}")
    body = msg.get_body(preferencelist=("plain",))
    print(f"content-type: {body.get_content_type()}; charset={body.get_content_charset()}")
    print(f"cte: {body['Content-Transfer-Encoding']}")
    for att in msg.iter_attachments():
        payload = att.get_content()
        print(f"attachment: {att.get_content_type()} {att.get_filename()} "
              f"{hashlib.sha256(payload).hexdigest()}")
    print("body:")
    sys.stdout.write(body.get_content())
    print("--- end")


def main():
    if len(sys.argv) < 3:
        fail("usage: check.py mbox FILE | check.py eml FILE...")
    if sys.argv[1] == "mbox":
        box = mailbox.mbox(sys.argv[2], create=False)
        keys = list(box.keys())
        print(f"messages: {len(keys)}")
        for n, key in enumerate(keys, 1):
            show(box.get_bytes(key), f"message {n}")
    else:
        for path in sys.argv[2:]:
            with open(path, "rb") as f:
                show(f.read(), path)


main()
