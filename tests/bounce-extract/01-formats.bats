#!/usr/bin/env bats
# One small notice per format family: the record it must give, as
# "recipient action status smtp_code" plus the original Message-ID.
bats_require_minimum_version 1.5.0
load ../helper

F="$FIXTURES/extract"

# field NAME: the value of a column of the first record in $output
field() {
	printf '%s\n' "$output" | awk -F'\t' -v name="$1" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		NR == 2 { print $c; exit }'
}

check() { # file recipient action status smtp_code message_id
	run -0 bounce-extract "$F/$1"
	assert_equal "$(field recipient)" "$2"
	assert_equal "$(field action)" "$3"
	assert_equal "$(field status)" "$4"
	assert_equal "$(field smtp_code)" "$5"
	assert_equal "$(field message_id)" "$6"
}

@test "header line names the columns in order" {
	run -0 bounce-extract "$F/nonbounce.eml"
	assert_output "$(printf 'source\tdate\trecipient\taction\tstatus\tsmtp_code\tremote_mta\tdiagnostic\tmta\tmessage_id\tsubject')"
}

@test "postfix RFC 3464 report" {
	check postfix.eml jane.doe@gmial.com failed 5.1.2 550 "<cert-8812@certs.example>"
	assert_equal "$(field date)" 2026-11-28T23:04:11Z
	assert_equal "$(field remote_mta)" mx.gmial.com
	assert_equal "$(field diagnostic)" "550 5.1.2 Host unknown"
	assert_equal "$(field subject)" "Your certificate"
	assert_equal "$(field source)" "$F/postfix.eml"
}
@test "sendmail plain text" { check sendmail.eml bob@example.com failed 5.1.1 550 "<badge-1@certs.example>"; }
@test "exim with X-Failed-Recipients" { check exim.eml carol@example.com failed 5.1.1 550 "<c-3@certs.example>"; }
@test "qmail: no status code in the text leaves status empty" { check qmail.eml dave@example.com failed "" 550 "<q-4@certs.example>"; }
@test "exchange 2003" {
	check exchange.eml erin@example.jp failed "" "" ""
	assert_equal "$(field mta)" exchange2003
}
@test "gmail with CRLF line ends" { check gmail.eml frank@example.jp failed 5.1.1 550 "<g-5@certs.example>"; }
@test "base64 body" { check base64.eml judy@example.org failed 5.2.2 550 ""; }
@test "ISO-2022-JP body and RFC 2047 subject" {
	check iso2022jp.eml kenji@example.ne.jp failed "" "" "<jp-9@certs.example>"
	assert_equal "$(field subject)" "猫ちゃん"
}
@test "feedback report" {
	check feedback.eml grace@isp.example feedback "" "" "<fb-6@certs.example>"
	assert_equal "$(field diagnostic)" abuse
}
@test "auto-reply: the recipient is its sender" {
	check autoreply.eml heidi@example.net autoreply "" "" "<a-7@certs.example>"
}
@test "a bounce without a recipient is one record with recipient empty" {
	run -0 bounce-extract "$F/norcpt.eml"
	assert_equal "${#lines[@]}" 2
	assert_equal "$(field recipient)" ""
	assert_equal "$(field action)" failed
}
@test "RFC 3464 with several recipients: delivered ones are left out" {
	run -0 bounce-extract "$F/rfc3464-multi.eml"
	assert_equal "${#lines[@]}" 3
	assert_line -n 1 --partial "$(printf 'one@example.com\tfailed\t5.1.1\t550')"
	assert_line -n 2 --partial "$(printf 'two@example.com\tdelayed\t4.2.2\t452')"
	refute_output --partial three@example.com
}
@test "a non-bounce gives no record" {
	run -0 bounce-extract "$F/nonbounce.eml"
	assert_equal "${#lines[@]}" 1
}
@test "stdin is read when no file is given" {
	run -0 bash -c 'bounce-extract < "$1"' _ "$F/postfix.eml"
	assert_line -n 1 --partial "$(printf 'stdin\t2026-11-28T23:04:11Z\tjane.doe@gmial.com')"
}
