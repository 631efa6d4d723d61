#!/usr/bin/env bats
# Regression tests, each named after the bug it pins.

load ../helper

@test "empty-maildir-after-an-archive: the archive's records still come out, status 0" {
	mkdir -p "$BATS_TEST_TMPDIR/Maildir/cur" "$BATS_TEST_TMPDIR/Maildir/new" "$BATS_TEST_TMPDIR/Maildir/tmp"
	gzip -c "$FIXTURES/extract/postfix.eml" >"$BATS_TEST_TMPDIR/postfix.eml.gz"
	run -0 --separate-stderr bounce-extract "$BATS_TEST_TMPDIR/postfix.eml.gz" "$BATS_TEST_TMPDIR/Maildir"
	want=$(bounce-extract "$FIXTURES/extract/postfix.eml" | wc -l)
	assert_equal "${#lines[@]}" "$want"
	assert_equal "$stderr" ""
}
