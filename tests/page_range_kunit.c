// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the shrinkable page range.
 *
 * Every test maps a real VMA: an anon-inode file whose mmap handler
 * registers a page range, mapped into an mm attached to the test thread
 * with kunit_vm_mmap(). What userspace would see is checked by reading the
 * mapped addresses with copy_from_user(). Each test has a shrinker of its
 * own, so the LRU count and the page count are exact.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "page_range_internal.h"
#include "page_range_kunit_util.h"

MODULE_IMPORT_NS(PAGE_RANGE_NS);
/* The argument checks: see page_range_internal.h. */
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define PRT_MAX_MAPS	4
/* How long a call waiting for a lock may take to sleep on it. */
#define PRT_BLOCK_MS	1000
/* How long a killed call may take to return, the lock still held. */
#define PRT_KILL_MS	2000
/* How long its thread may take to finish once the lock is released. */
#define PRT_JOIN_TIMEOUT	(30 * HZ)
/* How long race threads may run past their deadline (twice for a wait). */
#define PRT_RACE_STOP_TIMEOUT	(60 * HZ)
/* Pages the shrinker thread of a race scans at a time. */
#define PRT_RACE_NR_TO_SCAN	8

struct prt_ctx;

/* One mapping: an anon-inode file, its VMA and the page range over it. */
struct prt_map {
	struct prt_ctx *ctx;
	struct page_range range;
	struct file *file;
	bool inited;
	bool mapped;
	bool no_mixedmap;
	int register_ret;
	struct completion closed;
	unsigned long uaddr;
	size_t len;
};

struct prt_ctx {
	struct page_range_shrinker prs;
	struct prt_map *maps[PRT_MAX_MAPS];
	int nr_maps;
	struct prt_race *race;
	struct prt_kill_call *kill_call;
	/* init succeeded: KUnit runs exit after a failed init too */
	bool ready;
};

/* A copy of the VMA (mremap, fork) is not the registered VMA. */
static void prt_vma_open(struct vm_area_struct *vma)
{
	vma->vm_private_data = NULL;
}

static void prt_vma_close(struct vm_area_struct *vma)
{
	struct prt_map *map = vma->vm_private_data;

	if (!map)
		return;
	page_range_vma_closed(&map->range);
	/* Every later wait must see it. */
	complete_all(&map->closed);
}

static vm_fault_t prt_vma_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static int prt_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int prt_vma_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct prt_vm_ops = {
	.open = prt_vma_open,
	.close = prt_vma_close,
	.fault = prt_vma_fault,
	.may_split = prt_vma_may_split,
	.mremap = prt_vma_mremap,
};

/* The mmap handler a driver using the page range would have. */
static int prt_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct prt_map *map = file->private_data;
	int ret;

	if (!map->inited) {
		ret = page_range_init(&map->range, &map->ctx->prs, NULL);
		if (ret)
			return ret;
		map->inited = true;
	}
	vm_flags_mod(vma, VM_DONTCOPY | VM_DONTEXPAND |
		     (map->no_mixedmap ? 0 : VM_MIXEDMAP), VM_MAYWRITE);
	/* The last step that can fail: see page_range_register_vma(). */
	ret = page_range_register_vma(&map->range, vma);
	map->register_ret = ret;
	if (ret < 0)
		return ret;
	vma->vm_private_data = map;
	vma->vm_ops = &prt_vm_ops;
	return 0;
}

static const struct file_operations prt_fops = {
	.owner = THIS_MODULE,
	.mmap = prt_mmap,
};

static struct prt_map *prt_map_alloc(struct kunit *test)
{
	struct prt_ctx *ctx = test->priv;
	struct prt_map *map;

	KUNIT_ASSERT_LT(test, ctx->nr_maps, PRT_MAX_MAPS);
	map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, map);
	map->ctx = ctx;
	init_completion(&map->closed);
	map->file = anon_inode_getfile("[page_range_kunit]", &prt_fops, map,
				       O_RDONLY);
	KUNIT_ASSERT_FALSE(test, IS_ERR(map->file));
	ctx->maps[ctx->nr_maps++] = map;
	return map;
}

/*
 * mmap @map's file into current's mm (attaching a new mm to a kthread that
 * has none). Returns the address or a negative errno.
 */
static long prt_map_mmap(struct kunit *test, struct prt_map *map, size_t len)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, map->file, 0, len, PROT_READ, MAP_SHARED, 0);
	if (!addr)
		return -ENOMEM;
	if (IS_ERR_VALUE(addr))
		return (long)addr;
	map->mapped = true;
	map->uaddr = addr;
	map->len = len;
	return 0;
}

/* A new mapping of @npages pages in the test thread's mm, with a range. */
static struct prt_map *prt_map_new(struct kunit *test, size_t npages)
{
	struct prt_map *map = prt_map_alloc(test);

	KUNIT_ASSERT_EQ(test, prt_map_mmap(test, map, npages * PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, map->register_ret, (int)npages);
	KUNIT_ASSERT_EQ(test, page_range_num_pages(&map->range), npages);
	return map;
}

/* Wait for the VMA's close, then destroy the range. Idempotent. */
static void prt_map_teardown(struct kunit *test, struct prt_map *map)
{
	if (map->mapped &&
	    !wait_for_completion_timeout(&map->closed, PRT_CLOSE_TIMEOUT)) {
		/* Destroying under a live VMA would leave close a dangling range. */
		KUNIT_FAIL(test, "VMA at %lx never closed", map->uaddr);
		return;
	}
	map->mapped = false;
	if (map->inited) {
		page_range_destroy(&map->range);
		map->inited = false;
	}
}

static bool fail_tasks;
module_param(fail_tasks, bool, 0444);
MODULE_PARM_DESC(fail_tasks,
		 "mark each case's thread for fault injection (make-it-fail)");

void prt_fault_scope(void)
{
#ifdef CONFIG_FAULT_INJECTION
	/*
	 * With fault injection's task-filter, only marked tasks see faults:
	 * the thread that runs one case (and its init), not the race
	 * tests' helpers nor the rest of the system. It exits after the case.
	 */
	if (fail_tasks)
		current->make_it_fail = 1;
#endif
}

static int prt_test_init(struct kunit *test)
{
	struct prt_ctx *ctx;
	int ret;

	prt_fault_scope();
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	test->priv = ctx;
	ret = page_range_shrinker_register(&ctx->prs, "page-range-kunit");
	ctx->ready = !ret;
	return ret;
}

static void prt_test_exit(struct kunit *test)
{
	struct prt_ctx *ctx = test->priv;
	int i;

	if (!ctx || !ctx->ready)
		return;
	/* A failed assertion may have left race threads running. */
	prt_race_stop(test, ctx->race);
	/* Likewise a killed call that never returned: it uses a range. */
	if (!prt_kill_call_join(ctx->kill_call))
		KUNIT_FAIL(test, "a killed page_range_use() never returned");
	for (i = 0; i < ctx->nr_maps; i++) {
		prt_map_teardown(test, ctx->maps[i]);
		fput(ctx->maps[i]->file);
	}
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(&ctx->prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs), 0);
	page_range_shrinker_unregister(&ctx->prs);
}

static struct page_range_shrinker *prt_prs(struct kunit *test)
{
	return &((struct prt_ctx *)test->priv)->prs;
}

/*
 * Scan as reclaim would: inside fs_reclaim_acquire(), lockdep learns that
 * the scan can run under any GFP_KERNEL allocation, and reports a lock the
 * scan takes that some path holds while allocating.
 */
unsigned long prt_shrink(struct page_range_shrinker *prs, unsigned long nr)
{
	unsigned long freed;
	unsigned int noreclaim;

	/* In this order, as direct reclaim does. */
	fs_reclaim_acquire(GFP_KERNEL);
	noreclaim = memalloc_noreclaim_save();
	freed = page_range_shrinker_scan(prs, nr);
	memalloc_noreclaim_restore(noreclaim);
	fs_reclaim_release(GFP_KERNEL);
	return freed;
}

