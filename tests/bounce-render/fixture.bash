# Shared set-up for the bounce-render tests.
load ../helper
bats_require_minimum_version 1.5.0

CHECK="$BATS_TEST_DIRNAME/check.py"
RFIX="$FIXTURES/render"
COLS=(source recipient category reason suggestion matched name email token view_url language)

# The shipped templates need --from and --sending-domain.
render() {
	bounce-render --from 'Certificates <certs@example.org>' --sending-domain mail.example.org "$@"
}

# row FIELD... : one TSV line (fields given already escaped).
row() {
	local IFS=$'\t'
	printf '%s\n' "$*"
}

# stream FILE ROW...: a record stream with the standard columns.
stream() {
	local f=$1
	shift
	row "${COLS[@]}" >"$f"
	local r
	for r in "$@"; do
		printf '%s\n' "$r" >>"$f"
	done
}

# A typical record of each category, by recipient.
address_row() { row a.mbox:0 "${1:-jane@gmial.com}" address hostunknown "${2-jane@gmail.com}" 1 "${3-Jane Doe}" "${1:-jane@gmial.com}" "${4-TOK-1}" "${5-https://certs.example/v/1}" "${6-}"; }
blocked_row() { row a.mbox:9 "${1:-bob@corp.example}" blocked spamdetected '' 1 "${2-Bob}" "${1:-bob@corp.example}" "${3-TOK-2}" "${4-https://certs.example/v/2}" "${5-}"; }
