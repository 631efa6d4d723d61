#!/usr/bin/env bats
# Malformed input, usage errors, --stats, a failed write.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	load fixture
}

@test "malformed records are reported with their line, skipped, and counted; status 1" {
	run -1 --separate-stderr bounce-summary -f tsv "$S/malformed.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-summary: $S/malformed.tsv:3: record has 3 fields, header has 4; skipped"
	assert_equal "${stderr_lines[1]}" "bounce-summary: $S/malformed.tsv:5: bad backslash escape in column \"reason\"; record skipped"
	assert_line "$(printf 'total\trecords\t3\t\t\t')"
	assert_line "$(printf 'total\tmalformed\t2\t\t\t')"
	assert_line "$(printf 'category\tblocked\t2\t\t\t')"
}

@test "a malformed previous run gives status 1 too" {
	run -1 --separate-stderr bounce-summary -f tsv -p "$S/malformed.tsv" "$DAY2"
	assert_equal "${stderr_lines[0]}" "bounce-summary: $S/malformed.tsv:3: record has 3 fields, header has 4; skipped"
	assert_line "$(printf 'category\tblocked\t4\t2\t2\t')"
}

@test "a bad header: status 1, reported, the other inputs summarised" {
	printf 'Source\tcategory\n' >"$BATS_TEST_TMPDIR/bad.tsv"
	run -1 --separate-stderr bounce-summary "$BATS_TEST_TMPDIR/bad.tsv" "$DAY2"
	assert_equal "${stderr_lines[0]}" "bounce-summary: $BATS_TEST_TMPDIR/bad.tsv:1: bad header: column 1 is \"Source\", not a snake_case name"
	assert_line "  records                      10"
}

@test "an input that cannot be opened: status 1, the rest summarised" {
	run -1 --separate-stderr bounce-summary "$BATS_TEST_TMPDIR/missing" "$DAY2"
	assert_equal "${stderr_lines[0]}" "bounce-summary: $BATS_TEST_TMPDIR/missing: cannot open: No such file or directory"
	assert_line "  records                      10"
}

@test "usage errors: status 2 and a message" {
	run -2 --separate-stderr bounce-summary -f pdf "$DAY2"
	assert_equal "${stderr_lines[0]}" 'bounce-summary: unknown format "pdf": use text, tsv or html'
	assert_equal "${stderr_lines[1]:0:21}" "usage: bounce-summary"
	run -2 --separate-stderr bounce-summary -n many "$DAY2"
	assert_equal "${stderr_lines[0]}" 'bounce-summary: -n: "many" is not a number from 0 to 1000000000'
	run -2 --separate-stderr bounce-summary --bogus
	assert_equal "${stderr_lines[0]}" "bounce-summary: unrecognized option '--bogus'"
}

@test "-h, --version and an unknown option" {
	assert_common_interface bounce-summary
}

@test "--stats: the accounting on stderr" {
	run -1 --separate-stderr bounce-summary -s "$S/malformed.tsv"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]:2}")" "bounce-summary: records: 3
bounce-summary: bounce messages: 3
bounce-summary: malformed: 2"
}

@test "a failed write is status 2" {
	[ -w /dev/full ] || skip "no /dev/full"
	run -2 --separate-stderr bash -c "bounce-summary '$DAY2' >/dev/full"
	assert_equal "${stderr_lines[0]}" "bounce-summary: write error on stdout: No space left on device"
}

@test "bounded: many distinct domains are tracked up to the limit, the rest in (other)" {
	# 100010 distinct domains: 10 fall in (other) and a note says so.
	awk 'BEGIN { print "source\trecipient\tcategory"; for (i = 0; i < 100010; i++) printf "s:%d\tu@d%d.example\tblocked\n", i, i }' \
		>"$BATS_TEST_TMPDIR/many.tsv"
	run -0 bounce-summary -t 1 "$BATS_TEST_TMPDIR/many.tsv"
	assert_line "  (other)                      10"
	assert_line "  more than 100000 distinct domains: 10 records counted as (other)"
	assert_line "  bounce messages          100010"
}
