#!/usr/bin/env bats
# Classification, table-driven: one line per case in tests/fixtures/classify/cases.tsv.
load fixture

@test "what the message is: feedback, auto-reply, delivery" {
	run check_theme kind
	assert_success
	assert_output ""
}

@test "address reasons" {
	run check_theme address
	assert_success
	assert_output ""
}

@test "blocked reasons" {
	run check_theme blocked
	assert_success
	assert_output ""
}

@test "transient reasons" {
	run check_theme transient
	assert_success
	assert_output ""
}

@test "precedence: wording, specific and generic status codes" {
	run check_theme precedence
	assert_success
	assert_output ""
}

@test "the big receivers are recognised with the host or the recipient domain in view" {
	run check_theme hosts
	assert_success
	assert_output ""
}

@test "every case of the table belongs to a theme that is tested" {
	run awk -F'\t' 'NR > 1 && $1 !~ /^(kind|address|blocked|transient|precedence|hosts|real)$/' "$CASES"
	assert_output ""
}
