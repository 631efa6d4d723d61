#!/usr/bin/env bats
# Hostile side inputs: a recipient list with an unbalanced quote (bounce-join) and a
# template naming a column that does not exist (bounce-render).
load hostile

@test "join: an unbalanced quote: reported at its line, the list refused, exit 2" {
	need_prog bounce-join
	local csv="$HOSTILE_FIXTURES/unbalanced-quote.csv"
	run -2 --separate-stderr bounce-join -c "$csv" "$HOSTILE_FIXTURES/extracted.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-join: $csv:2: quote not closed by the end of the file"
	assert_equal "${stderr_lines[1]}" "bounce-join: $csv: 1 bad row; nothing joined (--lenient skips them)"
}

@test "join --lenient: the bad row skipped, the rows after it still joined" {
	need_prog bounce-join
	local csv="$HOSTILE_FIXTURES/unbalanced-quote.csv"
	run -1 --separate-stderr bounce-join --lenient --stats -c "$csv" "$HOSTILE_FIXTURES/extracted.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-join: $csv:2: quote not closed by the end of the file"
	assert_equal "$(column_of recipient | paste -sd ' ')" "jane@gmial.com bob@example.org"
	assert_equal "$(column_of matched | paste -sd ' ')" "0 1"
	assert_equal "$(column_of token | paste -sd ' ')" " t2"
	assert_equal "$(stat_of csv_rows_skipped)" 1
}

@test "join --lenient: a quote left open on the last row loses only that row" {
	need_prog bounce-join
	local csv="$HOSTILE_FIXTURES/unclosed-quote-at-end.csv"
	run -1 --separate-stderr bounce-join --lenient -c "$csv" "$HOSTILE_FIXTURES/extracted.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-join: $csv:3: quote not closed by the end of the file"
	assert_equal "$(column_of matched | paste -sd ' ')" "0 1"
}

@test "render: a template with an unknown placeholder: named with file and line, exit 2, nothing written" {
	need_prog bounce-render
	local t="$HOSTILE_FIXTURES/templates-unknown-placeholder"
	run -2 --separate-stderr bounce-render -t "$t" --from certs@certs.example \
		--sending-domain certs.example "$HOSTILE_FIXTURES/records.tsv"
	assert_equal "${stderr_lines[0]}" "bounce-render: $t/address.eml:8: {{tokken}}: no such column in the input, and not an option"
	assert_equal "$output" ""
}
