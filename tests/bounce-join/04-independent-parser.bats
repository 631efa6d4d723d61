#!/usr/bin/env bats
# Round trip against an independent CSV parser (Python's csv module): every value of a
# hostile list, across read-chunk boundaries, comes back through the join unchanged.

load fixture

@test "values read as Python's csv module reads them" {
	command -v python3 >/dev/null || skip "python3 not installed"
	local seed
	for seed in 1 2 3; do
		run -0 python3 "$JOIN_FIX/csvcheck" "$seed" "$BATS_TEST_TMPDIR/list.csv"
		assert_output "ok"
	done
}
