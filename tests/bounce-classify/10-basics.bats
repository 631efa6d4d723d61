#!/usr/bin/env bats
# Options, the record contract (pass-through, replacement in place), and error paths.
load fixture

setup() {
	IN="$BATS_TEST_TMPDIR/in.tsv"
	{
		echo "$EXTRACT_HEADER"
		record 'jane@gmial.com' failed 5.1.1 550 '550 5.1.1 <jane@gmial.com>: User unknown'
		record 'bob@example.org' failed '' 552 '552 Mailbox full'
		record 'eve@example.org' delayed '' 421 'Deferred: Connection timed out'
		record 'ann@example.org' feedback '' '' ''
	} > "$IN"
}

@test "-h prints usage on stdout and exits 0" {
	run -0 --separate-stderr bounce-classify -h
	assert_line --index 0 --partial "usage: bounce-classify"
	assert_equal "$stderr" ""
}

@test "an unknown option is a usage error: usage on stderr, exit 2" {
	run -2 --separate-stderr bounce-classify --no-such-option
	assert_output ""
	assert_equal "${stderr_lines[1]}" "usage: bounce-classify [-r RULES]... [-d RECIPIENTS] [--stats] [FILE ...]"
}

@test "-h, --version and an unknown option" {
	assert_common_interface bounce-classify
}

@test "the owned columns are appended and every other column passes through in order" {
	run -0 bounce-classify "$IN"
	assert_line --index 0 "$EXTRACT_HEADER	reason	category	hard	suggestion	rule"
	assert_line --index 1 "x.mbox:0	2026-11-28T23:04:11Z	jane@gmial.com	failed	5.1.1	550		550 5.1.1 <jane@gmial.com>: User unknown	postfix	<m@x>	Subj	userunknown	address	1	jane@gmail.com	status:5.1.1"
}

@test "an empty status gets the pseudo code of its reason; a present one is kept" {
	run -0 bounce-classify "$IN"
	assert_equal "$(cut -f5 <<<"$output" | paste -sd' ')" "status 5.1.1 5.0.922 4.0.947 "
}

@test "unknown columns pass through untouched, whatever their place" {
	printf 'zz_first\tdiagnostic\tmiddle\trecipient\tlast\nA\\tB\t550 5.1.1 No such user\tM\tx@example.org\tL\n' > "$IN"
	run -0 bounce-classify "$IN"
	assert_line --index 0 "zz_first	diagnostic	middle	recipient	last	reason	category	hard	suggestion	rule"
	assert_line --index 1 "A\\tB	550 5.1.1 No such user	M	x@example.org	L	userunknown	address	1		text:userunknown"
}

@test "running twice is harmless: columns are replaced in place" {
	bounce-classify "$IN" > "$BATS_TEST_TMPDIR/once.tsv"
	bounce-classify "$BATS_TEST_TMPDIR/once.tsv" > "$BATS_TEST_TMPDIR/twice.tsv"
	run cmp "$BATS_TEST_TMPDIR/once.tsv" "$BATS_TEST_TMPDIR/twice.tsv"
	assert_success
}

@test "the whole case table classifies the same on a second run" {
	awk -F'\t' -v OFS='\t' '{ print $2, $3, $4, $5, $6, $7 }' "$CASES" > "$IN"
	bounce-classify "$IN" > "$BATS_TEST_TMPDIR/once.tsv"
	bounce-classify "$BATS_TEST_TMPDIR/once.tsv" > "$BATS_TEST_TMPDIR/twice.tsv"
	run cmp "$BATS_TEST_TMPDIR/once.tsv" "$BATS_TEST_TMPDIR/twice.tsv"
	assert_success
}

@test "stdin is read when no file is given, and as -" {
	run -0 bash -c "bounce-classify < '$IN' | cut -f12 | paste -sd' '"
	assert_output "reason userunknown mailboxfull expired feedback"
	run -0 bash -c "bounce-classify - < '$IN' | cut -f12 | paste -sd' '"
	assert_output "reason userunknown mailboxfull expired feedback"
}

