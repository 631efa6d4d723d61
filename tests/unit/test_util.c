/* Unit tests for util: the growable buffer is always a NUL-terminated string. */
#include <stdlib.h>

#include "unit.h"
#include "util.h"

static void
test_reserve_on_empty_buffer_terminates(void)
{
	struct rb_buf b = { 0 };

	rb_buf_reserve(&b, 0);
	CHECK(b.data != NULL);
	CHECK_STR(b.data, "");
	rb_buf_reserve(&b, 1000);
	CHECK_STR(b.data, "");
	rb_buf_free(&b);
}

static void
test_buffer_operations(void)
{
	struct rb_buf b = { 0 };

	rb_buf_adds(&b, "abc");
	rb_buf_addc(&b, '-');
	rb_buf_printf(&b, "%d:%s", 42, "x");
	CHECK_STR(b.data, "abc-42:x");
	CHECK_INT(b.len, 8);
	rb_buf_clear(&b);
	CHECK_STR(b.data, "");
	for (int i = 0; i < 10000; i++)
		rb_buf_addc(&b, 'a' + i % 26);
	CHECK_INT(b.len, 10000);
	CHECK_INT(b.data[10000], 0);
	rb_buf_free(&b);
	CHECK(b.data == NULL);
}

static void
test_worse_status(void)
{
	CHECK_INT(rb_worse(0, 1), 1);
	CHECK_INT(rb_worse(2, 1), 2);
	CHECK_INT(rb_worse(0, 0), 0);
}

int
main(int argc, char **argv)
{
	(void)argc;
	rb_init(argv[0]);
	test_reserve_on_empty_buffer_terminates();
	test_buffer_operations();
	test_worse_status();
	CHECK_STR(rb_display_name("-"), "stdin");
	CHECK_STR(rb_display_name("a.mbox"), "a.mbox");
	return unit_done("util");
}
