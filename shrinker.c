// SPDX-License-Identifier: GPL-2.0
/*
 * The shrinker behind page ranges: a list_lru of available pages, and the
 * reclaim callback that frees them.
 *
 * The callback is entered with the list_lru lock held, the last lock in
 * the page range's order (mm_lock, mmap lock, range spinlock, lru lock), so
 * it takes every other lock with a trylock and passes over the page when
 * one is contended. Pages are reclaimed in runs of contiguous slots, with
 * one zap of the user mapping per run.
 *
 * Based on Rust Binder's page_range.rs, Copyright (C) 2025 Google LLC.
 * Copyright (C) 2026 The binder_page_range authors.
 */

#include <linux/cleanup.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#include "page_range_internal.h"
#include "page_range_trace.h"

/* Most pages reclaimed with one zap, one TLB flush. */
#define PAGE_RANGE_RECLAIM_BATCH	16

/**
 * struct page_range_reclaim - pages isolated by one walk, not yet freed
 * @range: the range they belong to; its mm_lock is held while @range is set
 * @mm: the range's mm, pinned and read-locked, or NULL if it has no users
 * @vma: the registered VMA, to zap the pages from, or NULL if closed
 * @nr: number of pages
 * @index: slot index of each page, in the order isolated
 * @pages: the pages
 *
 * Reclaim works in batches: the callback isolates available pages of one
 * range while holding that range's locks, and page_range_reclaim_flush()
 * zaps them from the user mapping, one call (one TLB flush) per run of
 * contiguous slots, and frees them, once the lru lock is dropped.
 * page_range_stop_using() puts a run of pages on the LRU next to each
 * other, so a batch is usually one run.
 */
struct page_range_reclaim {
	struct page_range *range;
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	unsigned int nr;
	u16 index[PAGE_RANGE_RECLAIM_BATCH];
	struct page *pages[PAGE_RANGE_RECLAIM_BATCH];
};

/* Zap the runs of contiguous slots among @rc's pages. */
static void page_range_reclaim_zap(struct page_range_reclaim *rc)
{
	unsigned long base = rc->range->vma_addr;
	unsigned int i, j, run;
	u16 idx;

	/* Insertion sort: a batch is small, and usually sorted backwards. */
	for (i = 1; i < rc->nr; i++) {
		idx = rc->index[i];
		for (j = i; j && rc->index[j - 1] > idx; j--)
			rc->index[j] = rc->index[j - 1];
		rc->index[j] = idx;
	}
	for (i = 0; i < rc->nr; i += run) {
		for (run = 1; i + run < rc->nr &&
		     rc->index[i + run] == rc->index[i] + run;)
			run++;
		zap_page_range_single(rc->vma,
				      base + ((unsigned long)rc->index[i] << PAGE_SHIFT),
				      (unsigned long)run << PAGE_SHIFT, NULL);
	}
}

/* Drop the locks that @rc holds on its range. */
static void page_range_reclaim_unlock(struct page_range_reclaim *rc)
{
	if (rc->mm) {
		mmap_read_unlock(rc->mm);
		mmput_async(rc->mm);
	}
	/*
	 * destroy may free the range as soon as it owns mm_lock, but
	 * mutex_unlock() can touch the mutex after handing it over: unlock
	 * inside an RCU read-side section that destroy waits for.
	 */
	rcu_read_lock();
	mutex_unlock(&rc->range->mm_lock);
	rcu_read_unlock();
	rc->range = NULL;
	rc->nr = 0;
}

/*
 * Zap and free the pages of @rc, and drop the locks that held the range.
 * Runs without the lru lock: zapping sleeps.
 */
static void page_range_reclaim_flush(struct page_range_reclaim *rc)
{
	struct page_range *range = rc->range;
	unsigned int i;

	if (!range)
		return;
	/*
	 * The slots are free, but no page can be inserted there before the
	 * zap: insertion takes mm_lock, which we hold.
	 */
	if (rc->vma)
		page_range_reclaim_zap(rc);
	for (i = 0; i < rc->nr; i++) {
		trace_page_range_reclaim(range->pid, rc->index[i], !!rc->vma);
		set_page_private(rc->pages[i], 0);
		__free_page(rc->pages[i]);
	}
	/* Before mm_lock goes: destroy, once it has it, sees the count true. */
	atomic_long_sub(rc->nr, &range->prs->nr_pages);
	page_range_reclaim_unlock(rc);
}

/*
 * Take the locks that let @rc collect pages of @range: mm_lock, and the
 * mmap lock of its mm if it still has users. mm_lock ranks first in the
 * range's order and the mmap lock second, and we hold the lru lock: both
 * are trylocks. Returns false if one is contended.
 */
