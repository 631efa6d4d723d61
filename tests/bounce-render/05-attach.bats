#!/usr/bin/env bats
# --attach: the PDF named by a column, only from under --attach-dir, only if it is a PDF.

setup() {
	load fixture
	A="$BATS_TEST_TMPDIR/pdfs"
	mkdir -p "$A/sub" "$BATS_TEST_TMPDIR/outside"
	printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\nbinary \x00\x01\xff\n%%%%EOF\n' >"$A/cert.pdf"
	cp "$A/cert.pdf" "$A/sub/Zertifikat Müller.pdf"
	cp "$A/cert.pdf" "$BATS_TEST_TMPDIR/outside/secret.pdf"
	printf 'not a pdf\n' >"$A/fake.pdf"
	ln -s "$BATS_TEST_TMPDIR/outside/secret.pdf" "$A/link.pdf"
	ln -s "$BATS_TEST_TMPDIR/outside" "$A/linkdir"
	COLS+=(pdf_file)
}

# attach_row FILE: a blocked record naming FILE.
attach_row() { row a.mbox:9 bob@corp.example blocked spamdetected '' 1 Bob bob@corp.example TOK-2 https://certs.example/v/2 '' "$1"; }

@test "a PDF is attached and decodes to the same bytes" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(attach_row cert.pdf)" "$(attach_row 'sub/Zertifikat Müller.pdf')"
	run -0 --separate-stderr render --attach pdf_file --attach-dir "$A" "$BATS_TEST_TMPDIR/in.tsv"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.mbox"
	sum=$(sha256sum "$A/cert.pdf")
	run -0 python3 "$CHECK" mbox "$BATS_TEST_TMPDIR/out.mbox"
	assert_line "messages: 2"
	assert_line "headers: From,To,Subject,Date,Message-ID,MIME-Version,Content-Type"
	assert_line "attachment: application/pdf cert.pdf ${sum%% *}"
	assert_line "attachment: application/pdf Zertifikat Müller.pdf ${sum%% *}"
	assert_line "and enter your personal token: TOK-2"
	assert_line "cte: quoted-printable"
}

@test "refusals: traversal, absolute path, symlinks out, missing, not a PDF, a directory, no value" {
	while IFS='|' read -r file reason; do
		stream "$BATS_TEST_TMPDIR/in.tsv" "$(attach_row "$file")"
		run -1 --separate-stderr render --attach pdf_file --attach-dir "$A" "$BATS_TEST_TMPDIR/in.tsv"
		assert_output ""
		assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv:2: bob@corp.example: $reason; not rendered"
	done <<-T
	../outside/secret.pdf|attachment "../outside/secret.pdf" is outside the attachment directory
	sub/../../outside/secret.pdf|attachment "sub/../../outside/secret.pdf" is outside the attachment directory
	$BATS_TEST_TMPDIR/outside/secret.pdf|attachment "$BATS_TEST_TMPDIR/outside/secret.pdf" is outside the attachment directory
	link.pdf|attachment "link.pdf" is outside the attachment directory
	linkdir/secret.pdf|attachment "linkdir/secret.pdf" is outside the attachment directory
	missing.pdf|attachment "missing.pdf": No such file or directory
	fake.pdf|attachment "fake.pdf" is not a PDF file
	sub|attachment "sub": not a regular file
	|no value in column pdf_file for --attach
	T
}

@test "--attach names a column the stream lacks: exit 2" {
	stream "$BATS_TEST_TMPDIR/in.tsv" "$(attach_row cert.pdf)"
	run -2 --separate-stderr render --attach pdf_path --attach-dir "$A" "$BATS_TEST_TMPDIR/in.tsv"
	assert_output ""
	assert_equal "${stderr_lines[0]}" "bounce-render: $BATS_TEST_TMPDIR/in.tsv: no column pdf_path for --attach"
}

@test "--attach without --attach-dir is a usage error" {
	run -2 --separate-stderr render --attach pdf_file </dev/null
	assert_equal "${stderr_lines[0]}" "bounce-render: --attach and --attach-dir go together"
}
