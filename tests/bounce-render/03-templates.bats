#!/usr/bin/env bats
# Templates: selection by category and language, fallbacks, checks before any output,
# records that lack a value, and the rejects file.

setup() {
	load fixture
	T="$BATS_TEST_TMPDIR/t"
	mkdir -p "$T"
	printf 'From: {{from}}\nTo: <{{suggestion}}>\nSubject: address {{token}}\n\nbase address {{name|friend}} {{view_url|}}\n' >"$T/address.eml"
	printf 'From: {{from}}\nTo: <{{recipient}}>\nSubject: blocked\n\nbase blocked {{token}}\n' >"$T/blocked.eml"
}

body_of() {
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
}

@test "language selection: exact tag, primary subtag, case and _ ignored, else the base template" {
	printf 'From: {{from}}\nTo: <{{recipient}}>\nSubject: blockiert\n\nDeutsch {{token}}\n' >"$T/blocked.de.eml"
	printf 'From: {{from}}\nTo: <{{recipient}}>\nSubject: bloqueado\n\nPortugu\xc3\xaas do Brasil {{token}}\n' >"$T/blocked.pt-br.eml"
	stream "$BATS_TEST_TMPDIR/in.tsv" \
		"$(blocked_row a@x.example A T1 https://c.example/1 de)" \
		"$(blocked_row b@x.example B T2 https://c.example/2 de-AT)" \
		"$(blocked_row c@x.example C T3 https://c.example/3 pt_BR)" \
		"$(blocked_row d@x.example D T4 https://c.example/4 fr)" \
		"$(blocked_row e@x.example E T5 https://c.example/5 '../../x')" \
		"$(blocked_row f@x.example F T6 https://c.example/6 '')"
	run -0 render -t "$T" "$BATS_TEST_TMPDIR/in.tsv"
	body_of
	assert_line "messages: 6"
	assert_line "Deutsch T1"
	assert_line "Deutsch T2"
	assert_line "Português do Brasil T3"
	assert_line "base blocked T4"
	assert_line "base blocked T5"
	assert_line "base blocked T6"
}

@test "a lang column works like language" {
	printf 'From: {{from}}\nTo: <{{recipient}}>\nSubject: blockiert\n\nDeutsch {{token}}\n' >"$T/blocked.de.eml"
	printf 'recipient\tcategory\tsuggestion\ttoken\tlang\nx@y.example\tblocked\t\tT9\tDE\n' >"$BATS_TEST_TMPDIR/in.tsv"
	run -0 render -t "$T" "$BATS_TEST_TMPDIR/in.tsv"
	body_of
	assert_line "Deutsch T9"
}

@test "the shipped German templates are chosen for language de" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com Jane TOK-1 https://c.example/1 de)"
	run -0 render "$BATS_TEST_TMPDIR/in.tsv"
	body_of
	assert_line "subject: Ihr Zertifikat: unsere E-Mail hat Sie nicht erreicht"
	assert_line "Ihr persönlicher Code: TOK-1"
}

@test "fallback text is used for an empty value" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com '')"
	run -0 render -t "$T" "$BATS_TEST_TMPDIR/in.tsv"
	body_of
	assert_line "base address friend https://certs.example/v/1"
}

@test "a record without a needed value is listed, counted and not rendered; exit 1" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com Jane '')" "$(blocked_row)"
	run -1 --separate-stderr render -t "$T" --stats "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:2: jane@gmial.com: no value for {{token}}; not rendered"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]:1}")" "bounce-render: records in: 2
bounce-render: rendered: 1
bounce-render: not actionable: 0
bounce-render: rejected: 1
bounce-render: malformed: 0"
	body_of
	assert_line "messages: 1"
}

@test "--rejects writes the input columns plus reject_reason" {
	stream "$BATS_TEST_TMPDIR/in.tsv" \
		"$(address_row jane@gmial.com '' 'Jane\tTab')" \
		"$(blocked_row)" \
		"$(address_row ann@gmial.com ann@gmail.com Ann TOK ftp://x)"
	run -1 render -t "$T" --rejects "$BATS_TEST_TMPDIR/rej.tsv" "$BATS_TEST_TMPDIR/in.tsv"
	run cat "$BATS_TEST_TMPDIR/rej.tsv"
	assert_line --index 0 "$(row "${COLS[@]}" reject_reason)"
	assert_line --index 1 "$(address_row jane@gmial.com '' 'Jane\tTab')	no value for {{suggestion}}"
	assert_line --index 2 "$(address_row ann@gmial.com ann@gmail.com Ann TOK ftp://x)	view_url is not an http:// or https:// URL: \"ftp://x\""
	assert_equal "${#lines[@]}" 3
}