static bool page_range_reclaim_lock(struct page_range_reclaim *rc,
				    struct page_range *range)
{
	struct mm_struct *mm = NULL;

	if (!mutex_trylock(&range->mm_lock))
		return false;
	/* Tell destroy to wait until we are done with mm_lock's memory. */
	range->reclaimed = true;

	/*
	 * Without users the mm is being torn down, which unmaps our pages;
	 * no zap is due and no new page can be inserted (that needs
	 * mmget_not_zero() too).
	 */
	if (mmget_not_zero(range->mm)) {
		mm = range->mm;
		if (!mmap_read_trylock(mm)) {
			mmput_async(mm);
			mutex_unlock(&range->mm_lock);
			return false;
		}
	}
	rc->range = range;
	rc->mm = mm;
	rc->vma = NULL;
	return true;
}

/**
 * page_range_isolate() - take one available page for reclaim, the callback
 * @item: &page_range_page.lru of the page
 * @list: the list @item is on
 * @lru_lock: the lock of @list, held on entry and on return
 * @arg: the batch being collected, a &struct page_range_reclaim (@rc)
 *
 * The page's range stays valid while @lru_lock is held:
 * page_range_destroy() takes its pages off the LRU under that lock. Once
 * @rc holds the range's mm_lock, that keeps the range alive instead, as
 * destroy takes it too. A page of another range, or one more than @rc
 * holds, first has @rc flushed, with @lru_lock dropped meanwhile, and is
 * then retried.
 *
 * Whether the user mapping must be zapped is decided from the range's own
 * state, not from a VMA lookup alone: once the registered VMA was closed,
 * whatever is mapped at its old address belongs to someone else. Pages of a
 * closed VMA, or of an mm that has no users left, are freed without a zap,
 * so they do not stay stuck on the LRU.
 *
 * Return: %LRU_REMOVED once the page is in @rc; %LRU_RETRY after a flush
 * (the lock was dropped and taken again); %LRU_ROTATE if a lock was
 * contended, so that the page is retried after the others instead of
 * holding up the walk at the head of the list.
 */
static enum lru_status page_range_isolate(struct list_head *item,
					  struct list_lru_one *list,
					  spinlock_t *lru_lock, void *arg)
	__must_hold(lru_lock)
{
	struct page_range_reclaim *rc = arg;
	struct page_range_page *info =
		container_of(item, struct page_range_page, lru);
	/*
	 * A slot on the LRU has a page, which points back to its range (see
	 * page_range_insert()): neither changes while we hold the lru lock.
	 */
	struct page *page = READ_ONCE(info->page);
	struct page_range *range = (struct page_range *)page_private(page);
	size_t index = info - range->pages;

	if (rc->range && (range != rc->range ||
			  rc->nr == PAGE_RANGE_RECLAIM_BATCH)) {
		/*
		 * The flush sleeps: drop the lru lock. Nothing of @item is
		 * touched after that (its range may go once unlocked), and
		 * LRU_RETRY has the walker start the list again, which may
		 * have changed meanwhile.
		 */
		spin_unlock(lru_lock);
		page_range_reclaim_flush(rc);
		spin_lock(lru_lock);
		return LRU_RETRY;
	}
	if (!rc->range && !page_range_reclaim_lock(rc, range))
		return LRU_ROTATE;
	if (!spin_trylock(range->lock)) {
		/* A batch keeps its locks for its next page. */
		if (!rc->nr)
			page_range_reclaim_unlock(rc);
		return LRU_ROTATE;
	}

	/*
	 * Holding the mmap lock for reading, with the VMA not closed, a VMA
	 * found at our address is the registered one, or none if munmap()
	 * detached it and is about to close it (and zaps the page itself).
	 */
	if (!rc->nr && rc->mm && !range->vma_closed) {
		rc->vma = vma_lookup(rc->mm, range->vma_addr);
		if (rc->vma != range->vma)
			rc->vma = NULL;
	}
	/* Pairs with the accessors' READ_ONCE(), as in page_range_use(). */
	WRITE_ONCE(info->page, NULL);
	list_lru_isolate(list, item);
	range->nr_present--;
	range->nr_available--;
	spin_unlock(range->lock);

	rc->index[rc->nr] = index;
	rc->pages[rc->nr++] = page;
	return LRU_REMOVED;
}

/*
 * Reclaim comes per node and, for reclaim aimed at a memory cgroup (its
 * limit, or memory.reclaim), per cgroup: count and free only the pages of
 * that node and cgroup, which are on their own list (see
 * page_range_shrinker_prepare()).
 */
static unsigned long page_range_shrink_count(struct shrinker *shrinker,
					     struct shrink_control *sc)
{
	struct page_range_shrinker *prs = shrinker->private_data;
	/* Lockless, and a hint: see page_range_shrinker_count(). */
	unsigned long count = data_race(list_lru_shrink_count(&prs->lru, sc));

