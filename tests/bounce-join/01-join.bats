#!/usr/bin/env bats
# The join itself: columns appended, matching rules, several rows, -v, -k, -f, collisions.

load fixture

@test "CSV columns and matched are appended; unmatched records pass through" {
	run -0 --separate-stderr bounce-join -c "$JOIN_FIX/recipients.csv" "$JOIN_FIX/bounces.tsv"
	assert_equal "${lines[0]}" "$(printf 'source\tdate\trecipient\tstatus\tdiagnostic\tsuggestion\tname\te_mail_address\ttoken\tview_url\tmatched')"
	assert_equal "${lines[1]}" "$(printf 'a.mbox:0\t2026-11-28T23:04:11Z\tjane.doe@gmial.com\t5.1.2\t550 Host unknown\tjane.doe@gmail.com\t\t\t\t\t0')"
	assert_equal "${lines[2]}" "$(printf 'a.mbox:900\t2026-11-28T23:05:00Z\tbob@example.org\t5.7.1\tblocked\\there\t\tBob\tbob@example.org\ttok-2\thttps://certs.example/v/2?a=1&b="q"\t1')"
	assert_equal "${lines[3]}" "$(printf 'a.mbox:1800\t2026-11-28T23:06:00Z\tnobody@example.net\t5.1.1\tuser unknown\t\t\t\t\t\t0')"
	assert_equal "${#lines[@]}" 6
	assert_equal "$stderr" ""
}

@test "one recipient with several rows gives one record per row, in file order" {
	run -0 bash -c "bounce-join -c '$JOIN_FIX/recipients.csv' '$JOIN_FIX/bounces.tsv' | grep -F 'mailbox full' | cut -f 9,11"
	assert_output "$(printf 'tok-1\t1\ntok-3\t1')"
}

@test "matching ignores case and surrounding white space" {
	check_csv "upper case, spaces in the list" 'email,t\n"  A@X.ORG  ",1\n' \
		'recipient\tid\temail\tt\tmatched\na@x.org\t1\t  A@X.ORG  \t1\t1\nb@x.org\t2\t\t\t0'
	run -0 bash -c "printf 'recipient\n  B@X.Org \n' | bounce-join -c <(printf 'email,t\nb@x.org,2\n') | cut -f 3,4"
	assert_output "$(printf 't\tmatched\n2\t1')"
}

@test "-v keeps only the unmatched records, with the same columns" {
	run -0 bounce-join -v -c "$JOIN_FIX/recipients.csv" "$JOIN_FIX/bounces.tsv"
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[0]}" "$(printf 'source\tdate\trecipient\tstatus\tdiagnostic\tsuggestion\tname\te_mail_address\ttoken\tview_url\tmatched')"
	assert_equal "$(cut -f 3,11 <<<"$output")" "$(printf 'recipient\tmatched\njane.doe@gmial.com\t0\nnobody@example.net\t0')"
}

@test "-f joins on another record column (suggestion)" {
	run -0 bash -c "bounce-join -f suggestion -c '$JOIN_FIX/recipients.csv' '$JOIN_FIX/bounces.tsv' | cut -f 3,9,11"
	assert_output "$(printf 'recipient\ttoken\tmatched\njane.doe@gmial.com\ttok-1\t1\njane.doe@gmial.com\ttok-3\t1\nbob@example.org\t\t0\nnobody@example.net\t\t0\nJane.Doe@Gmail.com\t\t0')"
}

@test "-k names the e-mail column, in any spelling of its header" {
	local csv='email,Work Address,t\nnot@used,b@x.org,1\n'
	check_csv "-k snake_case" "$csv" \
		'recipient\tid\temail\twork_address\tt\tmatched\na@x.org\t1\t\t\t\t0\nb@x.org\t2\tnot@used\tb@x.org\t1\t1' -k work_address
	check_csv "-k as in the header" "$csv" \
		'recipient\tid\temail\twork_address\tt\tmatched\na@x.org\t1\t\t\t\t0\nb@x.org\t2\tnot@used\tb@x.org\t1\t1' -k "Work Address"
}

@test "the e-mail column is found by its header name" {
	local h
	for h in email Email E-Mail "E-mail Address" "Email Address" mail; do
		check_csv "header $h" "n,$h\nN,a@x.org\n" \
			"recipient\tid\tn\t$(printf '%s' "$h" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\{1,\}/_/g')\tmatched\na@x.org\t1\tN\ta@x.org\t1\nb@x.org\t2\t\t\t0"
	done
}

@test "a value with TAB, CR or LF from the CSV is escaped, never written raw" {
	check_csv "escapes" 'email,note\na@x.org,"tab\there\r\nnew\\\\line"\n' \
		'recipient\tid\temail\tnote\tmatched\na@x.org\t1\ta@x.org\ttab\\there\\r\\nnew\\\\\\\\line\t1\nb@x.org\t2\t\t\t0'
}

@test "a record value with an escaped tab survives the join" {
	run -0 bash -c "bounce-join -c '$JOIN_FIX/recipients.csv' '$JOIN_FIX/bounces.tsv' | cut -f 5 | sed -n 3p"
	assert_output 'blocked\there'
}

@test "a CSV column named like a record column replaces it in place; a second run changes nothing" {
	local csv="$BATS_TEST_TMPDIR/c.csv"
	printf 'email,id,token\na@x.org,A1,t1\n' > "$csv"
	run -0 bash -c "printf 'recipient\tid\na@x.org\t1\nb@x.org\t2\n' | bounce-join -c '$csv'"
	assert_output "$(printf 'recipient\tid\temail\ttoken\tmatched\na@x.org\tA1\ta@x.org\tt1\t1\nb@x.org\t2\t\t\t0')"
	local once="$output"
	run -0 bash -c "printf '%s\n' '$once' | bounce-join -c '$csv'"
	assert_output "$once"
}

@test "the record's own join column is never replaced by the list's spelling" {
	check_csv "recipient column in the list" 'recipient,t\nA@X.ORG,1\n' \
		'recipient\tid\tt\tmatched\na@x.org\t1\t1\t1\nb@x.org\t2\t\t0'
}

@test "records with an empty address never match a row without one" {
	run -0 bash -c "printf 'recipient\tid\n\t1\n' | bounce-join -c <(printf 'email,t\n,x\n') | cut -f 5"
	assert_output "$(printf 'matched\n0')"
}

@test "several inputs give one header; - is stdin" {
	run -0 bash -c "stream() { printf 'recipient\tid\na@x.org\t1\n'; }; stream | bounce-join -c '$JOIN_FIX/recipients.csv' - <(stream) | cut -f 1,7"
	assert_output "$(printf 'recipient\tmatched\na@x.org\t0\na@x.org\t0')"
}

@test "--stats counts the list and the records" {
	run -0 --separate-stderr bounce-join --stats -c "$JOIN_FIX/recipients.csv" "$JOIN_FIX/bounces.tsv"
	assert_equal "$stderr" "$(printf '%s\n' \
		'bounce-join: csv rows loaded: 4' \
		'bounce-join: csv rows skipped: 0' \
		'bounce-join: csv rows without address: 0' \
		'bounce-join: records in: 4' \
		'bounce-join: matched: 2' \
		'bounce-join: unmatched: 2' \
		'bounce-join: records out: 5' \
		'bounce-join: malformed: 0')"
}

@test "an empty stream gives no output" {
	run -0 bounce-join -c "$JOIN_FIX/recipients.csv" /dev/null
	assert_output ""
}
