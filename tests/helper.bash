# Shared set-up for every Bats file: the built programs first on PATH, bats-assert loaded,
# the shared corpus located (tests that need it skip cleanly when it is absent).
bats_require_minimum_version 1.5.0
TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${REBOUNCE_BIN:-$TOP/bin}:$TOP/scripts:$PATH"
export REBOUNCE_SHARE="$TOP/share"
FIXTURES="$TOP/tests/fixtures"
CORPUS="${REBOUNCE_CORPUS:-$TOP/../shared/corpus}"

for d in /usr/lib/bats /usr/lib /usr/local/lib/bats /usr/local/lib; do
	if [ -f "$d/bats-support/load.bash" ]; then
		load "$d/bats-support/load.bash"
		load "$d/bats-assert/load.bash"
		break
	fi
done

need_corpus() {
	[ -x "$CORPUS/score" ] || skip "shared corpus not present at $CORPUS"
}

# The interface every program shares: -h prints the usage on stdout and exits 0; --version
# prints "PROG (rebounce) X.Y.Z" and exits 0; an unknown option is a usage error: nothing on
# stdout, the message and the usage on stderr, exit 2.
assert_common_interface() {
	local prog="$1"
	run -0 --separate-stderr "$prog" -h
	assert_line --index 0 --partial "usage: $prog "
	assert_equal "$stderr" ""
	run -0 --separate-stderr "$prog" --version
	assert_output --regexp "^$prog \\(rebounce\\) [0-9]+\\.[0-9]+\\.[0-9]+\$"
	run -2 --separate-stderr "$prog" --no-such-option
	assert_output ""
	assert_equal "${stderr_lines[0]:0:${#prog}}" "$prog"
	assert_equal "${stderr_lines[1]:0:$((${#prog} + 8))}" "usage: $prog "
}