/* Scan until the LRU is empty; trylocks may skip pages now and then. */
unsigned long prt_shrink_all(struct page_range_shrinker *prs)
{
	unsigned long freed = 0;
	int tries;

	for (tries = 0; tries < 1000 && page_range_shrinker_count(prs); tries++) {
		freed += prt_shrink(prs, 1024);
		cond_resched();
	}
	return freed;
}

/* Read what userspace sees at @uaddr; false if it faults. */
bool prt_user_read(unsigned long uaddr, void *buf, size_t len)
{
	return !copy_from_user(buf, (const void __user *)uaddr, len);
}

void prt_fill(u8 *buf, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(seed * 31 + i * 7 + (i >> 8));
}

bool prt_all_zero(const u8 *buf, size_t len)
{
	return !memchr_inv(buf, 0, len);
}

static void prt_kthread_stop_action(void *task)
{
	kthread_stop(task);
	put_task_struct(task);
}

/*
 * kthread_run() for test threads: the test's cleanup waits for the thread
 * to have exited, so that no thread still runs this module's code (or uses
 * the test's memory) when the test ends or the module is unloaded.
 */
struct task_struct *prt_kthread_run(struct kunit *test, int (*fn)(void *),
				    void *data, const char *name)
{
	struct task_struct *task = kthread_create(fn, data, "%s", name);

	if (IS_ERR(task))
		return task;
	get_task_struct(task);
	if (kunit_add_action_or_reset(test, prt_kthread_stop_action, task))
		return ERR_PTR(-ENOMEM);
	wake_up_process(task);
	return task;
}

/*
 * The thread of a prt_kill_call: a kthread ignores every signal unless it
 * allows it, and borrows the range's mm, as the task of a sender has one.
 */
static int prt_kill_call_fn(void *data)
{
	struct prt_kill_call *call = data;
	struct mm_struct *mm = call->range->mm;

	allow_signal(SIGKILL);
	if (mmget_not_zero(mm)) {
		kthread_use_mm(mm);
		WRITE_ONCE(call->started, true);
		call->ret = call->fn(call);
		kthread_unuse_mm(mm);
		mmput(mm);
	} else {
		call->ret = -ENOENT;
	}
	/* The kill was meant for @fn's wait only. */
	flush_signals(current);
	complete(&call->done);
	return 0;
}

static void prt_kill_lock(struct prt_kill_call *call)
{
	struct mm_struct *mm = call->range->mm;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	if (call->hold_mm_lock) {
		mutex_lock(&call->range->mm_lock);
		return;
	}
	mmap_write_lock(mm);
	vma_iter_init(&vmi, mm, 0);
	/*
	 * As a writer that changes the VMAs (mprotect(), munmap()) does,
	 * write-lock them too: built in, the driver tries the per-VMA lock
	 * first, which the mmap lock alone does not hold off, and falls
	 * back to the mmap lock when the VMA is write-locked. The VMA locks
	 * go with mmap_write_unlock().
	 */
	for_each_vma(vmi, vma)
		vma_start_write(vma);
}

static void prt_kill_unlock(struct prt_kill_call *call)
{
	if (call->hold_mm_lock)
		mutex_unlock(&call->range->mm_lock);
	else
		mmap_write_unlock(call->range->mm);
}

/*
 * Hold the lock, run @call->fn in a kthread, wait until the thread sleeps
 * (on the lock, as nothing else in @fn sleeps for long), send it SIGKILL
 * and give it PRT_KILL_MS to return while the lock is still held. Then
 * release the lock and wait for the thread, so that nothing still runs
 * when the caller checks the outcome. Between lock and unlock nothing may
 * end the test thread: no assertion there, only what @call records.
 */
void prt_kill_blocked_call(struct kunit *test, struct prt_kill_call *call)
{
	struct task_struct *task;
	unsigned long deadline;
	int sent;

	init_completion(&call->done);
	call->started = false;
	call->blocked = false;
	call->killed_in_time = false;
	call->finished = false;
	call->ret = 0;

	prt_kill_lock(call);
	task = prt_kthread_run(test, prt_kill_call_fn, call, "prt_kunit_kill");
	if (IS_ERR(task)) {
		prt_kill_unlock(call);
		/* @fn never ran: nothing to wait for. */
		call->finished = true;
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}

	deadline = jiffies + msecs_to_jiffies(PRT_BLOCK_MS);
	while (!completion_done(&call->done) &&
	       time_before(jiffies, deadline) &&
	       !(READ_ONCE(call->started) && !task_is_running(task)))
		usleep_range(500, 1000);
	call->blocked = READ_ONCE(call->started) && !task_is_running(task) &&
			!completion_done(&call->done);
	/* Past any spinning, and queued on the lock. */
	msleep(20);

	sent = send_sig(SIGKILL, task, 1);
	call->killed_in_time =
		wait_for_completion_timeout(&call->done,
					    msecs_to_jiffies(PRT_KILL_MS));
	prt_kill_unlock(call);

	/* A thread that never slept may be gone already: -ESRCH then. */
	if (call->blocked)
		KUNIT_EXPECT_EQ(test, sent, 0);
	call->finished = call->killed_in_time ||
			 wait_for_completion_timeout(&call->done,
						     PRT_JOIN_TIMEOUT);
	if (!call->finished)
		KUNIT_FAIL(test, "the call still runs with the lock released");
}

/*
 * For exit fixtures, after an assertion or a timeout left a call's thread
 * running: wait for it before the range goes away. True once it finished.
 */
bool prt_kill_call_join(struct prt_kill_call *call)
{
	if (!call || call->finished)
		return true;
	call->finished = wait_for_completion_timeout(&call->done,
						     2 * PRT_JOIN_TIMEOUT);
	return call->finished;
}

/* The locks of the killable tests: the owner's mmap lock, the mm_lock. */
static const bool prt_kill_locks[] = { false, true };

