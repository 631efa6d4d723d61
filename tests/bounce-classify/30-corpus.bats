#!/usr/bin/env bats
# The shared corpus of real bounces, end to end: bounce-extract | bounce-classify | score.
# Thresholds: reason agreement >= 90%, category agreement >= 97%, status exact >= 95%.
load fixture

setup() {
	need_corpus
	[ -x "$TOP/bin/bounce-extract" ] || skip "bin/bounce-extract is not built"
}

# score --summary: rows recall precision status class reason group
summary() {
	bounce-extract "$CORPUS"/dos/*.eml 2>/dev/null | bounce-classify | "$CORPUS/score" --summary -
}

# A percentage field of the summary as a number times ten (95.0% -> 950).
field() {
	cut -f"$1" <<<"$2" | tr -d '%.'
}

@test "corpus: reason, category and status agreement reach the thresholds" {
	run summary
	assert_success
	echo "rows recall precision status class reason group: $output" >&3
	[ "$(field 6 "$output")" -ge 900 ] || fail "reason agreement $(cut -f6 <<<"$output") < 90%"
	[ "$(field 7 "$output")" -ge 970 ] || fail "category agreement $(cut -f7 <<<"$output") < 97%"
	[ "$(field 4 "$output")" -ge 950 ] || fail "status exact $(cut -f4 <<<"$output") < 95%"
}
