#!/usr/bin/env bats
# bounce-extract against hostile archives: every case must end with a clear report, the
# right exit status, bounded memory, and the bounces around the bad message still found.
load hostile

setup() {
	need_prog bounce-extract
	H="$HOSTILE_FIXTURES"
}

# A message that is not a bounce, with one line of $1 MB and no line end before the next.
long_line_message() {
	printf 'From someone@example.org Sat Nov 28 23:00:00 2026\nFrom: someone@example.org\n'
	printf 'Subject: a very long line\n\n'
	big_run "$1"
	printf '\n\n'
}

@test "a 1 GB line in a message that is not a bounce: counted, and the next bounce still found" {
	archive() {
		dsn_bounce before@example.org 1
		long_line_message "$BIG_MB"
		dsn_bounce after@example.org 2
	}
	pipeline() { archive | bounded bounce-extract --stats; }
	run -0 --separate-stderr pipeline
	assert_bounded_memory
	assert_equal "$(column_of recipient | paste -sd ' ')" "before@example.org after@example.org"
	assert_equal "$(stat_of messages)" 3
	assert_equal "$(stat_of non_bounces)" 1
}

@test "a 1 GB line inside a bounce: the bounce still yields a record, memory stays bounded" {
	archive() {
		dsn_bounce first@example.org 1 | sed '/^I.m sorry/q'
		big_run "$BIG_MB" y
		printf '\n'
		dsn_bounce first@example.org 1 | sed '1,/^I.m sorry/d'
		dsn_bounce after@example.org 2
	}
	pipeline() { archive | bounded bounce-extract --stats; }
	# the cut is said; the recipient was lost with it, so the run is not clean: exit 1
	run -1 --separate-stderr pipeline
	assert_bounded_memory
	assert_equal "${stderr_lines[0]}" "bounce-extract: stdin:0: message longer than 8 MiB, read its first 8 MiB"
	assert_equal "$(stat_of messages)" 2
	assert_equal "$(stat_of truncated)" 1
	assert_equal "$(stat_of errors)" 1
	# nothing disappears: the cut bounce is a record (its recipient may be lost with the cut)
	assert_equal "$(column_of source | wc -l)" 2
	assert_equal "$(column_of recipient | tail -1)" after@example.org
}

