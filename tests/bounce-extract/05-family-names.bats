#!/usr/bin/env bats
# The mta column names the software family where a reliable marker says so: bounce-classify
# applies family-specific wording through it.

load ../helper

mta_of() {
	bounce-extract "$FIXTURES/extract/variants/$1" | cut -f9 | sed -n 2p
}

@test "SES receiving mail (inbound-smtp report) is receivingses, SES sending is amazonses" {
	run mta_of receivingses-01.eml
	assert_output receivingses
	run bash -c "bounce-extract '$FIXTURES'/extract/variants/amazonses-0*.eml | cut -f9 | sed 1d | sort -u"
	refute_output --partial receivingses
}

@test "a receivingses 'Mailbox does not exist' is classified by its family rule" {
	run bash -c "bounce-extract '$FIXTURES/extract/variants/receivingses-01.eml' | bounce-classify | cut -f12,16 | sed -n 2p"
	assert_output $'filtered\treceivingses:filtered'
}
