#!/usr/bin/env bats
# Regression tests, each named after the bug it pins.

load ../helper

# The value of --stats counter $1 in the stderr of the last run ("bounce-extract: NAME: N").
counter() {
	printf '%s\n' "${stderr_lines[@]}" | awk -F': ' -v k="$1" '$1 == "bounce-extract" && $2 == k { print $3 }'
}

@test "empty-maildir-after-an-archive: the archive's records still come out, status 0" {
	mkdir -p "$BATS_TEST_TMPDIR/Maildir/cur" "$BATS_TEST_TMPDIR/Maildir/new" "$BATS_TEST_TMPDIR/Maildir/tmp"
	gzip -c "$FIXTURES/extract/postfix.eml" >"$BATS_TEST_TMPDIR/postfix.eml.gz"
	run -0 --separate-stderr bounce-extract "$BATS_TEST_TMPDIR/postfix.eml.gz" "$BATS_TEST_TMPDIR/Maildir"
	want=$(bounce-extract "$FIXTURES/extract/postfix.eml" | wc -l)
	assert_equal "${#lines[@]}" "$want"
	assert_equal "$stderr" ""
}

# A delivery report for n recipients, written to $1.
many_rcpt_report() {
	local out=$1 n=$2 i
	{
		printf 'From: MAILER-DAEMON@mx.example.org\nTo: sender@example.com\n'
		printf 'Subject: Undelivered Mail Returned to Sender\nDate: Sat, 28 Nov 2026 23:04:11 +0000\n'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
		printf -- '--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n'
		printf -- '--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n'
		for ((i = 1; i <= n; i++)); do
			printf '\nFinal-Recipient: rfc822; user%d@example.net\nAction: failed\nStatus: 5.1.1\n' "$i"
		done
		printf -- '\n--b--\n'
	} >"$out"
}

@test "report-with-more-recipients-than-kept: the first 256 written, the rest reported, exit 1" {
	many_rcpt_report "$BATS_TEST_TMPDIR/many.eml" 1000
	run -1 --separate-stderr bounce-extract --stats "$BATS_TEST_TMPDIR/many.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/many.eml: report lists 1000 recipients; only the first 256 written"
	assert_equal "${#lines[@]}" 257
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -f3 | sed -n '2p;257p' | paste -sd ' ')" "user1@example.net user256@example.net"
	assert_equal "$(counter errors)" 1
	assert_equal "$(counter records)" 256
}

@test "report-with-256-recipients: all written, nothing reported, exit 0" {
	many_rcpt_report "$BATS_TEST_TMPDIR/full.eml" 256
	run -0 --separate-stderr bounce-extract "$BATS_TEST_TMPDIR/full.eml"
	assert_equal "${#lines[@]}" 257
	assert_equal "$stderr" ""
}

@test "notice-text-with-more-recipients-than-kept: reported, exit 1" {
	{
		printf 'From: MAILER-DAEMON@mx.example.org\nTo: sender@example.com\n'
		printf 'Subject: Undelivered Mail Returned to Sender\n\n'
		printf 'I was unable to deliver your message to the following addresses:\n\n'
		for ((i = 1; i <= 300; i++)); do
			printf '<user%d@example.net>: 550 5.1.1 user unknown\n' "$i"
		done
	} >"$BATS_TEST_TMPDIR/text.eml"
	run -1 --separate-stderr bounce-extract "$BATS_TEST_TMPDIR/text.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/text.eml: report lists 300 recipients; only the first 256 written"
	assert_equal "${#lines[@]}" 257
}

@test "dangling-symlink-in-maildir: reported, counted, exit 1, the other messages read" {
	local md="$BATS_TEST_TMPDIR/Maildir"
	mkdir -p "$md/cur" "$md/new" "$md/tmp"
	cp "$FIXTURES/extract/postfix.eml" "$md/cur/1.host:2,S"
	ln -s "$BATS_TEST_TMPDIR/nowhere" "$md/cur/2.host:2,S"
	ln -s "$BATS_TEST_TMPDIR/nowhere" "$md/cur/3.host:2,S"
	cp "$FIXTURES/extract/postfix.eml" "$md/new/4.host"
	run -1 --separate-stderr bounce-extract --stats "$md"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $md/cur/2.host:2,S: cannot open: No such file or directory"
	assert_equal "${stderr_lines[1]}" "bounce-extract: $md/cur/3.host:2,S: cannot open: No such file or directory"
	assert_equal "$(counter messages)" 2
	assert_equal "$(counter errors)" 2
	want=$(bounce-extract "$FIXTURES/extract/postfix.eml" | sed 1d | wc -l)
	assert_equal "$((${#lines[@]} - 1))" "$((2 * want))"
}

@test "unopenable-archive-among-others: counted in the stats errors" {
	run -1 --separate-stderr bounce-extract --stats "$BATS_TEST_TMPDIR/nowhere" "$FIXTURES/extract/postfix.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/nowhere: cannot open: No such file or directory"
	assert_equal "$(counter errors)" 1
	assert_equal "$(counter messages)" 1
}

# A delivery report for one recipient returning a message of $2 MiB, written to $1.
big_returned_message() {
	local out=$1 mib=$2
	{
		printf 'From: MAILER-DAEMON@mx.example.org\nTo: sender@example.com\n'
		printf 'Subject: Undelivered Mail Returned to Sender\n'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
		printf -- '--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n'
		printf 'Final-Recipient: rfc822; big@example.net\nAction: failed\nStatus: 5.2.2\n\n'
		printf -- '--b\nContent-Type: message/rfc822\n\nFrom: sender@example.com\nTo: big@example.net\nSubject: photos\n\n'
		head -c $((mib << 20)) /dev/zero | tr '\0' 'x' | fold -w 76
		printf -- '\n--b--\n'
	} >"$out"
}

@test "truncated-bounce-warned: a bounce cut at 8 MiB is said once, its recipient kept, exit 0" {
	big_returned_message "$BATS_TEST_TMPDIR/big.eml" 9
	run -0 --separate-stderr bounce-extract --stats "$BATS_TEST_TMPDIR/big.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/big.eml: message longer than 8 MiB, read its first 8 MiB"
	assert_equal "${stderr_lines[1]}" "bounce-extract: messages: 1"
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -f3 | sed 1d)" big@example.net
	assert_equal "$(counter truncated)" 1
	assert_equal "$(counter errors)" 0
}

@test "truncated-non-bounce-quiet: a long message that is no bounce is cut without a word" {
	{
		printf 'From: friend@example.com\nTo: me@example.org\nSubject: holiday photos\n\n'
		head -c $((9 << 20)) /dev/zero | tr '\0' 'x' | fold -w 76
	} >"$BATS_TEST_TMPDIR/photos.eml"
	run -0 --separate-stderr bounce-extract "$BATS_TEST_TMPDIR/photos.eml"
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 1
}

@test "truncated-bounce-without-recipient: warned, exit 1" {
	{
		printf 'From: MAILER-DAEMON@mx.example.org\nTo: sender@example.com\n'
		printf 'Subject: Undelivered Mail Returned to Sender\n\nThe message below could not be sent.\n\n'
		head -c $((9 << 20)) /dev/zero | tr '\0' 'x' | fold -w 76
		printf '\n<late@example.net>: 550 5.1.1 user unknown\n'
	} >"$BATS_TEST_TMPDIR/late.eml"
	run -1 --separate-stderr bounce-extract --stats "$BATS_TEST_TMPDIR/late.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/late.eml: message longer than 8 MiB, read its first 8 MiB"
	assert_equal "$(counter unparsable)" 1
	assert_equal "$(counter errors)" 1
}
