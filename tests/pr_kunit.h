/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the KUnit suites of the page range and the allocator.
 */

#ifndef _BINDER_PAGE_RANGE_KUNIT_H
#define _BINDER_PAGE_RANGE_KUNIT_H

#include <linux/types.h>

struct kunit;
struct page_range_shrinker;
struct task_struct;

/* Scan as reclaim would (lockdep knows it may run under any allocation). */
unsigned long pr_shrink(struct page_range_shrinker *prs, unsigned long nr);
/* Scan until the LRU is empty; returns the pages freed. */
unsigned long pr_shrink_all(struct page_range_shrinker *prs);
/* Read what userspace sees at @uaddr; false if it faults. */
bool pr_user_read(unsigned long uaddr, void *buf, size_t len);
/* A pattern that differs per @seed and per byte. */
void pr_fill(u8 *buf, size_t len, u32 seed);
bool pr_all_zero(const u8 *buf, size_t len);
/* kthread_run() whose thread has exited by the end of the test. */
struct task_struct *pr_kthread_run(struct kunit *test, int (*fn)(void *),
				   void *data, const char *name);

#endif /* _BINDER_PAGE_RANGE_KUNIT_H */
