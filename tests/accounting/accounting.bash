# Shared set-up for the accounting tests: every program's --stats must add up, and agree
# with what actually came out.
# Variables set here are used by the test files, $output and $stderr come from bats.
# shellcheck disable=SC2034,SC2154
load ../helper

EXAMPLES="$TOP/examples"

need_prog() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not built in this tree yet"
}

need_examples() {
	[[ -f "$EXAMPLES/archive.mbox" ]] || skip "examples/archive.mbox not in this tree yet"
}

# The value of counter NAME in the --stats output held in $stderr ("" when absent).
stat_of() {
	printf '%s\n' "$stderr" | "$TOP/tests/accounting/stats-kv" | awk -v k="$1" '$1 == k { print $2 }'
}

# Fail unless counter $1 is present and equals the arithmetic expression $2 (in which
# counter names may appear as $name).
assert_stat() {
	local name=$1 expr=$2 kv got want
	kv=$(printf '%s\n' "$stderr" | "$TOP/tests/accounting/stats-kv")
	got=$(awk -v k="$name" '$1 == k { print $2 }' <<<"$kv")
	[[ -n "$got" ]] || fail "--stats has no \"$name\" counter: $stderr"
	while read -r k v; do
		expr=${expr//\$$k/$v}
	done <<<"$kv"
	[[ "$expr" != *'$'* ]] || fail "--stats lacks a counter named in: $expr"
	want=$((expr))
	assert_equal "$name=$got" "$name=$want"
}

# Data records in the TSV held in $output.
records_out() {
	printf '%s\n' "$output" | sed 1d | grep -c . || true
}
