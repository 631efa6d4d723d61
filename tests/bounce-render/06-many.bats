#!/usr/bin/env bats
# Many records in one run: what is made once per run or per second stays right per message.

setup() {
	load fixture
}

# many FILE N: N records, every third one without a suggestion (rejected).
many() {
	local rows=() i
	for ((i = 1; i <= $2; i++)); do
		if ((i % 3 == 0)); then
			rows+=("$(address_row "r$i@gmial.com" '' "Name $i" "TOK-$i")")
		else
			rows+=("$(address_row "r$i@gmial.com" "r$i@gmail.com" "Name $i" "TOK-$i")")
		fi
	done
	stream "$1" "${rows[@]}"
}

@test "every message has its own Message-ID with its sequence number, and a well-formed Date" {
	many "$BATS_TEST_TMPDIR/in.tsv" 150
	run -1 --separate-stderr render "$BATS_TEST_TMPDIR/in.tsv"
	ids=$(grep '^Message-ID: ' <<<"$output")
	[ "$(wc -l <<<"$ids")" -eq 100 ]
	[ "$(sort -u <<<"$ids" | wc -l)" -eq 100 ]
	[ "$(sed -E 's/^Message-ID: <[0-9]{14}\.[0-9]+\.([0-9]+)\.[0-9a-f]{8}@mail\.example\.org>$/\1/' <<<"$ids" | sort -u | wc -l)" -eq 100 ]
	refute [ "$(grep -vE '^Message-ID: <[0-9]{14}\.[0-9]+\.[0-9]+\.[0-9a-f]{8}@mail\.example\.org>$' <<<"$ids")" ]
	dates=$(grep '^Date: ' <<<"$output")
	[ "$(wc -l <<<"$dates")" -eq 100 ]
	refute [ "$(grep -vE '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$' <<<"$dates")" ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "messages: 100"
}

@test "each rejected record is one whole line on stderr, in order" {
	many "$BATS_TEST_TMPDIR/in.tsv" 150
	run -1 --separate-stderr render --stats "$BATS_TEST_TMPDIR/in.tsv"
	[ "${#stderr_lines[@]}" -eq 51 ]
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:4: r3@gmial.com: no value for {{suggestion}}; not rendered"
	assert_equal "${stderr_lines[49]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:151: r150@gmial.com: no value for {{suggestion}}; not rendered"
	assert_equal "${stderr_lines[50]}" "bounce-render: 150 records in, 100 rendered, 0 skipped (not actionable), 50 rejected, 0 malformed"
}

@test "with stdout and stderr on one file, a rejection follows the messages before it" {
	many "$BATS_TEST_TMPDIR/in.tsv" 9
	render "$BATS_TEST_TMPDIR/in.tsv" >"$BATS_TEST_TMPDIR/both" 2>&1 || true
	run -0 grep -E '^(To: |bounce-render: )' "$BATS_TEST_TMPDIR/both"
	assert_equal "${lines[0]}" "To: Name 1 <r1@gmail.com>"
	assert_equal "${lines[1]}" "To: Name 2 <r2@gmail.com>"
	assert_equal "${lines[2]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:4: r3@gmial.com: no value for {{suggestion}}; not rendered"
	assert_equal "${lines[3]}" "To: Name 4 <r4@gmail.com>"
	assert_equal "${lines[8]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:10: r9@gmial.com: no value for {{suggestion}}; not rendered"
}
