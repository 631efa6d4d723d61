#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
load ../helper

F="$FIXTURES/extract"

@test "--stats accounts for every message" {
	run -0 --separate-stderr bounce-extract --stats "$F"/*.eml
	assert_equal "$stderr" "bounce-extract: messages: 13
bounce-extract: bounces: 9
bounce-extract: unparsable: 1
bounce-extract: feedback: 1
bounce-extract: autoreplies: 1
bounce-extract: non-bounces: 1
bounce-extract: records: 13
bounce-extract: truncated: 0
bounce-extract: errors: 0"
}
@test "--since keeps bounces dated after the date" {
	run -0 bounce-extract --since 2026-01-01 "$F"/*.eml
	assert_equal "${#lines[@]}" 5
	run -0 bounce-extract --since 2026-11-28T23:04:11Z "$F/postfix.eml"
	assert_equal "${#lines[@]}" 1
	run -0 bounce-extract --since 2026-11-28T23:04:10 "$F/postfix.eml"
	assert_equal "${#lines[@]}" 2
}
@test "--offset starts at a byte of the one archive" {
	cat "$F/postfix.eml" > "$BATS_TEST_TMPDIR/one"
	run -0 bounce-extract --offset 0 "$BATS_TEST_TMPDIR/one"
	assert_equal "${#lines[@]}" 2
}
@test "an unreadable file among readable ones: exit 1, named, the rest still out" {
	run -1 --separate-stderr bounce-extract "$F/postfix.eml" "$BATS_TEST_TMPDIR/missing.eml" "$F/qmail.eml"
	assert_equal "${#lines[@]}" 3
	[[ "${stderr_lines[0]}" == "bounce-extract: $BATS_TEST_TMPDIR/missing.eml"* ]]
}
@test "usage errors exit 2" {
	run -2 --separate-stderr bounce-extract --no-such-option
	assert_equal "${stderr_lines[0]}" "bounce-extract: unrecognized option '--no-such-option'"
	run -2 --separate-stderr bounce-extract --since yesterday "$F/postfix.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: --since: not an ISO 8601 date: yesterday"
	run -2 --separate-stderr bounce-extract --offset 12x "$F/postfix.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: --offset: not a byte offset: 12x"
	run -2 --separate-stderr bounce-extract --offset 0 "$F/postfix.eml" "$F/qmail.eml"
	assert_equal "${stderr_lines[0]}" "bounce-extract: --offset needs exactly one archive"
}
@test "-h, --version and an unknown option" {
	assert_common_interface bounce-extract
}
