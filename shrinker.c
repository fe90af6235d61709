// SPDX-License-Identifier: GPL-2.0
/*
 * The shrinker behind page ranges: a list_lru of available pages, and the
 * reclaim callback that frees them.
 *
 * The callback is entered with the list_lru lock held, the last lock in
 * the page range's order (mm_lock, mmap lock, range spinlock, lru lock), so
 * it takes every other lock with a trylock and skips the page when one is
 * contended.
 *
 * Copyright (C) 2025 Google LLC.
 */

#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#include "page_range_internal.h"
#include "trace.h"

/**
 * page_range_free_page() - free one available page, the list_lru callback
 * @item: &page_range_page.lru of the page
 * @list: the list @item is on
 * @lru_lock: the lock of @list, held on entry and on return
 *
 * The page's range stays valid while @lru_lock is held: page_range_destroy()
 * takes its pages off the LRU under that lock. Past the point where we drop
 * it, mm_lock keeps the range alive instead, as destroy takes it too.
 *
 * Whether the user mapping must be zapped is decided from the range's own
 * state, not from a VMA lookup alone: once the registered VMA was closed,
 * whatever is mapped at its old address belongs to someone else. Pages of a
 * closed VMA, or of an mm that has no users left, are freed without a zap,
 * so they do not stay stuck on the LRU.
 *
 * Return: %LRU_REMOVED_RETRY once the page is freed (the lock was dropped),
 * %LRU_SKIP if a lock was contended.
 */
static enum lru_status page_range_free_page(struct list_head *item,
					    struct list_lru_one *list,
					    spinlock_t *lru_lock)
	__must_hold(lru_lock)
{
	struct page_range_page *info =
		container_of(item, struct page_range_page, lru);
	/*
	 * A slot on the LRU has a page, which points back to its range (see
	 * page_range_insert()): neither changes while we hold the lru lock.
	 */
	struct page_range *range =
		(struct page_range *)page_private(READ_ONCE(info->page));
	struct page_range_shrinker *prs = range->prs;
	struct vm_area_struct *vma = NULL;
	struct mm_struct *mm = NULL;
	unsigned long addr;
	struct page *page;
	size_t index;
	pid_t pid;

	/* mm_lock ranks first: a trylock, as we hold the lru lock. */
	if (!mutex_trylock(&range->mm_lock))
		goto err_mm_lock;
	/* Tell destroy to wait until we are done with mm_lock's memory. */
	range->reclaimed = true;

	/*
	 * Without users the mm is being torn down, which unmaps our pages;
	 * no zap is due and no new page can be inserted (that needs
	 * mmget_not_zero() too).
	 */
	if (mmget_not_zero(range->mm)) {
		mm = range->mm;
		if (!mmap_read_trylock(mm))
			goto err_mmap_lock;
	}
	if (!spin_trylock(&range->lock))
		goto err_range_lock;

	/*
	 * Holding the mmap lock for reading, with the VMA not closed, a VMA
	 * found at our address is the registered one, or none if munmap()
	 * detached it and is about to close it (and zaps the page itself).
	 */
	index = info - range->pages;
	addr = range->vma_addr + (index << PAGE_SHIFT);
	pid = range->pid;
	if (mm && !range->vma_closed) {
		vma = vma_lookup(mm, range->vma_addr);
		if (vma != range->vma)
			vma = NULL;
	}

	page = info->page;
	/* Pairs with the accessors' READ_ONCE(), as in page_range_use(). */
	WRITE_ONCE(info->page, NULL);
	list_lru_isolate(list, item);
	range->nr_present--;
	range->nr_available--;
	spin_unlock(&range->lock);

	/*
	 * The slot is free now, but no page can be inserted at addr before
	 * the zap below: insertion takes mm_lock, which we hold. From here on
	 * the range and its slots may only be reached through mm_lock.
	 */
	spin_unlock(lru_lock);

	if (vma)
		zap_page_range_single(vma, addr, PAGE_SIZE, NULL);
	trace_page_range_reclaim(pid, index, !!vma);
	if (mm) {
		mmap_read_unlock(mm);
		mmput_async(mm);
	}

	/*
	 * destroy may free the range as soon as it owns mm_lock, but
	 * mutex_unlock() can touch the mutex after handing it over: unlock
	 * inside an RCU read-side section that destroy waits for. (The
	 * error path below unlocks with the lru lock held and our page still
	 * on the LRU, so destroy cannot get past list_lru_del() before the
	 * unlock is complete.)
	 */
	rcu_read_lock();
	mutex_unlock(&range->mm_lock);
	rcu_read_unlock();

	set_page_private(page, 0);
	__free_page(page);
	atomic_long_dec(&prs->nr_pages);

	spin_lock(lru_lock);
	return LRU_REMOVED_RETRY;

err_range_lock:
	if (mm)
		mmap_read_unlock(mm);
err_mmap_lock:
	if (mm)
		mmput_async(mm);
	mutex_unlock(&range->mm_lock);
err_mm_lock:
	return LRU_SKIP;
}

