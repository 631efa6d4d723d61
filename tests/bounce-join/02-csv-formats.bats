#!/usr/bin/env bats
# The recipient list as real exports write it: one case a line through check_csv
# (name, CSV, expected joined stream, options).

load fixture

HDR='recipient\tid'
A='a@x.org\t1'
B='b@x.org\t2'

@test "plain, BOM, CRLF and blank lines" {
	check_csv "plain"        'email,t\na@x.org,1\n'                 "$HDR\temail\tt\tmatched\n$A\ta@x.org\t1\t1\n$B\t\t\t0"
	check_csv "UTF-8 BOM"    '\xef\xbb\xbfEmail,T\na@x.org,1\n'      "$HDR\temail\tt\tmatched\n$A\ta@x.org\t1\t1\n$B\t\t\t0"
	check_csv "CRLF"         'email,t\r\na@x.org,1\r\nb@x.org,2\r\n' "$HDR\temail\tt\tmatched\n$A\ta@x.org\t1\t1\n$B\tb@x.org\t2\t1"
	check_csv "no final EOL" 'email,t\na@x.org,1'                    "$HDR\temail\tt\tmatched\n$A\ta@x.org\t1\t1\n$B\t\t\t0"
	check_csv "blank lines"  'email,t\n\na@x.org,1\n\n\n'            "$HDR\temail\tt\tmatched\n$A\ta@x.org\t1\t1\n$B\t\t\t0"
	check_csv "header only"  'email,t\n'                             "$HDR\temail\tt\tmatched\n$A\t\t\t0\n$B\t\t\t0"
}

@test "quoted fields with comma, quote and newline" {
	check_csv "comma"        'email,n\na@x.org,"Doe, Jane"\n'       "$HDR\temail\tn\tmatched\n$A\ta@x.org\tDoe, Jane\t1\n$B\t\t\t0"
	check_csv "quote"        'email,n\na@x.org,"say ""hi"""\n'      "$HDR\temail\tn\tmatched\n$A\ta@x.org\tsay \"hi\"\t1\n$B\t\t\t0"
	check_csv "newline"      'email,n\na@x.org,"one\ntwo"\nb@x.org,3\n' "$HDR\temail\tn\tmatched\n$A\ta@x.org\tone\\\\ntwo\t1\n$B\tb@x.org\t3\t1"
	check_csv "CRLF inside"  'email,n\r\na@x.org,"one\r\ntwo"\r\n'  "$HDR\temail\tn\tmatched\n$A\ta@x.org\tone\\\\r\\\\ntwo\t1\n$B\t\t\t0"
	check_csv "quoted email" '"email","n"\n"a@x.org",""\n'          "$HDR\temail\tn\tmatched\n$A\ta@x.org\t\t1\n$B\t\t\t0"
	check_csv "stray quote"  'email,n\na@x.org,5" screen\n'         "$HDR\temail\tn\tmatched\n$A\ta@x.org\t5\" screen\t1\n$B\t\t\t0"
}

@test "semicolon and tab lists are detected from the header line" {
	check_csv "semicolon"    'email;n;t\na@x.org;Jane;1,5\n'        "$HDR\temail\tn\tt\tmatched\n$A\ta@x.org\tJane\t1,5\t1\n$B\t\t\t\t0"
	check_csv "tab"          'email\tn\na@x.org\tDoe, Jane\n'       "$HDR\temail\tn\tmatched\n$A\ta@x.org\tDoe, Jane\t1\n$B\t\t\t0"
	check_csv "tab, empty"   'n\temail\tt\n\ta@x.org\t\n'           "$HDR\tn\temail\tt\tmatched\n$A\t\ta@x.org\t\t1\n$B\t\t\t\t0"
	check_csv "quoted ;"     '"a;b;c",email\nx,a@x.org\n'           "$HDR\ta_b_c\temail\tmatched\n$A\tx\ta@x.org\t1\n$B\t\t\t0"
}

@test "-d forces the delimiter" {
	check_csv "-d ;"  'email;n,x\na@x.org;1,2\n'  "$HDR\temail\tn_x\tmatched\n$A\ta@x.org\t1,2\t1\n$B\t\t\t0" -d ';'
	check_csv "-d |"  'email|n\na@x.org|1\n'      "$HDR\temail\tn\tmatched\n$A\ta@x.org\t1\t1\n$B\t\t\t0" -d '|'
	check_csv "-d tab" 'email\tn,x\na@x.org\t1\n' "$HDR\temail\tn_x\tmatched\n$A\ta@x.org\t1\t1\n$B\t\t\t0" -d tab
	check_csv "-d \\t" 'email\tn\na@x.org\t1\n'   "$HDR\temail\tn\tmatched\n$A\ta@x.org\t1\t1\n$B\t\t\t0" -d '\t'
}

@test "header names: snake_case, duplicates made unique, empty names numbered" {
	check_csv "snake"      'E-Mail Address,View URL,First  Name\na@x.org,u,f\n' \
		"$HDR\te_mail_address\tview_url\tfirst_name\tmatched\n$A\ta@x.org\tu\tf\t1\n$B\t\t\t\t0"
	check_csv "duplicates" 'email,Name,name,NAME\na@x.org,1,2,3\n' \
		"$HDR\temail\tname\tname_2\tname_3\tmatched\n$A\ta@x.org\t1\t2\t3\t1\n$B\t\t\t\t\t0"
	check_csv "empty"      'email,,x,\na@x.org,1,2,3\n' \
		"$HDR\temail\tcolumn_2\tx\tcolumn_4\tmatched\n$A\ta@x.org\t1\t2\t3\t1\n$B\t\t\t\t\t0"
	check_csv "matched"    'email,Matched\na@x.org,yes\n' \
		"$HDR\temail\tmatched_2\tmatched\n$A\ta@x.org\tyes\t1\n$B\t\t\t0"
}