@test "100,000-deep multipart nesting: no crash, bounded memory, the next bounce found" {
	python3 - >"$BATS_TEST_TMPDIR/deep.mbox" <<'PY'
import sys
w = sys.stdout.write
n = 100000
w("From MAILER-DAEMON Sat Nov 28 23:04:11 2026\nFrom: MAILER-DAEMON@mx.example\n"
  "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
  'Content-Type: multipart/mixed; boundary="b0"\n\n')
for i in range(1, n):
    w('--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (i - 1, i))
w("--b%d\nContent-Type: text/plain\n\ndeep down\n" % (n - 1))
for i in range(n - 1, -1, -1):
    w("--b%d--\n" % i)
w("\n")
PY
	dsn_bounce after@example.org 2 >>"$BATS_TEST_TMPDIR/deep.mbox"
	run -0 --separate-stderr bounded bounce-extract --stats "$BATS_TEST_TMPDIR/deep.mbox"
	assert_bounded_memory
	assert_equal "$(stat_of messages)" 2
	assert_equal "$(column_of recipient | tail -1)" after@example.org
}

@test "a boundary never closed: the report inside is still read, and the next message" {
	run -0 --separate-stderr bounce-extract --stats "$H/unclosed-boundary.mbox"
	assert_equal "$(column_of recipient | paste -sd ' ')" "unclosed@example.org after@example.org"
	assert_equal "$(column_of status | paste -sd ' ')" "5.1.1 5.2.2"
}

@test "invalid base64: the garbage is skipped and the encoded report still decoded" {
	run -0 --separate-stderr bounce-extract --stats "$H/bad-base64.mbox"
	assert_equal "$(column_of recipient)" jane@example.org
	assert_equal "$(column_of status)" 5.1.1
}

@test "invalid quoted-printable: bad escapes kept literally, the report still decoded" {
	run -0 --separate-stderr bounce-extract --stats "$H/bad-qp.mbox"
	assert_equal "$(column_of recipient)" qp@example.org
	assert_equal "$(column_of status)" 5.1.1
}

@test "NUL bytes in headers, body and report: records out, and no NUL in the output" {
	run -0 --separate-stderr bounce-extract --stats "$H/nul-bytes.mbox"
	assert_equal "$(column_of recipient | paste -sd ' ')" "nul@example.org clean@example.org"
	bounce-extract "$H/nul-bytes.mbox" | od -An -c | { ! grep -q '\\0'; }
}

@test "a truncated gzip stream: reported, what came before kept, the next file read" {
	gzip -n -c "$H/unclosed-boundary.mbox" >"$BATS_TEST_TMPDIR/full.gz"
	size=$(wc -c <"$BATS_TEST_TMPDIR/full.gz")
	head -c $((size - 40)) "$BATS_TEST_TMPDIR/full.gz" >"$BATS_TEST_TMPDIR/cut.mbox.gz"
	run -1 --separate-stderr bounded bounce-extract --stats "$BATS_TEST_TMPDIR/cut.mbox.gz" "$H/bad-base64.mbox"
	assert_bounded_memory
	[[ "${stderr_lines[0]}" == "bounce-extract: $BATS_TEST_TMPDIR/cut.mbox.gz: "*gzip* ]] ||
		fail "first stderr line: ${stderr_lines[0]}"
	assert_equal "$(column_of recipient | head -1)" unclosed@example.org
	assert_equal "$(column_of recipient | tail -1)" jane@example.org
}

@test "a report listing 1,000,000 recipients: bounded memory, counted, the next bounce found" {
	archive() {
		printf 'From MAILER-DAEMON Sat Nov 28 23:04:11 2026\nFrom: MAILER-DAEMON@mx.example\n'
		printf 'Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
		printf -- '--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n'
		seq 1 1000000 | awk '{ printf "\nFinal-Recipient: rfc822; user%d@example.org\nAction: failed\nStatus: 5.1.1\n", $1 }'
		printf -- '\n--B--\n\n'
		dsn_bounce after@example.org 2
	}
	pipeline() { archive | bounded bounce-extract --stats; }
	run -1 --separate-stderr pipeline
	assert_bounded_memory
	assert_equal "$(stat_of messages)" 2
	assert_equal "$(stat_of errors)" 1
	assert_equal "$(stat_of records)" 257
	assert_equal "${stderr_lines[0]}" "bounce-extract: stdin:0: message longer than 8 MiB, read its first 8 MiB"
	assert_regex "$stderr" "bounce-extract: stdin:0: report lists [0-9]+ recipients; only the first 256 written"
	assert_equal "$(column_of recipient | head -1)" user1@example.org
	assert_equal "$(column_of recipient | tail -1)" after@example.org
}

@test "an mbox with no final newline: the last message is still read" {
	run -0 --separate-stderr bounce-extract --stats "$H/no-final-newline.mbox"
	assert_equal "$(column_of recipient | paste -sd ' ')" "first@example.org last@example.org"
	assert_equal "$(stat_of messages)" 2
}

@test "a report whose last line has no line end keeps its last recipient" {
	run -0 --separate-stderr bounce-extract "$H/dsn-ends-without-newline.eml"
	assert_equal "$(column_of recipient)" cut@example.org
}

@test "an unreadable input among readable ones: reported, exit 1, the others read" {
	ln -s "$BATS_TEST_TMPDIR/nowhere" "$BATS_TEST_TMPDIR/dangling.mbox"
	run -1 --separate-stderr bounce-extract "$H/bad-base64.mbox" "$BATS_TEST_TMPDIR/dangling.mbox" "$H/bad-qp.mbox"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/dangling.mbox: cannot open: No such file or directory"
	assert_equal "$(column_of recipient | paste -sd ' ')" "jane@example.org qp@example.org"
}

@test "a file without read permission among readable ones: reported, exit 1, the others read" {
	[[ $(id -u) -ne 0 ]] || skip "root reads a mode 000 file anyway"
	cp "$H/bad-qp.mbox" "$BATS_TEST_TMPDIR/locked.mbox"
	chmod 000 "$BATS_TEST_TMPDIR/locked.mbox"
	run -1 --separate-stderr bounce-extract "$BATS_TEST_TMPDIR/locked.mbox" "$H/bad-base64.mbox"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/locked.mbox: cannot open: Permission denied"
	assert_equal "$(column_of recipient)" jane@example.org
}
