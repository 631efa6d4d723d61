#!/usr/bin/env bats
# Hostile values: nothing from a record can add a header, split a message or change a
# recipient; bad URLs and addresses are refused with a reason.

setup() {
	load fixture
}

# parsed ROW...: render the rows, parse the mbox, leave the parser's view in $output.
parsed() {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$@"
	render "$BATS_TEST_TMPDIR/in.tsv" >"$BATS_TEST_TMPDIR/out.mbox" 2>"$BATS_TEST_TMPDIR/err" || true
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
}

@test "a name with CR LF Bcc: adds no header (TSV-escaped \\r\\n)" {
	parsed "$(address_row jane@gmial.com jane@gmail.com 'Jane\r\nBcc: evil@x.example')"
	assert_line "messages: 1"
	assert_line "headers: From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Content-Transfer-Encoding"
	assert_line "to-addr: jane@gmail.com"
	assert_line "to-name: Jane Bcc: evil@x.example"
	refute_line --partial "bcc"
}

@test "a name with LF and an empty line cannot start the body early" {
	parsed "$(address_row jane@gmial.com jane@gmail.com 'Jane\n\nInjected body')"
	assert_line "messages: 1"
	assert_line "to-name: Jane Injected body"
	assert_line "Hello Jane"
	assert_line "Injected body,"
}

@test "a name cannot add a recipient: commas and angle brackets stay in the name" {
	parsed "$(address_row jane@gmial.com jane@gmail.com 'Eve <eve@x.example>, mallory@x.example')"
	assert_line "to-addr: jane@gmail.com"
	refute_line "to-addr: eve@x.example"
	refute_line "to-addr: mallory@x.example"
	[ "$(grep -c '^to-addr:' <<<"$output")" -eq 1 ]
}

@test "a token with a newline is body text, not a new header or message" {
	parsed "$(address_row jane@gmial.com jane@gmail.com Jane 'TOK\nFrom evil@x.example Mon Jan  1 00:00:00 2024\nSubject: x')"
	assert_line "messages: 1"
	assert_line "Your personal token: TOK"
	assert_line "From evil@x.example Mon Jan  1 00:00:00 2024"
}

@test "non-ASCII names and subjects round-trip" {
	cat >"$BATS_TEST_TMPDIR/address.eml" <<-'T'
	From: {{from}}
	To: {{name}} <{{suggestion}}>
	Subject: Zertifikat für {{name}} – 証明書 {{token}}

	{{token}} {{view_url}}
	T
	cp "$BATS_TEST_TMPDIR/address.eml" "$BATS_TEST_TMPDIR/blocked.eml"
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com 'Zoë Ångström-Łukasiewicz, née 山田')"
	run -0 render -t "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/in.tsv"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "to-name: Zoë Ångström-Łukasiewicz, née 山田"
	assert_line "subject: Zertifikat für Zoë Ångström-Łukasiewicz, née 山田 – 証明書 TOK-1"
}

@test "a long non-ASCII subject is split into encoded words of at most 75 characters" {
	name=$(printf 'Ünïcödé %.0s' {1..20})
	parsed "$(address_row jane@gmial.com jane@gmail.com "$name")"
	assert_line "to-name: ${name% }"
	words=$(grep -o '=?UTF-8?[BQ]?[^?]*?=' "$BATS_TEST_TMPDIR/out.mbox")
	[ -n "$words" ]
	refute [ "$(awk 'length > 75' <<<"$words")" ]
}

@test "invalid UTF-8 in a value becomes U+FFFD, never raw bytes" {
	parsed "$(address_row jane@gmial.com jane@gmail.com $'Ren\xe9')"
	assert_line "to-name: Ren�"
}

@test "text that looks like an encoded word is not decoded into something else" {
	parsed "$(address_row jane@gmial.com jane@gmail.com '=?utf-8?q?Bcc=3A_x?=')"
	assert_line "to-name: =?utf-8?q?Bcc=3A_x?="
}

@test "a view URL that is not http or https is refused" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com Jane TOK 'javascript:alert(1)')"
	run -1 --separate-stderr render --rejects "$BATS_TEST_TMPDIR/rej.tsv" "$BATS_TEST_TMPDIR/in.tsv"
	assert_output ""
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:2: jane@gmial.com: view_url is not an http:// or https:// URL: \"javascript:alert(1)\"; not rendered"
}

@test "URL checks: table" {
	while IFS='|' read -r url verdict; do
		stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com Jane TOK "$url")"
		if [ "$verdict" = ok ]; then
			run -0 render "$BATS_TEST_TMPDIR/in.tsv"
		else
			run -1 render "$BATS_TEST_TMPDIR/in.tsv"
		fi
	done <<-'T'
	https://certs.example/v/1?t=a&b=c|ok
	HTTP://CERTS.EXAMPLE/|ok
	http://certs.example:8080/x|ok
	ftp://certs.example/x|refused
	file:///etc/passwd|refused
	data:text/html,<b>x</b>|refused
	//certs.example/x|refused
	https:///x|refused
	https://certs.example/a b|refused
	T
}

@test "a suggestion that is not a plausible address is refused for To" {
	while IFS='|' read -r addr; do
		stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com "$addr")"
		run -1 --separate-stderr render "$BATS_TEST_TMPDIR/in.tsv"
		assert_output ""
		assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:2: jane@gmial.com: To: not a plausible address: \"Jane Doe <$addr>\"; not rendered"
	done <<-'T'
	no-at-sign
	two@at@x.example
	with space@x.example
	a@x.example, b@x.example
	"quoted"@x.example
	T
}

@test "a recipient with a control character is shown safely in the message" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row 'ann\r@gmial.com' '')"
	run -1 --separate-stderr render "$BATS_TEST_TMPDIR/in.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:2: ann?@gmial.com: no value for {{suggestion}}; not rendered"
}

@test "a subject value with CR LF and a header stays in the Subject" {
	printf 'From: {{from}}\nTo: <{{suggestion}}>\nSubject: Re: {{subject}}\n\n{{token}}\n' >"$BATS_TEST_TMPDIR/address.eml"
	cp "$BATS_TEST_TMPDIR/address.eml" "$BATS_TEST_TMPDIR/blocked.eml"
	COLS+=(subject)
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row jane@gmial.com jane@gmail.com Jane TOK https://c.example/ '')"$'\t''Hi\r\nBcc: evil@x.example\r\n\r\nbody'
	run -0 render -t "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/in.tsv"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "subject: Re: Hi Bcc: evil@x.example body"
	assert_line "headers: From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Content-Transfer-Encoding"
}

@test "without --sending-domain the Message-ID takes the From domain" {
	printf 'From: {{from}}\nTo: <{{suggestion}}>\nSubject: x\n\n{{token}}\n' >"$BATS_TEST_TMPDIR/address.eml"
	cp "$BATS_TEST_TMPDIR/address.eml" "$BATS_TEST_TMPDIR/blocked.eml"
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(address_row)"
	run -0 bounce-render --from office@example.org -t "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/in.tsv"
	assert_line --regexp '^Message-ID: <[0-9.]+[0-9a-f]{8}@example\.org>$'
}
