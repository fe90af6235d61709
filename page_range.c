// SPDX-License-Identifier: GPL-2.0
/*
 * Shrinkable page range: page slots over a process's read-only VMA.
 *
 * A slot is free (no page), used (page present and mapped, off the LRU) or
 * available (page present and on the shrinker's list_lru). page_range_use()
 * makes slots used, allocating and mapping pages where needed;
 * page_range_stop_using() makes them available; the shrinker (shrinker.c)
 * frees available pages under memory pressure.
 *
 * Lock order:
 *
 *   1. range->mm_lock (mutex)
 *   2. the mmap lock of range->mm
 *   3. range->lock (spinlock)
 *   4. the list_lru lock
 *
 * The shrinker's callback is entered with the list_lru lock held and takes
 * the others with trylocks, because for it the order is reversed.
 *
 * Based on Rust Binder's page_range.rs, Copyright (C) 2025 Google LLC.
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/visibility.h>
#include <linux/cleanup.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "page_range_internal.h"

#define CREATE_TRACE_POINTS
#include "page_range_trace.h"

/* For probes in other modules, such as the KUnit tests. */
EXPORT_TRACEPOINT_SYMBOL_GPL(page_range_reclaim);

/* Largest VMA a range covers, as in binder. */
#define PAGE_RANGE_MAX_BYTES	SZ_4M
/*
 * Most free slots page_range_use() fills under one acquisition of the
 * locks; the page pointers sit on the stack.
 */
#define PAGE_RANGE_BATCH	32

/*
 * The cgroup whose list the range's pages go on: the owner's, or once that
 * is offline (removed), the nearest ancestor that is not, which took over
 * its list (and its list index) when it went. list_lru_add() finds the
 * list through the index either way, but marks the cgroup it is given as
 * having items for the shrinker, and reclaim never visits an offline one.
 * The range's reference on its cgroup keeps the ancestors alive.
 */
static struct mem_cgroup *page_range_lru_memcg(struct page_range *range)
{
	struct mem_cgroup *memcg = range->memcg;

	while (memcg && !mem_cgroup_online(memcg))
		memcg = parent_mem_cgroup(memcg);
	return memcg;
}

/*
 * Both keep &page_range.nr_available true. Under the range's lock a slot's
 * LRU membership is stable (only holders of that lock add or isolate it),
 * so a page that is already where it should be costs no lru-lock traffic:
 * the common case of page_range_use() on pages in use, or of stopping
 * pages that are shared with a neighbouring buffer. @memcg is
 * page_range_lru_memcg(), which the callers look up once for all the
 * pages they move: a cgroup that goes offline meanwhile hands its list
 * over to its parent, where list_lru finds our pages all the same.
 */
static void page_range_lru_add(struct page_range *range,
			       struct page_range_page *info,
			       struct mem_cgroup *memcg)
	__must_hold(range->lock)
{
	lockdep_assert_held(range->lock);
	if (list_empty(&info->lru) &&
	    list_lru_add(&range->prs->lru, &info->lru,
			 page_to_nid(info->page), memcg))
		range->nr_available++;
}

static void page_range_lru_del(struct page_range *range,
			       struct page_range_page *info,
			       struct mem_cgroup *memcg)
	__must_hold(range->lock)
{
	lockdep_assert_held(range->lock);
	if (!list_empty(&info->lru) &&
	    list_lru_del(&range->prs->lru, &info->lru,
			 page_to_nid(info->page), memcg))
		range->nr_available--;
}

/**
 * page_range_init() - initialise a page range for the current process
 * @range: the range, embedded in the caller's structure
 * @prs: a registered shrinker that will own the range's available pages:
 *	&page_range_global_shrinker, which the library registers, or one of
 *	the caller's
 * @lock: a spinlock of the caller's to protect the range with, or NULL for
 *	one of its own
 *
 * Records current's mm (grabbed, not pinned, so the range does not keep the
 * address space alive), pid and memory cgroup: the range's pages are
 * charged to that cgroup even when another process's task allocates them,
 * so that a process pays for its own area. The range has no slots until
 * page_range_register_vma().
 *
 * A caller that has a spinlock of its own around its calls into the range,
 * as the buffer allocator does, can give it as @lock: the range then takes
 * no lock of its own on the hot paths, page_range_use_locked() and
 * page_range_stop_using_locked(), which run under it. The lock ranks where
 * the range's own would, after mm_lock and the mmap lock and before the
 * lru lock, and the caller must not hold it around any other call into
 * the range, except the accessors.
 *
 * Context: Process context; may sleep.
 * Return: 0, -ESRCH if current has no mm, -ENODEV if @prs is not registered
 * (the library's failed to register at boot), or -ENOMEM. A range whose init
 * failed reads as empty to page_range_num_pages() and the other getters,
 * and is not destroyed.
 */
