#!/usr/bin/env bats
# --previous: the change per category and reason against an earlier run.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	load fixture
}

@test "previous: text columns count, previous, change" {
	run -0 bounce-summary -p "$DAY1" "$DAY2"
	assert_output --partial "$(printf '%s\n' \
		'Totals                      count  previous  change' \
		'  records                      10         5      +5' \
		'  bounce messages               9         5      +4' \
		'  malformed, skipped            0         0       0')"
	assert_output --partial "$(printf '%s\n' \
		'By category                 count  previous  change' \
		'  address                       5         1      +4' \
		'  blocked                       4         1      +3' \
		'  transient                     1         2      -1' \
		'  complaint                     0         1      -1')"
	assert_output --partial "$(printf '%s\n' \
		'By reason                   count  previous  change' \
		'  hostunknown                   3         1      +2')"
	assert_line '  feedback                      0         1      -1'
	assert_line '  mailboxfull                   1         2      -1'
}

@test "previous: tsv previous and change columns" {
	run -0 bounce-summary -f tsv --previous "$DAY1" "$DAY2"
	assert_line "$(printf 'total\trecords\t10\t5\t5\t')"
	assert_line "$(printf 'category\ttransient\t1\t2\t-1\t')"
	assert_line "$(printf 'category\tcomplaint\t0\t1\t-1\t')"
	assert_line "$(printf 'reason\tuserunknown\t2\t0\t2\t')"
	assert_line "$(printf 'reason\tfeedback\t0\t1\t-1\t')"
	# Domains are not compared: their previous column stays empty.
	assert_line "$(printf 'domain\tcorp.example\t3\t\t\t')"
}

@test "previous: against itself every change is 0" {
	run -0 bash -c "bounce-summary -f tsv -p '$DAY2' '$DAY2' | awk -F '\t' 'NR>1 && \$4 != \"\" && \$5 != \"0\"'"
	assert_output ""
}

@test "previous: an unreadable previous file is an error, status 2" {
	run -2 --separate-stderr bounce-summary -p "$BATS_TEST_TMPDIR/nonexistent.tsv" "$DAY2"
	assert_equal "${stderr_lines[0]}" "bounce-summary: $BATS_TEST_TMPDIR/nonexistent.tsv: cannot open: No such file or directory"
	assert_output ""
}
