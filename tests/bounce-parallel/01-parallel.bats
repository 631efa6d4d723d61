#!/usr/bin/env bats
# bounce-parallel: the same records as a serial run, one header, the worst status.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	NF="$FIXTURES/nightly"
	A=("$NF/night1.mbox" "$NF/append.mbox" "$NF/other.mbox")
}

need_filters() {
	command -v bounce-extract >/dev/null 2>&1 || skip "bounce-extract is not built yet"
	command -v bounce-classify >/dev/null 2>&1 || skip "bounce-classify is not built yet"
}

serial() {
	local a first=1
	for a in "$@"; do
		if [ "$first" = 1 ]; then
			bounce-extract "$a" | bounce-classify
			first=0
		else
			bounce-extract "$a" | bounce-classify | tail -n +2
		fi
	done
}

@test "-j 3 over several archives: the serial run's records, one header" {
	need_filters
	serial "${A[@]}" "${A[@]}" | sort >"$BATS_TEST_TMPDIR/serial"
	run -0 bounce-parallel -j 3 -- "${A[@]}" "${A[@]}"
	assert_line --index 0 --regexp '^source	date	recipient	'
	[ "${#lines[@]}" -eq 11 ]
	run -0 bash -c "grep -c '^source	' <<<\"\$1\"" _ "$output"
	assert_output 1
	bounce-parallel -j 3 "${A[@]}" "${A[@]}" | sort | cmp - "$BATS_TEST_TMPDIR/serial"
}

@test "records come in the order of the archives" {
	need_filters
	run -0 bash -c 'bounce-parallel -j 3 "$@" | cut -f 3' _ "$NF/other.mbox" "$NF/night1.mbox" "$NF/append.mbox"
	assert_output "$(printf '%s\n' recipient sam@hotmial.com jane.doe@gmial.com it@corp.example bob@example.org ann@uni.example)"
}

@test "--sshlogin is passed to GNU parallel (':' is the local host)" {
	need_filters
	serial "${A[@]}" | sort >"$BATS_TEST_TMPDIR/serial"
	bounce-parallel -S : -j 2 "${A[@]}" | sort | cmp - "$BATS_TEST_TMPDIR/serial"
}

@test "an archive that cannot be read: its error on stderr, the rest merged, status 1" {
	need_filters
	run -1 --separate-stderr bounce-parallel "$NF/night1.mbox" "$BATS_TEST_TMPDIR/missing.mbox" "$NF/append.mbox"
	assert_equal "${stderr_lines[0]}" "bounce-extract: $BATS_TEST_TMPDIR/missing.mbox: cannot open: No such file or directory"
	[ "${#lines[@]}" -eq 5 ]
}

@test "the worst status of the jobs: a failing filter gives 2" {
	mkdir "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\ncat >/dev/null\nexit 2\n' >"$BATS_TEST_TMPDIR/fake/bounce-classify"
	printf '#!/bin/sh\nprintf "source\\trecipient\\n%%s:0\\tx@y.example\\n" "$2"\n' >"$BATS_TEST_TMPDIR/fake/bounce-extract"
	chmod +x "$BATS_TEST_TMPDIR/fake"/*
	PATH="$BATS_TEST_TMPDIR/fake:$PATH" run -2 bounce-parallel a.mbox b.mbox
}

@test "options for bounce-classify and bounce-extract are passed through" {
	mkdir "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\nprintf "args\\n"; printf "%%s\\n" "$*"\n' >"$BATS_TEST_TMPDIR/fake/bounce-extract"
	printf '#!/bin/sh\ncat; printf "%%s\\n" "$*"\n' >"$BATS_TEST_TMPDIR/fake/bounce-classify"
	chmod +x "$BATS_TEST_TMPDIR/fake"/*
	PATH="$BATS_TEST_TMPDIR/fake:$PATH" run -0 bounce-parallel -r 'my rules' -r x --since 2026-11-01 -- 'a b.mbox' -c.mbox
	assert_output "$(printf '%s\n' args '--since 2026-11-01 -- a b.mbox' '-r my rules -r x' '--since 2026-11-01 -- -c.mbox' '-r my rules -r x')"
}

@test "usage errors: status 2 and a message" {
	run -2 --separate-stderr bounce-parallel
	assert_equal "${stderr_lines[0]}" "bounce-parallel: no archive given"
	assert_equal "${stderr_lines[1]:0:22}" "usage: bounce-parallel"
	run -2 --separate-stderr bounce-parallel --bogus a.mbox
	assert_equal "${stderr_lines[0]}" "bounce-parallel: unknown option --bogus"
	run -2 --separate-stderr bounce-parallel -j
	assert_equal "${stderr_lines[0]}" "bounce-parallel: option -j needs an argument"
}

@test "-h and --version" {
	run -0 bounce-parallel -h
	assert_line --index 0 --partial "usage: bounce-parallel"
	run -0 bounce-parallel --version
	assert_output --regexp '^bounce-parallel \(rebounce\) [0-9]'
}

@test "a rules file bounce-classify cannot read: its message, status 2" {
	need_filters
	run -2 --separate-stderr bounce-parallel -r "$BATS_TEST_TMPDIR/none.rules" "$NF/night1.mbox"
	assert_equal "${stderr_lines[0]}" "bounce-classify: $BATS_TEST_TMPDIR/none.rules: cannot open rules: No such file or directory"
}