int page_range_init(struct page_range *range,
		    struct page_range_shrinker *prs, spinlock_t *lock)
{
	struct mm_struct *mm = current->mm;
	struct mem_cgroup *memcg;
	int ret;

	/*
	 * The lock first: a range whose init failed reads as empty (no
	 * slots) to the getters, like one that has no VMA yet.
	 */
	memset(range, 0, sizeof(*range));
	if (lock) {
		range->lock = lock;
	} else {
		spin_lock_init(&range->own_lock);
		range->lock = &range->own_lock;
	}
	if (!mm)
		return -ESRCH;
	if (!prs->shrinker)
		return -ENODEV;
	memcg = get_mem_cgroup_from_mm(mm);
	/* Our pages go on the list of that cgroup: it must exist. */
	ret = page_range_shrinker_prepare(prs, memcg);
	if (ret) {
		mem_cgroup_put(memcg);
		return ret;
	}

	range->prs = prs;
	range->pid = current->tgid;
	mmgrab(mm);
	range->mm = mm;
	range->memcg = memcg;
	mutex_init(&range->mm_lock);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(page_range_init, PAGE_RANGE_NS);

/**
 * page_range_register_vma() - attach the range's slots to a VMA
 * @range: an initialised range without a VMA
 * @vma: the VMA, of the range's mm, with %VM_MIXEDMAP set
 *
 * Called from the caller's mmap handler, as the last step that can fail:
 * a VMA whose mmap fails afterwards is freed without ->close, and the range
 * would keep it. Allocates one slot per page of the VMA, at most 4 MiB
 * worth. The VMA's vm_ops belong to the caller: its ->close calls
 * page_range_vma_closed(); it refuses ->mremap and ->may_split, so that the
 * range's addresses stay true; and its ->open detaches copies of the VMA
 * (which mremap and fork make) from the range, so that their ->close does
 * not close the range.
 *
 * Context: Process context, mmap lock held for writing.
 * Return: the number of pages, -EINVAL for a VMA of another mm, of size
 * zero or without %VM_MIXEDMAP, -EBUSY if a VMA was registered before
 * (closed or not), -ENOMEM.
 */
int page_range_register_vma(struct page_range *range,
			    struct vm_area_struct *vma)
{
	unsigned long bytes = min(vma->vm_end - vma->vm_start,
				  (unsigned long)PAGE_RANGE_MAX_BYTES);
	size_t i, num_pages = bytes >> PAGE_SHIFT;
	struct page_range_page *pages __free(kvfree) = NULL;

	if (vma->vm_mm != range->mm || !num_pages)
		return -EINVAL;
	/*
	 * vm_insert_page() on a VMA without VM_MIXEDMAP sets the flag, which
	 * needs the mmap lock for writing; page_range_use() holds it only for
	 * reading.
	 */
	if (!(vma->vm_flags & VM_MIXEDMAP))
		return -EINVAL;

	/* The owner's mmap handler: charged to the owner. */
	pages = kvcalloc(num_pages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < num_pages; i++)
		INIT_LIST_HEAD(&pages[i].lru);

	/* Unlocked before @pages is freed on -EBUSY: kvfree() may sleep. */
	scoped_guard(spinlock, range->lock) {
		if (range->size || range->vma_closed)
			return -EBUSY;
		range->pages = no_free_ptr(pages);
		range->vma_addr = vma->vm_start;
		range->vma = vma;
		/* The accessors read the slots without the lock: see there. */
		smp_store_release(&range->size, num_pages);
	}
	return num_pages;
}
EXPORT_SYMBOL_NS_GPL(page_range_register_vma, PAGE_RANGE_NS);

/**
 * page_range_vma_closed() - the registered VMA is going away
 * @range: the range
 *
 * Called from the caller's vm_ops->close of the registered VMA (not of a
 * copy: see page_range_register_vma()). From now on page_range_use()
 * fails with -ESRCH, used pages stay used until stopped, the shrinker still
 * frees available pages but no longer zaps anything, and the range never
 * looks up a VMA again: whatever is mapped at the old address later is
 * not ours.
 *
 * Context: Process context; the mmap lock is held (for writing, or for
 * reading after munmap() downgraded it). Does not sleep.
 */
void page_range_vma_closed(struct page_range *range)
{
	spin_lock(range->lock);
	range->vma_closed = true;
	range->vma = NULL;
	spin_unlock(range->lock);
}
EXPORT_SYMBOL_NS_GPL(page_range_vma_closed, PAGE_RANGE_NS);

/* Whether @vma, found at our address, is the registered VMA, still open. */
static bool page_range_vma_ok(struct page_range *range,
			      struct vm_area_struct *vma)
{
	bool ok;

