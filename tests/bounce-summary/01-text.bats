#!/usr/bin/env bats
# The text report: the totals and every table, exact lines.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	load fixture
}

@test "text: totals" {
	run -0 bounce-summary "$DAY2"
	assert_line --index 0 "Bounce summary"
	assert_line --index 1 "=============="
	assert_line --index 2 "Totals"
	assert_line --index 3 "  records                      10"
	assert_line --index 4 "  bounce messages               9"
	assert_line --index 5 "  malformed, skipped            0"
	assert_line --index 6 "  suggested corrections         3"
	assert_line --index 7 "  need a human                  3"
}

@test "text: categories in the order of the remedies, reasons by count" {
	run -0 bounce-summary "$DAY2"
	assert_output --partial "$(printf '%s\n' 'By category' \
		'  address                       5' \
		'  blocked                       4' \
		'  transient                     1')"
	assert_output --partial "$(printf '%s\n' 'By reason' \
		'  hostunknown                   3' \
		'  blocked                       2' \
		'  userunknown                   2' \
		'  filtered                      1' \
		'  mailboxfull                   1' \
		'  spamdetected                  1')"
}

@test "text: the domains that block most, and the top domains" {
	run -0 bounce-summary "$DAY2"
	assert_output --partial "$(printf '%s\n' \
		'Domains that block most (ask their IT to whitelist the sending domain)' \
		'  corp.example                  3' \
		'  uni.example                   1')"
	assert_output --partial "$(printf '%s\n' 'Top domains' \
		'  corp.example                  3' \
		'  gmial.com                     2' \
		'  example.org                   1')"
}

@test "text: suggested corrections and the addresses that need a human" {
	run -0 bounce-summary "$DAY2"
	assert_output --partial "$(printf '%s\n' 'Suggested corrections (recipient, suggestion, records)' \
		'  jane.doe@gmial.com  jane.doe@gmail.com        2' \
		'  sam@hotmial.com     sam@hotmail.com           1')"
	assert_output --partial "$(printf '%s\n' 'Need a human (no suggestion, or not in the recipient list)' \
		'  bob@example.org        userunknown        1  no suggestion' \
		'  ghost@nowhere.example  userunknown        1  no suggestion; not in the recipient list' \
		'  joe@corp.example       filtered           1  not in the recipient list')"
}

@test "text: without a matched column only address problems need a human" {
	run -0 bash -c "cut -f 1-17 '$DAY2' | bounce-summary"
	assert_output --partial "$(printf '%s\n' 'Need a human (address problem with no suggestion)' \
		'  bob@example.org        userunknown        1  no suggestion' \
		'  ghost@nowhere.example  userunknown        1  no suggestion')"
	refute_output --partial "joe@corp.example       filtered"
}

@test "text: -n caps the lists and says how many more" {
	run -0 bounce-summary -n 1 "$DAY2"
	assert_output --partial "$(printf '%s\n' \
		'  jane.doe@gmial.com  jane.doe@gmail.com        2' \
		'  ... and 1 more corrections (1 records)')"
	assert_output --partial '  ... and 2 more addresses (2 records)'
}

@test "text: -t caps the domain tables" {
	run -0 bounce-summary -t 2 "$DAY2"
	assert_output --partial "$(printf '%s\n' 'Top domains' \
		'  corp.example                  3' \
		'  gmial.com                     2' \
		'  ... and 5 more domains (5 records)')"
}

@test "text: several inputs are counted together" {
	run -0 bounce-summary "$DAY1" "$DAY2"
	assert_line "  records                      15"
	assert_line "  complaint                     1"
}

@test "text: standard input, and an empty stream gives zero counts" {
	run -0 bounce-summary <"$DAY2"
	assert_line "  records                      10"
	run -0 bounce-summary </dev/null
	assert_line "  records                       0"
	assert_line "  bounce messages               0"
}

@test "text: columns may be missing; records without a value count as (none)" {
	run -0 bash -c "printf 'recipient\n\nx@a.example\n' | bounce-summary"
	assert_line "  records                       2"
	assert_line "  bounce messages               2"
	assert_output --partial "$(printf '%s\n' 'By category' '  (none)                        2')"
	assert_output --partial "$(printf '%s\n' 'Top domains' '  (none)                        1' '  a.example                     1')"
}

@test "text: a control character in a value is shown as ?" {
	run -0 bounce-summary "$S/hostile.tsv"
	assert_line '  esc?@ctl.example           fix?@ctl.example                1'
	assert_line '  bin??@bad.example  userunknown        1  no suggestion'
}

@test "text: --title names the report" {
	run -0 bounce-summary -T "Nightly bounces 2026-11-29" "$DAY2"
	assert_line --index 0 "Nightly bounces 2026-11-29"
	assert_line --index 1 "=========================="
}

@test "text: -n 0 shows no entries, only how many there are" {
	run -0 bounce-summary -n 0 "$DAY2"
	assert_output --partial "$(printf '%s\n' 'Suggested corrections (recipient, suggestion, records)' \
		'  ... and 2 more corrections (3 records)')"
}
