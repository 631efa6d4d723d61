#!/usr/bin/env bats
# Bad lists, bad options, and the usual -h / --version.

load fixture

# csv_file TEXT: the list at $CSV (printf escapes).
csv_file() {
	CSV="$BATS_TEST_TMPDIR/recipients.csv"
	printf '%b' "$1" > "$CSV"
}

BAD='email,n,t\na@x.org,A,1\nb@x.org,B\nc@x.org,"C\nmore",3,4\nd@x.org,D,4\n'

@test "a ragged row: file and line named, the list refused, exit 2, no output" {
	csv_file 'email,n,t,u,v\na@x.org,1,2,3,4\nb@x.org,1,2\n'
	cd "$BATS_TEST_TMPDIR"
	run -2 --separate-stderr bash -c "printf 'recipient\na@x.org\n' | bounce-join -c recipients.csv"
	assert_equal "${stderr_lines[0]}" "bounce-join: recipients.csv:3: row has 3 fields, header has 5"
	assert_equal "${stderr_lines[1]}" "bounce-join: recipients.csv: 1 bad row; nothing joined (--lenient skips them)"
	assert_output ""
}

@test "every bad row is reported, a multi-line one with its lines" {
	CSV="$BATS_TEST_TMPDIR/r.csv"
	run -2 --separate-stderr join_csv "$BAD"
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV:3: row has 2 fields, header has 3"
	assert_equal "${stderr_lines[1]}" "bounce-join: $CSV:4: row has 4 fields, header has 3 (the row spans lines 4-5)"
	assert_equal "${#stderr_lines[@]}" 3
	assert_output ""
}

@test "a quote still open at the end of the file: exit 2, no output" {
	csv_file 'email,n\na@x.org,1\nb@x.org,"2\nc@x.org,3\n'
	run -2 --separate-stderr bash -c "printf 'recipient\na@x.org\n' | bounce-join -c '$CSV'"
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV:3: quote not closed by the end of the file"
	assert_output ""
}

@test "a value over 1 MiB and a row over 4 MiB are bad rows; --lenient skips them" {
	CSV="$BATS_TEST_TMPDIR/big.csv"
	{
		printf 'email,t\na@x.org,A\nbig@x.org,'
		head -c 1048577 /dev/zero | tr '\0' v
		printf '\nlong@x.org,'
		head -c 5000000 /dev/zero | tr '\0' w
		printf '\nc@x.org,C\n'
	} >"$CSV"
	run -2 --separate-stderr bash -c "printf 'recipient\na@x.org\nc@x.org\nbig@x.org\n' | bounce-join -c '$CSV'"
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV:3: value longer than 1048576 bytes"
	assert_equal "${stderr_lines[1]}" "bounce-join: $CSV:4: row longer than 4194304 bytes"
	assert_output ""
	run -1 --separate-stderr bash -c "printf 'recipient\na@x.org\nc@x.org\nbig@x.org\n' | bounce-join --lenient -c '$CSV'"
	assert_equal "${stderr_lines[2]}" "bounce-join: $CSV: 2 bad rows skipped"
	assert_output "$(printf 'recipient\temail\tt\tmatched\na@x.org\ta@x.org\tA\t1\nc@x.org\tc@x.org\tC\t1\nbig@x.org\t\t\t0')"
}

@test "a refused list: the run could not be done, exit 2; --stats counts the list, no record" {
	CSV="$BATS_TEST_TMPDIR/r.csv"
	run -2 --separate-stderr join_csv "$BAD" --stats
	assert_output ""
	assert_equal "${stderr_lines[2]}" "bounce-join: $CSV: 2 bad rows; nothing joined (--lenient skips them)"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]:3}")" "$(printf '%s\n' \
		'bounce-join: csv rows loaded: 1' \
		'bounce-join: csv rows skipped: 2' \
		'bounce-join: csv rows without address: 0' \
		'bounce-join: records in: 0' \
		'bounce-join: matched: 0' \
		'bounce-join: unmatched: 0' \
		'bounce-join: records out: 0' \
		'bounce-join: malformed: 0')"
}

