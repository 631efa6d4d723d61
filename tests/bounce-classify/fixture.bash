# Shared set-up for the bounce-classify tests.
load ../helper
bats_require_minimum_version 1.5.0

CASES="$FIXTURES/classify/cases.tsv"
EXTRACT_HEADER="source	date	recipient	action	status	smtp_code	remote_mta	diagnostic	mta	message_id	subject"

# Run every case of one theme of cases.tsv through bounce-classify and print one line per
# case whose reason, category, hard or rule differ from the expected ones.
check_theme() {
	local theme="$1" in out
	in="$BATS_TEST_TMPDIR/in.tsv"
	out="$BATS_TEST_TMPDIR/out.tsv"
	awk -F'\t' -v OFS='\t' -v t="$theme" '
		NR == 1 { print "action", "status", "smtp_code", "remote_mta", "recipient", "diagnostic"; next }
		$1 == t { print $2, $3, $4, $5, $6, $7 }' "$CASES" > "$in"
	bounce-classify "$in" > "$out"
	awk -F'\t' -v t="$theme" '
		FNR == 1 { next }
		NR == FNR { if ($1 == t) want[++n] = $8 " " $9 " " $10 " " $11; next }
		{ got = $7 " " $8 " " $9 " " $11; i++
		  if (got != want[i]) printf "case %d (%s): want %s, got %s\n", i, $6, want[i], got }
		END { if (i != n) printf "%d cases, %d results\n", n, i }' "$CASES" "$out"
}

# One record in bounce-extract's format: recipient action status smtp_code diagnostic.
record() {
	printf 'x.mbox:0\t2026-11-28T23:04:11Z\t%s\t%s\t%s\t%s\t\t%s\tpostfix\t<m@x>\tSubj\n' "$@"
}

# Run every case of cases.tsv (the mta column too) through bounce-classify; print one line
# per case whose reason differs, then "agreement: GOOD/ALL".
reason_agreement() {
	local in out
	in="$BATS_TEST_TMPDIR/all.tsv"
	out="$BATS_TEST_TMPDIR/all.out.tsv"
	awk -F'\t' -v OFS='\t' '
		NR == 1 { print "action", "status", "smtp_code", "remote_mta", "recipient", "diagnostic", "mta"; next }
		{ print $2, $3, $4, $5, $6, $7, $12 }' "$CASES" > "$in"
	bounce-classify "$in" > "$out"
	awk -F'\t' '
		FNR == 1 { next }
		NR == FNR { want[++n] = $8; theme[n] = $1; next }
		{ i++; if ($8 == want[i]) good++
		  else printf "miss: %s case %d: want %s, got %s (%s): %s\n", theme[i], i, want[i], $8, $12, $6 }
		END { printf "agreement: %d/%d\n", good, n }' "$CASES" "$out"
}
