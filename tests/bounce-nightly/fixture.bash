# Shared by the bounce-nightly tests: a scratch archive and output directory per test, the
# pipeline's programs (tests skip until they are all built), and stand-ins that fail on purpose.
NF="$FIXTURES/nightly"

need_pipeline() {
	local p
	for p in bounce-extract bounce-classify bounce-join bounce-render bounce-summary; do
		command -v "$p" >/dev/null 2>&1 || skip "$p is not built yet"
	done
}

setup_run() {
	need_pipeline
	OUT="$BATS_TEST_TMPDIR/out"
	ARCH="$BATS_TEST_TMPDIR/archive.mbox"
	cp "$NF/night1.mbox" "$ARCH"
}

nightly() {
	bounce-nightly -q -c "$NF/recipients.csv" -o "$OUT" -t "$NF/templates" \
		--from certs@certs.example --sending-domain certs.example "$@"
}

# Number of emails delivered, and to whom (sorted).
mails() {
	find "$OUT/maildir/new" -type f | wc -l
}
mailed_to() {
	find "$OUT/maildir/new" -type f -exec grep -h '^To:' {} + | sort
}

# The recipients of the newest run's records.
last_run_recipients() {
	local d last=""
	for d in "$OUT"/runs/*; do last=$d; done
	awk -F '\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "recipient") c = i; next } { print $c }' \
		"$last/records.tsv"
}

# A stand-in for program $1 that runs the shell code $2, first on PATH.
fake() {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\n%s\n' "$2" >"$BATS_TEST_TMPDIR/fake/$1"
	chmod +x "$BATS_TEST_TMPDIR/fake/$1"
	PATH="$BATS_TEST_TMPDIR/fake:$PATH"
}
unfake() {
	rm -rf "$BATS_TEST_TMPDIR/fake"
}