	spin_lock(range->lock);
	ok = vma && !range->vma_closed && vma == range->vma;
	spin_unlock(range->lock);
	return ok;
}

/*
 * Pin the owner's mm and lock the registered VMA for inserting pages; undo
 * with page_range_unlock_vma(). The VMA is trusted only if it is registered
 * and not closed while we hold a lock that excludes its closing. Close runs
 * under the mmap lock for writing, after the VMA was detached (which takes
 * its per-VMA lock for writing), and an unrelated mapping can only be
 * placed at our address after that. So, under the mmap read lock or the
 * VMA's read lock, and with the range not closed, a VMA found at our
 * address is the registered one, or none if munmap() detached it and is
 * about to close it.
 *
 * page_range_use() usually runs in another process than the owner. If our
 * mmput() were the last, this task would tear the owner's mm down,
 * possibly while the owner waits for this task: page_range_unlock_vma()
 * uses mmput_async(), which hands that to a workqueue instead.
 *
 * Built in, the per-VMA lock is tried first, as the page fault handler
 * does: inserting pages then does not contend with the owner's mmap() and
 * munmap() calls. lock_vma_under_rcu() is not exported, so a module always
 * takes the mmap lock. Both waits are killable: the owner, another process,
 * may hold its mmap lock for as long as it likes, and must not be able to
 * park us in D state.
 */
static struct vm_area_struct *page_range_lock_vma(struct page_range *range,
						  bool *per_vma)
{
	struct mm_struct *mm = range->mm;
	struct vm_area_struct *vma;

	if (!mmget_not_zero(mm))
		return ERR_PTR(-ESRCH);
#if defined(CONFIG_PER_VMA_LOCK) && !defined(MODULE)
	vma = lock_vma_under_rcu(mm, range->vma_addr);
	if (vma) {
		if (page_range_vma_ok(range, vma)) {
			*per_vma = true;
			return vma;
		}
		vma_end_read(vma);
	}
#endif
	*per_vma = false;
	if (mmap_read_lock_killable(mm)) {
		mmput_async(mm);
		return ERR_PTR(-EINTR);
	}
	vma = vma_lookup(mm, range->vma_addr);
	if (!page_range_vma_ok(range, vma)) {
		mmap_read_unlock(mm);
		mmput_async(mm);
		return ERR_PTR(-ESRCH);
	}
	return vma;
}

static void page_range_unlock_vma(struct page_range *range,
				  struct vm_area_struct *vma, bool per_vma)
{
#if defined(CONFIG_PER_VMA_LOCK) && !defined(MODULE)
	if (per_vma)
		vma_end_read(vma);
	else
#endif
		mmap_read_unlock(range->mm);
	mmput_async(range->mm);
}

/*
 * Slots [@index, @index + @nr) are free: insert @pages there with one page
 * table walk, and make the slots used. Returns the number inserted; on a
 * partial failure the pages inserted before the failing one are used, the
 * others untouched, and *@err is set.
 */
static size_t page_range_insert(struct page_range *range,
				struct vm_area_struct *vma, size_t index,
				struct page **pages, size_t nr, int *err)
	__must_hold(&range->mm_lock)
{
	unsigned long addr = range->vma_addr + (index << PAGE_SHIFT);
	unsigned long left = nr;
	size_t i, done;
	int ret;

	lockdep_assert_held(&range->mm_lock);
	ret = vm_insert_pages(vma, addr, pages, &left);
	done = nr - left;
	trace_page_range_insert(range, index, nr, ret);
	if (ret) {
		pr_warn_ratelimited("vm_insert_pages(%lx) failed: %d\n",
				    addr + (done << PAGE_SHIFT), ret);
		*err = ret;
	}

	spin_lock(range->lock);
	for (i = 0; i < done; i++) {
		/* For the shrinker, which finds the page on the LRU. */
		set_page_private(pages[i], (unsigned long)range);
		/* The accessors read it without the lock (on used slots only). */
		WRITE_ONCE(range->pages[index + i].page, pages[i]);
	}
	range->nr_present += done;
	spin_unlock(range->lock);
	atomic_long_add(done, &range->prs->nr_pages);
	return done;
}

/**
 * page_range_valid_span() - whether slots lie inside a range
 * @num_pages: number of slots of the range
 * @start: first slot index
 * @end: slot index after the last one
 *
 * The check of page_range_use() and page_range_stop_using(), on its own so
 * that the KUnit tests can call it: a bad span is a kernel caller's bug,
 * and the public functions warn about it.
 *
 * Return: true if @start <= @end <= @num_pages (an empty span included).
 */
VISIBLE_IF_KUNIT bool page_range_valid_span(size_t num_pages, size_t start,
					    size_t end)
{
	return start <= end && end <= num_pages;
}
EXPORT_SYMBOL_IF_KUNIT(page_range_valid_span);

/*
 * The refusals of page_range_use(), checked under the range's lock. A bad
 * span is the caller's bug: the allocator asks only for the pages of
 * buffers inside its area, which it checked user offsets against.
 */
static int page_range_check_use(struct page_range *range, size_t start,
				size_t end)
	__must_hold(range->lock)
{
	lockdep_assert_held(range->lock);
	if (WARN_ON_ONCE(!page_range_valid_span(range->size, start, end)))
		return -EINVAL;
	/* Nobody can see the pages any more: make none of them used. */
	if (range->vma_closed)
		return -ESRCH;
	return 0;
}

/*
 * Take the pages of slots [@start, @end) off the LRU, up to the first free
 * slot; return its index, or @end. The shrinker cannot free a page between
 * the check and the removal: it isolates pages only with the range's lock
 * held.
 */
static size_t page_range_use_present(struct page_range *range, size_t start,
				     size_t end)
	__must_hold(range->lock)
{
	struct mem_cgroup *memcg = page_range_lru_memcg(range);
	size_t i;

	lockdep_assert_held(range->lock);
	for (i = start; i < end && range->pages[i].page; i++)
		page_range_lru_del(range, &range->pages[i], memcg);
	return i;
}

/* How many slots from @start on, before @end, are free. */
static size_t page_range_free_run(struct page_range *range, size_t start,
				  size_t end)
	__must_hold(range->lock)
{
	size_t i = start;

	lockdep_assert_held(range->lock);
	while (i < end && !range->pages[i].page)
		i++;
	return i - start;
}

/* Allocate @nr zeroed pages into @pages; returns how many it got. */
static size_t page_range_alloc_pages(struct page_range *range,
				     struct page **pages, size_t nr)
{
	struct mem_cgroup *old_memcg;
	size_t i;

