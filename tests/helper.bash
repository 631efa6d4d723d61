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
