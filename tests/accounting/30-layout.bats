#!/usr/bin/env bats
# --stats has one layout in every program (rebounce(7), STATS): after every warning, one
# "PROG: NAME: N" line a counter, in the order the program's manual page lists them.
load accounting

# The counter names man/$1.1 lists under --stats, in order ("\-" read as "-").
documented_counters() {
	awk '/^\.It Fl.*-stats$/ { on = 1; next }
		on && /^\.El/ { exit }
		on && sub(/^\.It Li /, "") { gsub(/\\-/, "-"); print }' "$TOP/man/$1.1"
}

# layout_case PROG ARGS...: PROG ARGS --stats must write to stderr what PROG ARGS writes,
# then the documented counters and nothing else, each line an awk -F': ' and grep match.
layout_case() {
	local prog=$1 warnings first want bad stats
	shift
	run --separate-stderr "$prog" "$@"
	warnings=$stderr first=$status
	run --separate-stderr "$prog" --stats "$@"
	assert_equal "$prog $* exit $status" "$prog $* exit $first"
	assert_equal "${stderr:0:${#warnings}}" "$warnings"
	stats=${stderr:${#warnings}}
	stats=${stats#$'\n'}
	bad=$(grep -Ev '^bounce-[a-z]+: [a-z][a-z ()-]*: [0-9]+$' <<<"$stats" || true)
	[[ -z "$bad" ]] || fail "$prog --stats $*: not a PROG: NAME: N line: $bad"
	want=$(documented_counters "$prog")
	[[ -n "$want" ]] || fail "man/$prog.1 lists no counter under --stats"
	assert_equal "$(awk -F': ' -v p="$prog" '{ print $1 == p ? $2 : "from another program: " $0 }' <<<"$stats")" "$want"
}

@test "every program's --stats: PROG: NAME: N lines, in the documented order, after the warnings" {
	need_examples
	local t=$BATS_TEST_TMPDIR csv=$EXAMPLES/recipients.csv broken=$FIXTURES/hostile/broken-records.tsv
	local render=(bounce-render -t "$EXAMPLES/templates" --from certs@certs.example --sending-domain certs.example)
	bounce-extract "$EXAMPLES/archive.mbox" >"$t/x.tsv"
	bounce-classify "$t/x.tsv" >"$t/c.tsv"
	bounce-join -c "$csv" "$t/c.tsv" >"$t/j.tsv"
	printf 'email,name\na@x.org\n' >"$t/bad.csv"

	layout_case bounce-extract "$EXAMPLES/archive.mbox"
	layout_case bounce-extract "$t/nowhere.mbox" "$EXAMPLES/archive.mbox"
	layout_case bounce-classify "$t/x.tsv"
	layout_case bounce-classify "$broken"
	layout_case bounce-join -c "$csv" "$t/c.tsv"
	layout_case bounce-join -v -c "$csv" "$broken"
	layout_case bounce-join -c "$t/bad.csv" "$t/c.tsv"
	layout_case "${render[@]}" "$t/j.tsv"
	layout_case "${render[@]}" "$broken"
	layout_case bounce-summary "$t/j.tsv"
	layout_case bounce-summary "$broken"
}
