# Shared set-up for the hostile-input tests: programs meet input built to hurt them and must
# answer with a clear message, the right exit status, bounded memory and the records around
# the bad one.  Big inputs are generated at test time and streamed, never stored in the tree.
# Variables set here are used by the test files, $output and $stderr come from bats.
# shellcheck disable=SC2034,SC2154
load ../helper

HOSTILE_DIR="$TOP/tests/hostile"
HOSTILE_FIXTURES="$FIXTURES/hostile"
# Memory a streaming program may use (KB), and the size of the "1 GB" inputs (MB).
MEM_LIMIT_KB="${HOSTILE_MEM_KB:-524288}"
BIG_MB="${HOSTILE_BIG_MB:-1024}"

# Known bugs and deviations from DESIGN.md, reported to their owners: the test is skipped
# with the reason shown until it is fixed; HOSTILE_OPEN_BUGS=1 runs it anyway.
open_bug() {
	[[ -n "${HOSTILE_OPEN_BUGS:-}" ]] || skip "open bug: $*"
}

need_prog() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not built in this tree yet"
}

# bounded CMD [ARG...]: run CMD (stdin and stdout passed through) under the memory limit;
# its peak RSS in KB goes to $BATS_TEST_TMPDIR/rss.
bounded() {
	"$HOSTILE_DIR/peak-rss" "$BATS_TEST_TMPDIR/rss" "$MEM_LIMIT_KB" "$@"
}

assert_bounded_memory() {
	local kb limit
	read -r kb limit <"$BATS_TEST_TMPDIR/rss"
	if ((kb >= limit)); then
		fail "peak RSS ${kb} KB, over the ${limit} KB limit"
	fi
}

# A bounce every program recognises (RFC 3464), for recipient $1 and message id $2.
dsn_bounce() {
	cat <<MSG
From MAILER-DAEMON Sat Nov 28 23:04:11 2026
From: Mail Delivery System <MAILER-DAEMON@mx.certs.example>
To: certs@certs.example
Subject: Undelivered Mail Returned to Sender
Date: Sat, 28 Nov 2026 23:04:11 +0000
Message-ID: <bounce-$2@mx.certs.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B$2"

--B$2
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B$2
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.certs.example

Final-Recipient: rfc822; $1
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <$1>: Recipient address rejected: User unknown

--B$2
Content-Type: text/rfc822-headers

From: certs@certs.example
To: $1
Subject: Your certificate
Message-ID: <cert-$2@certs.example>

--B$2--

MSG
}

# Stream N MB of the byte $2 (default 'x') without a line end.
big_run() {
	head -c "$(($1 * 1024 * 1024))" /dev/zero | tr '\0' "${2:-x}"
}

# The value of counter NAME (snake_case) in the --stats output held in $stderr.
stat_of() {
	printf '%s\n' "$stderr" | "$TOP/tests/accounting/stats-kv" | awk -v k="$1" '$1 == k { print $2; f = 1 } END { exit !f }'
}

# Column $1 of the TSV records in $output (header line skipped), one value a line.
column_of() {
	printf '%s\n' "$output" | awk -F '\t' -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) n = i; next } n { print $n }'
}
