/* Small blocks by size class: a freed block is the next one of its class,
 * classes do not mix, the slab knows its own blocks, and mem objects on it
 * keep their contents and destructor through mem_realloc. (Under
 * AddressSanitizer the slab serves nothing and mem falls back to malloc:
 * only what holds either way is checked then.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/mem.h"
#include "util/slab.h"

#include <string.h>

static void test_classes(void **state)
{
	void *a = slab_alloc(40);
	if (!a) {  /* the slab is off (sanitizer build) */
		assert_null(slab_alloc(16));
		return;
	}
	assert_true(slab_owns(a));
	assert_int_equal((uintptr_t)a % 16, 0);
	assert_int_equal(slab_block_size(40), 48);
	assert_int_equal(slab_block_size(48), 48);
	assert_int_equal(slab_block_size(49), 64);
	memset(a, 0xab, 48);
	void *b = slab_alloc(48);            /* same class, another block */
	assert_ptr_not_equal(a, b);
	slab_free(a, 40);
	void *c = slab_alloc(100);           /* another class: not a's block */
	assert_ptr_not_equal(c, a);
	assert_ptr_equal(slab_alloc(33), a); /* a's class: a again */
	slab_free(a, 33);
	slab_free(b, 48);
	slab_free(c, 100);
	assert_null(slab_alloc(SLAB_MAX + 1));

	int on_heap;
	assert_false(slab_owns(&on_heap));
}

static int destroyed;

static void count_destroy(void *obj)
{
	destroyed++;
}

static void test_mem_on_slab(void **state)
{
	char *o = mem_alloc(24, count_destroy);
	assert_non_null(o);
	for (int i = 0; i < 24; i++)
		assert_int_equal(o[i], 0);  /* zeroed, also when reused */
	memcpy(o, "twenty-three characters", 24);
	o = mem_realloc(o, 1000);           /* to a larger class: moved */
	assert_non_null(o);
	assert_string_equal(o, "twenty-three characters");
	assert_int_equal(mem_refs(o), 1);
	o = mem_realloc(o, 5000);           /* beyond the slab: the heap */
	assert_non_null(o);
	assert_string_equal(o, "twenty-three characters");
	mem_ref(o);
	mem_deref(o);
	assert_int_equal(destroyed, 0);
	mem_deref(o);                       /* the destructor came along */
	assert_int_equal(destroyed, 1);

	/* a freed object's block serves the next one, zeroed again */
	char *p = mem_alloc(24, NULL);
	memset(p, 0x5a, 24);
	mem_deref(p);
	char *q = mem_alloc(24, NULL);
	for (int i = 0; i < 24; i++)
		assert_int_equal(q[i], 0);
	mem_deref(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_mem_on_slab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