	/*
	 * Charged to the range's owner, whoever's task we run in. One page
	 * at a time: the bulk allocator does not charge pages to a cgroup.
	 */
	old_memcg = set_active_memcg(range->memcg);
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_HIGHMEM |
				      __GFP_ZERO);
		if (!pages[i])
			break;
	}
	set_active_memcg(old_memcg);
	return i;
}

/*
 * Make slots [@first, @last) used: take present pages off the LRU, and
 * insert @pages, in order, into the runs of free slots. *@used counts the
 * pages inserted; the others are the caller's to free.
 */
static int page_range_fill_runs(struct page_range *range,
				struct vm_area_struct *vma, size_t first,
				size_t last, struct page **pages, size_t *used)
	__must_hold(&range->mm_lock)
{
	size_t i, run, done;
	int ret = 0;

	lockdep_assert_held(&range->mm_lock);
	for (i = first; i < last && !ret; i += run) {
		spin_lock(range->lock);
		i = page_range_use_present(range, i, last);
		run = page_range_free_run(range, i, last);
		/*
		 * vm_insert_pages() sleeps (it allocates page tables): not
		 * under the spinlock. The run stays free meanwhile, as we
		 * hold mm_lock.
		 */
		spin_unlock(range->lock);
		if (!run)
			break;

		done = page_range_insert(range, vma, i, pages + *used, run,
					 &ret);
		*used += done;
		if (done < run)
			break;
	}
	return ret;
}

/*
 * Slow path of page_range_use(): slots [@first, @last) had no page when
 * looked at under the spinlock. Allocate a page for each, then take
 * mm_lock and the VMA once for the whole run. Under mm_lock no slot of the
 * range gains or loses a page (both need it), so what is checked here
 * holds until we insert: a slot another use filled meanwhile is only taken
 * off the LRU, and its page from us is freed.
 */