static void prt_kill_lock_desc(const bool *hold_mm_lock, char *desc)
{
	strscpy(desc, *hold_mm_lock ? "mm_lock" : "mmap_lock",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(prt_kill_lock_array, prt_kill_locks, prt_kill_lock_desc);

/* Both suites' killable tests take their rows from here. */
const void *prt_kill_lock_gen_params(const void *prev, char *desc)
{
	return prt_kill_lock_array_gen_params(prev, desc);
}

bool prt_kill_lock_param(struct kunit *test)
{
	return *(const bool *)test->param_value;
}

/* ---- the race harness ---- */

void prt_race_init(struct prt_race *race)
{
	race->deadline = jiffies + msecs_to_jiffies(PRT_RACE_MS);
	WRITE_ONCE(race->stop, false);
	atomic_set(&race->errors, 0);
	/*
	 * The test's own count: a worker that finishes before the next one
	 * is started cannot complete all_done too early.
	 */
	atomic_set(&race->running, 1);
	race->starting = true;
	init_completion(&race->all_done);
}

void prt_race_error(struct prt_race *race, const char *fmt, ...)
{
	va_list args;

	if (atomic_inc_return(&race->errors) != 1)
		return;
	va_start(args, fmt);
	vsnprintf(race->first_error, sizeof(race->first_error), fmt, args);
	va_end(args);
}

bool prt_race_over(struct prt_race *race)
{
	return time_after(jiffies, race->deadline) ||
	       atomic_read(&race->errors) || READ_ONCE(race->stop);
}

static void prt_race_worker_done(struct prt_race *race)
{
	/* complete_all(): a wait that timed out may be followed by another. */
	if (atomic_dec_and_test(&race->running))
		complete_all(&race->all_done);
}

/* Drop the test's own count: all_done completes with the last worker. */
static void prt_race_started(struct prt_race *race)
{
	if (race->starting) {
		race->starting = false;
		prt_race_worker_done(race);
	}
}

static int prt_race_thread(void *data)
{
	struct prt_race_worker *w = data;

	w->fn(w);
	prt_race_worker_done(w->race);
	return 0;
}

static void prt_race_run(struct kunit *test, struct prt_race *race,
			 struct prt_race_worker *w,
			 void (*fn)(struct prt_race_worker *w), unsigned int id,
			 const char *name)
{
	struct task_struct *task;

	w->race = race;
	w->fn = fn;
	w->id = id;
	atomic_inc(&race->running);
	task = prt_kthread_run(test, prt_race_thread, w, name);
	if (IS_ERR(task)) {
		prt_race_error(race, "kthread_run: %ld", PTR_ERR(task));
		prt_race_worker_done(race);
	}
}

void prt_race_start(struct kunit *test, struct prt_race *race,
		    void (*fn)(struct prt_race_worker *w), unsigned int n)
{
	unsigned int i;

	KUNIT_ASSERT_LE(test, n, PRT_RACE_MAX_WORKERS);
	for (i = 0; i < n; i++)
		prt_race_run(test, race, &race->workers[i], fn, i,
			     "prt_kunit_race");
}

/* The shrinker thread: scan in a loop until the race is over. */
static void prt_race_shrink(struct prt_race_worker *w)
{
	struct prt_race *race = w->race;

	while (!prt_race_over(race)) {
		atomic_long_add(prt_shrink(race->prs, race->nr_to_scan),
				&race->reclaimed);
		cond_resched();
	}
}

void prt_race_start_shrinker(struct kunit *test, struct prt_race *race,
			     struct page_range_shrinker *prs,
			     unsigned long nr_to_scan)
{
	race->prs = prs;
	race->nr_to_scan = nr_to_scan;
	prt_race_run(test, race, &race->shrinker, prt_race_shrink, 0,
		     "prt_kunit_shrink");
}

bool prt_race_wait(struct kunit *test, struct prt_race *race)
{
	/* Workers stop by themselves at the deadline; this only bounds it. */
	unsigned long now = jiffies, timeout = PRT_RACE_STOP_TIMEOUT;
	int errors;

	if (time_before(now, race->deadline))
		timeout += race->deadline - now;
	prt_race_started(race);
	if (!wait_for_completion_timeout(&race->all_done, timeout)) {
		WRITE_ONCE(race->stop, true);
		KUNIT_FAIL(test, "race threads still ran past the deadline");
		KUNIT_ASSERT_TRUE_MSG(test,
				      wait_for_completion_timeout(&race->all_done,
								  PRT_RACE_STOP_TIMEOUT),
				      "and did not stop when told to");
	}
	/* Every worker has finished: more may start, until the deadline. */
	reinit_completion(&race->all_done);
	atomic_set(&race->running, 1);
	race->starting = true;

	errors = atomic_read(&race->errors);
	if (errors)
		KUNIT_FAIL(test, "race: %d error(s), the first: %s", errors,
			   race->first_error);
	return !errors;
}

void prt_race_stop(struct kunit *test, struct prt_race *race)
{
	if (!race)
		return;
	WRITE_ONCE(race->stop, true);
	prt_race_started(race);
	if (!wait_for_completion_timeout(&race->all_done, PRT_RACE_STOP_TIMEOUT))
		KUNIT_FAIL(test, "race threads did not stop");
}

#define PRT_EXPECT_STATES(test, range, ...)				\
	do {								\
		static const enum page_range_state _want[] = { __VA_ARGS__ }; \
		size_t _i;						\
									\
		for (_i = 0; _i < ARRAY_SIZE(_want); _i++)		\
			KUNIT_EXPECT_EQ_MSG(test,			\
				page_range_get_state(range, _i), _want[_i], \
				"page %zu", _i);			\
	} while (0)

#define F PAGE_RANGE_FREE
#define A PAGE_RANGE_AVAILABLE
#define U PAGE_RANGE_USED

/* free -> used -> available -> used, and available -> free by the shrinker. */
static void page_range_test_states(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_map *map = prt_map_new(test, 4);
	struct page_range *range = &map->range;

	PRT_EXPECT_STATES(test, range, F, F, F, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 0);

	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 2), 0);
	PRT_EXPECT_STATES(test, range, U, U, F, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 2);

	page_range_stop_using(range, 0, 2);
	PRT_EXPECT_STATES(test, range, A, A, F, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 2);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 2);

	/* Stopping again changes nothing. */
	page_range_stop_using(range, 0, 2);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 2);

	KUNIT_ASSERT_EQ(test, page_range_use(range, 1, 3), 0);
	PRT_EXPECT_STATES(test, range, A, U, U, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 1);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 3);

	/* Only the available page can go. */
	KUNIT_EXPECT_EQ(test, prt_shrink(prs, 16), 1);
	PRT_EXPECT_STATES(test, range, F, U, U, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 2);

	page_range_stop_using(range, 0, 4);
	PRT_EXPECT_STATES(test, range, F, A, A, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 2);

	/* nr_to_scan bounds the work. */
	KUNIT_EXPECT_EQ(test, prt_shrink(prs, 1), 1);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 1);
	KUNIT_EXPECT_EQ(test, prt_shrink(prs, 1), 1);
	PRT_EXPECT_STATES(test, range, F, F, F, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
}

/* An available page that is used again keeps its data. */
static void page_range_test_reuse_keeps_data(struct kunit *test)
{
	struct prt_map *map = prt_map_new(test, 2);
	struct page_range *range = &map->range;
	u8 *want = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	u8 *got = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);
	prt_fill(want, PAGE_SIZE, 7);

	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 1), 0);
	KUNIT_ASSERT_EQ(test, page_range_write(range, 0, want, PAGE_SIZE), 0);
	page_range_stop_using(range, 0, 1);
	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 1), 0);

	KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr, got, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prt_prs(test)), 1);
}

/*
 * Data written through the accessors is what the user mapping shows; after
 * a shrink the address faults, and the next use maps a zeroed page.
 */
static void page_range_test_user_view(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_map *map = prt_map_new(test, 3);
	struct page_range *range = &map->range;
	size_t off = PAGE_SIZE - 100, len = PAGE_SIZE + 300;
	u8 *want = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	u8 *got = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	unsigned long ubuf;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);

	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 3), 0);
	/* New pages are zeroed, as the user sees them. */
	KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr, got, 3 * PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, prt_all_zero(got, 3 * PAGE_SIZE));

	/* page_range_write() across a page boundary. */
	prt_fill(want, len, 1);
	KUNIT_ASSERT_EQ(test, page_range_write(range, off, want, len), 0);
	KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr + off, got, len));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);
	memset(got, 0, len);
	KUNIT_ASSERT_EQ(test, page_range_read(range, off, got, len), 0);
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);

	/* page_range_fill_zero() of the middle of that. */
	KUNIT_ASSERT_EQ(test, page_range_fill_zero(range, off + 50, 200), 0);
	memset(want + 50, 0, 200);
	KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr + off, got, len));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);

	/* page_range_copy_from_user() from a writable user buffer. */
	ubuf = kunit_vm_mmap(test, NULL, 0, 2 * PAGE_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_FALSE(test, !ubuf || IS_ERR_VALUE(ubuf));
	prt_fill(want, len, 2);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)ubuf, want, len), 0);
	ret = page_range_copy_from_user(range, off, (const void __user *)ubuf,
					len);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr + off, got, len));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);

	/* Reclaim: the user address faults. */
	page_range_stop_using(range, 0, 3);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(prs), 3);
	PRT_EXPECT_STATES(test, range, F, F, F);
	KUNIT_EXPECT_FALSE(test, prt_user_read(map->uaddr, got, 1));
	KUNIT_EXPECT_FALSE(test, prt_user_read(map->uaddr + 2 * PAGE_SIZE,
					       got, 1));

	/* Used again: a new, zeroed page, no trace of the old data. */
	KUNIT_ASSERT_EQ(test, page_range_use(range, 1, 2), 0);
	KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr + PAGE_SIZE, got,
					      PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, prt_all_zero(got, PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, prt_user_read(map->uaddr, got, 1));
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 1);
}

