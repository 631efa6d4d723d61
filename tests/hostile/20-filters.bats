#!/usr/bin/env bats
# The filters (bounce-classify, bounce-join, bounce-render, bounce-summary) against hostile
# record streams: a 1 GB line, malformed records, NUL bytes, unreadable inputs.  Each must
# report the bad record as FILE:LINE, exit 1, keep its memory bounded and pass the good
# records around it.  All read the same record stream, so one table drives every case.
load hostile

# filter NAME: the command line for a filter, into the array CMD.
filter() {
	need_prog "bounce-$1"
	case $1 in
	classify) CMD=(bounce-classify --stats) ;;
	join) CMD=(bounce-join --stats -c "$HOSTILE_FIXTURES/recipients.csv") ;;
	render) CMD=(bounce-render --stats --from certs@certs.example --sending-domain certs.example) ;;
	summary) CMD=(bounce-summary) ;;
	esac
}

# Records (or, for bounce-render, messages) in $output.
count_out() {
	case $1 in
	render) printf '%s\n' "$output" | grep -c '^From ' || true ;;
	summary) echo n/a ;;
	*) printf '%s\n' "$output" | sed 1d | grep -c . || true ;;
	esac
}

long_line_case() {
	filter "$1"
	stream() {
		sed -n 1,2p "$HOSTILE_FIXTURES/records.tsv"
		big_run "$BIG_MB"
		printf '\n'
		sed -n 3p "$HOSTILE_FIXTURES/records.tsv"
	}
	pipeline() { stream | bounded "${CMD[@]}"; }
	run -1 --separate-stderr pipeline
	assert_bounded_memory
	assert_equal "${stderr_lines[0]}" "bounce-$1: stdin:3: record longer than 16777216 bytes skipped"
	[[ $1 == summary ]] || assert_equal "$(count_out "$1")" 2
}

broken_records_case() {
	local f="$HOSTILE_FIXTURES/broken-records.tsv"
	filter "$1"
	run -1 --separate-stderr "${CMD[@]}" "$f"
	assert_equal "${stderr_lines[0]}" "bounce-$1: $f:3: record has 2 fields, header has 21; skipped"
	assert_equal "${stderr_lines[1]}" "bounce-$1: $f:4: bad backslash escape in column \"subject\"; record skipped"
	# the good records, the one with NUL bytes included, come out
	[[ $1 == summary ]] || assert_equal "$(count_out "$1")" 3
}

unreadable_case() {
	local good="$HOSTILE_FIXTURES/records.tsv"
	filter "$1"
	ln -s "$BATS_TEST_TMPDIR/nowhere" "$BATS_TEST_TMPDIR/dangling.tsv"
	run -1 --separate-stderr "${CMD[@]}" "$good" "$BATS_TEST_TMPDIR/dangling.tsv" "$good"
	assert_equal "${stderr_lines[0]}" "bounce-$1: $BATS_TEST_TMPDIR/dangling.tsv: cannot open: No such file or directory"
	[[ $1 == summary ]] || assert_equal "$(count_out "$1")" 4
}

directory_case() {
	local good="$HOSTILE_FIXTURES/records.tsv"
	filter "$1"
	mkdir "$BATS_TEST_TMPDIR/a-directory"
	run -1 --separate-stderr "${CMD[@]}" "$BATS_TEST_TMPDIR/a-directory" "$good"
	assert_equal "${stderr_lines[0]}" "bounce-$1: $BATS_TEST_TMPDIR/a-directory: read error: Is a directory"
	[[ $1 == summary ]] || assert_equal "$(count_out "$1")" 2
}

@test "classify: a 1 GB line is skipped with a message, memory bounded, neighbours kept" { long_line_case classify; }
@test "join: a 1 GB line is skipped with a message, memory bounded, neighbours kept" { long_line_case join; }
@test "render: a 1 GB line is skipped with a message, memory bounded, neighbours kept" { long_line_case render; }
@test "summary: a 1 GB line is skipped with a message, memory bounded" { long_line_case summary; }

@test "classify: wrong field count and bad escape reported by line, NUL bytes pass" { broken_records_case classify; }
@test "join: wrong field count and bad escape reported by line, NUL bytes pass" { broken_records_case join; }
@test "render: wrong field count and bad escape reported by line, NUL bytes pass" { broken_records_case render; }
@test "summary: wrong field count and bad escape reported by line" { broken_records_case summary; }

@test "classify: a dangling symlink among inputs: reported, exit 1, the others read" { unreadable_case classify; }
@test "join: a dangling symlink among inputs: reported, exit 1, the others read" { unreadable_case join; }
@test "render: a dangling symlink among inputs: reported, exit 1, the others read" {
	unreadable_case render
}
@test "summary: a dangling symlink among inputs: reported, exit 1, the others read" { unreadable_case summary; }

@test "classify: a directory given as input: reported, exit 1, the others read" { directory_case classify; }
@test "join: a directory given as input: reported, exit 1, the others read" { directory_case join; }
@test "render: a directory given as input: reported, exit 1, the others read" {
	directory_case render
}
@test "summary: a directory given as input: reported, exit 1, the others read" { directory_case summary; }
