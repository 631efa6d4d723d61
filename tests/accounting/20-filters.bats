#!/usr/bin/env bats
# The filters' --stats: records in = records out + rejected, in each program's terms, and
# the counts agree with the records (or messages) actually written.
load accounting

# The extracted records of the example archive (or of the corpus) in $BATS_TEST_TMPDIR/x.tsv,
# classified in c.tsv and joined in j.tsv.
pipeline_inputs() {
	need_prog bounce-extract
	need_prog bounce-classify
	need_prog bounce-join
	bounce-extract "$@" >"$BATS_TEST_TMPDIR/x.tsv" || true
	bounce-classify "$BATS_TEST_TMPDIR/x.tsv" >"$BATS_TEST_TMPDIR/c.tsv" || true
	bounce-join -c "$EXAMPLES/recipients.csv" "$BATS_TEST_TMPDIR/c.tsv" >"$BATS_TEST_TMPDIR/j.tsv" || true
}

# Data lines of a TSV file (which may hold NUL bytes).
data_lines() {
	sed 1d "$1" | wc -l
}

check_classify() {
	local in="$BATS_TEST_TMPDIR/$1"
	run --separate-stderr bounce-classify --stats "$in"
	assert_stat records_in "$(data_lines "$in")"
	assert_stat records_in '$records_out + $malformed'
	assert_stat records_out "$(records_out)"
}

check_join() {
	local in="$BATS_TEST_TMPDIR/$1"
	run --separate-stderr bounce-join --stats -c "$EXAMPLES/recipients.csv" "$in"
	assert_stat records_in "$(data_lines "$in")"
	assert_stat records_in '$matched + $unmatched + $malformed'
	assert_stat records_out "$(records_out)"
	# a record matching n rows comes out n times; an unmatched one once
	(($(stat_of records_out) >= $(stat_of matched) + $(stat_of unmatched))) ||
		fail "fewer records out than records joined: $stderr"
	run --separate-stderr bounce-join --stats -v -c "$EXAMPLES/recipients.csv" "$in"
	assert_stat records_out '$unmatched'
	assert_stat records_out "$(records_out)"
}

check_render() {
	local in="$BATS_TEST_TMPDIR/$1"
	need_prog bounce-render
	run --separate-stderr bounce-render --stats -t "$EXAMPLES/templates" --from certs@certs.example \
		--sending-domain certs.example "$in"
	assert_stat records_in "$(data_lines "$in")"
	assert_stat records_in '$rendered + $not_actionable + $rejected + $malformed'
	assert_stat rendered "$(printf '%s\n' "$output" | grep -c '^From ' || true)"
}

check_summary() {
	local in="$BATS_TEST_TMPDIR/$1"
	need_prog bounce-summary
	run --separate-stderr bounce-summary --stats "$in"
	assert_stat records "$(($(data_lines "$in") - $(stat_of malformed)))"
}

@test "examples: classify: records in = records out + malformed" {
	need_examples
	pipeline_inputs "$EXAMPLES/archive.mbox"
	check_classify x.tsv
}

@test "examples: join: records in = matched + unmatched + malformed; out = what was written" {
	need_examples
	pipeline_inputs "$EXAMPLES/archive.mbox"
	check_join c.tsv
}

@test "examples: render: records in = rendered + not actionable + rejected + malformed" {
	need_examples
	pipeline_inputs "$EXAMPLES/archive.mbox"
	check_render j.tsv
}

@test "corpus: classify, join and render add up over every bounce of the corpus" {
	need_corpus
	need_examples
	pipeline_inputs "$CORPUS"/dos/*.eml "$CORPUS"/mbox/*
	check_classify x.tsv
	check_join c.tsv
	check_render j.tsv
	check_summary j.tsv
}

@test "examples: summary: records + malformed = lines read" {
	need_examples
	pipeline_inputs "$EXAMPLES/archive.mbox"
	check_summary c.tsv
}

@test "broken records: the ones skipped are counted as malformed" {
	need_prog bounce-classify
	cp "$FIXTURES/hostile/broken-records.tsv" "$BATS_TEST_TMPDIR/broken.tsv"
	check_classify broken.tsv
	assert_stat malformed 2
	check_join broken.tsv
	assert_stat malformed 2
	check_summary broken.tsv
	assert_stat malformed 2
}
