#!/usr/bin/env bats
# More hostile input: binary garbage, a gzip bomb, a Maildir with a broken entry, and huge
# lines in the side inputs (recipient list, rules, templates), which are not streamed but
# must still be bounded.
load hostile

@test "extract: 20 MB of random bytes: read as one message, no crash, the next file read" {
	need_prog bounce-extract
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/garbage.bin"
	run -0 --separate-stderr bounded bounce-extract --stats "$BATS_TEST_TMPDIR/garbage.bin" "$HOSTILE_FIXTURES/bad-qp.mbox"
	assert_bounded_memory
	assert_equal "$(column_of recipient | tail -1)" qp@example.org
	assert_equal "$(stat_of messages)" 2
}

@test "extract: a gzip magic number followed by garbage: reported as corrupt, exit 1, next file read" {
	need_prog bounce-extract
	{ printf '\037\213'; head -c 100000 /dev/urandom; } >"$BATS_TEST_TMPDIR/fake.gz"
	run -1 --separate-stderr bounce-extract "$BATS_TEST_TMPDIR/fake.gz" "$HOSTILE_FIXTURES/bad-qp.mbox"
	[[ "${stderr_lines[0]}" == "bounce-extract: $BATS_TEST_TMPDIR/fake.gz: corrupt gzip stream"* ]] ||
		fail "first stderr line: ${stderr_lines[0]}"
	assert_equal "$(column_of recipient)" qp@example.org
}

@test "extract: a gzip bomb (1 GB from about 1 MB) on stdin: bounded memory, the bounce after it found" {
	need_prog bounce-extract
	archive() {
		{
			printf 'From x@example.org Sat Nov 28 23:00:00 2026\nSubject: zeros\n\n'
			big_run "$BIG_MB" 0
			printf '\n\n'
			dsn_bounce after@example.org 2
		} | gzip -1
	}
	pipeline() { archive | bounded bounce-extract --stats -; }
	run -0 --separate-stderr pipeline
	assert_bounded_memory
	assert_equal "$(column_of recipient)" after@example.org
	assert_equal "$(stat_of messages)" 2
}

@test "extract: a Maildir with a dangling entry: reported, exit 1, the other messages read" {
	need_prog bounce-extract
	local md="$BATS_TEST_TMPDIR/Maildir"
	mkdir -p "$md/cur" "$md/new" "$md/tmp"
	sed 1d "$HOSTILE_FIXTURES/bad-base64.mbox" >"$md/cur/1.host:2,S"
	ln -s "$BATS_TEST_TMPDIR/nowhere" "$md/cur/2.host:2,S"
	sed 1d "$HOSTILE_FIXTURES/bad-qp.mbox" >"$md/new/3.host"
	run -1 --separate-stderr bounce-extract "$md"
	[[ "${stderr_lines[0]}" == "bounce-extract: $md/cur/2.host:2,S: "* ]] || fail "first stderr line: ${stderr_lines[0]}"
	assert_equal "$(column_of recipient | sort | paste -sd ' ')" "jane@example.org qp@example.org"
}

@test "join: a recipient list with a 1 GB field: a clear message and bounded memory" {
	need_prog bounce-join
	csv() { printf 'email,token\nhuge@example.org,'; big_run "$BIG_MB"; printf '\nbob@example.org,t2\n'; }
	run --separate-stderr bounded bounce-join --lenient -c <(csv) "$HOSTILE_FIXTURES/extracted.tsv"
	assert_bounded_memory
	[[ -n "${stderr_lines[0]:-}" ]] || fail "no message about the 1 GB field"
	assert_equal "$(column_of matched | paste -sd ' ')" "0 1"
}

@test "classify: a rules file with a 1 GB line: a clear message, exit 2, bounded memory" {
	need_prog bounce-classify
	rules() { big_run "$BIG_MB"; printf '\n'; }
	run -2 --separate-stderr bounded bounce-classify -r <(rules) "$HOSTILE_FIXTURES/extracted.tsv"
	assert_bounded_memory
	[[ "${stderr_lines[0]}" == "bounce-classify: /dev/fd/"*":1: "* ]] || fail "first stderr line: ${stderr_lines[0]}"
}

@test "render: a 1 GB template (sparse): refused by size with a clear message, exit 2, bounded memory" {
	need_prog bounce-render
	local t="$BATS_TEST_TMPDIR/templates"
	mkdir "$t"
	cp "$HOSTILE_FIXTURES/templates-unknown-placeholder/blocked.eml" "$t/"
	printf 'From: {{from}}\nTo: <{{recipient}}>\nSubject: x\n\n' >"$t/address.eml"
	truncate -s "${BIG_MB}M" "$t/address.eml"
	run -2 --separate-stderr bounded bounce-render -t "$t" --from certs@certs.example \
		--sending-domain certs.example "$HOSTILE_FIXTURES/records.tsv"
	assert_bounded_memory
	assert_equal "${stderr_lines[0]}" "bounce-render: $t/address.eml: template larger than 1048576 bytes"
	assert_equal "$output" ""
}

@test "classify: a 1 MB rules file of long literals: loaded within the memory bound" {
	need_prog bounce-classify
	python3 - >"$BATS_TEST_TMPDIR/big.rules" <<'PY'
import random
random.seed(1)
letters = "abcdefghijklmnopqrstuvwxyz0123456789"
for r in range(50):
    print("big%d\tuserunknown\tdiagnostic\t%s" % (r, "".join(random.choice(letters) for _ in range(20000))))
PY
	run -0 --separate-stderr bounded bounce-classify -r "$BATS_TEST_TMPDIR/big.rules" "$HOSTILE_FIXTURES/extracted.tsv"
	assert_bounded_memory
	assert_equal "$(column_of recipient | wc -l)" 2
}

@test "classify: rules past the literal scanner's budget are still tried, in order" {
	need_prog bounce-classify
	# 5000 rules of 40-byte literals overflow the 32 KiB of literals the fields' scanners
	# share; the last two must still decide the two records, and before the shipped rules.
	python3 - >"$BATS_TEST_TMPDIR/many.rules" <<'PY'
import random
random.seed(2)
letters = "abcdefghijklmnopqrstuvwxyz0123456789"
for r in range(5000):
    print("many%d\tuserunknown\tdiagnostic\t%s" % (r, "".join(random.choice(letters) for _ in range(40))))
print("late1\tmailboxfull\tdiagnostic\tUser unknown")
print("late2\tspamdetected\tdiagnostic\tblocked by policy")
PY
	run -0 --separate-stderr bounded bounce-classify -r "$BATS_TEST_TMPDIR/many.rules" "$HOSTILE_FIXTURES/extracted.tsv"
	assert_bounded_memory
	assert_equal "$(column_of reason | paste -sd ' ')" "mailboxfull spamdetected"
}
