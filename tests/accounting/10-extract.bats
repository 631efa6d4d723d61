#!/usr/bin/env bats
# bounce-extract --stats: every message read is accounted for exactly once, and the
# records counted are the records written.
load accounting

setup() {
	need_prog bounce-extract
}

# Run bounce-extract --stats on the arguments and check the books.
check_extract() {
	run -0 --separate-stderr bounce-extract --stats "$@"
	assert_stat messages '$bounces + $unparsable + $feedback + $autoreplies + $non_bounces'
	assert_stat records "$(records_out)"
	(($(stat_of records) >= $(stat_of bounces) + $(stat_of unparsable))) ||
		fail "fewer records than bounce messages: $stderr"
}

@test "examples/archive.mbox: messages = bounces + unparsable + feedback + autoreplies + non-bounces" {
	need_examples
	check_extract "$EXAMPLES/archive.mbox"
	assert_stat messages "$(grep -c '^From ' "$EXAMPLES/archive.mbox")"
}

@test "examples/archive.mbox from stdin and gzip'd: the same books" {
	need_examples
	check_extract - <"$EXAMPLES/archive.mbox"
	local plain=$stderr
	gzip -n -c "$EXAMPLES/archive.mbox" >"$BATS_TEST_TMPDIR/archive.mbox.gz"
	check_extract "$BATS_TEST_TMPDIR/archive.mbox.gz"
	assert_equal "$stderr" "$plain"
}

# At least one message per file (a file that starts with "From " is an mbox and may hold more).
assert_one_per_file() {
	(($(stat_of messages) >= $#)) || fail "$# files but only $(stat_of messages) messages"
}

@test "corpus, CRLF messages: every message accounted for" {
	need_corpus
	check_extract "$CORPUS"/dos/*.eml
	assert_one_per_file "$CORPUS"/dos/*.eml
}

@test "corpus, lone-CR messages: every message accounted for" {
	need_corpus
	check_extract "$CORPUS"/mac/*.eml
	assert_one_per_file "$CORPUS"/mac/*.eml
}

@test "corpus, messages that are not bounces: accounted for" {
	need_corpus
	check_extract "$CORPUS"/not/*
}

@test "corpus mbox: accounted for" {
	need_corpus
	check_extract "$CORPUS"/mbox/*
}

@test "hostile archives: a cut gzip stream still adds up" {
	gzip -n -c "$FIXTURES/hostile/unclosed-boundary.mbox" | head -c 300 >"$BATS_TEST_TMPDIR/cut.mbox.gz"
	run -1 --separate-stderr bounce-extract --stats "$BATS_TEST_TMPDIR/cut.mbox.gz" "$FIXTURES"/hostile/*.mbox
	assert_stat messages '$bounces + $unparsable + $feedback + $autoreplies + $non_bounces'
	assert_stat records "$(records_out)"
}
