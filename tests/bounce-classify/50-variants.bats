#!/usr/bin/env bats
# Generalisation over layouts and languages: bounce-extract's variant fixtures, run through
# bounce-extract | bounce-classify, must get the reason judged right for each record
# (tests/fixtures/classify/variants-reasons.tsv: file, recipient, reason) in at least 95% of
# the records, the misses listed.
load fixture

VARIANTS="$FIXTURES/extract/variants"
JUDGED="$FIXTURES/classify/variants-reasons.tsv"

setup() {
	[ -x "$TOP/bin/bounce-extract" ] || skip "bin/bounce-extract is not built"
}

# Print "miss: FILE RECIPIENT: want R, got R (rule)" per disagreement, a line per judged
# record the pipeline did not produce, then "agreement: GOOD/ALL".
variant_agreement() {
	local out="$BATS_TEST_TMPDIR/variants.tsv"
	bounce-extract "$VARIANTS"/*.eml 2>/dev/null | bounce-classify > "$out"
	awk -F'\t' '
		FNR == 1 { next }
		NR == FNR { want[$1 "\t" $2] = $3; order[++n] = $1 "\t" $2; next }
		{ f = $1; sub(/^.*\//, "", f); sub(/:[0-9]+$/, "", f); got[f "\t" $3] = $12 " (" $16 ")"
		  reason[f "\t" $3] = $12 }
		END {
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (!(k in reason)) printf "missing: %s\n", k
				else if (reason[k] == want[k]) good++
				else printf "miss: %s: want %s, got %s\n", k, want[k], got[k]
			}
			printf "agreement: %d/%d\n", good, n
		}' "$JUDGED" "$out"
}

@test "variants: reason agreement with the judged table at least 95%" {
	run variant_agreement
	assert_success
	printf '%s\n' "${lines[@]}" >&3
	local agree="${lines[-1]#agreement: }" good all
	good="${agree%/*}" all="${agree#*/}"
	[ "$all" -ge 250 ] || fail "only $all judged records"
	[ $((good * 100)) -ge $((all * 95)) ] || fail "agreement $agree below 95%"
}

@test "variants: delayed records are soft and get a 4.x status" {
	run bash -c "bounce-extract '$VARIANTS'/*.eml 2>/dev/null | bounce-classify |
		awk -F'\t' 'NR > 1 && \$4 == \"delayed\" && (\$14 != 0 || \$5 !~ /^4\\./)'"
	assert_success
	assert_output ""
}

@test "variants: hard is 1 exactly for permanent address failures (a 5xx notaccept is one)" {
	run bash -c "bounce-extract '$VARIANTS'/*.eml 2>/dev/null | bounce-classify |
		awk -F'\t' 'NR > 1 && (((\$12 ~ /^(userunknown|hostunknown|hasmoved)\$/ || (\$12 == \"notaccept\" && \$5 ~ /^5/)) && \$4 == \"failed\") != (\$14 == 1))'"
	assert_success
	assert_output ""
}

@test "variants: the judged table has the columns the test reads" {
	run head -1 "$JUDGED"
	assert_output "$(printf 'file\trecipient\treason')"
}