/*
 * One use over runs of free slots longer than a batch (32), broken up by
 * pages already used and available: every slot ends up used, the pages
 * that were there keep their data, the new ones are zeroed, and the user
 * sees each at its own address.
 */
static void page_range_test_use_batches(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_map *map = prt_map_new(test, 100);
	struct page_range *range = &map->range;
	u8 *got = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	size_t i, used, available;
	u8 mark;

	KUNIT_ASSERT_NOT_NULL(test, got);
	/* Slot 40 used, 41 available, each with its index as data. */
	KUNIT_ASSERT_EQ(test, page_range_use(range, 40, 42), 0);
	for (i = 40; i < 42; i++) {
		mark = i;
		KUNIT_ASSERT_EQ(test, page_range_write(range, i * PAGE_SIZE,
						       &mark, 1), 0);
	}
	page_range_stop_using(range, 41, 42);

	KUNIT_ASSERT_EQ(test, page_range_use(range, 3, 97), 0);
	page_range_get_counts(range, &used, &available);
	KUNIT_EXPECT_EQ(test, used, 94);
	KUNIT_EXPECT_EQ(test, available, 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 94);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 0);
	for (i = 0; i < 100; i++) {
		bool present = i >= 3 && i < 97;

		KUNIT_EXPECT_EQ(test, page_range_get_state(range, i),
				present ? PAGE_RANGE_USED : PAGE_RANGE_FREE);
		if (!present) {
			KUNIT_EXPECT_FALSE(test, prt_user_read(map->uaddr +
							       i * PAGE_SIZE,
							       got, 1));
			continue;
		}
		KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr + i * PAGE_SIZE,
						      got, PAGE_SIZE));
		KUNIT_EXPECT_EQ_MSG(test, got[0], i == 40 || i == 41 ? i : 0,
				    "page %zu", i);
		KUNIT_EXPECT_TRUE(test, prt_all_zero(got + 1, PAGE_SIZE - 1));
	}
}

/* Run @fn in a kthread that has no mm, and return its result. */
struct prt_nomm_call {
	struct page_range *range;
	struct page_range_shrinker *prs;
	int ret;
	struct completion done;
};

static int prt_nomm_init_fn(void *data)
{
	struct prt_nomm_call *call = data;

	call->ret = page_range_init(call->range, call->prs, NULL);
	complete(&call->done);
	return 0;
}

static void page_range_test_init_errors(struct kunit *test)
{
	struct prt_nomm_call call = { .prs = prt_prs(test) };
	struct task_struct *task;

	call.range = kunit_kzalloc(test, sizeof(*call.range), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, call.range);
	init_completion(&call.done);
	task = prt_kthread_run(test, prt_nomm_init_fn, &call, "prt_kunit_nomm");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&call.done, 10 * HZ));
	KUNIT_EXPECT_EQ(test, call.ret, -ESRCH);
	/* A range whose init failed reads as empty; it has a lock to take. */
	KUNIT_EXPECT_EQ(test, page_range_num_pages(call.range), 0);
	KUNIT_EXPECT_EQ(test, page_range_get_state(call.range, 0),
			PAGE_RANGE_FREE);
}

/* Owner kthread for mapping in an mm other than the test thread's. */
struct prt_owner {
	struct kunit *test;
	struct prt_map *map;
	size_t npages;
	size_t nstop;
	long mmap_ret;
	int use_ret;
	bool data_ok;
	struct completion done;
};

static void page_range_test_register_errors(struct kunit *test)
{
	struct prt_map *map, *other;
	struct vm_area_struct *vma;

	/* A VMA without VM_MIXEDMAP cannot take pages under the read lock. */
	map = prt_map_alloc(test);
	map->no_mixedmap = true;
	KUNIT_EXPECT_EQ(test, prt_map_mmap(test, map, PAGE_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, map->register_ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, page_range_num_pages(&map->range), 0);

	/* Registered once: a second mapping of the same range is refused. */
	map = prt_map_new(test, 2);
	KUNIT_EXPECT_EQ(test, kunit_vm_mmap(test, map->file, 0, PAGE_SIZE,
					    PROT_READ, MAP_SHARED, 0),
			(unsigned long)-EBUSY);
	KUNIT_EXPECT_EQ(test, map->register_ret, -EBUSY);
	KUNIT_EXPECT_EQ(test, page_range_num_pages(&map->range), 2);

	/* A VMA is capped at 4 MiB of slots. */
	other = prt_map_alloc(test);
	KUNIT_ASSERT_EQ(test, prt_map_mmap(test, other, SZ_4M + SZ_1M), 0);
	KUNIT_EXPECT_EQ(test, other->register_ret, SZ_4M >> PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, page_range_num_pages(&other->range),
			SZ_4M >> PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, page_range_use(&other->range,
					     (SZ_4M >> PAGE_SHIFT) - 1,
					     SZ_4M >> PAGE_SHIFT), 0);
	page_range_stop_using(&other->range, 0, SZ_4M >> PAGE_SHIFT);

	/*
	 * A VMA of size zero, and one of another mm, cannot come from mmap;
	 * check the validation on VMA structures that say so.
	 */
	vma = kunit_kzalloc(test, sizeof(*vma), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, vma);
	map = prt_map_alloc(test);
	KUNIT_ASSERT_EQ(test, page_range_init(&map->range, prt_prs(test), NULL),
			0);
	map->inited = true;
	vma->vm_mm = current->mm;
	vma->vm_start = 0x100000;
	vma->vm_end = vma->vm_start;
	vm_flags_init(vma, VM_MIXEDMAP);
	KUNIT_EXPECT_EQ(test, page_range_register_vma(&map->range, vma),
			-EINVAL);
	vma->vm_end = vma->vm_start + PAGE_SIZE;
	vma->vm_mm = (struct mm_struct *)vma;
	KUNIT_EXPECT_EQ(test, page_range_register_vma(&map->range, vma),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, page_range_num_pages(&map->range), 0);
}

/*
 * Bad arguments are a caller's bug, which the public functions warn about;
 * a test must not warn, so the tables below try them on the checks alone.
 * Here, the calls at the edges that are not errors.
 */
static void page_range_test_index_errors(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_map *map = prt_map_new(test, 2);
	struct page_range *range = &map->range;

	KUNIT_EXPECT_EQ(test, page_range_use(range, 1, 1), 0);
	PRT_EXPECT_STATES(test, range, F, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 0);

	KUNIT_EXPECT_EQ(test, page_range_get_state(range, 2), PAGE_RANGE_FREE);
	KUNIT_EXPECT_EQ(test, page_range_get_state(range, SIZE_MAX),
			PAGE_RANGE_FREE);
}

static void page_range_test_access_errors(struct kunit *test)
{
	struct prt_map *map = prt_map_new(test, 2);
	struct page_range *range = &map->range;
	u8 buf[16] = { 1 };
	int ret;

	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 1), 0);

	/* A user address that is not mapped. */
	ret = page_range_copy_from_user(range, 0, (const void __user *)16, 8);
	KUNIT_EXPECT_EQ(test, ret, -EFAULT);
	/* Zero bytes is a no-op anywhere. */
	KUNIT_EXPECT_EQ(test, page_range_read(range, SIZE_MAX, buf, 0), 0);

	/* Nothing was written by the failed calls. */
	KUNIT_ASSERT_TRUE(test, prt_user_read(map->uaddr + PAGE_SIZE - 16, buf,
					      16));
	KUNIT_EXPECT_TRUE(test, prt_all_zero(buf, 16));
	page_range_stop_using(range, 0, 1);
}

