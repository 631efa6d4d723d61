#!/usr/bin/env bats
# Maildir and directory output: complete files only, safe names, nothing overwritten.

setup() {
	load fixture
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)" "$(blocked_row)" \
		"$(address_row '../../etc/passwd@x' eve@gmail.com Eve)" "$(blocked_row 'a/b/c@x.example' Slash)"
}

@test "--maildir delivers into new/ and leaves tmp/ empty" {
	run -0 --separate-stderr render --maildir "$BATS_TEST_TMPDIR/md" "$BATS_TEST_TMPDIR/in.tsv"
	assert_output ""
	[ -d "$BATS_TEST_TMPDIR/md/cur" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/md/tmp")" ]
	run ls "$BATS_TEST_TMPDIR/md/new"
	assert_equal "${#lines[@]}" 4
	for f in "${lines[@]}"; do
		[[ "$f" =~ ^[0-9]+\.P[0-9]+Q[0-9]+\.[A-Za-z0-9_-]+$ ]]
	done
	run -0 python3 "$CHECK" eml "$BATS_TEST_TMPDIR"/md/new/*
	assert_line "to: Jane Doe <jane@gmail.com>"
	assert_line "Your personal token: TOK-1"
	refute_line --partial "From certs"
}

@test "--maildir into an existing Maildir adds messages" {
	run -0 render --maildir "$BATS_TEST_TMPDIR/md" "$BATS_TEST_TMPDIR/in.tsv"
	run -0 render --maildir "$BATS_TEST_TMPDIR/md" "$BATS_TEST_TMPDIR/in.tsv"
	run ls "$BATS_TEST_TMPDIR/md/new"
	assert_equal "${#lines[@]}" 8
}

@test "--dir writes one .eml per message with safe names inside the directory" {
	run -0 render --dir "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/in.tsv"
	run ls -A "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '%s\n' \
		000001-address-jane@gmial.com.eml \
		000002-blocked-bob@corp.example.eml \
		000003-address-.._.._etc_passwd@x.eml \
		000004-blocked-a_b_c@x.example.eml)"
	[ ! -e "$BATS_TEST_TMPDIR/etc" ]
	run -0 python3 "$CHECK" eml "$BATS_TEST_TMPDIR"/out/*.eml
	assert_line "to: Bob <bob@corp.example>"
	assert_line "to-addr: a/b/c@x.example"
}

@test "--dir never overwrites a file: exit 2" {
	mkdir "$BATS_TEST_TMPDIR/out"
	echo keep >"$BATS_TEST_TMPDIR/out/000001-address-jane@gmial.com.eml"
	run -2 --separate-stderr render --dir "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/out/000001-address-jane@gmial.com.eml: exists; not overwritten"
	run cat "$BATS_TEST_TMPDIR/out/000001-address-jane@gmial.com.eml"
	assert_output keep
}

@test "--dir does not follow a planted symlink" {
	mkdir "$BATS_TEST_TMPDIR/out"
	ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/out/000001-address-jane@gmial.com.eml"
	run -2 render --dir "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/in.tsv"
	[ ! -e "$BATS_TEST_TMPDIR/victim" ]
}

@test "the mbox output is read back by mailbox.mbox as the same number of messages" {
	run -0 render "$BATS_TEST_TMPDIR/in.tsv"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "messages: 4"
}
