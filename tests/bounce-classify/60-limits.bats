#!/usr/bin/env bats
# Bounded memory whatever the rule files hold: at most 10000 rules and group definitions in
# all files together, patterns of at most 32768 bytes, at most 4 MiB of rules in all (their
# lines and compiled patterns); past a limit the run stops with FILE:LINE: and exit 2, like
# a pattern that does not compile.  A pattern that backtracks without end gives up.
load fixture

setup() {
	IN="$BATS_TEST_TMPDIR/in.tsv"
	RULES="$BATS_TEST_TMPDIR/local.rules"
	{
		echo "$EXTRACT_HEADER"
		record 'jane@example.org' failed 5.7.1 550 'rule 1 matched here'
		record 'bob@example.org' failed '' 552 '552 Mailbox full'
	} > "$IN"
	# The shipped rules and host group definitions count too.
	SHIPPED=$(grep -c -v -e '^#' -e '^[[:space:]]*$' "$REBOUNCE_SHARE/rules")
}

# N rules: gen1 ... genN, each on a wording of its own.
gen_rules() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "gen%d\tblocked\tdiagnostic\trule %d matched\n", i, i }'
}

# A pattern of N bytes: x repeated (up to 40 or so bytes of x; the rest a comment, so
# that a pattern as long as the limit still compiles).
pattern_of() {
	awk -v n="$1" 'BEGIN { s = "x"; while (length(s) < n) s = s s
		if (n <= 40) print substr(s, 1, n); else print "x(?#" substr(s, 1, n - 5) ")" }'
}

@test "rules up to the limit, with the shipped ones, load and decide" {
	gen_rules $((10000 - SHIPPED)) > "$RULES"
	run -0 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_equal "$stderr" ""
	assert_equal "$(cut -f12,16 <<< "${lines[1]}")" "blocked	gen1"
	assert_equal "$(cut -f12 <<< "${lines[2]}")" "mailboxfull"
}

@test "one rule more than 10000 in one file: FILE:LINE: more than 10000 rules, exit 2, nothing written" {
	gen_rules 10001 > "$RULES"
	run -2 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $RULES:10001: more than 10000 rules"
	assert_output ""
}

@test "the limit is for all files together: the rule past it is named, in whichever file" {
	gen_rules 6000 > "$RULES"
	gen_rules 4000 > "$BATS_TEST_TMPDIR/more.rules"
	printf '# a comment\n@g\tgoogle\n' >> "$BATS_TEST_TMPDIR/more.rules"
	run -2 --separate-stderr bounce-classify -r "$RULES" -r "$BATS_TEST_TMPDIR/more.rules" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/more.rules:4002: more than 10000 rules"
	gen_rules $((10000 - SHIPPED + 1)) > "$RULES"
	run -2 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_regex "${stderr_lines[0]}" "^bounce-classify: .*/rules:[0-9]+: more than 10000 rules$"
}

@test "a pattern of 32768 bytes loads; one of 32769 bytes: FILE:LINE: pattern longer than 32768 bytes, exit 2" {
	printf 'long\tblocked\tdiagnostic\t%s\n' "$(pattern_of 32768)" > "$RULES"
	run -0 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_equal "$stderr" ""
	printf '# comment\nlong\tblocked\tdiagnostic\t%s\n' "$(pattern_of 32769)" > "$RULES"
	run -2 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $RULES:2: pattern longer than 32768 bytes"
	assert_output ""
	printf '@g\t%s\n' "$(pattern_of 32769)" > "$RULES"
	run -2 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $RULES:1: pattern longer than 32768 bytes"
}

@test "patterns that compile large count as large: FILE:LINE: rules larger than 4194304 bytes in all, exit 2" {
	# Each compiles to some 40 KB (a repeat is written out in full): about a hundred fit.
	awk 'BEGIN { for (i = 1; i <= 200; i++) printf "big%d\tblocked\tdiagnostic\t(?:[ab]c){1000}\n", i }' > "$RULES"
	run -2 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_regex "${stderr_lines[0]}" "^bounce-classify: $RULES:[0-9]+: rules larger than 4194304 bytes in all$"
	assert_output ""
	line=$(sed -E 's/.*:([0-9]+): rules larger.*/\1/' <<< "${stderr_lines[0]}")
	(( line > 50 && line < 200 ))
	head -n 20 "$RULES" > "$RULES.few"
	run -0 --separate-stderr bounce-classify -r "$RULES.few" "$IN"
	assert_equal "$stderr" ""
}

@test "a pattern that backtracks without end on a hostile diagnostic gives up; the next rule decides" {
	printf 'slow\tblocked\tdiagnostic\t(*NO_START_OPT)(x+x+)+y\n' > "$RULES"
	{
		echo "$EXTRACT_HEADER"
		record 'jane@example.org' failed 5.1.1 550 "$(printf 'x%.0s' {1..4000})"
		record 'bob@example.org' failed '' 550 'xxy'
	} > "$IN"
	run -0 --separate-stderr bounce-classify --stats -r "$RULES" "$IN"
	assert_equal "$(cut -f12,16 <<< "${lines[1]}")" "userunknown	status:5.1.1"
	assert_equal "$(cut -f12,16 <<< "${lines[2]}")" "blocked	slow"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $IN:2: the pattern at $RULES:1 gave up (too much backtracking); a later rule decided"
	assert_equal "${stderr_lines[4]}" "bounce-classify: patterns gave up: 1"
	assert_equal "${#stderr_lines[@]}" 5
}

@test "the same hostile values again: the pattern gave up again, and says so again" {
	printf '# a comment\n\nslow\tblocked\tdiagnostic\t(*NO_START_OPT)(x+x+)+y\n' > "$RULES"
	x=$(printf 'x%.0s' {1..4000})
	{
		echo "$EXTRACT_HEADER"
		record 'jane@example.org' failed 5.1.1 550 "$x"
		record 'jane@example.org' failed 5.1.1 550 "$x"
	} > "$IN"
	run -0 --separate-stderr bounce-classify --stats -r "$RULES" "$IN"
	assert_equal "$(cut -f12,16 <<< "${lines[2]}")" "userunknown	status:5.1.1"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $IN:2: the pattern at $RULES:3 gave up (too much backtracking); a later rule decided"
	assert_equal "${stderr_lines[1]}" "bounce-classify: $IN:3: the pattern at $RULES:3 gave up (too much backtracking); a later rule decided"
	assert_equal "${stderr_lines[5]}" "bounce-classify: patterns gave up: 2"
}

@test "a group definition's pattern that gives up is named by its line" {
	printf '@slow:diagnostic\t(*NO_START_OPT)(x+x+)+y\nblockme\tblocked\tdiagnostic@slow\tx\n' > "$RULES"
	{
		echo "$EXTRACT_HEADER"
		record 'jane@example.org' failed 5.1.1 550 "$(printf 'x%.0s' {1..4000})"
	} > "$IN"
	run -0 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_equal "$(cut -f12 <<< "${lines[1]}")" "userunknown"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $IN:2: the pattern at $RULES:1 gave up (too much backtracking); a later rule decided"
}

@test "a pattern of many empty branches (a||||b): every branch kept, the empty ones match" {
	printf 'bars\tblocked\tdiagnostic\tzzz%s\n' "$(printf '|%.0s' {1..200})" > "$RULES"
	run -0 --separate-stderr bounce-classify -r "$RULES" "$IN"
	assert_equal "$stderr" ""
	assert_equal "$(cut -f12,16 <<< "${lines[1]}")" "blocked	bars"
	assert_equal "$(cut -f12,16 <<< "${lines[2]}")" "blocked	bars"
}
