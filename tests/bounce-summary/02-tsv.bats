#!/usr/bin/env bats
# The TSV report: a record stream with a header, every entry tracked.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	load fixture
}

@test "tsv: header and totals" {
	run -0 bounce-summary -f tsv "$DAY2"
	assert_line --index 0 "$(printf 'section\tkey\tcount\tprevious\tchange\tdetail')"
	assert_line --index 1 "$(printf 'total\trecords\t10\t\t\t')"
	assert_line --index 2 "$(printf 'total\tmessages\t9\t\t\t')"
	assert_line --index 3 "$(printf 'total\tmalformed\t0\t\t\t')"
	assert_line --index 4 "$(printf 'total\tsuggestions\t3\t\t\t')"
	assert_line --index 5 "$(printf 'total\tneeds_human\t3\t\t\t')"
}

@test "tsv: one line per key of every section" {
	run -0 bash -c "bounce-summary -f tsv '$DAY2' | cut -f 1-3,6"
	while IFS= read -r want; do
		assert_line "$want"
	done <<-EOT
	$(printf 'category\taddress\t5\t')
	$(printf 'category\tblocked\t4\t')
	$(printf 'category\ttransient\t1\t')
	$(printf 'reason\thostunknown\t3\t')
	$(printf 'reason\tspamdetected\t1\t')
	$(printf 'blocked_domain\tcorp.example\t3\t')
	$(printf 'blocked_domain\tuni.example\t1\t')
	$(printf 'domain\tnowhere.example\t1\t')
	$(printf 'suggestion\tjane.doe@gmial.com\t2\tjane.doe@gmail.com')
	$(printf 'suggestion\tsam@hotmial.com\t1\tsam@hotmail.com')
	$(printf 'needs_human\tghost@nowhere.example\t1\tuserunknown: no suggestion; not in the recipient list')
	EOT
	[ "${#lines[@]}" -eq 29 ]
}

@test "tsv: -n and -t do not cut the machine-readable lists" {
	run -0 bash -c "bounce-summary -f tsv -n 1 -t 1 '$DAY2' | cut -f 1 | sort | uniq -c | awk '{print \$2, \$1}'"
	assert_line "domain 7"
	assert_line "suggestion 2"
	assert_line "needs_human 3"
}

@test "tsv: values are escaped, so the report is a valid record stream" {
	run -0 bash -c "bounce-summary -f tsv '$S/hostile.tsv' | grep '^suggestion.esc'"
	assert_output "$(printf 'suggestion\tesc\\t@ctl.example\t1\t\t\tfix\\n@ctl.example')"
}
