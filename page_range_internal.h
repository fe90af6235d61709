/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by page_range.c and shrinker.c only, and the argument
 * checks that the KUnit tests call.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _PAGE_RANGE_INTERNAL_H
#define _PAGE_RANGE_INTERNAL_H

#include "page_range.h"

/**
 * struct page_range_page - one page slot
 * @lru: linked into the shrinker's list_lru while the slot is available
 * @page: the page, or NULL while the slot is free; written under
 *	&page_range.lock, and set to non-NULL only with &page_range.mm_lock
 *	held. The page's private field points to the range, which is how the
 *	shrinker, given only @lru, finds it: a slot is 24 bytes, and with the
 *	allocator's per-page count (u16) a page costs 26 bytes of metadata,
 *	against binder's 32.
 *
 * The state is derived, as in Rust Binder's page_range.rs: @page NULL is
 * free; @page set and @lru empty is used; @page set and @lru queued is
 * available. Only a holder of &page_range.lock adds or removes @lru, so
 * under that lock the state is stable.
 */
struct page_range_page {
	struct list_head lru;
	struct page *page;
};

int page_range_shrinker_prepare(struct page_range_shrinker *prs,
				struct mem_cgroup *memcg);

/*
 * The argument checks, which the public functions warn about failing,
 * visible to the KUnit tests so that they can try bad arguments without a
 * warning: static without KUnit.
 */
#if IS_ENABLED(CONFIG_KUNIT)
bool page_range_valid_span(size_t num_pages, size_t start, size_t end);
bool page_range_valid_bytes(size_t num_pages, size_t offset, size_t size);
bool page_range_valid_access(struct page_range *range, size_t offset,
			     size_t size);
#endif

#endif /* _PAGE_RANGE_INTERNAL_H */
