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
	[ "${#stderr_lines[@]}" -eq 55 ]
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:4: r3@gmial.com: no value for {{suggestion}}; not rendered"
	assert_equal "${stderr_lines[49]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:151: r150@gmial.com: no value for {{suggestion}}; not rendered"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]:50}")" "bounce-render: records in: 150
bounce-render: rendered: 100
bounce-render: not actionable: 0
bounce-render: rejected: 50
bounce-render: malformed: 0"
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

# Headers made only of options and text are written once per input; these show that every
# message still gets the right ones.
@test "headers from options alone are the same in every message; headers from columns differ" {
	T="$BATS_TEST_TMPDIR/t"
	mkdir -p "$T"
	printf 'From: {{from}}\nReply-To: {{reply_to|}}\nX-Fixed: for {{from}}\nTo: {{name}} <{{suggestion}}>\nSubject: {{token}}\n\n{{token}}\n' >"$T/address.eml"
	printf 'From: {{name}} <{{recipient}}>\nTo: <{{recipient}}>\nSubject: blocked\n\nb {{token}}\n' >"$T/blocked.eml"
	stream "$BATS_TEST_TMPDIR/in.tsv" \
		"$(address_row a@gmial.com a@gmail.com Ann T1)" \
		"$(blocked_row b@corp.example Bob T2)" \
		"$(address_row c@gmial.com '' Cid T3)" \
		"$(address_row d@gmial.com d@gmail.com Dee T4)" \
		"$(blocked_row e@corp.example Eve T5)"
	run -1 --separate-stderr bounce-render -t "$T" --from 'Certificates <certs@example.org>' "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:4: c@gmial.com: no value for {{suggestion}}; not rendered"
	run -0 grep -E '^(From|Reply-To|X-Fixed|To|Subject|Message-ID):' <<<"$output"
	[ "${#lines[@]}" -eq 18 ]
	assert_equal "${lines[0]}" "From: Certificates <certs@example.org>"
	assert_equal "${lines[1]}" "X-Fixed: for Certificates <certs@example.org>"
	assert_equal "${lines[2]}" "To: Ann <a@gmail.com>"
	assert_equal "${lines[3]}" "Subject: T1"
	assert_line --index 4 --regexp '^Message-ID: <[0-9]{14}\.[0-9]+\.1\.[0-9a-f]{8}@example\.org>$'
	assert_equal "${lines[5]}" "From: Bob <b@corp.example>"
	assert_line --index 8 --regexp '^Message-ID: <[0-9]{14}\.[0-9]+\.2\.[0-9a-f]{8}@corp\.example>$'
	assert_equal "${lines[9]}" "From: Certificates <certs@example.org>"
	assert_equal "${lines[10]}" "X-Fixed: for Certificates <certs@example.org>"
	assert_equal "${lines[11]}" "To: Dee <d@gmail.com>"
	assert_equal "${lines[12]}" "Subject: T4"
	assert_line --index 13 --regexp '^Message-ID: <[0-9]{14}\.[0-9]+\.4\.[0-9a-f]{8}@example\.org>$'
	assert_equal "${lines[14]}" "From: Eve <e@corp.example>"
	assert_line --index 17 --regexp '^Message-ID: <[0-9]{14}\.[0-9]+\.5\.[0-9a-f]{8}@corp\.example>$'
	run -1 --separate-stderr bounce-render -t "$T" --from 'Certificates <certs@example.org>' --reply-to help@example.org "$BATS_TEST_TMPDIR/in.tsv"
	[ "$(grep -c '^Reply-To: help@example.org$' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^From ' <<<"$output")" -eq 4 ]
	[ "$(grep -c '^From certs@example.org ' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^From e@corp.example ' <<<"$output")" -eq 1 ]
}

@test "a failed write of the rejects file stops the run; the messages rendered before it are delivered" {
	[ -w /dev/full ] || skip "no /dev/full"
	many "$BATS_TEST_TMPDIR/in.tsv" 600
	run -2 --separate-stderr render --rejects /dev/full "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[-1]}" "bounce-render: /dev/full: write error: No space left on device"
	# Every rejection reported before the failure follows its rendered predecessors.
	rejected=$((${#stderr_lines[@]} - 1))
	[ "$rejected" -gt 0 ]
	[ "$(grep -c '^From ' <<<"$output")" -eq $((rejected * 2)) ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "messages: $((rejected * 2))"
}
