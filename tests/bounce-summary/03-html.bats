#!/usr/bin/env bats
# The HTML page: self-contained, parses, carries the counts and a chart, escapes every value.

bats_require_minimum_version 1.5.0

setup() {
	load ../helper
	load fixture
}

# Parse a page strictly enough to catch unbalanced tags; prints "ok" and the text content.
check_html() {
	python3 - "$1" <<'PY'
import sys, html.parser
void = {"meta", "br", "img", "hr", "link", "input", "rect", "path", "line", "circle"}
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.tags = [], [], set()
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in void:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            sys.exit("unbalanced </%s>, open: %s" % (tag, self.stack))
        self.stack.pop()
    def handle_data(self, d):
        self.text.append(d)
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
if p.stack:
    sys.exit("unclosed: %s" % p.stack)
for t in ("script", "link", "img", "iframe"):
    if t in p.tags:
        sys.exit("page has <%s>" % t)
print("ok")
print(" ".join(" ".join(p.text).split()))
PY
}

@test "html: a well-formed page with the counts and an SVG chart" {
	bounce-summary -f html "$DAY2" >"$BATS_TEST_TMPDIR/s.html"
	run -0 check_html "$BATS_TEST_TMPDIR/s.html"
	assert_line --index 0 ok
	assert_output --partial "records 10 bounce messages 9"
	assert_output --partial "address 5 blocked 4 transient 1"
	assert_output --partial "jane.doe@gmial.com jane.doe@gmail.com 2"
	run -0 grep -c '<svg ' "$BATS_TEST_TMPDIR/s.html"
	assert_output 2
	run -0 grep -c '<rect ' "$BATS_TEST_TMPDIR/s.html"
	assert_output 9
}

@test "html: needs no network and no scripts" {
	run -0 bounce-summary -f html "$DAY2"
	refute_output --partial "<script"
	refute_output --regexp 'src=|href=|@import|url\('
}

@test "html: hostile values are escaped" {
	bounce-summary -f html "$S/hostile.tsv" >"$BATS_TEST_TMPDIR/h.html"
	run -0 check_html "$BATS_TEST_TMPDIR/h.html"
	assert_line --index 0 ok
	assert_output --partial 'domain records <script>alert(1)</script>.example 1 evil.example 1'
	run -0 cat "$BATS_TEST_TMPDIR/h.html"
	refute_output --partial '<script>'
	refute_output --partial '<b>'
	assert_output --partial '&lt;script&gt;alert(1)&lt;/script&gt;.example'
	assert_output --partial '&lt;b&gt;bold&lt;/b&gt;'
	assert_output --partial '<td class="k">&quot;q&#39;uote&quot;&amp;amp@evil.example</td><td class="k">&lt;img src=x&gt;@evil.example</td>'
}

@test "html: the title is escaped too" {
	run -0 bounce-summary -f html -T '<i>night</i>' "$DAY2"
	assert_output --partial '<title>&lt;i&gt;night&lt;/i&gt;</title>'
	assert_output --partial '<h1>&lt;i&gt;night&lt;/i&gt;</h1>'
}

@test "html: --previous adds the columns previous and change" {
	bounce-summary -f html -p "$DAY1" "$DAY2" >"$BATS_TEST_TMPDIR/p.html"
	run -0 check_html "$BATS_TEST_TMPDIR/p.html"
	assert_output --partial "category records previous change address 5 1 +4 blocked 4 1 +3 transient 1 2 -1 complaint 0 1 -1"
}
