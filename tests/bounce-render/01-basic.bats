#!/usr/bin/env bats
# Rendering to an mbox: every message parses strictly and carries what the recipient needs.

setup() {
	load fixture
}

@test "-h, --version and an unknown option" {
	assert_common_interface bounce-render
}

@test "an unknown option is a usage error: exit 2, usage on stderr" {
	run -2 --separate-stderr bounce-render --bogus
	assert_output ""
	assert_equal "${stderr_lines[0]}" "bounce-render: unrecognized option '--bogus'"
	assert_equal "${stderr_lines[1]%% *}" "usage:"
}

@test "--maildir and --dir together are a usage error" {
	run -2 --separate-stderr render --maildir a --dir b
	assert_equal "${stderr_lines[0]}" "bounce-render: --maildir and --dir exclude each other"
}

@test "one message per actionable record; the others are skipped and counted" {
	run -1 --separate-stderr render --stats "$RFIX/basic.tsv"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	assert_equal "${stderr_lines[0]}" "bounce-render: $RFIX/basic.tsv:5: ann@gmial.com: no value for {{suggestion}}; not rendered"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]:1}")" "bounce-render: records in: 4
bounce-render: rendered: 2
bounce-render: not actionable: 1
bounce-render: rejected: 1
bounce-render: malformed: 0"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "messages: 2"
	assert_line "headers: From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Content-Transfer-Encoding"
	assert_line "to: Jane Doe <jane@gmail.com>"
	assert_line "from: Certificates <certs@example.org>"
	assert_line "subject: Your certificate: our earlier email did not reach you"
	assert_line "mime-version: 1.0"
	assert_line "content-type: text/plain; charset=utf-8"
	assert_line "cte: quoted-printable"
	assert_line "Your personal token: TOK-1"
	assert_line "    https://certs.example/v/1"
	assert_line "to: Jürgen Müller <bob@corp.example>"
}

@test "all records rendered: exit 0 and nothing on stderr" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)" "$(blocked_row)"
	run -0 --separate-stderr render "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "$stderr" ""
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "messages: 2"
	assert_line "to: Bob <bob@corp.example>"
	assert_line "subject: Your certificate: please allow emails from mail.example.org"
	assert_line "    https://certs.example/v/2"
	assert_line "and enter your personal token: TOK-2"
}

@test "the blocked message asks to whitelist the sending domain" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(blocked_row)"
	run -0 render "$BATS_TEST_TMPDIR/in.tsv"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "Please ask your IT department or your email provider to allow (whitelist)"
	assert_line "emails from mail.example.org, so that our future emails reach you."
}

@test "mbox output: From separator lines, reply-to when given, Message-ID on the sending domain" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)" "$(blocked_row)"
	run -0 render --reply-to 'Help Desk <help@example.org>' "$BATS_TEST_TMPDIR/in.tsv"
	assert_line --index 0 --regexp '^From certs@example\.org [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}$'
	assert_line --regexp '^Message-ID: <[0-9]{14}\.[0-9]+\.1\.[0-9a-f]{8}@mail\.example\.org>$'
	assert_line 'Reply-To: Help Desk <help@example.org>'
	[ "$(grep -c '^From ' <<<"$output")" -eq 2 ]
}

@test "without --reply-to there is no Reply-To header" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)"
	run -0 render "$BATS_TEST_TMPDIR/in.tsv"
	refute_line --partial "Reply-To"
}

@test "an empty stream writes nothing and exits 0" {
	run -0 render </dev/null
	assert_output ""
}

@test "a header-only stream writes nothing and exits 0" {
	stream "$BATS_TEST_TMPDIR/in.tsv"
	run -0 render "$BATS_TEST_TMPDIR/in.tsv"
	assert_output ""
}

@test "a missing input file is reported; exit 1" {
	run -1 --separate-stderr render "$BATS_TEST_TMPDIR/nope.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/nope.tsv: cannot open: No such file or directory"
}

@test "a malformed record is reported, counted and skipped; exit 1" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)" "only	three	fields"
	run -1 --separate-stderr render --stats "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:3: record has 3 fields, header has 11; skipped"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]:1}")" "bounce-render: records in: 2
bounce-render: rendered: 1
bounce-render: not actionable: 0
bounce-render: rejected: 0
bounce-render: malformed: 1"
}

@test "stdin is read when no file is named, and - means stdin" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)"
	run -0 render <"$BATS_TEST_TMPDIR/in.tsv"
	assert_line "To: Jane Doe <jane@gmail.com>"
	run -0 render - <"$BATS_TEST_TMPDIR/in.tsv"
	assert_line "To: Jane Doe <jane@gmail.com>"
}

@test "bodies are quoted-printable: no line over 76, no line starting with From" {
	long=$(printf 'x%.0s' {1..200})
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com "From $long")"
	run -0 render "$BATS_TEST_TMPDIR/in.tsv"
	body=$(sed '1,/^$/d' <<<"$output")
	refute [ "$(awk 'length > 76' <<<"$body")" ]
	refute [ "$(grep '^From ' <<<"$body")" ]
}
