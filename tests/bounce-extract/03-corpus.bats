#!/usr/bin/env bats
# The shared corpus of real bounces: recall, precision and status agreement.
bats_require_minimum_version 1.5.0
load ../helper

# summary DIR: score's one-line summary of the corpus directory
summary() {
	local classify=cat
	command -v bounce-classify >/dev/null && classify=bounce-classify
	bounce-extract "$CORPUS/$1"/*.eml | $classify |
		awk -F'\t' 'BEGIN { OFS = "\t" }
			NR == 1 { for (i = 1; i <= NF; i++) if ($i == "reason") has = 1 }
			{ if (!has) $(NF + 1) = (NR == 1 ? "reason" : ""); print }' |
		"$CORPUS/score" --summary -
}

at_least() { # value% minimum
	awk -v v="${1%\%}" -v m="$2" 'BEGIN { exit !(v + 0 >= m) }' || {
		echo "$1 is below $2%" >&2
		return 1
	}
}

@test "corpus dos/: recall and precision >= 99%" {
	need_corpus
	read -r rows recall precision status rest < <(summary dos)
	at_least "$recall" 99
	at_least "$precision" 99
	# pseudo codes (5.0.9xx) of the truth are not in the messages: about a quarter
	at_least "$status" 70
}
@test "corpus mac/ (lone CR) gives the same records as dos/ (CRLF)" {
	need_corpus
	diff <(bounce-extract "$CORPUS"/dos/*.eml | cut -f2-) <(bounce-extract "$CORPUS"/mac/*.eml | cut -f2-)
}
@test "corpus not/: no record" {
	need_corpus
	run -0 bounce-extract "$CORPUS"/not/*.eml
	assert_equal "${#lines[@]}" 1
}
@test "corpus mbox: 37 bounces, each with a recipient" {
	need_corpus
	run -0 --separate-stderr bounce-extract --stats "$CORPUS/mbox/mbox-0"
	assert_equal "${#lines[@]}" 38
	assert_equal "${stderr_lines[0]}" "bounce-extract: messages: 37"
	assert_equal "${stderr_lines[1]}" "bounce-extract: bounces: 37"
}
