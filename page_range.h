/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shrinkable page range: an array of page slots over a read-only VMA whose
 * unused pages are handed to a shrinker. C port of Rust Binder's
 * ShrinkablePageRange (drivers/android/binder/page_range.rs).
 *
 * Based on Rust Binder's page_range.rs, Copyright (C) 2025 Google LLC.
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _PAGE_RANGE_H
#define _PAGE_RANGE_H

#include <linux/atomic.h>
#include <linux/list_lru.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/*
 * The API is exported in this symbol namespace; a module that uses it says
 * MODULE_IMPORT_NS(PAGE_RANGE_NS).
 */
#define PAGE_RANGE_NS BINDER_PAGE_RANGE

struct mem_cgroup;
struct mm_struct;
struct shrinker;
struct vm_area_struct;

/**
 * struct page_range_shrinker - a shrinker and the list_lru it walks
 * @shrinker: the shrinker registered with the kernel
 * @lru: available pages of every page range that uses this shrinker, one
 *	list per node and memory cgroup
 * @nr_pages: pages currently allocated by those page ranges, in any state
 *
 * One instance serves many page ranges. Register it before the first
 * page_range_init() that names it and unregister it after the last
 * page_range_destroy().
 */
struct page_range_shrinker {
	struct shrinker *shrinker;
	struct list_lru lru;
	atomic_long_t nr_pages;
};

extern struct page_range_shrinker page_range_global_shrinker;

struct page_range_page;

/**
 * struct page_range - page slots over one VMA of one process
 * @prs: the shrinker whose LRU holds this range's available pages
 * @mm: the owner's mm; grabbed (mm_count), not pinned (mm_users)
 * @pid: the process that created the range, for debugging output only
 * @memcg: the owner's memory cgroup (a reference), charged for every page
 *	whoever's task allocates it; NULL without memory cgroups
 * @mm_lock: serialises inserting a page into the VMA against the shrinker
 *	zapping one, and lets page_range_destroy() wait for the shrinker
 * @lock: protects the fields below and the page pointer of every slot:
 *	@own_lock, or a lock of the caller's (see page_range_init())
 * @own_lock: the range's lock, unless the caller gave one
 * @pages: slot array, @size entries; set once by page_range_register_vma()
 * @size: number of slots, zero until a VMA is registered
 * @vma_addr: user address of slot 0
 * @vma: the registered VMA; compared against lookups, never dereferenced
 *	unless a lookup under the mmap lock returned it and it is not closed
 * @vma_closed: the caller's vm_ops->close ran; no page is inserted or
 *	zapped any more
 * @reclaimed: the shrinker has held @mm_lock at least once
 * @nr_present: slots with a page (used or available)
 * @nr_available: slots whose page is on the LRU
 *
 * Callers embed this structure and treat every field as private.
 */
struct page_range {
	struct page_range_shrinker *prs;
	struct mm_struct *mm;
	pid_t pid;
	struct mem_cgroup *memcg;
	struct mutex mm_lock;	/* insertion vs. zap; see above */
	spinlock_t *lock;	/* protects the slots; see above */
	spinlock_t own_lock;
	struct page_range_page *pages;
	size_t size;
	unsigned long vma_addr;
	struct vm_area_struct *vma;
	bool vma_closed;
	bool reclaimed;
	size_t nr_present;
	size_t nr_available;
};

/**
 * enum page_range_state - state of one page slot
 * @PAGE_RANGE_FREE: no page
 * @PAGE_RANGE_AVAILABLE: a page is present and on the shrinker's LRU
 * @PAGE_RANGE_USED: a page is present, mapped, and off the LRU
 */
enum page_range_state {
	PAGE_RANGE_FREE,
	PAGE_RANGE_AVAILABLE,
	PAGE_RANGE_USED,
};

int page_range_shrinker_register(struct page_range_shrinker *prs,
				 const char *name);
void page_range_shrinker_unregister(struct page_range_shrinker *prs);
unsigned long page_range_shrinker_count(struct page_range_shrinker *prs);
unsigned long page_range_shrinker_scan(struct page_range_shrinker *prs,
				       unsigned long nr_to_scan);
unsigned long page_range_shrinker_nr_pages(struct page_range_shrinker *prs);

int page_range_init(struct page_range *range,
		    struct page_range_shrinker *prs, spinlock_t *lock);
int page_range_register_vma(struct page_range *range,
			    struct vm_area_struct *vma);
void page_range_vma_closed(struct page_range *range);
int page_range_use(struct page_range *range, size_t start, size_t end);
void page_range_stop_using(struct page_range *range, size_t start, size_t end);
int page_range_use_locked(struct page_range *range, size_t start, size_t end);
void page_range_stop_using_locked(struct page_range *range, size_t start,
				  size_t end);
int page_range_copy_from_user(struct page_range *range, size_t offset,
			      const void __user *from, size_t size);
int page_range_read(struct page_range *range, size_t offset, void *to,
		    size_t size);
int page_range_write(struct page_range *range, size_t offset,
		     const void *from, size_t size);
int page_range_fill_zero(struct page_range *range, size_t offset, size_t size);
void page_range_destroy(struct page_range *range);

enum page_range_state page_range_get_state(struct page_range *range,
					   size_t index);
size_t page_range_num_pages(struct page_range *range);
void page_range_get_counts(struct page_range *range, size_t *used,
			   size_t *available);

#endif /* _PAGE_RANGE_H */