/* A span of slots and what page_range_valid_span() must answer. */
struct prt_span_case {
	const char *desc;
	size_t num_pages;
	size_t start;
	size_t end;
	bool valid;
};

#define PRT_4M_PAGES	(SZ_4M >> PAGE_SHIFT)

static const struct prt_span_case prt_span_cases[] = {
	{ "all slots", 2, 0, 2, true },
	{ "the last slot", 2, 1, 2, true },
	{ "empty, inside", 2, 1, 1, true },
	{ "empty, at the end", 2, 2, 2, true },
	{ "end one past the last slot", 2, 0, 3, false },
	{ "start after end", 2, 2, 1, false },
	{ "start and end SIZE_MAX", 2, SIZE_MAX, SIZE_MAX, false },
	{ "start SIZE_MAX, end inside", 2, SIZE_MAX, 1, false },
	{ "end SIZE_MAX", 2, 0, SIZE_MAX, false },
	{ "no slots (no VMA yet)", 0, 0, 1, false },
	{ "no slots, empty", 0, 0, 0, true },
	{ "the last slot of 4 MiB", PRT_4M_PAGES, PRT_4M_PAGES - 1, PRT_4M_PAGES,
	  true },
	{ "one past 4 MiB", PRT_4M_PAGES, 0, PRT_4M_PAGES + 1, false },
};

static void prt_span_case_desc(const struct prt_span_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s: [%zu, %zu) of %zu slots",
		 c->desc, c->start, c->end, c->num_pages);
}

KUNIT_ARRAY_PARAM(prt_span, prt_span_cases, prt_span_case_desc);

/* page_range_use() and page_range_stop_using() take what this accepts. */
static void page_range_test_valid_span(struct kunit *test)
{
	const struct prt_span_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, page_range_valid_span(c->num_pages, c->start,
						    c->end), c->valid);
}

/* Bytes of a range and what page_range_valid_bytes() must answer. */
struct prt_bytes_case {
	const char *desc;
	size_t num_pages;
	size_t offset;
	size_t size;
	bool valid;
};

static const struct prt_bytes_case prt_bytes_cases[] = {
	{ "both pages", 2, 0, 2 * PAGE_SIZE, true },
	{ "the last byte", 2, 2 * PAGE_SIZE - 1, 1, true },
	{ "across the page boundary", 2, PAGE_SIZE - 8, 16, true },
	{ "across the end", 2, 2 * PAGE_SIZE - 8, 16, false },
	{ "one byte past the end", 2, 2 * PAGE_SIZE, 1, false },
	{ "offset + size overflows", 2, SIZE_MAX - 4, 16, false },
	{ "size SIZE_MAX", 2, 8, SIZE_MAX, false },
	{ "offset SIZE_MAX", 2, SIZE_MAX, 2, false },
	{ "offset SIZE_MAX, one byte", 2, SIZE_MAX, 1, false },
	{ "zero bytes at the end", 2, 2 * PAGE_SIZE, 0, true },
	{ "zero bytes at SIZE_MAX", 2, SIZE_MAX, 0, true },
	{ "no slots (no VMA yet)", 0, 0, 1, false },
	{ "more slots than bytes can count", SIZE_MAX, SIZE_MAX - 1, 1, true },
};

static void prt_bytes_case_desc(const struct prt_bytes_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s: %#zx bytes at %#zx, %zu slots",
		 c->desc, c->size, c->offset, c->num_pages);
}

KUNIT_ARRAY_PARAM(prt_bytes, prt_bytes_cases, prt_bytes_case_desc);

/* The bounds the accessors check, overflow included. */
static void page_range_test_valid_bytes(struct kunit *test)
{
	const struct prt_bytes_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, page_range_valid_bytes(c->num_pages, c->offset,
						     c->size), c->valid);
}

/*
 * Bytes of a two-page range whose first page is used and second free, and
 * what page_range_valid_access() must answer.
 */
struct prt_access_case {
	const char *desc;
	size_t offset;
	size_t size;
	bool valid;
};

static const struct prt_access_case prt_access_cases[] = {
	{ "the used page", 0, PAGE_SIZE, true },
	{ "the last byte of the used page", PAGE_SIZE - 1, 1, true },
	{ "into the free page", PAGE_SIZE - 8, 16, false },
	{ "the free page", PAGE_SIZE, 1, false },
	{ "the last byte of the free page", 2 * PAGE_SIZE - 1, 1, false },
	{ "past the end", 2 * PAGE_SIZE - 8, 16, false },
	{ "offset + size overflows", SIZE_MAX - 4, 16, false },
	{ "zero bytes in the free page", PAGE_SIZE, 0, true },
	{ "zero bytes at SIZE_MAX", SIZE_MAX, 0, true },
};

static void prt_access_case_desc(const struct prt_access_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s: %#zx bytes at %#zx",
		 c->desc, c->size, c->offset);
}

KUNIT_ARRAY_PARAM(prt_access, prt_access_cases, prt_access_case_desc);

/*
 * The accessors' check on a real range: bounds, and every page present.
 * All or nothing: a span with one missing page is refused as a whole.
 */
static void page_range_test_valid_access(struct kunit *test)
{
	const struct prt_access_case *c = test->param_value;
	struct prt_map *map = prt_map_new(test, 2);
	struct page_range *range = &map->range;

	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 1), 0);
	KUNIT_EXPECT_EQ(test, page_range_valid_access(range, c->offset,
						      c->size), c->valid);
	page_range_stop_using(range, 0, 1);
}

/*
 * After munmap() and an unrelated mmap(MAP_FIXED) at the same address, the
 * shrinker still frees the range's pages and leaves the new mapping alone.
 */
static void page_range_test_impostor_vma(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_map *map = prt_map_new(test, 2);
	struct page_range *range = &map->range;
	size_t len = 2 * PAGE_SIZE;
	unsigned long addr;
	u8 *want = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *got = kunit_kmalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);

	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 2), 0);
	prt_fill(want, len, 3);
	KUNIT_ASSERT_EQ(test, page_range_write(range, 0, want, len), 0);
	page_range_stop_using(range, 0, 2);
	KUNIT_ASSERT_EQ(test, page_range_shrinker_count(prs), 2);

	KUNIT_ASSERT_EQ(test, vm_munmap(map->uaddr, len), 0);
	KUNIT_ASSERT_TRUE(test, completion_done(&map->closed));

	addr = vm_mmap(NULL, map->uaddr, len, PROT_READ | PROT_WRITE,
		       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_EQ(test, addr, map->uaddr);
	prt_fill(want, len, 4);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, want, len), 0);

	KUNIT_EXPECT_EQ(test, prt_shrink_all(prs), 2);
	PRT_EXPECT_STATES(test, range, F, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
	KUNIT_ASSERT_TRUE(test, prt_user_read(addr, got, len));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);

	/* The range never maps into the new VMA. */
	KUNIT_EXPECT_EQ(test, page_range_use(range, 0, 1), -ESRCH);
	PRT_EXPECT_STATES(test, range, F, F);
	KUNIT_ASSERT_TRUE(test, prt_user_read(addr, got, len));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);
	vm_munmap(addr, len);
}

/*
 * The owner maps, uses @npages pages with a pattern it checks through its
 * own mapping, makes the first @nstop available and exits, tearing its mm
 * down.
 */
static int prt_owner_fn(void *data)
{
	struct prt_owner *o = data;
	struct page_range *range = &o->map->range;
	size_t len = o->npages * PAGE_SIZE;
	u8 *want, *got;

	o->data_ok = false;
	o->mmap_ret = prt_map_mmap(o->test, o->map, len);
	if (o->mmap_ret)
		goto out;
	o->use_ret = page_range_use(range, 0, o->npages);
	if (o->use_ret)
		goto out;
	want = kmalloc(len, GFP_KERNEL);
	got = kmalloc(len, GFP_KERNEL);
	if (want && got) {
		prt_fill(want, len, 5);
		o->data_ok = !page_range_write(range, 0, want, len) &&
			     prt_user_read(o->map->uaddr, got, len) &&
			     !memcmp(want, got, len);
	}
	kfree(want);
	kfree(got);
	page_range_stop_using(range, 0, o->nstop);
out:
	complete(&o->done);
	return 0;
}