static int page_range_use_slow(struct page_range *range, size_t first,
			       size_t last)
{
	struct page *pages[PAGE_RANGE_BATCH];
	size_t nr = last - first, used = 0, i;
	struct vm_area_struct *vma;
	struct mem_cgroup *old_memcg;
	bool per_vma;
	int ret = 0;

	i = page_range_alloc_pages(range, pages, nr);
	if (i < nr) {
		nr = i;
		ret = -ENOMEM;
		goto out_free;
	}

	/* Killable: another user of the range may hold it (see above). */
	if (mutex_lock_killable(&range->mm_lock)) {
		ret = -EINTR;
		goto out_free;
	}
	/* Page tables the insertion allocates are the owner's too. */
	old_memcg = set_active_memcg(range->memcg);
	vma = page_range_lock_vma(range, &per_vma);
	if (IS_ERR(vma)) {
		ret = PTR_ERR(vma);
		goto out_unlock;
	}

	ret = page_range_fill_runs(range, vma, first, last, pages, &used);
	page_range_unlock_vma(range, vma, per_vma);
out_unlock:
	set_active_memcg(old_memcg);
	mutex_unlock(&range->mm_lock);
out_free:
	/* Pages for slots filled meanwhile, or that could not be inserted. */
	for (i = used; i < nr; i++)
		__free_page(pages[i]);
	return ret;
}

/**
 * page_range_use() - make pages present, mapped and not reclaimable
 * @range: the range
 * @start: first page index
 * @end: page index after the last one
 *
 * Pages of the slots in [@start, @end) that are available are taken off the
 * LRU; free slots get a new zeroed page, inserted into the VMA. Runs of free
 * slots are filled in batches, with one acquisition of each lock and one
 * page table walk per batch. Concurrent calls on the same slots are
 * allowed: each returns once the page is there.
 *
 * Context: Process context; may sleep. Takes mm_lock and the mmap lock (or,
 * built in, the VMA's lock), killably.
 * Return: 0; -EINVAL, with a warning (a caller's bug), if @start > @end or
 * @end is past the last slot; -ENOMEM; -EINTR if a fatal signal came while
 * waiting for a lock; -ESRCH if the VMA was closed (whether or not the
 * pages are present), or, where a page must be inserted, if the VMA is
 * being unmapped or the mm has no users left; or another error of
 * vm_insert_pages(). On error, the slots before the failing one may be
 * used.
 */