@test "malformed records are reported with their line, skipped, and the rest processed: exit 1" {
	{ cat "$IN"; printf 'too\tfew\n'; printf 'x\ty\t\\q\t\t\t\t\t\t\t\t\n'; record 'z@example.org' failed 5.1.1 550 'x'; } > "$BATS_TEST_TMPDIR/bad.tsv"
	run -1 --separate-stderr bounce-classify "$BATS_TEST_TMPDIR/bad.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/bad.tsv:6: record has 2 fields, header has 11; skipped"
	assert_equal "${stderr_lines[1]}" "bounce-classify: $BATS_TEST_TMPDIR/bad.tsv:7: bad backslash escape in column \"recipient\"; record skipped"
	assert_equal "${#lines[@]}" 6
	assert_line --index 5 --partial "z@example.org"
}

@test "--stats counts records in, out, malformed and the records a pattern gave up on" {
	{ cat "$IN"; printf 'too\tfew\n'; } > "$BATS_TEST_TMPDIR/bad.tsv"
	run -1 --separate-stderr bounce-classify --stats "$BATS_TEST_TMPDIR/bad.tsv"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]:1}")" "bounce-classify: records in: 5
bounce-classify: records out: 4
bounce-classify: malformed: 1
bounce-classify: patterns gave up: 0"
}

@test "a header without any column to classify by is an error: exit 2" {
	printf 'name\temail\nJane\tjane@example.org\n' > "$IN"
	run -2 --separate-stderr bounce-classify "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $IN:1: no column to classify by: want status, diagnostic, smtp_code or action"
	assert_output ""
}

@test "a missing optional column reads as empty" {
	printf 'diagnostic\n550 5.1.1 User unknown\n' > "$IN"
	run -0 bounce-classify "$IN"
	assert_line --index 1 "550 5.1.1 User unknown	userunknown	address	1		text:userunknown"
}

@test "an unreadable input is reported and the others processed: exit 1" {
	run -1 --separate-stderr bounce-classify "$BATS_TEST_TMPDIR/none.tsv" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/none.tsv: cannot open: No such file or directory"
	assert_equal "${#lines[@]}" 5
}

@test "an empty input gives an empty output" {
	run -0 bounce-classify /dev/null
	assert_output ""
}

@test "an input whose header differs from the first one's is skipped: exit 1" {
	printf 'diagnostic\nNo such user\n' > "$BATS_TEST_TMPDIR/other.tsv"
	run -1 --separate-stderr bounce-classify "$IN" "$BATS_TEST_TMPDIR/other.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/other.tsv:1: header differs from the first input's; file skipped"
	assert_equal "${#lines[@]}" 5
}

@test "a write error is fatal: exit 2" {
	[ -w /dev/full ] || skip "no /dev/full"
	run -2 --separate-stderr bash -c "bounce-classify '$IN' > /dev/full"
	assert_equal "${stderr_lines[0]}" "bounce-classify: write error on stdout: No space left on device"
}

@test "admin rules (-r) take precedence over the shipped ones, in the order given" {
	printf '# local\nacme\tblocked\tdiagnostic\tUser unknown\n' > "$BATS_TEST_TMPDIR/a.rules"
	printf 'other\tfiltered\tdiagnostic\tUser unknown\n' > "$BATS_TEST_TMPDIR/b.rules"
	run -0 bash -c "bounce-classify -r '$BATS_TEST_TMPDIR/a.rules' -r '$BATS_TEST_TMPDIR/b.rules' '$IN' | cut -f12,16 | sed -n 2p"
	assert_output "blocked	acme"
}

