/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the KUnit suites of the page range and the allocator.
 * Their names start with prt_, for page range test.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _PAGE_RANGE_KUNIT_UTIL_H
#define _PAGE_RANGE_KUNIT_UTIL_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/types.h>

struct kunit;
struct page_range;
struct page_range_shrinker;
struct task_struct;

/* How long each race runs. */
#define PRT_RACE_MS		1000
/* The most worker threads of a race, its shrinker thread aside. */
#define PRT_RACE_MAX_WORKERS	4
/* How long teardown waits for the test's mm to close a VMA. */
#define PRT_CLOSE_TIMEOUT	(30 * HZ)

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

/*
 * For KUNIT_CASE_PARAM() of the killable tests: the two locks a killable
 * wait sleeps on, the owner's mmap lock ("mmap_lock") and the range's
 * mm_lock ("mm_lock"). prt_kill_lock_param() reads a row's
 * &prt_kill_call.hold_mm_lock.
 */
const void *prt_kill_lock_gen_params(const void *prev, char *desc);
bool prt_kill_lock_param(struct kunit *test);

struct prt_race;

/**
 * struct prt_race_worker - one thread of a race
 * @race: the race it belongs to
 * @fn: the thread's work; returns once prt_race_over() says so, or after
 *	one pass
 * @id: its index among the race's workers
 */
struct prt_race_worker {
	struct prt_race *race;
	void (*fn)(struct prt_race_worker *w);
	unsigned int id;
};

/**
 * struct prt_race - threads racing each other, bounded in time
 * @deadline: in jiffies; workers stop by themselves once it passed
 * @stop: set to stop the workers before the deadline
 * @errors: errors the workers recorded
 * @first_error: the message of the first of them
 * @running: workers that have not finished, plus one while the test may
 *	still start more (dropped by prt_race_wait() or prt_race_stop())
 * @starting: the test holds that extra count in @running
 * @all_done: completed once @running drops to zero
 * @workers: the workers of prt_race_start()
 * @prs: the shrinker that the shrinker thread scans
 * @nr_to_scan: pages the shrinker thread asks for in each scan
 * @reclaimed: pages the shrinker thread freed
 * @shrinker: the shrinker thread of prt_race_start_shrinker()
 *
 * A suite embeds it in a structure of its own for what its workers share,
 * which they reach with container_of(). The test thread may end early on
 * a failed assertion while workers still run: its exit fixture calls
 * prt_race_stop() before anything they use is freed.
 */
struct prt_race {
	unsigned long deadline;
	bool stop;
	atomic_t errors;
	char first_error[96];
	atomic_t running;
	bool starting;
	struct completion all_done;
	struct prt_race_worker workers[PRT_RACE_MAX_WORKERS];
	struct page_range_shrinker *prs;
	unsigned long nr_to_scan;
	atomic_long_t reclaimed;
	struct prt_race_worker shrinker;
};

/* Set up @race to end PRT_RACE_MS from now. */
void prt_race_init(struct prt_race *race);
/* Start @n workers running @fn; the first n of @race->workers. */
void prt_race_start(struct kunit *test, struct prt_race *race,
		    void (*fn)(struct prt_race_worker *w), unsigned int n);
/* Start a thread that scans @prs, @nr_to_scan at a time, until the end. */
void prt_race_start_shrinker(struct kunit *test, struct prt_race *race,
			     struct page_range_shrinker *prs,
			     unsigned long nr_to_scan);
/* Record an error; the first one's message is kept, the race ends. */
__printf(2, 3) void prt_race_error(struct prt_race *race, const char *fmt,
				   ...);
/* Past the deadline, stopped, or an error was recorded. */
bool prt_race_over(struct prt_race *race);
/*
 * Wait (bounded) for every worker started so far, fail the test with the
 * first error; true if all finished without one. The race can then start
 * workers again, until its deadline.
 */
bool prt_race_wait(struct kunit *test, struct prt_race *race);
/* For exit fixtures: stop the workers and wait (bounded) for them. */
void prt_race_stop(struct kunit *test, struct prt_race *race);

#endif /* _PAGE_RANGE_KUNIT_UTIL_H */