int page_range_use(struct page_range *range, size_t start, size_t end)
{
	size_t i, run;
	int ret;

	might_sleep();
	trace_page_range_use(range, start, end);

	spin_lock(range->lock);
	ret = page_range_check_use(range, start, end);
	if (ret) {
		spin_unlock(range->lock);
		return ret;
	}
	for (i = start; i < end; i += run) {
		i = page_range_use_present(range, i, end);
		if (i == end)
			break;
		run = page_range_free_run(range, i,
					  min(end, i + PAGE_RANGE_BATCH));

		/*
		 * Allocating and mapping sleep: drop the spinlock. The slot
		 * array cannot change size or go away meanwhile, since it is
		 * set once and freed only by page_range_destroy(), which must
		 * not race with use.
		 */
		spin_unlock(range->lock);
		ret = page_range_use_slow(range, i, i + run);
		if (ret)
			return ret;
		spin_lock(range->lock);
	}
	spin_unlock(range->lock);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(page_range_use, PAGE_RANGE_NS);

/**
 * page_range_stop_using() - make used pages available to the shrinker
 * @range: the range
 * @start: first page index
 * @end: page index after the last one
 *
 * Present pages in [@start, @end) go on the shrinker's LRU; free slots are
 * left alone. Nothing may read or write through the accessors to these
 * pages once this is called. A bad range (@start > @end, @end past the last
 * slot) is a caller's bug: it is warned about and ignored.
 *
 * Context: Process or atomic context (e.g. under a spinlock), not interrupt
 * context; does not sleep.
 */
void page_range_stop_using(struct page_range *range, size_t start, size_t end)
{
	spin_lock(range->lock);
	page_range_stop_using_locked(range, start, end);
	spin_unlock(range->lock);
}
EXPORT_SYMBOL_NS_GPL(page_range_stop_using, PAGE_RANGE_NS);

/**
 * page_range_use_locked() - make present pages used, under the range's lock
 * @range: the range
 * @start: first page index
 * @end: page index after the last one
 *
 * The part of page_range_use() that needs no sleep: if every slot of
 * [@start, @end) has a page, they are all taken off the LRU and the call
 * is done. Otherwise the caller drops the lock and calls page_range_use(),
 * which fills the free slots (the pages taken off here stay used).
 *
 * Context: Any context but interrupt; the range's lock held (see
 * page_range_init()).
 * Return: 0; -EAGAIN if a slot is free; or page_range_use()'s -EINVAL (with
 * its warning) or -ESRCH, with nothing done.
 */
int page_range_use_locked(struct page_range *range, size_t start, size_t end)
	__must_hold(range->lock)
{
	int ret;

	trace_page_range_use(range, start, end);
	ret = page_range_check_use(range, start, end);
	if (ret)
		return ret;
	return page_range_use_present(range, start, end) == end ? 0 : -EAGAIN;
}
EXPORT_SYMBOL_NS_GPL(page_range_use_locked, PAGE_RANGE_NS);

/**
 * page_range_stop_using_locked() - page_range_stop_using(), lock held
 * @range: the range
 * @start: first page index
 * @end: page index after the last one
 *
 * Context: Any context but interrupt; the range's lock held (see
 * page_range_init()).
 */
void page_range_stop_using_locked(struct page_range *range, size_t start,
				  size_t end)
	__must_hold(range->lock)
{
	struct mem_cgroup *memcg;
	size_t i;

	lockdep_assert_held(range->lock);
	trace_page_range_stop_using(range, start, end);
	if (WARN_ON_ONCE(!page_range_valid_span(range->size, start, end)))
		return;
	/*
	 * Backwards, so that of the pages released together the low ones are
	 * the newest on the LRU and are reclaimed last.
	 */
	memcg = page_range_lru_memcg(range);
	for (i = end; i > start; i--) {
		struct page_range_page *info = &range->pages[i - 1];

		if (info->page)
			page_range_lru_add(range, info, memcg);
	}
}
EXPORT_SYMBOL_NS_GPL(page_range_stop_using_locked, PAGE_RANGE_NS);

/**
 * page_range_valid_bytes() - whether bytes lie inside a range's slots
 * @num_pages: number of slots of the range
 * @offset: byte offset of the first byte
 * @size: number of bytes
 *
 * Part of page_range_valid_access(), on its own for the KUnit tests.
 *
 * Return: true if [@offset, @offset + @size) does not overflow and ends
 * in a slot; zero bytes are inside wherever they are, as nothing is copied.
 */
VISIBLE_IF_KUNIT bool page_range_valid_bytes(size_t num_pages, size_t offset,
					     size_t size)
{
	size_t end;

	if (!size)
		return true;
	/* By the last byte's slot: the range's size in bytes may overflow. */
	return !check_add_overflow(offset, size, &end) &&
	       (end - 1) >> PAGE_SHIFT < num_pages;
}
EXPORT_SYMBOL_IF_KUNIT(page_range_valid_bytes);

/**
 * page_range_valid_access() - whether the accessors may touch bytes
 * @range: the range
 * @offset: byte offset in the range
 * @size: number of bytes
 *
 * The bytes must lie inside the range (page_range_valid_bytes()) and every
 * page under them must be present. The caller of an accessor guarantees
 * that every page touched is used for the duration of its access, so no
 * lock is needed to look at the slots: nobody changes a used slot's page.
 * A refusal is the caller's bug, which the accessors warn about: the
 * allocator checks every offset against its buffer first, and a buffer's
 * pages are used for as long as it is allocated.
 *
 * Context: Any context but interrupt; no lock needed.
 * Return: true if the accessors may copy to or from the bytes.
 */
VISIBLE_IF_KUNIT bool page_range_valid_access(struct page_range *range,
					      size_t offset, size_t size)
{
	struct page_range_page *pages;
	size_t i, num_pages;

	/*
	 * Without the lock, which the caller may hold (it may be the
	 * caller's, see page_range_init()): the slot array is set once, and
	 * published by the size, so a size read here comes with its array.
	 */
	num_pages = smp_load_acquire(&range->size);
	pages = range->pages;

	if (!page_range_valid_bytes(num_pages, offset, size))
		return false;
	/* Zero bytes touch no page. */
	if (!size)
		return true;
	for (i = offset >> PAGE_SHIFT; i <= (offset + size - 1) >> PAGE_SHIFT;
	     i++)
		if (!READ_ONCE(pages[i].page))
			return false;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(page_range_valid_access);

/*
 * The slot array, for bytes [@offset, @offset + @size) that
 * page_range_valid_access() allows. All or nothing: a missing page is
 * refused before any byte is copied.
 */
static struct page_range_page *page_range_span(struct page_range *range,
					       size_t offset, size_t size)
{
	if (WARN_ON_ONCE(!page_range_valid_access(range, offset, size)))
		return ERR_PTR(-EFAULT);
	/* Set before the size, which the check read with acquire. */
	return range->pages;
}

/*
 * The page under byte @pos of the range, and in *@len how many of its
 * bytes, from @pos on, lie before @end.
 */
static struct page *page_range_chunk(struct page_range_page *pages,
				     size_t pos, size_t end, size_t *len)
{
	*len = min(end - pos, PAGE_SIZE - offset_in_page(pos));
	return READ_ONCE(pages[pos >> PAGE_SHIFT].page);
}

/**
 * page_range_copy_from_user() - copy user memory into the range
 * @range: the range
 * @offset: byte offset in the range
 * @from: user source address, in current's address space
 * @size: number of bytes
 *
 * Every page touched must be used (see page_range_use()) for the whole call.
 *
 * Context: Process context; may sleep (page faults on @from).
 * Return: 0; -EFAULT if @from cannot be read; -EFAULT, with a warning (a
 * caller's bug), if the bytes are outside the range (or the offset
 * overflows) or a page is not present.
 */
int page_range_copy_from_user(struct page_range *range, size_t offset,
			      const void __user *from, size_t size)
{
	struct page_range_page *pages;
	size_t pos, len;
	unsigned long left;
	struct page *page;
	void *kaddr;

	might_fault();
	pages = page_range_span(range, offset, size);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	for (pos = offset; pos < offset + size; pos += len) {
		page = page_range_chunk(pages, pos, offset + size, &len);
		kaddr = kmap_local_page(page);
		left = copy_from_user(kaddr + offset_in_page(pos),
				      from + (pos - offset), len);
		kunmap_local(kaddr);
		/* The page is mapped to userspace too: as memcpy_to_page(). */
		flush_dcache_page(page);
		if (left)
			return -EFAULT;
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(page_range_copy_from_user, PAGE_RANGE_NS);

/**
 * page_range_read() - copy bytes of the range into kernel memory
 * @range: the range
 * @offset: byte offset in the range
 * @to: kernel destination
 * @size: number of bytes
 *
 * Every page touched must be used for the whole call.
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: 0, or -EFAULT, with a warning (a caller's bug), if the bytes are
 * outside the range or a page is not present.
 */
int page_range_read(struct page_range *range, size_t offset, void *to,
		    size_t size)
{
	struct page_range_page *pages = page_range_span(range, offset, size);
	struct page *page;
	size_t pos, len;

	if (IS_ERR(pages))
		return PTR_ERR(pages);
	for (pos = offset; pos < offset + size; pos += len) {
		page = page_range_chunk(pages, pos, offset + size, &len);
		memcpy_from_page(to + (pos - offset), page, offset_in_page(pos),
				 len);
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(page_range_read, PAGE_RANGE_NS);

/**
 * page_range_write() - copy kernel memory into the range
 * @range: the range
 * @offset: byte offset in the range
 * @from: kernel source
 * @size: number of bytes
 *
 * Every page touched must be used for the whole call.
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: 0, or -EFAULT, with a warning (a caller's bug), if the bytes are
 * outside the range or a page is not present.
 */
int page_range_write(struct page_range *range, size_t offset,
		     const void *from, size_t size)
{
	struct page_range_page *pages = page_range_span(range, offset, size);
	struct page *page;
	size_t pos, len;

	if (IS_ERR(pages))
		return PTR_ERR(pages);
	for (pos = offset; pos < offset + size; pos += len) {
		page = page_range_chunk(pages, pos, offset + size, &len);
		memcpy_to_page(page, offset_in_page(pos),
			       from + (pos - offset), len);
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(page_range_write, PAGE_RANGE_NS);

/**
 * page_range_fill_zero() - zero bytes of the range
 * @range: the range
 * @offset: byte offset in the range
 * @size: number of bytes
 *
 * Every page touched must be used for the whole call.
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: 0, or -EFAULT, with a warning (a caller's bug), if the bytes are
 * outside the range or a page is not present.
 */
int page_range_fill_zero(struct page_range *range, size_t offset, size_t size)
{
	struct page_range_page *pages = page_range_span(range, offset, size);
	struct page *page;
	size_t pos, len;

	if (IS_ERR(pages))
		return PTR_ERR(pages);
	for (pos = offset; pos < offset + size; pos += len) {
		page = page_range_chunk(pages, pos, offset + size, &len);
		memzero_page(page, offset_in_page(pos), len);
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(page_range_fill_zero, PAGE_RANGE_NS);

/**
 * page_range_get_state() - state of one slot
 * @range: the range
 * @index: page index
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: the slot's state; %PAGE_RANGE_FREE for an index past the end.
 */
enum page_range_state page_range_get_state(struct page_range *range,
					   size_t index)
{
	enum page_range_state state = PAGE_RANGE_FREE;
	struct page_range_page *info;

	spin_lock(range->lock);
	if (index < range->size) {
		info = &range->pages[index];
		if (info->page)
			state = list_empty(&info->lru) ? PAGE_RANGE_USED :
							 PAGE_RANGE_AVAILABLE;
	}
	spin_unlock(range->lock);
	return state;
}
EXPORT_SYMBOL_NS_GPL(page_range_get_state, PAGE_RANGE_NS);

/**
 * page_range_num_pages() - number of slots
 * @range: the range
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: the number of slots, zero before a VMA is registered.
 */
size_t page_range_num_pages(struct page_range *range)
{
	size_t size;

	spin_lock(range->lock);
	size = range->size;
	spin_unlock(range->lock);
	return size;
}
EXPORT_SYMBOL_NS_GPL(page_range_num_pages, PAGE_RANGE_NS);

/**
 * page_range_get_counts() - how many slots are used and available
 * @range: the range
 * @used: set to the number of used slots
 * @available: set to the number of available slots
 *
 * A snapshot from running counters, in constant time; the other slots are
 * free.
 *
 * Context: Process or atomic context, not interrupt context.
 */
void page_range_get_counts(struct page_range *range, size_t *used,
			   size_t *available)
{
	spin_lock(range->lock);
	*used = range->nr_present - range->nr_available;
	*available = range->nr_available;
	spin_unlock(range->lock);
}
EXPORT_SYMBOL_NS_GPL(page_range_get_counts, PAGE_RANGE_NS);

/**
 * page_range_destroy() - free every page and the slots
 * @range: the range
 *
 * Takes every page off the LRU under mm_lock, which also waits for a
 * shrinker callback that is freeing one of our pages, then frees the pages
 * and drops the mm. Pages still mapped in a live VMA stay allocated until
 * unmapped (the mapping holds its own reference); callers destroy the
 * range after the VMA is closed.
 *
 * Context: Process context; may sleep. No other call on @range may run
 * concurrently or follow, except from the shrinker.
 */
void page_range_destroy(struct page_range *range)
{
	struct page_range_page *pages;
	struct mem_cgroup *memcg;
	size_t i, size;
	bool reclaimed;

	spin_lock(range->lock);
	pages = range->pages;
	size = range->size;
	spin_unlock(range->lock);

	if (size) {
		/*
		 * With mm_lock held the shrinker cannot be between isolating
		 * one of our pages and finishing with it, and it cannot take
		 * a new one: it needs mm_lock for that, and after this loop
		 * none of our pages is on the LRU to be found.
		 */
		mutex_lock(&range->mm_lock);
		spin_lock(range->lock);
		memcg = page_range_lru_memcg(range);
		for (i = 0; i < size; i++)
			if (pages[i].page)
				page_range_lru_del(range, &pages[i], memcg);
		reclaimed = range->reclaimed;
		spin_unlock(range->lock);
		mutex_unlock(&range->mm_lock);

		/*
		 * A mutex may still be touched by mutex_unlock() after the
		 * next owner got it, so holding it once does not prove the
		 * shrinker is done with the memory of mm_lock, which the
		 * caller frees after we return. The shrinker unlocks it
		 * inside an RCU read-side section: wait for that to end.
		 */
		if (reclaimed)
			synchronize_rcu();

		for (i = 0; i < size; i++) {
			if (pages[i].page) {
				set_page_private(pages[i].page, 0);
				__free_page(pages[i].page);
				atomic_long_dec(&range->prs->nr_pages);
			}
		}
		kvfree(pages);
	}

	mem_cgroup_put(range->memcg);
	mmdrop(range->mm);
	mutex_destroy(&range->mm_lock);
}
EXPORT_SYMBOL_NS_GPL(page_range_destroy, PAGE_RANGE_NS);

MODULE_DESCRIPTION("Shrinkable page range for binder-style mmap buffers");
MODULE_LICENSE("GPL");
