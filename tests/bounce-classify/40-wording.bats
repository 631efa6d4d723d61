#!/usr/bin/env bats
# Generalisation: every case of cases.tsv, among them real servers' wording across the mail
# systems (theme "real"), must get the reason the reference analyser gives; at least 95%
# agreement, the misses listed.
load fixture

@test "real-world wording: reason agreement at least 95%" {
	run reason_agreement
	assert_success
	printf '%s\n' "${lines[@]}" >&3
	local agree="${lines[-1]#agreement: }" good all
	good="${agree%/*}" all="${agree#*/}"
	[ "$all" -ge 150 ] || fail "only $all cases"
	[ $((good * 100)) -ge $((all * 95)) ] || fail "agreement $agree below 95%"
}

@test "real-world wording: the table has the columns the test reads" {
	run head -1 "$CASES"
	assert_output "$(printf 'theme\taction\tstatus\tsmtp_code\tremote_mta\trecipient\tdiagnostic\treason\tcategory\thard\trule\tmta')"
}