	return count ? count : SHRINK_EMPTY;
}

static unsigned long page_range_shrink_scan(struct shrinker *shrinker,
					    struct shrink_control *sc)
{
	struct page_range_shrinker *prs = shrinker->private_data;
	struct page_range_reclaim rc = {};
	unsigned long freed;

	freed = list_lru_shrink_walk(&prs->lru, sc, page_range_isolate,
				     &rc);
	page_range_reclaim_flush(&rc);
	return freed;
}

/*
 * The cache of page_range_shrinker_prepare(), shared by every shrinker:
 * created with the first (the driver's own, at module load) and destroyed
 * with the last, so it exists while any shrinker does. The counting is
 * under page_range_lru_cache_lock. One cache rather than one per shrinker:
 * fewer caches, and none created by tests running under fault injection.
 */
static DEFINE_MUTEX(page_range_lru_cache_lock);
static struct kmem_cache *page_range_lru_cache;
static unsigned int page_range_lru_cache_users;

static int page_range_lru_cache_get(void)
{
	guard(mutex)(&page_range_lru_cache_lock);
	if (!page_range_lru_cache_users) {
		page_range_lru_cache = kmem_cache_create("page_range_lru",
							 sizeof(long), 0,
							 SLAB_ACCOUNT, NULL);
		if (!page_range_lru_cache)
			return -ENOMEM;
	}
	page_range_lru_cache_users++;
	return 0;
}

static void page_range_lru_cache_put(void)
{
	guard(mutex)(&page_range_lru_cache_lock);
	if (!--page_range_lru_cache_users) {
		kmem_cache_destroy(page_range_lru_cache);
		page_range_lru_cache = NULL;
	}
}

/**
 * page_range_shrinker_register() - set up a shrinker and its list_lru
 * @prs: the shrinker, zeroed or unused
 * @name: name shown in debugfs (CONFIG_SHRINKER_DEBUG)
 *
 * The shrinker is NUMA- and memcg-aware: each available page is on the
 * list of its node and of its range owner's memory cgroup, so reclaim on
 * one node, or aimed at one cgroup, frees those pages first.
 *
 * Context: Process context; may sleep.
 * Return: 0, or -ENOMEM.
 */
int page_range_shrinker_register(struct page_range_shrinker *prs,
				 const char *name)
{
	struct shrinker *shrinker;
	int ret;

	atomic_long_set(&prs->nr_pages, 0);
	ret = page_range_lru_cache_get();
	if (ret)
		return ret;
	/* A memcg-aware list_lru takes the shrinker's id: allocate it first. */
	shrinker = shrinker_alloc(SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE,
				  "%s", name);
	if (!shrinker) {
		ret = -ENOMEM;
		goto err_cache;
	}
	ret = list_lru_init_memcg(&prs->lru, shrinker);
	if (ret)
		goto err_shrinker;
	shrinker->count_objects = page_range_shrink_count;
	shrinker->scan_objects = page_range_shrink_scan;
	shrinker->private_data = prs;
	prs->shrinker = shrinker;
	shrinker_register(shrinker);
	return 0;

err_shrinker:
	shrinker_free(shrinker);
err_cache:
	page_range_lru_cache_put();
	return ret;
}
EXPORT_SYMBOL_NS_GPL(page_range_shrinker_register, PAGE_RANGE_NS);

/*
 * page_range_shrinker_prepare() - make room on the LRU for a cgroup's pages
 * @prs: the shrinker
 * @memcg: the cgroup whose pages will go on @prs's LRU, or NULL
 *
 * A memcg-aware list_lru has one list per cgroup, allocated before the
 * first item of that cgroup is added; list_lru_add() would otherwise find
 * no list. memcg_list_lru_alloc(), which allocates them, is not exported,
 * but kmem_cache_alloc_lru() calls it for the cgroup that a charged
 * allocation is charged to, and for its ancestors: one such allocation
 * does it, and the object is not needed. Lists stay until the list_lru is
 * destroyed; a cgroup that goes offline hands its items and its list index
 * to its parent, whose list exists too.
 *
 * Context: Process context; may sleep.
 * Return: 0, or -ENOMEM.
 */
int page_range_shrinker_prepare(struct page_range_shrinker *prs,
				struct mem_cgroup *memcg)
{
	struct mem_cgroup *old_memcg;
	void *obj;

	if (!memcg)
		return 0;
	old_memcg = set_active_memcg(memcg);
	obj = kmem_cache_alloc_lru(page_range_lru_cache, &prs->lru,
				   GFP_KERNEL_ACCOUNT);
	set_active_memcg(old_memcg);
	if (!obj)
		return -ENOMEM;
	kmem_cache_free(page_range_lru_cache, obj);
	return 0;
}