@test "--rejects with nothing rejected writes the header only" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(blocked_row)"
	run -0 render -t "$T" --rejects "$BATS_TEST_TMPDIR/rej.tsv" "$BATS_TEST_TMPDIR/in.tsv"
	run cat "$BATS_TEST_TMPDIR/rej.tsv"
	assert_output "$(row "${COLS[@]}" reject_reason)"
}

@test "a placeholder naming no column and no option: exit 2 before any output" {
	printf 'From: {{from}}\nTo: <{{recipient}}>\nSubject: blocked\n\nHello\n{{tokn}}\n' >"$T/blocked.eml"
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)" "$(blocked_row)"
	run -2 --separate-stderr render -t "$T" "$BATS_TEST_TMPDIR/in.tsv"
	assert_output ""
	assert_equal "${stderr_lines[0]}" "bounce-render: $T/blocked.eml:6: {{tokn}}: no such column in the input, and not an option"
}

@test "an option placeholder without its option: exit 2 naming the option" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(blocked_row)"
	run -2 --separate-stderr bounce-render --from certs@example.org "$BATS_TEST_TMPDIR/in.tsv"
	assert_output ""
	assert_equal "${stderr_lines[0]}" "bounce-render: $TOP/share/templates/blocked.eml:4: {{sending_domain}}: no value: give --sending-domain"
}

@test "template errors: exit 2 with file and line" {
	while IFS='|' read -r text message; do
		printf "$text" >"$T/address.eml"
		run -2 --separate-stderr render -t "$T" </dev/null
		assert_equal "${stderr_lines[0]}" "bounce-render: $T/address.eml${message}"
	done <<-'T'
	To: <{{suggestion}}>\nSubject: x\n\n{{token\n|:4: unterminated placeholder: no "}}" after "{{"
	To: <{{suggestion}}>\nSubject: x\n\n{{Token}}\n|:4: bad placeholder "{{Token}}": a name is lower-case letters, digits and _
	To: <{{suggestion}}>\nSubject: x\n|:2: no empty line between the headers and the body
	To: <{{suggestion}}>\nDate: today\nSubject: x\n\nbody\n|:2: Date is written by bounce-render; remove it from the template
	To: <{{suggestion}}>\nContent-Type: text/html\nSubject: x\n\nbody\n|:2: Content-Type is written by bounce-render; remove it from the template
	Subject: x\n\nbody\n|: no To header
	To: <{{suggestion}}>\n\nbody\n|: no Subject header
	T
}

@test "a missing template is exit 2" {
	rm "$T/blocked.eml"
	run -2 --separate-stderr render -t "$T" </dev/null
	assert_equal "${stderr_lines[0]}" "bounce-render: $T/blocked.eml: cannot open template: No such file or directory"
}

@test "a template without From takes --from" {
	printf 'To: <{{recipient}}>\nSubject: blocked\n\nbody\n' >"$T/blocked.eml"
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(blocked_row)"
	run -0 render -t "$T" "$BATS_TEST_TMPDIR/in.tsv"
	body_of
	assert_line "from: Certificates <certs@example.org>"
	printf 'To: <{{recipient}}>\nSubject: blocked\n\nbody\n' >"$T/blocked.eml"
	run -2 --separate-stderr bounce-render -t "$T" "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $T/blocked.eml: no From header; add one or give --from"
}

@test "a bad --from is a usage error: exit 2, usage on stderr" {
	run -2 --separate-stderr bounce-render --from 'not an address' </dev/null
	assert_equal "${stderr_lines[0]}" "bounce-render: --from: not a plausible address: \"not an address\""
	assert_equal "${stderr_lines[1]:0:20}" "usage: bounce-render"
}

@test "a stream without a category column is exit 2" {
	printf 'recipient\ttoken\nx@y.example\tT\n' >"$BATS_TEST_TMPDIR/in.tsv"
	run -2 --separate-stderr render -t "$T" "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv: no category column (run bounce-classify first)"
}

@test "the examples' templates are the shipped ones" {
	for f in "$TOP"/share/templates/*.eml; do
		cmp "$f" "$TOP/examples/templates/${f##*/}"
	done
}
