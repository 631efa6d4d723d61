# Shared by the bounce-summary tests: the fixture streams.
S="$FIXTURES/summary"
DAY1="$S/day1.tsv"
DAY2="$S/day2.tsv"

# The lines of $output (set by run) as an array, for exact line checks.
lines_of_output() {
	mapfile -t out <<<"$output"
}