static void prt_run_owner(struct kunit *test, struct prt_owner *o)
{
	struct task_struct *task;

	init_completion(&o->done);
	o->test = test;
	task = prt_kthread_run(test, prt_owner_fn, o, "prt_kunit_owner");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&o->done, 30 * HZ));
	KUNIT_ASSERT_EQ(test, o->mmap_ret, 0);
	KUNIT_ASSERT_EQ(test, o->use_ret, 0);
	KUNIT_EXPECT_TRUE(test, o->data_ok);
	/* Its exit closes the VMA and drops the last user of the mm. */
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&o->map->closed,
							    PRT_CLOSE_TIMEOUT));
}

/*
 * Pages on the LRU when the owner's mm goes away are still reclaimed (Rust
 * Binder's page_range.rs skipped them for as long as the range lived), used
 * ones stay until released, and nothing can be mapped any more.
 */
static void page_range_test_owner_exit(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_owner o = { .npages = 4, .nstop = 2 };
	struct page_range *range;

	o.map = prt_map_alloc(test);
	prt_run_owner(test, &o);
	range = &o.map->range;

	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 2);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 4);
	PRT_EXPECT_STATES(test, range, A, A, U, U);

	KUNIT_EXPECT_EQ(test, prt_shrink_all(prs), 2);
	PRT_EXPECT_STATES(test, range, F, F, U, U);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 2);

	/* Nothing becomes used once the VMA is gone, present or not. */
	KUNIT_EXPECT_EQ(test, page_range_use(range, 0, 1), -ESRCH);
	KUNIT_EXPECT_EQ(test, page_range_use(range, 2, 4), -ESRCH);
	/* Used pages can still be read and released. */
	KUNIT_EXPECT_EQ(test, page_range_fill_zero(range, 2 * PAGE_SIZE, 8), 0);
	page_range_stop_using(range, 0, 4);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 2);
	KUNIT_EXPECT_EQ(test, page_range_use(range, 2, 3), -ESRCH);
	PRT_EXPECT_STATES(test, range, F, F, A, A);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(prs), 2);
	PRT_EXPECT_STATES(test, range, F, F, F, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
}

/* Destroy takes available and used pages alike, and empties the LRU. */
static void page_range_test_destroy(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_owner o = { .npages = 3, .nstop = 2 };

	o.map = prt_map_alloc(test);
	prt_run_owner(test, &o);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 2);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 3);
	prt_map_teardown(test, o.map);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
	KUNIT_EXPECT_EQ(test, prt_shrink(prs, 16), 0);
}

/* Slots of @range in @state, by a walk. */
static size_t prt_count_state(struct page_range *range,
			      enum page_range_state state)
{
	size_t i, n = page_range_num_pages(range), count = 0;

	for (i = 0; i < n; i++)
		count += page_range_get_state(range, i) == state;
	return count;
}

/*
 * The range's running counts against a walk of its slots, and the
 * shrinker's counts against both: each test's shrinker serves its ranges
 * only, and the tests that call this have a single range.
 */
static void prt_expect_counts(struct kunit *test, struct page_range *range,
			      const char *step)
{
	struct page_range_shrinker *prs = prt_prs(test);
	size_t i, n = page_range_num_pages(range), used, available;
	size_t walk[PAGE_RANGE_USED + 1] = {};

	for (i = 0; i < n; i++)
		walk[page_range_get_state(range, i)]++;
	page_range_get_counts(range, &used, &available);
	KUNIT_EXPECT_EQ_MSG(test, used, walk[PAGE_RANGE_USED], "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, available, walk[PAGE_RANGE_AVAILABLE], "%s",
			    step);
	/* Free is what the two counts leave. */
	KUNIT_EXPECT_EQ_MSG(test, n - used - available, walk[PAGE_RANGE_FREE],
			    "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, page_range_shrinker_count(prs), available,
			    "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, page_range_shrinker_nr_pages(prs),
			    used + available, "%s", step);
}

/*
 * page_range_get_counts() agrees with a slot-by-slot walk after every
 * transition: use of free and of available slots, use of used ones, stop
 * (twice, and over free slots), the shrinker, and the VMA's close with
 * pages still used.
 */
static void page_range_test_counts(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_map *map = prt_map_new(test, 8);
	struct page_range *range = &map->range;
	size_t available;

	prt_expect_counts(test, range, "new");
	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 4), 0);
	prt_expect_counts(test, range, "use 0-3");
	page_range_stop_using(range, 1, 3);
	prt_expect_counts(test, range, "stop 1-2");
	/* Already on the LRU: counted once. */
	page_range_stop_using(range, 1, 3);
	prt_expect_counts(test, range, "stop 1-2 again");
	/* Available, used and free slots at once. */
	KUNIT_ASSERT_EQ(test, page_range_use(range, 2, 6), 0);
	PRT_EXPECT_STATES(test, range, U, A, U, U, U, U, F, F);
	prt_expect_counts(test, range, "use 2-5");
	/* Free slots stay free. */
	page_range_stop_using(range, 0, 8);
	PRT_EXPECT_STATES(test, range, A, A, A, A, A, A, F, F);
	prt_expect_counts(test, range, "stop all");
	KUNIT_EXPECT_EQ(test, prt_shrink(prs, 2), 2);
	prt_expect_counts(test, range, "shrink 2");
	/* Available, or freed by the shrink: either way used now. */
	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 1), 0);
	prt_expect_counts(test, range, "use 0");

	available = prt_count_state(range, PAGE_RANGE_AVAILABLE);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(prs), available);
	prt_expect_counts(test, range, "shrink all");
	KUNIT_ASSERT_EQ(test, page_range_use(range, 6, 8), 0);
	PRT_EXPECT_STATES(test, range, U, F, F, F, F, F, U, U);
	prt_expect_counts(test, range, "use 6-7");

	/* Closed: used pages stay counted until stopped, then shrink. */
	KUNIT_ASSERT_EQ(test, vm_munmap(map->uaddr, map->len), 0);
	KUNIT_ASSERT_TRUE(test, completion_done(&map->closed));
	prt_expect_counts(test, range, "closed");
	KUNIT_EXPECT_EQ(test, page_range_use(range, 1, 2), -ESRCH);
	prt_expect_counts(test, range, "use after close");
	page_range_stop_using(range, 0, 8);
	prt_expect_counts(test, range, "stop after close");
	KUNIT_EXPECT_EQ(test, prt_shrink_all(prs), 3);
	PRT_EXPECT_STATES(test, range, F, F, F, F, F, F, F, F);
	prt_expect_counts(test, range, "shrink after close");
}

/* The blocking call of the killable tests: use one slot. */
static int prt_kill_use_fn(struct prt_kill_call *call)
{
	return page_range_use(call->range, call->arg, call->arg + 1);
}

/*
 * A fatal signal ends page_range_use()'s wait for a lock that another
 * task holds, the row choosing the range's mm_lock or its owner's mmap
 * lock: -EINTR, while the lock is still held, with the slot left free and
 * no page kept. Rust Binder's page_range.rs slept uninterruptibly there, so
 * that a receiver holding its own mmap lock parked its senders in D state.
 */