@test "a bad pattern in a rules file: FILE:LINE: PCRE2 message at offset N, exit 2, nothing read" {
	printf '# comment\nok\tblocked\tdiagnostic\tfine\nbad\tuserunknown\tdiagnostic\tuser (unknown\n' > "$BATS_TEST_TMPDIR/bad.rules"
	run -2 --separate-stderr bounce-classify -r "$BATS_TEST_TMPDIR/bad.rules" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/bad.rules:3: missing closing parenthesis at offset 13"
	assert_output ""
}

@test "a rule with an unknown reason, or too few columns, is an error: exit 2" {
	printf 'x\tnosuchreason\tdiagnostic\tfoo\n' > "$BATS_TEST_TMPDIR/bad.rules"
	run -2 --separate-stderr bounce-classify -r "$BATS_TEST_TMPDIR/bad.rules" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/bad.rules:1: unknown reason \"nosuchreason\""
	printf 'x\tblocked\tdiagnostic\n' > "$BATS_TEST_TMPDIR/bad.rules"
	run -2 --separate-stderr bounce-classify -r "$BATS_TEST_TMPDIR/bad.rules" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/bad.rules:1: expected ID, REASON, FIELD and PATTERN separated by tabs"
}

@test "an unreadable rules file is an error: exit 2" {
	run -2 --separate-stderr bounce-classify -r "$BATS_TEST_TMPDIR/none.rules" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/none.rules: cannot open rules: No such file or directory"
}

@test "a rules line over 64 KiB, or a rules file that cannot be read: exit 2, nothing read" {
	{ printf 'ok\tblocked\tdiagnostic\tfine\nlong\tblocked\tdiagnostic\t'; head -c 65536 /dev/zero | tr '\0' x; printf '\n'; } >"$BATS_TEST_TMPDIR/long.rules"
	run -2 --separate-stderr bounce-classify -r "$BATS_TEST_TMPDIR/long.rules" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/long.rules:2: rule longer than 65536 bytes"
	assert_output ""
	mkdir "$BATS_TEST_TMPDIR/dir.rules"
	run -2 --separate-stderr bounce-classify -r "$BATS_TEST_TMPDIR/dir.rules" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/dir.rules: read error: Is a directory"
	assert_output ""
}

@test "suggestions: only for the address category, never for a known domain" {
	{
		echo "$EXTRACT_HEADER"
		record 'a@hotmial.com' failed 5.1.1 550 'User unknown'
		record 'b@gmail.con' failed 5.1.2 550 'Host unknown'
		record 'c@gmial.com' failed 5.2.2 552 'Mailbox full'
		record 'd@ymail.com' failed 5.1.1 550 'User unknown'
	} > "$IN"
	run -0 bash -c "bounce-classify '$IN' | cut -f15 | paste -sd' '"
	assert_output "suggestion a@hotmail.com b@gmail.com  "
}

@test "-d: a rare domain of the recipient list close to a frequent one is its typo" {
	{ echo "Name,Email"; for i in $(seq 1 30); do echo "P$i,p$i@acme-corp.example"; done; echo "Q,q@acme-crop.example"; } > "$BATS_TEST_TMPDIR/recipients.csv"
	{ echo "$EXTRACT_HEADER"; record 'q@acme-crop.example' failed 5.1.2 550 'Host unknown'; } > "$IN"
	run -0 bash -c "bounce-classify -d '$BATS_TEST_TMPDIR/recipients.csv' '$IN' | cut -f15 | sed -n 2p"
	assert_output "q@acme-corp.example"
	run -0 bash -c "bounce-classify '$IN' | cut -f15 | sed -n 2p"
	assert_output ""
}

@test "hostile values pass through escaped and cannot break a record" {
	printf 'recipient\tdiagnostic\tnote\nx@example.org\t5.1.1 User unknown\\nInjected: yes\\tz\tline\\\\n\n' > "$IN"
	run -0 bounce-classify "$IN"
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 "x@example.org	5.1.1 User unknown\\nInjected: yes\\tz	line\\\\n	userunknown	address	1		text:userunknown"
}
