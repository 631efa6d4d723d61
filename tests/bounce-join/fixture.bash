# Shared by the bounce-join tests: a two-record stream and a way to join it with a CSV
# given inline (printf escapes: \t \r \n \xHH).
load ../helper
bats_require_minimum_version 1.5.0

JOIN_FIX="$FIXTURES/join"

# A stream of two records: a@x.org and b@x.org.
stream() {
	printf 'recipient\tid\na@x.org\t1\nb@x.org\t2\n'
}

# join_csv CSV [OPTIONS...]: write CSV to a file and join the stream with it.
join_csv() {
	local csv="$BATS_TEST_TMPDIR/r.csv"
	printf '%b' "$1" > "$csv"
	shift
	stream | bounce-join -c "$csv" "$@"
}

# check_csv NAME CSV EXPECTED [OPTIONS...]: the joined stream must be EXPECTED
# (printf escapes), status 0, stderr empty.
check_csv() {
	local name="$1" csv="$2" want
	want="$(printf '%b' "$3")"
	shift 3
	run --separate-stderr join_csv "$csv" "$@"
	if [ "$status" -ne 0 ] || [ "$output" != "$want" ] || [ -n "$stderr" ]; then
		printf 'case: %s\nstatus: %s\nstderr: %s\n-- got:\n%s\n-- want:\n%s\n' \
			"$name" "$status" "$stderr" "$output" "$want" >&2
		return 1
	fi
}
