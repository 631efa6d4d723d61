#!/usr/bin/env bats
# The bench's input generator: deterministic, with the counts it reports.  No timing here.
load ../helper
bats_require_minimum_version 1.5.0

GEN="$TOP/scripts/bench-gen.py"

gen() {
	python3 "$GEN" "$@"
}

@test "two runs make the same bytes" {
	cd "$BATS_TEST_TMPDIR"
	for k in bounces mixed; do
		n=40
		[ $k = mixed ] && n=1
		gen $k $n a.$k >/dev/null
		gen $k $n b.$k >/dev/null
		assert_equal "$(sha256sum <a.$k)" "$(sha256sum <b.$k)"
	done
	gen records 300 a.tsv >/dev/null
	gen records 300 b.tsv >/dev/null
	cmp a.tsv b.tsv
}

@test "the bounce box holds the bounces it reports, in six formats, 2-7 KB each" {
	cd "$BATS_TEST_TMPDIR"
	run -0 gen bounces 120 box
	assert_output "messages=120 bounces=120 bytes=$(wc -c <box | tr -d ' ')"
	assert_equal "$(grep -c '^From ' box)" 120
	run python3 - box <<'PY'
import mailbox, sys
subjects, sizes = set(), []
for m in mailbox.mbox(sys.argv[1]):
    subjects.add(m["Subject"].split(":")[0])
    sizes.append(len(m.as_bytes()))
    assert not any(p.defects for p in m.walk()), m["Subject"]
print(len(subjects) >= 6, 1800 < min(sizes), max(sizes) < 7200)
PY
	assert_output "True True True"
}

@test "the mixed archive: about the size asked, one message in twenty a bounce" {
	cd "$BATS_TEST_TMPDIR"
	run -0 gen mixed 2 mix
	size=$(wc -c <mix | tr -d ' ')
	[ "$size" -ge 2097152 ]
	msgs=$(grep -c '^From ' mix)
	assert_output "messages=$msgs bounces=$((msgs / 20)) bytes=$size"
	assert_equal "$(grep -c '^From MAILER-DAEMON ' mix)" $((msgs / 20))
}

@test "records carry bounce-extract's columns and the CSV matches most of them" {
	cd "$BATS_TEST_TMPDIR"
	run -0 gen records 900 r.tsv
	assert_output "records=900 bytes=$(wc -c <r.tsv | tr -d ' ')"
	assert_equal "$(head -1 r.tsv)" "$(printf 'source\tdate\trecipient\taction\tstatus\tsmtp_code\tremote_mta\tdiagnostic\tmta\tmessage_id\tsubject')"
	assert_equal "$(awk -F '\t' 'NF != 11' r.tsv | wc -l | tr -d ' ')" 0
	gen csv 900 c.csv >/dev/null
	run python3 - r.tsv c.csv <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[2], newline="")))
assert rows[0] == ["name", "email", "token", "view_url", "pdf_url"]
assert all(len(r) == 5 for r in rows) and len(rows) == 901
emails = {r[1] for r in rows[1:]}
recs = [l.split("\t")[2] for l in open(sys.argv[1]).read().splitlines()[1:]]
share = sum(r in emails for r in recs) / len(recs)
print(0.8 < share < 0.97)
PY
	assert_output True
}

@test "measure reports every stage's exit status" {
	run -0 gen measure -n 2 -- sh -c 'exit 3' '|' cat
	assert_output --regexp '^[0-9]+\.[0-9]{3} [0-9]+\.[0-9]{3} [0-9]+\.[0-9]{3} [0-9]+ 3,0 (gnu-time|vmhwm-poll)$'
}

@test "the bench runs on tiny inputs and prints n/a for what is not built" {
	cd "$BATS_TEST_TMPDIR"
	PATH=/usr/bin:/bin BENCH_DIR="$BATS_TEST_TMPDIR/b" BENCH_MB=1 BENCH_BOUNCES=20 \
		BENCH_RECORDS=100 BENCH_CSV_ROWS=50 BENCH_RUNS=1 run -0 sh "$TOP/scripts/bench"
	assert_line --regexp '^bounces \(20 bounces\) +cat +[0-9.]+ .* ok$'
	assert_line --regexp '^records \(100\) +cat '
	assert_line --partial 'peak RSS from'
	[ -s "$BATS_TEST_TMPDIR/b/mixed-1M.v1.mbox" ]
}

@test "the bench refuses a size that is not a number" {
	BENCH_MB=lots run -2 --separate-stderr sh "$TOP/scripts/bench"
	assert_equal "${stderr_lines[0]}" "bench: BENCH_MB, BENCH_RUNS, BENCH_BOUNCES, BENCH_RECORDS and BENCH_CSV_ROWS take whole numbers"
}
