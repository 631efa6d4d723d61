#!/usr/bin/env bats
# make install honours PREFIX and DESTDIR, and the installed programs find their shared
# data (rules, domains, templates) beside themselves, without the source tree.

load ../helper

setup() {
	DEST="$BATS_TEST_TMPDIR/dest"
}

@test "make install puts programs, scripts, data and man pages under DESTDIR/PREFIX" {
	run make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/opt/rb
	assert_success
	for p in bounce-extract bounce-classify bounce-join bounce-render bounce-summary \
		bounce-nightly bounce-parallel; do
		[ -x "$DEST/opt/rb/bin/$p" ] || fail "bin/$p not installed"
	done
	[ -f "$DEST/opt/rb/share/rebounce/rules" ] || fail "rules not installed"
	[ -f "$DEST/opt/rb/share/rebounce/domains" ] || fail "domains not installed"
	[ -f "$DEST/opt/rb/share/rebounce/templates/blocked.eml" ] || fail "templates not installed"
	[ -f "$DEST/opt/rb/share/man/man1/bounce-extract.1" ] || fail "man page not installed"
	[ -f "$DEST/opt/rb/share/man/man7/rebounce.7" ] || fail "overview page not installed"
}

@test "an installed bounce-classify reads the installed rules, not the source tree's" {
	make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/opt/rb
	printf 'recipient\tstatus\tdiagnostic\nuser@example.org\t5.1.1\t550 5.1.1 User unknown\n' >"$BATS_TEST_TMPDIR/in.tsv"
	cd "$BATS_TEST_TMPDIR"
	REBOUNCE_SHARE= run env -u REBOUNCE_SHARE "$DEST/opt/rb/bin/bounce-classify" in.tsv
	assert_success
	assert_line --index 1 --partial $'userunknown\taddress\t1'
}

@test "make uninstall removes what install put there" {
	make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/opt/rb
	run make -s -C "$TOP" uninstall DESTDIR="$DEST" PREFIX=/opt/rb
	assert_success
	run find "$DEST" -type f
	assert_output ""
}