static void page_range_test_use_killable(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_ctx *ctx = test->priv;
	struct prt_map *map = prt_map_new(test, 2);
	struct page_range *range = &map->range;
	struct prt_kill_call *call;
	size_t used, available;

	call = kunit_kzalloc(test, sizeof(*call), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, call);
	/* Slot 0 used, so that the page count to keep is not zero. */
	KUNIT_ASSERT_EQ(test, page_range_use(range, 0, 1), 0);
	KUNIT_ASSERT_EQ(test, page_range_shrinker_nr_pages(prs), 1);

	call->range = range;
	call->hold_mm_lock = prt_kill_lock_param(test);
	call->fn = prt_kill_use_fn;
	call->arg = 1;
	ctx->kill_call = call;
	prt_kill_blocked_call(test, call);
	KUNIT_ASSERT_TRUE(test, call->finished);
	KUNIT_EXPECT_TRUE_MSG(test, call->blocked,
			      "page_range_use() never slept on the lock");
	KUNIT_EXPECT_TRUE_MSG(test, call->killed_in_time,
			      "SIGKILL did not end the wait within %d ms",
			      PRT_KILL_MS);
	KUNIT_EXPECT_EQ(test, call->ret, -EINTR);

	PRT_EXPECT_STATES(test, range, U, F);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 1);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), 0);
	page_range_get_counts(range, &used, &available);
	KUNIT_EXPECT_EQ(test, used, 1);
	KUNIT_EXPECT_EQ(test, available, 0);

	/* The killed waiter left no lock taken: the slot can be used now. */
	KUNIT_EXPECT_EQ(test, page_range_use(range, 1, 2), 0);
	PRT_EXPECT_STATES(test, range, U, U);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 2);
	page_range_stop_using(range, 0, 2);
}

/* ---- races ---- */

/* A race over one mapping's range: what its workers share. */
struct prt_range_race {
	struct prt_race race;
	struct page_range *range;
	unsigned long uaddr;
	size_t npages;
	/* of prt_use_use_worker(), set before each round's workers start */
	u32 round;
	atomic_long_t iterations;
};

static struct prt_range_race *prt_worker_race(struct prt_race_worker *w)
{
	return container_of(w->race, struct prt_range_race, race);
}

/*
 * The race state outlives the test thread if an assertion ends it early:
 * the exit fixture stops the threads before freeing anything.
 */
static struct prt_range_race *prt_range_race_new(struct kunit *test,
						 struct prt_map *map)
{
	struct prt_ctx *ctx = test->priv;
	struct prt_range_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	if (map) {
		r->range = &map->range;
		r->uaddr = map->uaddr;
		r->npages = page_range_num_pages(&map->range);
	}
	prt_race_init(&r->race);
	ctx->race = &r->race;
	return r;
}

/* One round of an owner thread: map, use, stop some pages, exit. */
static struct prt_map *prt_owner_round(struct kunit *test, struct prt_owner *o)
{
	struct prt_ctx *ctx = test->priv;

	/* Rounds reuse the fixture's map slot; teardown empties it. */
	ctx->nr_maps = 0;
	o->map = prt_map_alloc(test);
	prt_run_owner(test, o);
	return o->map;
}

static void prt_owner_round_end(struct kunit *test, struct prt_map *map)
{
	struct prt_ctx *ctx = test->priv;

	prt_map_teardown(test, map);
	fput(map->file);
	ctx->nr_maps = 0;
}

/*
 * Pattern of worker @id in round @round, written at the worker's own
 * 8 bytes of a page.
 */
static u64 prt_mark(unsigned int id, u32 round, size_t page)
{
	return ((u64)round << 32) | ((u64)page << 8) | id;
}

/* Check one mark through the kernel accessor and through the user view. */
static bool prt_check_mark(struct prt_range_race *r, size_t page,
			   unsigned int id, u64 want)
{
	size_t off = page * PAGE_SIZE + id * sizeof(u64);
	u64 got = 0, ugot = 0;

	if (page_range_read(r->range, off, &got, sizeof(got)) || got != want) {
		prt_race_error(&r->race,
			       "page %zu worker %u: read %llx want %llx",
			       page, id, got, want);
		return false;
	}
	if (!prt_user_read(r->uaddr + off, &ugot, sizeof(ugot)) ||
	    ugot != want) {
		prt_race_error(&r->race,
			       "page %zu worker %u: user saw %llx want %llx",
			       page, id, ugot, want);
		return false;
	}
	return true;
}

/* Borrow the range's mm so that the worker can read the user mapping. */
static struct mm_struct *prt_worker_use_mm(struct prt_range_race *r)
{
	struct mm_struct *mm = r->range->mm;

	if (!mmget_not_zero(mm))
		return NULL;
	kthread_use_mm(mm);
	return mm;
}

static void prt_worker_unuse_mm(struct mm_struct *mm)
{
	kthread_unuse_mm(mm);
	mmput(mm);
}

/* use vs use: every worker uses all pages at once and marks each. */
static void prt_use_use_worker(struct prt_race_worker *w)
{
	struct prt_range_race *r = prt_worker_race(w);
	struct mm_struct *mm = prt_worker_use_mm(r);
	size_t i;
	int ret;

	if (!mm) {
		prt_race_error(&r->race, "mm gone");
		return;
	}
	ret = page_range_use(r->range, 0, r->npages);
	if (ret) {
		prt_race_error(&r->race, "use: %d", ret);
		goto unuse;
	}
	for (i = 0; i < r->npages; i++) {
		u64 mark = prt_mark(w->id, r->round, i);

		if (page_range_write(r->range,
				     i * PAGE_SIZE + w->id * sizeof(u64),
				     &mark, sizeof(mark))) {
			prt_race_error(&r->race, "write page %zu", i);
			break;
		}
		if (!prt_check_mark(r, i, w->id, mark))
			break;
	}
unuse:
	prt_worker_unuse_mm(mm);
}

#define PRT_USE_USE_WORKERS	3

/*
 * Rounds of: all pages free; several threads use the same pages at once,
 * so that they race to allocate and insert each page; every thread finds
 * every page present and mapped, and exactly one page per slot exists.
 */
static void page_range_test_race_use_use(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_map *map = prt_map_new(test, 8);
	struct prt_range_race *r;
	u32 round;
	size_t i;
	int j;

	r = prt_range_race_new(test, map);
	for (round = 0; !prt_race_over(&r->race); round++) {
		r->round = round;
		prt_race_start(test, &r->race, prt_use_use_worker,
			       PRT_USE_USE_WORKERS);
		if (!prt_race_wait(test, &r->race))
			break;

		KUNIT_ASSERT_EQ(test, page_range_shrinker_nr_pages(prs),
				r->npages);
		for (i = 0; i < r->npages; i++) {
			KUNIT_ASSERT_EQ(test, page_range_get_state(r->range, i),
					PAGE_RANGE_USED);
			for (j = 0; j < PRT_USE_USE_WORKERS; j++) {
				u64 mark = prt_mark(j, round, i);

				KUNIT_ASSERT_TRUE(test,
						  prt_check_mark(r, i, j, mark));
			}
		}
		page_range_stop_using(r->range, 0, r->npages);
		KUNIT_ASSERT_EQ(test, page_range_shrinker_count(prs),
				r->npages);
		KUNIT_ASSERT_EQ(test, prt_shrink_all(prs), r->npages);
		KUNIT_ASSERT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
	}
	kunit_info(test, "%u rounds\n", round);
	KUNIT_EXPECT_GT(test, round, 0);
}

#define PRT_PAGES_PER_WORKER	3
#define PRT_SHARED_PAGES		4
#define PRT_USE_STOP_WORKERS	3

/*
 * use/stop vs use/stop vs the shrinker. Each worker owns a few pages: it
 * uses them, finds either its last pattern (the page survived) or zeroes (it
 * was reclaimed and replaced), writes a new pattern, checks it through the
 * user mapping and stops using them. All workers also use and stop a shared
 * set of pages without touching their data, which is allowed to race.
 */