@test "--lenient skips bad rows, joins the rest and exits 1" {
	CSV="$BATS_TEST_TMPDIR/r.csv"
	run -1 --separate-stderr join_csv "$BAD" --lenient --stats
	assert_output "$(printf 'recipient\tid\temail\tn\tt\tmatched\na@x.org\t1\ta@x.org\tA\t1\t1\nb@x.org\t2\t\t\t\t0')"
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV:3: row has 2 fields, header has 3"
	assert_equal "${stderr_lines[2]}" "bounce-join: $CSV: 2 bad rows skipped"
	assert_equal "${stderr_lines[3]}" "bounce-join: csv rows loaded: 2"
	assert_equal "${stderr_lines[4]}" "bounce-join: csv rows skipped: 2"
}

@test "--lenient reads on after a quote left open" {
	csv_file 'email,n\nx@x.org,"1\nb@x.org,2\n'
	run -1 --separate-stderr bash -c "printf 'recipient\nb@x.org\n' | bounce-join --lenient -c '$CSV'"
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV:2: quote not closed by the end of the file"
	assert_output "$(printf 'recipient\temail\tn\tmatched\nb@x.org\tb@x.org\t2\t1')"
}

@test "a missing list: exit 2" {
	run -2 --separate-stderr bounce-join -c "$BATS_TEST_TMPDIR/none.csv" /dev/null
	assert_equal "${stderr_lines[0]}" "bounce-join: $BATS_TEST_TMPDIR/none.csv: cannot open: No such file or directory"
	assert_output ""
}

@test "an unreadable list: exit 2" {
	run -2 --separate-stderr bounce-join -c "$BATS_TEST_TMPDIR" /dev/null
	assert_equal "${stderr_lines[0]}" "bounce-join: $BATS_TEST_TMPDIR: read error: Is a directory"
}

@test "no e-mail column: exit 2" {
	csv_file 'name,token\nJane,1\n'
	run -2 --separate-stderr bounce-join -c "$CSV" /dev/null
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV:1: no e-mail column (a header such as \"email\"); name it with -k"
}

@test "-k names a column the list lacks: exit 2" {
	csv_file 'email,token\na@x.org,1\n'
	run -2 --separate-stderr bounce-join -k "Work Mail" -c "$CSV" /dev/null
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV:1: no column \"work_mail\" for the addresses (-k)"
}

@test "an empty list and a UTF-16 list: exit 2" {
	csv_file ''
	run -2 --separate-stderr bounce-join -c "$CSV" /dev/null
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV: no header line"
	csv_file '\xff\xfee\x00m\x00'
	run -2 --separate-stderr bounce-join -c "$CSV" /dev/null
	assert_equal "${stderr_lines[0]}" "bounce-join: $CSV: UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"
}

@test "-f names a column the stream lacks: exit 2" {
	run -2 --separate-stderr bounce-join -f suggestion -c "$JOIN_FIX/recipients.csv" <<<"$(stream)"
	assert_equal "${stderr_lines[0]}" 'bounce-join: stdin:1: no column "suggestion" to join on'
}

@test "a bad record is reported and skipped, the rest joined: exit 1" {
	run -1 --separate-stderr bash -c "printf 'recipient\tid\na@x.org\n' | bounce-join -c '$JOIN_FIX/recipients.csv'"
	assert_equal "${stderr_lines[0]}" "bounce-join: stdin:2: record has 1 fields, header has 2; skipped"
	assert_output "$(printf 'recipient\tid\tname\te_mail_address\ttoken\tview_url\tmatched')"
}

@test "usage errors: exit 2 with usage on stderr" {
	local args
	for args in "" "-c" "-c x.csv -d ab" "-c x.csv -d '\"'" "-c x.csv --bogus" "-c - -" "-c -"; do
		run -2 --separate-stderr bash -c "bounce-join $args </dev/null"
		assert_output ""
		assert_regex "$stderr" "usage: bounce-join -c FILE"
	done
	run -2 --separate-stderr bounce-join
	assert_equal "${stderr_lines[0]}" "bounce-join: the recipient list is missing: -c FILE"
}

@test "-h prints usage on stdout, --version the version" {
	run -0 --separate-stderr bounce-join -h
	assert_line --index 0 "usage: bounce-join -c FILE [-v] [-d CHAR] [-f COLUMN] [-k NAME] [--lenient] [--stats] [FILE ...]"
	assert_equal "$stderr" ""
	assert_common_interface bounce-join
}