#ifdef PAGE_RANGE_LRU_CB_HAS_LOCK_ARG
static enum lru_status page_range_lru_isolate(struct list_head *item,
					      struct list_lru_one *list,
					      spinlock_t *lock, void *arg)
{
	return page_range_free_page(item, list, lock);
}
#else
static enum lru_status page_range_lru_isolate(struct list_head *item,
					      struct list_lru_one *list,
					      void *arg)
{
	return page_range_free_page(item, list, &list->lock);
}
#endif

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

	return list_lru_shrink_walk(&prs->lru, sc, page_range_lru_isolate,
				    NULL);
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
	/* A memcg-aware list_lru takes the shrinker's id: allocate it first. */
	shrinker = shrinker_alloc(SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE,
				  "%s", name);
	if (!shrinker)
		return -ENOMEM;
	ret = list_lru_init_memcg(&prs->lru, shrinker);
	if (ret)
		goto err_shrinker;
	prs->lru_cache = kmem_cache_create(name, sizeof(long), 0,
					   SLAB_ACCOUNT, NULL);
	if (!prs->lru_cache) {
		ret = -ENOMEM;
		goto err_lru;
	}
	shrinker->count_objects = page_range_shrink_count;
	shrinker->scan_objects = page_range_shrink_scan;
	shrinker->private_data = prs;
	prs->shrinker = shrinker;
	shrinker_register(shrinker);
	return 0;

err_lru:
	list_lru_destroy(&prs->lru);
err_shrinker:
	shrinker_free(shrinker);
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
	obj = kmem_cache_alloc_lru(prs->lru_cache, &prs->lru,
				   GFP_KERNEL_ACCOUNT);
	set_active_memcg(old_memcg);
	if (!obj)
		return -ENOMEM;
	kmem_cache_free(prs->lru_cache, obj);
	return 0;
}

/**
 * page_range_shrinker_unregister() - tear down a registered shrinker
 * @prs: the shrinker; no page range may use it any more
 *
 * Waits for running callbacks to finish before freeing the list_lru.
 *
 * Context: Process context; may sleep.
 */
void page_range_shrinker_unregister(struct page_range_shrinker *prs)
{
	shrinker_free(prs->shrinker);
	prs->shrinker = NULL;
	if (list_lru_count(&prs->lru) || atomic_long_read(&prs->nr_pages))
		pr_err("page_range: shrinker unregistered with %lu pages left\n",
		       atomic_long_read(&prs->nr_pages));
	list_lru_destroy(&prs->lru);
	kmem_cache_destroy(prs->lru_cache);
	prs->lru_cache = NULL;
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
	/*
	 * list_lru counts without its lock: 6.12's list_lru_count_node()
	 * reads nr_items plainly while a walk updates it under the lock.
	 * A count is a hint for reclaim, or a snapshot for statistics, and
	 * a stale one is fine: tell KCSAN the race is intended.
	 */
	return data_race(list_lru_count(&prs->lru));
}
EXPORT_SYMBOL_NS_GPL(page_range_shrinker_count, PAGE_RANGE_NS);

/**
 * page_range_shrinker_scan() - free up to @nr_to_scan available pages
 * @prs: the shrinker
 * @nr_to_scan: how many LRU entries to look at
 *
 * The shrinker's scan_objects, callable directly for tests and benchmarks.
 * Pages whose locks are contended are skipped, so fewer than @nr_to_scan
 * pages may be freed even when that many are available.
 *
 * Context: Process context; may sleep (zapping user mappings).
 * Return: the number of pages freed.
 */
unsigned long page_range_shrinker_scan(struct page_range_shrinker *prs,
				       unsigned long nr_to_scan)
{
	return list_lru_walk(&prs->lru, page_range_lru_isolate, NULL,
			     nr_to_scan);
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