static void prt_use_stop_worker(struct prt_race_worker *w)
{
	struct prt_range_race *r = prt_worker_race(w);
	struct mm_struct *mm = prt_worker_use_mm(r);
	size_t first = PRT_SHARED_PAGES + w->id * PRT_PAGES_PER_WORKER;
	size_t last = first + PRT_PAGES_PER_WORKER;
	u32 iter = 0;
	size_t i;
	int ret;

	if (!mm) {
		prt_race_error(&r->race, "mm gone");
		return;
	}
	while (!prt_race_over(&r->race)) {
		ret = page_range_use(r->range, first, last);
		if (ret) {
			prt_race_error(&r->race, "use own: %d", ret);
			break;
		}
		for (i = first; i < last; i++) {
			u64 old = 0, mark = prt_mark(w->id, iter + 1, i);
			size_t off = i * PAGE_SIZE + w->id * sizeof(u64);

			/* A failed read must not pass for a reclaimed page. */
			if (page_range_read(r->range, off, &old, sizeof(old))) {
				prt_race_error(&r->race, "read page %zu", i);
				break;
			}
			if (old && old != prt_mark(w->id, iter, i)) {
				prt_race_error(&r->race, "page %zu: found %llx",
					       i, old);
				break;
			}
			if (page_range_write(r->range, off, &mark,
					     sizeof(mark))) {
				prt_race_error(&r->race, "write page %zu", i);
				break;
			}
			if (!prt_check_mark(r, i, w->id, mark))
				break;
		}
		iter++;
		page_range_stop_using(r->range, first, last);

		ret = page_range_use(r->range, 0, PRT_SHARED_PAGES);
		if (ret) {
			prt_race_error(&r->race, "use shared: %d", ret);
			break;
		}
		page_range_stop_using(r->range, w->id % PRT_SHARED_PAGES,
				      PRT_SHARED_PAGES);
		atomic_long_inc(&r->iterations);
		cond_resched();
	}
	prt_worker_unuse_mm(mm);
}

static void page_range_test_race_use_stop_shrink(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_range_race *r;
	struct prt_map *map;
	size_t i, present = 0;

	map = prt_map_new(test, PRT_SHARED_PAGES +
			  PRT_USE_STOP_WORKERS * PRT_PAGES_PER_WORKER);
	r = prt_range_race_new(test, map);
	prt_race_start(test, &r->race, prt_use_stop_worker,
		       PRT_USE_STOP_WORKERS);
	prt_race_start_shrinker(test, &r->race, prs, PRT_RACE_NR_TO_SCAN);
	prt_race_wait(test, &r->race);
	kunit_info(test, "%ld iterations, %ld pages reclaimed while racing\n",
		   atomic_long_read(&r->iterations),
		   atomic_long_read(&r->race.reclaimed));

	/* Exact accounting: every present page is counted once. */
	for (i = 0; i < r->npages; i++)
		if (page_range_get_state(r->range, i) != PAGE_RANGE_FREE)
			present++;
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), present);
	/* The running counts survived the race too. */
	prt_expect_counts(test, r->range, "after the race");
	page_range_stop_using(r->range, 0, r->npages);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(prs), present);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(prs), present);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&r->iterations), 0);
	/* The shrinker took pages the workers were about to use again. */
	KUNIT_EXPECT_GT(test, atomic_long_read(&r->race.reclaimed), 0);
}

/*
 * destroy vs the shrinker: ranges whose pages sit on the LRU are destroyed
 * while a thread scans in a loop. Each page is freed exactly once, by one
 * or the other.
 */
static void page_range_test_race_destroy_shrink(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_owner o = { .npages = 16, .nstop = 16 };
	unsigned int rounds = 0;
	struct prt_race *race;

	race = &prt_range_race_new(test, NULL)->race;
	prt_race_start_shrinker(test, race, prs, PRT_RACE_NR_TO_SCAN);

	while (!prt_race_over(race)) {
		/* The owner thread's exit closes the VMA; its mm is gone. */
		prt_owner_round_end(test, prt_owner_round(test, &o));
		KUNIT_ASSERT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
		KUNIT_ASSERT_EQ(test, page_range_shrinker_count(prs), 0);
		rounds++;
	}
	prt_race_wait(test, race);
	kunit_info(test, "%u rounds, %ld pages reclaimed by the shrinker\n",
		   rounds, atomic_long_read(&race->reclaimed));
	KUNIT_EXPECT_GT(test, rounds, 0);
}

/*
 * The owner's mm goes away (its last mmput) while its pages sit on the LRU
 * and a thread scans in a loop.
 */
static void page_range_test_race_mmput_shrink(struct kunit *test)
{
	struct page_range_shrinker *prs = prt_prs(test);
	struct prt_owner o = { .npages = 16, .nstop = 12 };
	unsigned int rounds = 0;
	struct prt_race *race;

	race = &prt_range_race_new(test, NULL)->race;
	prt_race_start_shrinker(test, race, prs, PRT_RACE_NR_TO_SCAN);

	while (!prt_race_over(race)) {
		size_t i, present = 0;

		prt_owner_round(test, &o);
		for (i = 0; i < o.npages; i++)
			if (page_range_get_state(&o.map->range, i) !=
			    PAGE_RANGE_FREE)
				present++;
		KUNIT_EXPECT_GE(test, present, o.npages - o.nstop);
		/* Used pages stay until released, whatever the shrinker does. */
		for (i = o.nstop; i < o.npages; i++)
			KUNIT_EXPECT_EQ(test,
					page_range_get_state(&o.map->range, i),
					PAGE_RANGE_USED);
		page_range_stop_using(&o.map->range, 0, o.npages);
		while (page_range_shrinker_count(prs) && !prt_race_over(race))
			cond_resched();
		prt_owner_round_end(test, o.map);
		KUNIT_ASSERT_EQ(test, page_range_shrinker_nr_pages(prs), 0);
		rounds++;
	}
	prt_race_wait(test, race);
	kunit_info(test, "%u rounds, %ld pages reclaimed by the shrinker\n",
		   rounds, atomic_long_read(&race->reclaimed));
	KUNIT_EXPECT_GT(test, atomic_long_read(&race->reclaimed), 0);
}

static struct kunit_case page_range_test_cases[] = {
	KUNIT_CASE(page_range_test_states),
	KUNIT_CASE(page_range_test_reuse_keeps_data),
	KUNIT_CASE(page_range_test_user_view),
	KUNIT_CASE(page_range_test_use_batches),
	KUNIT_CASE(page_range_test_init_errors),
	KUNIT_CASE(page_range_test_register_errors),
	KUNIT_CASE(page_range_test_index_errors),
	KUNIT_CASE(page_range_test_access_errors),
	KUNIT_CASE_PARAM(page_range_test_valid_span, prt_span_gen_params),
	KUNIT_CASE_PARAM(page_range_test_valid_bytes, prt_bytes_gen_params),
	KUNIT_CASE_PARAM(page_range_test_valid_access, prt_access_gen_params),
	KUNIT_CASE(page_range_test_impostor_vma),
	KUNIT_CASE(page_range_test_owner_exit),
	KUNIT_CASE(page_range_test_destroy),
	KUNIT_CASE(page_range_test_counts),
	KUNIT_CASE_PARAM(page_range_test_use_killable, prt_kill_lock_gen_params),
	KUNIT_CASE_SLOW(page_range_test_race_use_use),
	KUNIT_CASE_SLOW(page_range_test_race_use_stop_shrink),
	KUNIT_CASE_SLOW(page_range_test_race_destroy_shrink),
	KUNIT_CASE_SLOW(page_range_test_race_mmput_shrink),
	{}
};

static struct kunit_suite page_range_test_suite = {
	.name = "binder_page_range",
	.init = prt_test_init,
	.exit = prt_test_exit,
	.test_cases = page_range_test_cases,
};

kunit_test_suite(page_range_test_suite);

MODULE_DESCRIPTION("KUnit tests for the shrinkable page range");
MODULE_LICENSE("GPL");