/**
 * page_range_shrinker_unregister() - tear down a registered shrinker
 * @prs: the shrinker; no page range may use it any more
 *
 * Waits for running callbacks to finish before freeing the list_lru. Pages
 * still counted are a caller's bug (a range not destroyed): warned about.
 *
 * Context: Process context; may sleep.
 */
void page_range_shrinker_unregister(struct page_range_shrinker *prs)
{
	shrinker_free(prs->shrinker);
	prs->shrinker = NULL;
	/* The caller's bug: a range it did not destroy leaks its pages. */
	WARN_ONCE(list_lru_count(&prs->lru) || atomic_long_read(&prs->nr_pages),
		  "shrinker unregistered with %ld pages left\n",
		  atomic_long_read(&prs->nr_pages));
	list_lru_destroy(&prs->lru);
	page_range_lru_cache_put();
}
EXPORT_SYMBOL_NS_GPL(page_range_shrinker_unregister, PAGE_RANGE_NS);

/**
 * page_range_shrinker_count() - number of available pages
 * @prs: the shrinker
 *
 * The shrinker's count_objects, callable directly for tests and statistics.
 *
 * Context: Any context.
 * Return: the number of pages on the LRU, over all nodes.
 */
unsigned long page_range_shrinker_count(struct page_range_shrinker *prs)
{
	unsigned long count = 0;
	int nid;

	/*
	 * Every node with memory: list_lru_count() counts the nodes with
	 * normal memory only, and our pages may be highmem.
	 */
	for_each_node_state(nid, N_MEMORY) {
		/*
		 * list_lru counts without its lock: 6.12's
		 * list_lru_count_node() reads nr_items plainly while a walk
		 * updates it under the lock. A count is a hint for reclaim,
		 * or a snapshot for statistics, and a stale one is fine.
		 */
		count += data_race(list_lru_count_node(&prs->lru, nid));
	}
	return count;
}
EXPORT_SYMBOL_NS_GPL(page_range_shrinker_count, PAGE_RANGE_NS);

/**
 * page_range_shrinker_scan() - free up to @nr_to_scan available pages
 * @prs: the shrinker
 * @nr_to_scan: how many LRU entries to look at
 *
 * The shrinker's scan_objects, callable directly for tests and benchmarks.
 * Pages whose locks are contended are passed over, and moving on from a
 * batch of one range's pages to the next range costs an entry, so fewer
 * than @nr_to_scan pages may be freed even when that many are available.
 *
 * Context: Process context; may sleep (zapping user mappings).
 * Return: the number of pages freed.
 */
unsigned long page_range_shrinker_scan(struct page_range_shrinker *prs,
				       unsigned long nr_to_scan)
{
	struct page_range_reclaim rc = {};
	unsigned long freed = 0;
	int nid;

	/* Every node with memory, as page_range_shrinker_count(). */
	for_each_node_state(nid, N_MEMORY) {
		freed += list_lru_walk_node(&prs->lru, nid,
					    page_range_isolate, &rc,
					    &nr_to_scan);
		if (!nr_to_scan)
			break;
	}
	page_range_reclaim_flush(&rc);
	return freed;
}
EXPORT_SYMBOL_NS_GPL(page_range_shrinker_scan, PAGE_RANGE_NS);

/**
 * page_range_shrinker_nr_pages() - number of allocated pages
 * @prs: the shrinker
 *
 * Context: Any context.
 * Return: pages held by the page ranges of @prs, used or available.
 */
unsigned long page_range_shrinker_nr_pages(struct page_range_shrinker *prs)
{
	return atomic_long_read(&prs->nr_pages);
}
EXPORT_SYMBOL_NS_GPL(page_range_shrinker_nr_pages, PAGE_RANGE_NS);

/*
 * The shrinker that page ranges share, as Rust Binder's page ranges share
 * one: one list_lru, so reclaim takes the coldest pages of every user
 * alike, and one entry in the kernel's shrinker list. Registered when the
 * library is loaded, before its users: a subsys initcall when built in.
 */
struct page_range_shrinker page_range_global_shrinker;
EXPORT_SYMBOL_NS_GPL(page_range_global_shrinker, PAGE_RANGE_NS);

static int __init page_range_module_init(void)
{
	return page_range_shrinker_register(&page_range_global_shrinker,
					    "page_range");
}
subsys_initcall(page_range_module_init);

/* Every user module holds a reference, so every range is destroyed. */
static void __exit page_range_module_exit(void)
{
	page_range_shrinker_unregister(&page_range_global_shrinker);
}
module_exit(page_range_module_exit);
