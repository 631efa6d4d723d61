#!/usr/bin/env bats
# The example archive and recipient list that `make demo` runs on.
load ../helper
bats_require_minimum_version 1.5.0

ARCHIVE="$TOP/examples/archive.mbox"
CSV="$TOP/examples/recipients.csv"

# Every failed recipient in the archive, one bounce message or part of one each.
FAILED="a.okafor@kestrel-engineering.example
d.hartmann@harbourline-logistics.example
daniel.osei@example.org
grace.liu@example.com
h.brooks@alder-pharma.example
jane.doe@gmial.com
k.yamamoto@example.net
lena.fischer@example.net
marco.rossi@outlok.com
n.kowalski@example.net
olivia.grant@example.org
owen.price@fenwick-institute.example
priya.natarajan@yaho.com
r.silva@orchard-health.example
s.lindqvist@northfield-college.example
tom.becker@hotmial.com"

# column NAME: the values of one column of the record stream on stdin, by header name.
column() {
	awk -F '\t' -v want="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i; next }
		c { print $c }'
}

# where ACTION COLUMN: values of COLUMN for the records whose action is ACTION.
where() {
	awk -F '\t' -v a="$1" -v want="$2" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "action") ac = i; if ($i == want) c = i }; next }
		$ac == a { print $c }'
}

need_extract() {
	[ -x "$TOP/bin/bounce-extract" ] || skip "bin/bounce-extract is not built"
}

@test "the archive holds at least 24 messages" {
	run grep -c '^From ' "$ARCHIVE"
	assert_success
	[ "$output" -ge 24 ]
}

@test "every message parses and is dated 2026" {
	run python3 - "$ARCHIVE" <<'PY'
import mailbox, sys, email.utils
n = 0
for m in mailbox.mbox(sys.argv[1]):
    n += 1
    d = email.utils.parsedate_to_datetime(m["Date"])
    assert d.year == 2026, (m["Subject"], d)
    assert m.get_from().endswith(" 2026"), m.get_from()
print(n)
PY
	assert_success
	assert_output 24
}

@test "the recipient CSV has the five columns and well-formed rows" {
	run python3 - "$CSV" <<'PY'
import csv, re, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows[0] == ["name", "email", "token", "view_url", "pdf_url"], rows[0]
for r in rows[1:]:
    assert len(r) == 5, r
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", r[1]), r
    assert re.fullmatch(r"[A-Za-z0-9]{12}", r[2]), r
    assert r[3].startswith("https://certs.example.org/view/"), r
    assert r[4].startswith("https://certs.example.org/"), r
print(len(rows) - 1)
PY
	assert_success
	assert_output 25
}

@test "the CSV lists every failed recipient but one, and one of them twice" {
	missing=$(printf '%s\n' "$FAILED" | while read -r a; do
		grep -qi ",$a," "$CSV" || echo "$a"
	done)
	assert_equal "$missing" "olivia.grant@example.org"
	run grep -ci ',d.hartmann@harbourline-logistics.example,' "$CSV"
	assert_output 2
}

@test "bounce-extract finds every failed recipient of the archive" {
	need_extract
	run -0 --separate-stderr bounce-extract "$ARCHIVE"
	got=$(printf '%s\n' "$output" | where failed recipient | sort -u)
	assert_equal "$got" "$FAILED"
}

@test "bounce-extract reports the delayed notice as delayed" {
	need_extract
	run -0 --separate-stderr bounce-extract "$ARCHIVE"
	got=$(printf '%s\n' "$output" | where delayed recipient)
	assert_equal "$got" "ines.duarte@riverbend-arts.example"
}

@test "bounce-extract reports the feedback report and the two auto-replies" {
	need_extract
	run -0 --separate-stderr bounce-extract "$ARCHIVE"
	assert_equal "$(printf '%s\n' "$output" | where feedback recipient)" "c.moreau@example.com"
	assert_equal "$(printf '%s\n' "$output" | where autoreply action | wc -l | tr -d ' ')" 2
}

@test "bounce-extract gives ordinary mail no record: 18 messages in all" {
	need_extract
	run -0 --separate-stderr bounce-extract "$ARCHIVE"
	got=$(printf '%s\n' "$output" | column source | sort -u | wc -l | tr -d ' ')
	assert_equal "$got" 18
}

@test "bounce-extract returns the certificate's Message-ID for the typo bounce" {
	need_extract
	run -0 --separate-stderr bounce-extract "$ARCHIVE"
	got=$(printf '%s\n' "$output" | awk -F '\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["recipient"] == "jane.doe@gmial.com" { print $c["message_id"] }')
	assert_equal "$got" "<cert-2026-0142@certs.example.org>"
}

@test "run-demo writes the remediation emails" {
	for p in bounce-extract bounce-classify bounce-join bounce-render bounce-summary; do
		[ -x "$TOP/bin/$p" ] || skip "bin/$p is not built"
	done
	DEMO_DIR="$BATS_TEST_TMPDIR/demo" run -0 sh "$TOP/examples/run-demo"
	assert_output --partial "emails:   $BATS_TEST_TMPDIR/demo/emails/"
	n=$(find "$BATS_TEST_TMPDIR/demo/emails" -type f | wc -l)
	[ "$n" -ge 6 ]
	# Dieter Hartmann's two certificates: each blocked record carries its own token.
	run grep -rl -e aqovwbEkLiwJ -e CtVRjNZwV2JF "$BATS_TEST_TMPDIR/demo/emails"
	assert_success
	[ -s "$BATS_TEST_TMPDIR/demo/records.tsv" ]
	[ ! -e "$TOP/demo/.status.render" ]
}

@test "run-demo says which program is missing" {
	mkdir -p "$BATS_TEST_TMPDIR/top/examples"
	cp "$TOP/examples/run-demo" "$BATS_TEST_TMPDIR/top/examples/"
	run -2 --separate-stderr sh "$BATS_TEST_TMPDIR/top/examples/run-demo"
	assert_equal "${stderr_lines[0]}" "run-demo: bin/bounce-extract is missing: build it first with make"
}
