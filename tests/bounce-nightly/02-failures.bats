#!/usr/bin/env bats
# Runs that die, stages that fail, two runs at once, usage errors.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	load fixture
	setup_run
}

@test "a run killed while rendering leaves the state as it was; the next run does the work" {
	run -1 nightly "$ARCH"
	cp "$OUT/state" "$BATS_TEST_TMPDIR/state.before"
	cat "$NF/append.mbox" >>"$ARCH"
	fake bounce-render 'kill -KILL "$PPID"'
	run nightly "$ARCH"
	[ "$status" -eq 137 ]
	unfake
	cmp "$OUT/state" "$BATS_TEST_TMPDIR/state.before"
	[ "$(mails)" -eq 2 ]
	run -0 --separate-stderr nightly -v "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: removing $(cd "$OUT/runs" && ls -d .tmp-*), the work of a run that did not finish" || true
	[ "$(mails)" -eq 3 ]
	run -0 mailed_to
	assert_line 'To: ann@uni.example'
	run -0 ls -A "$OUT/runs"
	refute_output --partial .tmp-
}

@test "a first run killed: no state, no mail; the next run renders everything once" {
	fake bounce-render 'kill -KILL "$PPID"'
	run nightly "$ARCH"
	[ "$status" -eq 137 ]
	unfake
	[ ! -e "$OUT/state" ]
	[ "$(mails)" -eq 0 ]
	run -1 nightly "$ARCH"
	[ "$(mails)" -eq 2 ]
}

@test "a run killed after it was recorded is finished by the next run, without rendering twice" {
	# cp is used only to install the new state, the run's last step but one.
	fake cp 'kill -KILL "$PPID"'
	run nightly "$ARCH"
	[ "$status" -eq 137 ]
	unfake
	[ ! -e "$OUT/state" ]
	[ "$(mails)" -eq 2 ]
	run -0 --separate-stderr nightly "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: finishing the run $(ls "$OUT/runs" | head -1), which was interrupted after it was recorded"
	[ "$(mails)" -eq 2 ]
	run -0 cut -f 7 "$OUT/state"
	assert_output "$(printf 'offset\n%s' "$(stat -c %s "$ARCH")")"
	run -0 last_run_recipients
	assert_output ""
}

@test "a failing stage: status 2, a clear message, state and maildir untouched" {
	run -1 nightly "$ARCH"
	cp "$OUT/state" "$BATS_TEST_TMPDIR/state.before"
	cat "$NF/append.mbox" >>"$ARCH"
	fake bounce-classify 'echo "bounce-classify: rules: cannot open" >&2; exit 2'
	run -2 --separate-stderr nightly "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-classify: rules: cannot open"
	assert_equal "${stderr_lines[1]}" "bounce-nightly: bounce-classify failed (status 2): the state is unchanged"
	unfake
	cmp "$OUT/state" "$BATS_TEST_TMPDIR/state.before"
	[ "$(mails)" -eq 2 ]
	run -0 nightly "$ARCH"
	[ "$(mails)" -eq 3 ]
}

@test "a recipient list with a bad row is refused: status 2, state and maildir untouched" {
	run -1 nightly "$ARCH"
	cp "$OUT/state" "$BATS_TEST_TMPDIR/state.before"
	cat "$NF/append.mbox" >>"$ARCH"
	{ cat "$NF/recipients.csv"; echo 'ragged@example.org,Ragged'; } >"$BATS_TEST_TMPDIR/bad.csv"
	run -2 --separate-stderr bounce-nightly -q -c "$BATS_TEST_TMPDIR/bad.csv" -o "$OUT" -t "$NF/templates" \
		--from certs@certs.example --sending-domain certs.example "$ARCH"
	assert_equal "${stderr_lines[-1]}" "bounce-nightly: bounce-join failed (status 2): the state is unchanged"
	cmp "$OUT/state" "$BATS_TEST_TMPDIR/state.before"
	[ "$(mails)" -eq 2 ]
	run -0 nightly "$ARCH"
	[ "$(mails)" -eq 3 ]
}

@test "a second run while one holds the lock is refused with status 2" {
	mkdir -p "$OUT"
	exec 8>>"$OUT/lock"
	flock -n 8
	run -2 --separate-stderr nightly "$ARCH"
	exec 8>&-
	assert_equal "${stderr_lines[0]}" "bounce-nightly: another run is in progress (it holds $OUT/lock); try again later, or use -w to wait"
	[ ! -e "$OUT/state" ]
}

@test "-w waits for the lock" {
	mkdir -p "$OUT"
	(flock 8 && sleep 1) 8>>"$OUT/lock" &
	run -1 nightly -w "$ARCH"
	wait
	[ "$(mails)" -eq 2 ]
}

@test "usage errors: status 2 and a message" {
	run -2 --separate-stderr bounce-nightly -o "$OUT" "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: the recipient list (-c) is required"
	assert_equal "${stderr_lines[1]:0:21}" "usage: bounce-nightly"
	run -2 --separate-stderr bounce-nightly -c "$NF/recipients.csv" "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: the output directory (-o) is required"
	run -2 --separate-stderr bounce-nightly -c "$NF/recipients.csv" -o "$OUT"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: no archive given"
	run -2 --separate-stderr bounce-nightly --bogus
	assert_equal "${stderr_lines[0]}" "bounce-nightly: unknown option --bogus"
	run -2 --separate-stderr bounce-nightly -c "$BATS_TEST_TMPDIR/none.csv" -o "$OUT" "$ARCH"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: $BATS_TEST_TMPDIR/none.csv: cannot read the recipient list"
	run -2 --separate-stderr nightly "$(printf 'a\tb.mbox')"
	assert_equal "${stderr_lines[0]}" "bounce-nightly: archive names with a TAB or a newline are not supported"
}

@test "-h, --version and an unknown option" {
	assert_common_interface bounce-nightly
}

@test "archive-name-runs-a-command: a failed archive named \$(...) is forgotten, nothing runs" {
	cd "$BATS_TEST_TMPDIR"
	local a="$BATS_TEST_TMPDIR/\$(touch ran)"
	cp "$NF/night1.mbox" "$a"
	fake bounce-extract 'echo "bounce-extract: broken" >&2; exit 2'
	run -1 --separate-stderr nightly "$a"
	assert_equal "${stderr_lines[1]}" "bounce-nightly: $a: bounce-extract failed (status 2); this archive will be read again next time"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	run -0 cut -f 1 "$OUT/state"
	assert_output path
}
