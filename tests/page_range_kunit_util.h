/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the KUnit suites of the page range and the allocator.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _PAGE_RANGE_KUNIT_UTIL_H
#define _PAGE_RANGE_KUNIT_UTIL_H

#include <linux/completion.h>
#include <linux/types.h>

struct kunit;
struct page_range;
struct page_range_shrinker;
struct task_struct;

/* Let fault injection fail this thread's allocations, if asked to. */
void prt_fault_scope(void);
/* Scan as reclaim would (lockdep knows it may run under any allocation). */
unsigned long prt_shrink(struct page_range_shrinker *prs, unsigned long nr);
/* Scan until the LRU is empty; returns the pages freed. */
unsigned long prt_shrink_all(struct page_range_shrinker *prs);
/* Read what userspace sees at @uaddr; false if it faults. */
bool prt_user_read(unsigned long uaddr, void *buf, size_t len);
/* A pattern that differs per @seed and per byte. */
void prt_fill(u8 *buf, size_t len, u32 seed);
bool prt_all_zero(const u8 *buf, size_t len);
/* kthread_run() whose thread has exited by the end of the test. */
struct task_struct *prt_kthread_run(struct kunit *test, int (*fn)(void *),
				    void *data, const char *name);

/**
 * struct prt_kill_call - a call that waits for a lock the test holds
 * @range: the test holds its mm_lock, or its owner's mmap lock for
 *	writing; the call's thread runs with the range's mm
 * @hold_mm_lock: hold @range's mm_lock, else the mmap lock of @range's mm
 * @fn: the call, run in a kthread that allows SIGKILL; returns 0 or a
 *	negative errno
 * @data: for @fn
 * @arg: for @fn
 * @ret: what @fn returned
 * @blocked: the thread was seen asleep in @fn before it was killed
 * @killed_in_time: @fn returned within a bound after SIGKILL, while the
 *	test still held the lock
 * @finished: @fn returned (or never ran); false only if the thread is
 *	stuck even after the lock was released
 * @started: set by the thread just before it calls @fn
 * @done: completed by the thread once @fn returned
 */
struct prt_kill_call {
	struct page_range *range;
	bool hold_mm_lock;
	int (*fn)(struct prt_kill_call *call);
	void *data;
	unsigned long arg;
	int ret;
	bool blocked;
	bool killed_in_time;
	bool finished;
	bool started;
	struct completion done;
};

/*
 * Hold the lock, run @call->fn in a kthread until it sleeps, SIGKILL it,
 * and record how it ended; the lock is released and the thread joined
 * (bounded) before this returns. Asserts nothing while the lock is held.
 */
void prt_kill_blocked_call(struct kunit *test, struct prt_kill_call *call);
/* For exit fixtures: wait (bounded) for a call's thread; false if stuck. */
bool prt_kill_call_join(struct prt_kill_call *call);

#endif /* _PAGE_RANGE_KUNIT_UTIL_H */
