#!/usr/bin/env bats
# Variants of each family's notices (fixtures/extract/variants): every expected
# (file, recipient, action, status) comes out, and no other recipient does.
bats_require_minimum_version 1.5.0
load ../helper

V="$FIXTURES/extract/variants"

# records: "file recipient action status" for every record of the variant fixtures
records() {
	(cd "$V" && bounce-extract *.eml) |
		awk -F'\t' 'NR > 1 { print $1 "\t" $3 "\t" $4 "\t" $5 }' | sort
}

@test "variants: every expected record, exactly" {
	run -0 diff <(tail -n +2 "$V/expected.tsv" | sort) <(records)
}
@test "variants: every fixture is listed in expected.tsv" {
	for f in "$V"/*.eml; do
		grep -q "^${f##*/}	" "$V/expected.tsv" || grep -qx "${f##*/}" "$V/none.txt" ||
			fail "${f##*/} is in neither expected.tsv nor none.txt"
	done
}
@test "variants: the notices listed in none.txt give no record" {
	while read -r f; do
		run -0 bounce-extract "$V/$f"
		assert_equal "${#lines[@]}" 1
	done < "$V/none.txt"
}
@test "variants: diagnostics are the server's words, not the notice's boilerplate" {
	run -0 bash -c 'cd "$1" && bounce-extract *.eml | cut -f8' _ "$V"
	refute_output --partial "The mail system"
	refute_output --partial "This is a permanent error"
	refute_output --partial "could not be delivered to one or more"
	refute_output --partial "The original message was received"
}
