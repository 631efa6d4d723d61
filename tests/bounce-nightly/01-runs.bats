#!/usr/bin/env bats
# Night after night: each bounce rendered once, whatever happens to the archive.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	load fixture
	setup_run
}

@test "first run: renders the actionable bounces, keeps the records, the summary and the state" {
	# bob@example.org has no suggestion: bounce-render reports it, so the status is 1.
	run -1 --separate-stderr bounce-nightly -c "$NF/recipients.csv" -o "$OUT" -t "$NF/templates" \
		--from certs@certs.example --sending-domain certs.example "$ARCH"
	assert_line --index 0 --regexp '^Bounces, run [0-9]{8}T[0-9]{6}Z$'
	assert_line "  records                       3"
	[ "$(mails)" -eq 2 ]
	run -0 mailed_to
	assert_output "$(printf '%s\n' 'To: it@corp.example' 'To: jane.doe@gmail.com')"
	run -0 last_run_recipients
	assert_output "$(printf '%s\n' jane.doe@gmial.com it@corp.example bob@example.org)"
	run -0 ls "$OUT"/runs/*/
	assert_output "$(printf '%s\n' ledger.add records.tsv rejects.tsv state summary.html summary.txt)"
	run -0 cut -f 1,7 "$OUT/state"
	assert_output "$(printf 'path\toffset\n%s\t%s' "$ARCH" "$(stat -c %s "$ARCH")")"
	run -0 cut -f 1 "$OUT/rendered.tsv"
	assert_output "$(printf '%s\n' recipient jane.doe@gmial.com it@corp.example bob@example.org)"
}

@test "second run: nothing new, nothing rendered" {
	run -1 nightly "$ARCH"
	run -0 nightly "$ARCH"
	[ "$(mails)" -eq 2 ]
	run -0 ls "$OUT/runs"
	[ "${#lines[@]}" -eq 2 ]
	run -0 last_run_recipients
	assert_output ""
}

@test "a bounce appended to the archive: only the new one is read and rendered" {
	run -1 nightly "$ARCH"
	cat "$NF/append.mbox" >>"$ARCH"
	run -0 --separate-stderr nightly -v "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $ARCH: reading from byte 3031"
	run -0 last_run_recipients
	assert_output ann@uni.example
	[ "$(mails)" -eq 3 ]
	run -0 mailed_to
	assert_line 'To: ann@uni.example'
}

@test "a rotated archive (a new file): read from the start, nothing rendered twice" {
	run -1 nightly "$ARCH"
	cp "$ARCH" "$ARCH.new"
	cat "$NF/other.mbox" >>"$ARCH.new"
	mv "$ARCH.new" "$ARCH"
	run -0 --separate-stderr nightly -v "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $ARCH: a different file than last time (rotated); reading from the start"
	assert_equal "${stderr_lines[1]}" "bounce-nightly: 3 records already rendered by an earlier run left out"
	run -0 last_run_recipients
	assert_output sam@hotmial.com
	[ "$(mails)" -eq 3 ]
}

@test "a truncated archive: read from the start, nothing rendered twice" {
	run -1 nightly "$ARCH"
	head -c 1143 "$NF/night1.mbox" >"$ARCH" # the same file, cut after the first bounce
	cat "$NF/other.mbox" >>"$ARCH"
	run -0 --separate-stderr nightly -v "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $ARCH: shorter than what was read last time (truncated); reading from the start"
	run -0 last_run_recipients
	assert_output sam@hotmial.com
	[ "$(mails)" -eq 3 ]
}

@test "an archive rewritten in place: its first bytes changed, read from the start" {
	run -1 nightly "$ARCH"
	{ cat "$NF/other.mbox"; cat "$NF/night1.mbox"; } >"$ARCH"
	run -0 --separate-stderr nightly -v "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $ARCH: its first bytes changed (replaced); reading from the start"
	run -0 last_run_recipients
	assert_output sam@hotmial.com
}

@test "the same archive named twice is read once" {
	run -1 nightly "$ARCH" "$ARCH"
	[ "$(mails)" -eq 2 ]
}

@test "several archives, a gzip'd one among them" {
	gzip -c "$NF/append.mbox" >"$BATS_TEST_TMPDIR/old.mbox.gz"
	run -1 nightly "$ARCH" "$BATS_TEST_TMPDIR/old.mbox.gz"
	[ "$(mails)" -eq 3 ]
	run -0 --separate-stderr nightly -v "$ARCH" "$BATS_TEST_TMPDIR/old.mbox.gz"
	assert_equal "${stderr_lines[1]}" "bounce-nightly: $BATS_TEST_TMPDIR/old.mbox.gz: nothing new"
	cat "$NF/append.mbox" "$NF/other.mbox" | gzip -c >"$BATS_TEST_TMPDIR/old.mbox.gz"
	run -0 nightly "$ARCH" "$BATS_TEST_TMPDIR/old.mbox.gz"
	run -0 last_run_recipients
	assert_output sam@hotmial.com
	[ "$(mails)" -eq 4 ]
}

@test "the summary compares with the previous run" {
	run -1 nightly "$ARCH"
	cat "$NF/append.mbox" >>"$ARCH"
	run -0 nightly "$ARCH"
	run -0 cat "$OUT"/runs/*/summary.txt
	assert_line "  records                       1         3      -2"
	run -0 grep -c '<svg ' "$OUT"/runs/*/summary.html
}

@test "an archive that cannot be read is reported and skipped; status 1; its state is kept" {
	run -1 --separate-stderr nightly "$BATS_TEST_TMPDIR/missing.mbox" "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $BATS_TEST_TMPDIR/missing.mbox: cannot read the archive; skipped"
	[ "$(mails)" -eq 2 ]
	run -0 cut -f 1 "$OUT/state"
	assert_output "$(printf 'path\n%s' "$ARCH")"
}

@test "log rotation: the archive moved aside and a new one begun; nothing rendered twice" {
	run -1 nightly "$ARCH"
	mv "$ARCH" "$ARCH.1"
	cp "$NF/other.mbox" "$ARCH"
	run -0 nightly "$ARCH.1" "$ARCH"
	run -0 last_run_recipients
	assert_output sam@hotmial.com
	[ "$(mails)" -eq 3 ]
}

@test "a recipient with two rows in the list (two certificates) gets two emails, once" {
	run -1 bounce-nightly -q -c "$NF/recipients-two.csv" -o "$OUT" -t "$NF/templates" \
		--from certs@certs.example --sending-domain certs.example "$ARCH"
	[ "$(mails)" -eq 3 ]
	run -0 bash -c "grep -h 'token' '$OUT'/maildir/new/* | sort"
	assert_line --partial "(token TOK-1)"
	assert_line --partial "(token TOK-1B)"
	cp "$ARCH" "$ARCH.copy"
	run -0 bounce-nightly -q -c "$NF/recipients-two.csv" -o "$OUT" -t "$NF/templates" \
		--from certs@certs.example --sending-domain certs.example "$ARCH" "$ARCH.copy"
	[ "$(mails)" -eq 3 ]
}

@test "the ledger: one line per record handed to bounce-render" {
	run -1 nightly "$ARCH"
	run -0 head -1 "$OUT/rendered.tsv"
	assert_output "$(printf 'recipient\tdate\tmessage_id\tsource\trow')"
	run -0 cut -f 1-4 "$OUT/rendered.tsv"
	assert_line --index 1 "$(printf 'jane.doe@gmial.com\t2026-11-28T23:01:11Z\t<cert-1@certs.example>\t')"
}

@test "no message starts where the last run stopped (a write was under way): read from the start" {
	run -1 nightly "$ARCH"
	printf 'the end of a message being written\n\n' >>"$ARCH"
	cat "$NF/append.mbox" >>"$ARCH"
	run -0 --separate-stderr nightly -v "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $ARCH: no message starts where the last run stopped; reading from the start"
	run -0 last_run_recipients
	assert_output ann@uni.example
	[ "$(mails)" -eq 3 ]
}

@test "a Maildir is read whole each time; the ledger keeps it from being rendered twice" {
	md="$BATS_TEST_TMPDIR/Maildir"
	mkdir -p "$md/new" "$md/cur" "$md/tmp"
	awk -v dir="$md/new" '/^From / { n++; next } { print > (dir "/" n ".eml") }' "$NF/night1.mbox"
	run -1 --separate-stderr nightly -v "$md"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $md: a directory, read whole"
	[ "$(mails)" -eq 2 ]
	awk -v dir="$md/new" '/^From / { next } { print > (dir "/9.eml") }' "$NF/append.mbox"
	run -0 nightly "$md"
	run -0 last_run_recipients
	assert_output ann@uni.example
	[ "$(mails)" -eq 3 ]
}
