// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the buffer allocator over the page range.
 *
 * As in the page range suite, each test maps a real area (an anon-inode
 * file whose mmap handler is bpa_alloc_mmap()) into an mm attached to the
 * test thread, and checks page states, the shrinker's counts and what the
 * user mapping shows.
 *
 * Names local to this suite start with at_ (allocator test), those it
 * shares with the page range suite with prt_ (page range test).
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>

#include "bpa_alloc.h"
/* Only to hold a page past the release: see bpa_alloc_test_release(). */
#include "page_range_internal.h"
#include "page_range_kunit_util.h"
#include "bpa_trace.h"
#include "page_range_trace.h"

/* Pages of the area in most tests. */
#define AT_PAGES	16
/* Pages the shrinker thread of the race scans at a time. */
#define AT_RACE_NR_TO_SCAN	4

struct at_ctx {
	struct page_range_shrinker prs;
	struct bpa_alloc alloc;
	struct file *file;
	bool inited;
	bool mapped;
	unsigned long uaddr;
	size_t size;
	/* the allocator's vm_ops, under at_vm_ops */
	const struct vm_operations_struct *alloc_vm_ops;
	/* completed by at_vma_close() */
	struct completion closed;
	struct prt_race *race;
	struct prt_kill_call *kill_call;
	/* init succeeded: KUnit runs exit after a failed init too */
	bool ready;
	/* if set, bpa_alloc_set_buffer_struct_size() before the mmap */
	size_t buffer_struct_size;
};

/*
 * at_vm_ops: the allocator's vm_ops, each called as it is, and after its
 * close a completion the exit fixture can wait on (the allocator has no
 * hook of its own for that). Copies of the VMA share its file.
 */
static const struct vm_operations_struct *
at_alloc_vm_ops(struct vm_area_struct *vma)
{
	struct at_ctx *ctx = vma->vm_file->private_data;

	return ctx->alloc_vm_ops;
}

static void at_vma_open(struct vm_area_struct *vma)
{
	at_alloc_vm_ops(vma)->open(vma);
}

static void at_vma_close(struct vm_area_struct *vma)
{
	struct at_ctx *ctx = vma->vm_file->private_data;
	/* A copy of the VMA (its open clears the data) is not the area. */
	bool area = vma->vm_private_data == &ctx->alloc;

	ctx->alloc_vm_ops->close(vma);
	/* Every later wait must see it. */
	if (area)
		complete_all(&ctx->closed);
}

static vm_fault_t at_vma_fault(struct vm_fault *vmf)
{
	return at_alloc_vm_ops(vmf->vma)->fault(vmf);
}

static int at_vma_mremap(struct vm_area_struct *vma)
{
	return at_alloc_vm_ops(vma)->mremap(vma);
}

static int at_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return at_alloc_vm_ops(vma)->may_split(vma, addr);
}

/* Every op that bpa_alloc_mmap() sets. */
static const struct vm_operations_struct at_vm_ops = {
	.open = at_vma_open,
	.close = at_vma_close,
	.fault = at_vma_fault,
	.mremap = at_vma_mremap,
	.may_split = at_vma_may_split,
};

static int at_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct at_ctx *ctx = file->private_data;
	int ret;

	ret = bpa_alloc_mmap(&ctx->alloc, vma);
	if (ret)
		return ret;
	/* Only one mapping succeeds (-EBUSY after it): set once. */
	ctx->alloc_vm_ops = vma->vm_ops;
	vma->vm_ops = &at_vm_ops;
	return 0;
}

static const struct file_operations at_fops = {
	.owner = THIS_MODULE,
	.mmap = at_mmap,
};

static bool at_closed(struct at_ctx *ctx)
{
	bool closed;

	spin_lock(&ctx->alloc.lock);
	closed = ctx->alloc.closed;
	spin_unlock(&ctx->alloc.lock);
	return closed;
}

static int at_init(struct kunit *test)
{
	struct at_ctx *ctx;
	int ret;

	prt_fault_scope();
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	test->priv = ctx;
	init_completion(&ctx->closed);
	ret = page_range_shrinker_register(&ctx->prs, "page-range-alloc-kunit");
	if (ret)
		return ret;
	ctx->file = anon_inode_getfile("[bpa_alloc_kunit]", &at_fops, ctx,
				       O_RDONLY);
	if (IS_ERR(ctx->file)) {
		page_range_shrinker_unregister(&ctx->prs);
		return PTR_ERR(ctx->file);
	}
	ctx->ready = true;
	return 0;
}

static void at_exit(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;

	if (!ctx || !ctx->ready)
		return;
	/* A failed assertion may have left race threads running. */
	prt_race_stop(test, ctx->race);
	/* A killed call that never returned still uses the allocator. */
	if (!prt_kill_call_join(ctx->kill_call))
		KUNIT_FAIL(test, "a killed bpa_alloc_new_buf() never returned");
	/* The test thread's exit closes the area; release must come after. */
	if (ctx->mapped &&
	    !wait_for_completion_timeout(&ctx->closed, PRT_CLOSE_TIMEOUT)) {
		KUNIT_FAIL(test, "area never closed");
		return;
	}
	if (ctx->inited)
		bpa_alloc_release(&ctx->alloc);
	fput(ctx->file);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(&ctx->prs), 0);
	page_range_shrinker_unregister(&ctx->prs);
}

static long at_map_flags(struct kunit *test, size_t len, unsigned long prot,
			 unsigned long flags)
{
	struct at_ctx *ctx = test->priv;
	unsigned long addr;

	/*
	 * As a driver's open() would, initialise the allocator in the
	 * owner's context before any mmap; a page of anonymous memory gives
	 * the test thread its mm.
	 */
	if (!ctx->inited) {
		addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
				     MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (!addr || IS_ERR_VALUE(addr))
			return -ENOMEM;
		if (bpa_alloc_init(&ctx->alloc, &ctx->prs))
			return -ESRCH;
		ctx->inited = true;
		if (ctx->buffer_struct_size)
			bpa_alloc_set_buffer_struct_size(&ctx->alloc,
							 ctx->buffer_struct_size);
	}
	addr = kunit_vm_mmap(test, ctx->file, 0, len, prot, flags, 0);
	if (!addr)
		return -ENOMEM;
	if (IS_ERR_VALUE(addr))
		return (long)addr;
	ctx->mapped = true;
	ctx->uaddr = addr;
	ctx->size = min_t(size_t, len, SZ_4M);
	return 0;
}

static long at_map(struct kunit *test, size_t len, unsigned long prot)
{
	return at_map_flags(test, len, prot, MAP_SHARED);
}

static struct bpa_alloc *at_alloc(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;

	KUNIT_ASSERT_EQ(test, at_map(test, AT_PAGES * PAGE_SIZE, PROT_READ), 0);
	return &ctx->alloc;
}

static struct bpa_buffer *at_new(struct kunit *test, struct bpa_alloc *alloc,
				 size_t size, bool async)
{
	struct bpa_buffer *buffer = bpa_alloc_new_buf(alloc, size, 0, 0, async);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(buffer), "size %zu: %d", size,
			       PTR_ERR_OR_ZERO(buffer));
	return buffer;
}

/*
 * Page by page: USED exactly when some allocated buffer touches it, and
 * the allocator's own count of used pages agrees.
 */
static bool at_pages_match(struct kunit *test, struct bpa_alloc *alloc,
			   struct bpa_buffer **buffers, size_t *sizes, int n)
{
	size_t pages = page_range_num_pages(&alloc->range), i, used = 0;
	bool ok = true;
	int j;

	for (i = 0; i < pages; i++) {
		unsigned long start = alloc->buffer + i * PAGE_SIZE;
		enum page_range_state state;
		bool touched = false, used_state;

		for (j = 0; j < n; j++) {
			if (!buffers[j])
				continue;
			if (buffers[j]->user_data < start + PAGE_SIZE &&
			    buffers[j]->user_data + sizes[j] > start)
				touched = true;
		}
		state = page_range_get_state(&alloc->range, i);
		used_state = state == PAGE_RANGE_USED;
		if (touched != used_state) {
			KUNIT_FAIL(test, "page %zu: state %d, touched %d", i,
				   state, touched);
			ok = false;
		}
		used += touched;
	}
	if (used != alloc->pages_used) {
		KUNIT_FAIL(test, "%zu pages touched, allocator counts %zu",
			   used, alloc->pages_used);
		ok = false;
	}
	return ok;
}

#define AT_N	3

/* Ends of buffers relative to the previous end: every kind of alignment. */
/*
 * Buffer sizes. Laid end to end from a page boundary (and again from an
 * unaligned start), their ends fall in the same page, just before a
 * boundary, on one, just past one, and across two.
 */
static const size_t at_end_steps[] = {
	8,
	PAGE_SIZE - 8,
	PAGE_SIZE,
	PAGE_SIZE + 8,
	2 * PAGE_SIZE,
	2 * PAGE_SIZE + 24,
};

static void at_permutation(int *perm, int n, unsigned int index)
{
	int avail[AT_N], i, j, k;

	for (i = 0; i < n; i++)
		avail[i] = i;
	for (i = n; i > 0; i--) {
		k = index % i;
		index /= i;
		perm[n - i] = avail[k];
		for (j = k; j < i - 1; j++)
			avail[j] = avail[j + 1];
	}
}

/*
 * Allocate buffers 0..AT_N-1 of @sizes in permutation @aorder and free them
 * in permutation @forder, checking the pages after every step. Buffer AT_N
 * (a prefix, or none) stays as it is.
 */
static bool at_alloc_free_in_order(struct kunit *test, struct bpa_alloc *alloc,
				   struct bpa_buffer **buffers, size_t *sizes,
				   unsigned int aorder, unsigned int forder)
{
	int perm[AT_N], i, j;

	/* Thousands of rounds: let others run (and the watchdog see it). */
	cond_resched();
	memset(buffers, 0, AT_N * sizeof(buffers[0]));
	at_permutation(perm, AT_N, aorder);
	for (i = 0; i < AT_N; i++) {
		j = perm[i];
		buffers[j] = at_new(test, alloc, sizes[j], false);
		if (!at_pages_match(test, alloc, buffers, sizes, AT_N + 1))
			return false;
	}
	at_permutation(perm, AT_N, forder);
	for (i = 0; i < AT_N; i++) {
		j = perm[i];
		bpa_alloc_free_buf(alloc, buffers[j]);
		buffers[j] = NULL;
		if (!at_pages_match(test, alloc, buffers, sizes, AT_N + 1))
			return false;
	}
	return true;
}

/* Without and with a small first buffer shifting everything. */
static const size_t at_shifts[] = { 0, 24 };

static void at_shift_desc(const size_t *shift, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "shift_%zu", *shift);
}

KUNIT_ARRAY_PARAM(at_shift, at_shifts, at_shift_desc);

/*
 * binder's allocator self-test, in our terms: for buffers of every
 * combination of end alignments (after the row's offset start), every
 * allocation order and every free order, check after every step that
 * exactly the pages touched by live buffers are used.
 */
static void bpa_alloc_test_exhaustive(struct kunit *test)
{
	size_t shift = *(const size_t *)test->param_value;
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	const int nsteps = ARRAY_SIZE(at_end_steps);
	unsigned int layout, order, layouts = 1, orders = 1;
	struct bpa_buffer *buffers[AT_N + 1];
	size_t sizes[AT_N + 1], len = AT_PAGES * PAGE_SIZE;
	int i;
	u8 *buf;

	for (i = 0; i < AT_N; i++) {
		layouts *= nsteps;
		orders *= i + 1;
	}
	buffers[AT_N] = NULL;
	sizes[AT_N] = shift;
	if (shift)
		buffers[AT_N] = at_new(test, alloc, shift, false);

	for (layout = 0; layout < layouts; layout++) {
		unsigned int l = layout;

		for (i = 0; i < AT_N; i++) {
			sizes[i] = at_end_steps[l % nsteps];
			l /= nsteps;
		}
		for (order = 0; order < orders * orders; order++)
			if (!at_alloc_free_in_order(test, alloc, buffers, sizes,
						    order % orders,
						    order / orders))
				return;
	}
	if (buffers[AT_N])
		bpa_alloc_free_buf(alloc, buffers[AT_N]);
	KUNIT_EXPECT_EQ(test, alloc->pages_used, 0);

	/* Dirty every page, release them all, shrink them all to FREE. */
	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0x5a, len);
	buffers[0] = at_new(test, alloc, len, false);
	KUNIT_ASSERT_EQ(test, bpa_alloc_copy_to_buffer(alloc, buffers[0], 0,
						       buf, len), 0);
	bpa_alloc_free_buf(alloc, buffers[0]);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(&ctx->prs), AT_PAGES);
	for (i = 0; i < AT_PAGES; i++)
		KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, i),
				PAGE_RANGE_FREE);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(&ctx->prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs), 0);

	/* Reallocated, the pages come back zeroed. */
	buffers[0] = at_new(test, alloc, len, false);
	KUNIT_ASSERT_TRUE(test, prt_user_read(alloc->buffer, buf, len));
	KUNIT_EXPECT_TRUE(test, prt_all_zero(buf, len));
	bpa_alloc_free_buf(alloc, buffers[0]);
}

/*
 * If making the pages present fails, the allocation is undone and no
 * page or byte of accounting changes. The range is closed behind the
 * allocator's back, as a close racing with the allocation would.
 */
static void bpa_alloc_test_use_fails(struct kunit *test)
{
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_alloc_stats before, after;
	struct bpa_buffer *a;

	a = at_new(test, alloc, PAGE_SIZE + 8, false);
	bpa_alloc_get_stats(alloc, &before);
	page_range_vma_closed(&alloc->range);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, 3 * PAGE_SIZE, 0,
							0, false)), -ESRCH);
	bpa_alloc_get_stats(alloc, &after);
	/* Only the high-water mark remembers pages 0-4 of the attempt. */
	KUNIT_EXPECT_EQ(test, after.pages_high, 5);
	after.pages_high = before.pages_high;
	KUNIT_EXPECT_EQ(test, memcmp(&before, &after, sizeof(before)), 0);
	KUNIT_EXPECT_EQ(test, alloc->pages_used, 2);
	KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, 1),
			PAGE_RANGE_USED);
	bpa_alloc_free_buf(alloc, a);
	KUNIT_EXPECT_EQ(test, alloc->pages_used, 0);
}

/* The allocator as just mapped: one free buffer over the whole area. */
static void at_expect_one_free_buffer(struct kunit *test,
				      struct bpa_alloc *alloc)
{
	struct bpa_alloc_stats st;

	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_allocated, 0);
	KUNIT_EXPECT_EQ(test, st.buffers_free, 1);
	KUNIT_EXPECT_EQ(test, st.free_space, alloc->buffer_size);
	KUNIT_EXPECT_EQ(test, st.free_async_space, alloc->buffer_size / 2);
}

/* The blocking call of the killable test: allocate @call->arg bytes. */
static int at_kill_new_buf_fn(struct prt_kill_call *call)
{
	struct bpa_alloc *alloc = call->data;
	struct bpa_buffer *buffer;

	buffer = bpa_alloc_new_buf(alloc, call->arg, 0, 0, false);
	if (IS_ERR(buffer))
		return PTR_ERR(buffer);
	/* Not what the test wants: give the buffer back, report success. */
	bpa_alloc_free_buf(alloc, buffer);
	return 0;
}

/*
 * A fatal signal ends bpa_alloc_new_buf()'s wait for one of the owner's
 * locks (the row's: the range's mm_lock or the mmap lock), as a sender's
 * would end while its receiver holds its own mmap lock: ERR_PTR(-EINTR),
 * and the allocation is undone, no buffer, no byte and no page kept.
 */
static void bpa_alloc_test_new_buf_killable(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	struct prt_kill_call *call;
	struct bpa_alloc_stats st;
	struct bpa_buffer *a;

	call = kunit_kzalloc(test, sizeof(*call), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, call);
	call->range = &alloc->range;
	call->hold_mm_lock = prt_kill_lock_param(test);
	call->fn = at_kill_new_buf_fn;
	call->data = alloc;
	call->arg = 3 * PAGE_SIZE;
	ctx->kill_call = call;
	prt_kill_blocked_call(test, call);
	KUNIT_ASSERT_TRUE(test, call->finished);
	KUNIT_EXPECT_TRUE_MSG(test, call->blocked, "never slept on the lock");
	KUNIT_EXPECT_TRUE_MSG(test, call->killed_in_time,
			      "SIGKILL did not end the wait");
	KUNIT_EXPECT_EQ(test, call->ret, -EINTR);

	/* Undone: one free buffer over the whole area, no page. */
	at_expect_one_free_buffer(test, alloc);
	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.pages_used, 0);
	KUNIT_EXPECT_EQ(test, st.pages_available, 0);
	KUNIT_EXPECT_EQ(test, st.pages_free, st.pages_total);
	KUNIT_EXPECT_EQ(test, st.pages_total, AT_PAGES);
	KUNIT_EXPECT_EQ(test, alloc->pages_used, 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs), 0);

	/* Nothing was left locked: the same allocation succeeds now. */
	a = at_new(test, alloc, 3 * PAGE_SIZE, false);
	KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, 2),
			PAGE_RANGE_USED);
	bpa_alloc_free_buf(alloc, a);
}

/* What a walk of an allocator's buffer list finds. */
struct at_walk {
	size_t allocated;
	size_t free;
	size_t free_bytes;
	size_t async_bytes;
	size_t pages_touched;
	bool tiled;
};

/*
 * Walk the buffers in address order under the allocator's lock, as the
 * statistics did before they became running counters. Nothing is asserted
 * under the spinlock: the results are checked by the caller.
 */
static void at_walk_buffers(struct bpa_alloc *alloc, struct at_walk *w)
{
	unsigned long start, end, next_start;
	size_t first, last, next_page = 0;
	struct bpa_buffer *b;
	bool prev_free = false;

	memset(w, 0, sizeof(*w));
	w->tiled = true;
	spin_lock(&alloc->lock);
	end = alloc->buffer + alloc->buffer_size;
	next_start = alloc->buffer;
	list_for_each_entry(b, &alloc->buffers, entry) {
		start = b->user_data;
		/* Buffers tile the area; two free ones are always merged. */
		if (start != next_start || start >= end ||
		    (b->free && prev_free))
			w->tiled = false;
		next_start = list_is_last(&b->entry, &alloc->buffers) ? end :
			     list_next_entry(b, entry)->user_data;
		if (next_start <= start) {
			w->tiled = false;
			break;
		}
		prev_free = b->free;
		if (b->free) {
			w->free++;
			w->free_bytes += next_start - start;
			continue;
		}
		w->allocated++;
		if (b->async)
			w->async_bytes += next_start - start;
		/* Pages touched, once each, though buffers share some. */
		first = max_t(size_t, (start - alloc->buffer) >> PAGE_SHIFT,
			      next_page);
		last = (next_start - 1 - alloc->buffer) >> PAGE_SHIFT;
		if (last >= first)
			w->pages_touched += last - first + 1;
		next_page = max(next_page, last + 1);
	}
	spin_unlock(&alloc->lock);
}

/*
 * bpa_alloc_get_stats(), now from running counters, against walks of the
 * buffers and of the page slots, and against the shrinker's counts (the
 * test's shrinker serves this allocator only).
 */
static void at_expect_counts(struct kunit *test, struct bpa_alloc *alloc,
			     const char *step)
{
	struct at_ctx *ctx = test->priv;
	size_t i, n = page_range_num_pages(&alloc->range);
	size_t pages[PAGE_RANGE_USED + 1] = {};
	struct bpa_alloc_stats st;
	struct at_walk w;

	at_walk_buffers(alloc, &w);
	for (i = 0; i < n; i++)
		pages[page_range_get_state(&alloc->range, i)]++;
	bpa_alloc_get_stats(alloc, &st);

	KUNIT_EXPECT_TRUE_MSG(test, w.tiled, "%s: buffers do not tile", step);
	KUNIT_EXPECT_EQ_MSG(test, st.buffers_allocated, w.allocated, "%s",
			    step);
	KUNIT_EXPECT_EQ_MSG(test, st.buffers_free, w.free, "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, st.free_space, w.free_bytes, "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, st.free_async_space,
			    alloc->buffer_size / 2 - w.async_bytes, "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, st.pages_total, n, "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, st.pages_used, pages[PAGE_RANGE_USED], "%s",
			    step);
	KUNIT_EXPECT_EQ_MSG(test, st.pages_available,
			    pages[PAGE_RANGE_AVAILABLE], "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, st.pages_free, pages[PAGE_RANGE_FREE], "%s",
			    step);
	/* Used exactly where allocated buffers are. */
	KUNIT_EXPECT_EQ_MSG(test, st.pages_used, w.pages_touched, "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, alloc->pages_used, w.pages_touched, "%s",
			    step);
	KUNIT_EXPECT_EQ_MSG(test, page_range_shrinker_count(&ctx->prs),
			    st.pages_available, "%s", step);
	KUNIT_EXPECT_EQ_MSG(test, page_range_shrinker_nr_pages(&ctx->prs),
			    st.pages_used + st.pages_available, "%s", step);
}

/*
 * The statistics agree with walks of the buffers and pages after every
 * step: allocations sync and async, splits, frees with and without
 * merges, a page shared at a boundary, the shrinker, refused allocations
 * and a free requested by userspace.
 */
static void bpa_alloc_test_counts(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_buffer *a, *b, *c, *d, *e;
	struct bpa_alloc_stats st;

	at_expect_counts(test, alloc, "new");
	a = at_new(test, alloc, 100, false);
	at_expect_counts(test, alloc, "a");
	/* Page 1 is b's alone; pages 0 and 2 are shared with a and c. */
	b = at_new(test, alloc, 2 * PAGE_SIZE + 8, true);
	at_expect_counts(test, alloc, "b async");
	c = at_new(test, alloc, 3 * PAGE_SIZE, false);
	at_expect_counts(test, alloc, "c");
	d = at_new(test, alloc, 64, true);
	at_expect_counts(test, alloc, "d async");

	/* A hole between a and c: only page 1 becomes available. */
	bpa_alloc_free_buf(alloc, b);
	at_expect_counts(test, alloc, "free b");
	KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, 1),
			PAGE_RANGE_AVAILABLE);
	KUNIT_EXPECT_EQ(test, prt_shrink(&ctx->prs, 1), 1);
	at_expect_counts(test, alloc, "shrink 1");
	/* Best fit: the hole left by b. */
	b = at_new(test, alloc, 200, false);
	KUNIT_EXPECT_EQ(test, b->user_data, a->user_data + 104);
	at_expect_counts(test, alloc, "b again, split");

	/* Refused: too large for the area, too large for the async half. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc,
							alloc->buffer_size, 0,
							0, false)), -ENOSPC);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc,
							alloc->buffer_size / 2,
							0, 0, true)), -ENOSPC);
	at_expect_counts(test, alloc, "refused");

	/* Freed by userspace, once released to it. */
	bpa_alloc_release_to_user(alloc, c);
	KUNIT_ASSERT_PTR_EQ(test, bpa_alloc_prepare_to_free(alloc, c->user_data),
			    c);
	bpa_alloc_free_buf(alloc, c);
	at_expect_counts(test, alloc, "free c (merged with the rest of b)");
	e = at_new(test, alloc, 5 * PAGE_SIZE, true);
	at_expect_counts(test, alloc, "e async");

	bpa_alloc_free_buf(alloc, a);
	at_expect_counts(test, alloc, "free a");
	bpa_alloc_free_buf(alloc, d);
	at_expect_counts(test, alloc, "free d");
	prt_shrink_all(&ctx->prs);
	at_expect_counts(test, alloc, "shrink all");
	bpa_alloc_free_buf(alloc, e);
	at_expect_counts(test, alloc, "free e");
	bpa_alloc_free_buf(alloc, b);
	at_expect_counts(test, alloc, "free b");
	at_expect_one_free_buffer(test, alloc);
	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.pages_used, 0);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(&ctx->prs), st.pages_available);
	at_expect_counts(test, alloc, "shrink all, empty");
}

/* The area cannot be split, and pages not in use fault. */
static void bpa_alloc_test_vma_rules(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_buffer *a;
	u8 byte;

	KUNIT_EXPECT_EQ(test, vm_munmap(ctx->uaddr + PAGE_SIZE, PAGE_SIZE),
			-EINVAL);
	KUNIT_EXPECT_FALSE(test, at_closed(ctx));
	a = at_new(test, alloc, 16, false);
	KUNIT_EXPECT_TRUE(test, prt_user_read(ctx->uaddr, &byte, 1));
	KUNIT_EXPECT_FALSE(test, prt_user_read(ctx->uaddr + PAGE_SIZE, &byte, 1));
	bpa_alloc_free_buf(alloc, a);
}

/* A page shared at a boundary stays used until both buffers are freed. */
static void bpa_alloc_test_shared_page(struct kunit *test)
{
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_buffer *a, *b;

	a = at_new(test, alloc, PAGE_SIZE + 64, false);
	b = at_new(test, alloc, 128, false);
	/* b starts in a's second page. */
	KUNIT_EXPECT_EQ(test, b->user_data, alloc->buffer + PAGE_SIZE + 64);
	bpa_alloc_free_buf(alloc, a);
	KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, 0),
			PAGE_RANGE_AVAILABLE);
	KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, 1),
			PAGE_RANGE_USED);
	bpa_alloc_free_buf(alloc, b);
	KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, 1),
			PAGE_RANGE_AVAILABLE);
	KUNIT_EXPECT_EQ(test, alloc->pages_used, 0);
}

/* Best fit picks the smallest hole; frees merge holes back into one. */
static void bpa_alloc_test_best_fit_split_merge(struct kunit *test)
{
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_buffer *a, *b, *c, *d, *e;
	struct bpa_alloc_stats st;

	a = at_new(test, alloc, 100, false);
	b = at_new(test, alloc, 5000, false);
	c = at_new(test, alloc, 100, false);
	d = at_new(test, alloc, 3000, false);
	e = at_new(test, alloc, 100, false);
	/* Sizes are pointer-aligned, buffers are contiguous. */
	KUNIT_EXPECT_EQ(test, b->user_data, a->user_data + 104);
	KUNIT_EXPECT_EQ(test, bpa_buffer_size(alloc, a), 104);
	bpa_alloc_free_buf(alloc, b);
	bpa_alloc_free_buf(alloc, d);
	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_free, 3);

	/* 2000 fits the 3000 hole best, not the 5000 one or the tail. */
	d = at_new(test, alloc, 2000, false);
	KUNIT_EXPECT_EQ(test, d->user_data, c->user_data + 104);
	/* 4000 fits the 5000 hole; the rest of it stays free. */
	b = at_new(test, alloc, 4000, false);
	KUNIT_EXPECT_EQ(test, b->user_data, a->user_data + 104);
	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_allocated, 5);
	KUNIT_EXPECT_EQ(test, st.buffers_free, 3);

	bpa_alloc_free_buf(alloc, c);
	bpa_alloc_free_buf(alloc, a);
	bpa_alloc_free_buf(alloc, e);
	bpa_alloc_free_buf(alloc, b);
	bpa_alloc_free_buf(alloc, d);
	at_expect_one_free_buffer(test, alloc);
}

/*
 * The order in which two equal holes are freed: a tie broken by insertion
 * order, first or last freed, picks the higher hole in one of the two.
 */
static const bool at_ties_higher_first[] = { true, false };

static void at_ties_desc(const bool *higher_first, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s hole freed first",
		 *higher_first ? "higher" : "lower");
}

KUNIT_ARRAY_PARAM(at_ties, at_ties_higher_first, at_ties_desc);

/* Among equally good holes, the lowest address wins. */
static void bpa_alloc_test_best_fit_ties(struct kunit *test)
{
	bool higher_first = *(const bool *)test->param_value;
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_buffer *p1, *q1, *p2, *q2;
	unsigned long low;

	p1 = at_new(test, alloc, 104, false);
	q1 = at_new(test, alloc, 64, false);
	p2 = at_new(test, alloc, 104, false);
	q2 = at_new(test, alloc, 64, false);
	low = p1->user_data;
	bpa_alloc_free_buf(alloc, higher_first ? p2 : p1);
	bpa_alloc_free_buf(alloc, higher_first ? p1 : p2);
	p1 = at_new(test, alloc, 100, false);
	KUNIT_EXPECT_EQ(test, p1->user_data, low);
	p2 = at_new(test, alloc, 100, false);
	KUNIT_EXPECT_EQ(test, p2->user_data, low + 104 + 64);
	bpa_alloc_free_buf(alloc, q1);
	bpa_alloc_free_buf(alloc, p1);
	bpa_alloc_free_buf(alloc, q2);
	bpa_alloc_free_buf(alloc, p2);
	at_expect_one_free_buffer(test, alloc);
}

/* Async buffers take from half the area, each charged its size. */
static void bpa_alloc_test_async_space(struct kunit *test)
{
	struct bpa_alloc *alloc = at_alloc(test);
	size_t half = alloc->buffer_size / 2, each = PAGE_SIZE;
	struct bpa_buffer *bufs[AT_PAGES + 1];
	struct bpa_alloc_stats st;
	int n = 0, i;

	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.free_async_space, half);
	while (n < AT_PAGES) {
		struct bpa_buffer *b = bpa_alloc_new_buf(alloc, each, 0, 0, true);

		if (IS_ERR(b)) {
			KUNIT_EXPECT_EQ(test, PTR_ERR(b), -ENOSPC);
			break;
		}
		bufs[n++] = b;
	}
	/* Each is charged its size: half the area holds exactly this many. */
	KUNIT_EXPECT_EQ(test, n, half / each);
	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.free_async_space, half - n * each);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, 8, 0, 0, true)),
			-ENOSPC);
	/* Synchronous space is still there. */
	bufs[n] = at_new(test, alloc, each, false);
	bpa_alloc_free_buf(alloc, bufs[n]);
	for (i = 0; i < n; i++)
		bpa_alloc_free_buf(alloc, bufs[i]);
	at_expect_one_free_buffer(test, alloc);
}

static void bpa_alloc_test_nospace_and_overflow(struct kunit *test)
{
	struct bpa_alloc *alloc = at_alloc(test);
	size_t size = alloc->buffer_size;
	struct bpa_buffer *a, *b, *c;

	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, size + 1, 0, 0,
							false)), -ENOSPC);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, SIZE_MAX, 0, 0,
							false)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, SIZE_MAX / 2,
							SIZE_MAX / 2, 16,
							false)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, 8, 8,
							SIZE_MAX - 4, false)),
			-EINVAL);

	/* 32 bytes left: 40 do not fit, 32 do, then not even a pointer. */
	a = at_new(test, alloc, size - 64, false);
	b = at_new(test, alloc, 32, false);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, 40, 0, 0,
							false)), -ENOSPC);
	bpa_alloc_free_buf(alloc, at_new(test, alloc, 32, false));
	c = at_new(test, alloc, 32, false);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, 0, 0, 0,
							false)), -ENOSPC);
	bpa_alloc_free_buf(alloc, c);
	bpa_alloc_free_buf(alloc, a);
	bpa_alloc_free_buf(alloc, b);
	at_expect_one_free_buffer(test, alloc);
}

static long at_bad_free(struct bpa_alloc *alloc, unsigned long user_ptr)
{
	return PTR_ERR(bpa_alloc_prepare_to_free(alloc, user_ptr));
}

/* Bad frees from userspace fail with -EINVAL and change nothing. */
static void bpa_alloc_test_bad_free(struct kunit *test)
{
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_alloc_stats before, after;
	struct bpa_buffer *a, *b;

	a = at_new(test, alloc, 256, false);
	b = at_new(test, alloc, 256, false);
	bpa_alloc_get_stats(alloc, &before);

	/* Not released to userspace yet. */
	KUNIT_EXPECT_EQ(test, at_bad_free(alloc, a->user_data), -EINVAL);
	a->allow_user_free = 1;
	/* Not the start of a buffer, and not in the area at all. */
	KUNIT_EXPECT_EQ(test, at_bad_free(alloc, a->user_data + 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, at_bad_free(alloc, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, at_bad_free(alloc, ULONG_MAX), -EINVAL);
	bpa_alloc_get_stats(alloc, &after);
	KUNIT_EXPECT_EQ(test, memcmp(&before, &after, sizeof(before)), 0);

	/* Once, then never again. */
	KUNIT_EXPECT_PTR_EQ(test, bpa_alloc_prepare_to_free(alloc, a->user_data),
			    a);
	KUNIT_EXPECT_EQ(test, at_bad_free(alloc, a->user_data), -EINVAL);
	bpa_alloc_free_buf(alloc, a);
	/* The freed address is not a buffer any more. */
	KUNIT_EXPECT_EQ(test, at_bad_free(alloc, alloc->buffer), -EINVAL);
	bpa_alloc_free_buf(alloc, b);
	at_expect_one_free_buffer(test, alloc);
}

/* After the VMA closes: no new buffer, but existing ones can be freed. */
static void bpa_alloc_test_after_close(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_buffer *a;

	a = at_new(test, alloc, 3 * PAGE_SIZE, false);
	KUNIT_ASSERT_EQ(test, vm_munmap(ctx->uaddr, ctx->size), 0);
	KUNIT_ASSERT_TRUE(test, at_closed(ctx));
	KUNIT_EXPECT_EQ(test, PTR_ERR(bpa_alloc_new_buf(alloc, 8, 0, 0, false)),
			-ESRCH);
	bpa_alloc_free_buf(alloc, a);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(&ctx->prs), 3);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(&ctx->prs), 3);
	/* A second mapping is refused even now. */
	KUNIT_EXPECT_EQ(test, at_map(test, PAGE_SIZE, PROT_READ), -EBUSY);
}

/*
 * The deferred release frees buffers still allocated and all pages, and
 * zeroes the bytes of those marked clear_on_free.
 */
static void bpa_alloc_test_release(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_buffer *a, *b;

	u8 *page = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct page *p;

	KUNIT_ASSERT_NOT_NULL(test, page);
	at_new(test, alloc, 3 * PAGE_SIZE, false);
	a = at_new(test, alloc, 100, true);
	b = at_new(test, alloc, 2 * PAGE_SIZE, false);
	bpa_alloc_free_buf(alloc, a);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs), 6);

	/* b's last page is its own; release must zero it for clear_on_free. */
	memset(page, 0xa5, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, bpa_alloc_copy_to_buffer(alloc, b, PAGE_SIZE, page,
						       PAGE_SIZE), 0);
	b->clear_on_free = true;
	/* The area is VM_IO: get_user_pages() (ptrace, ...) cannot reach it. */
	KUNIT_EXPECT_LT(test, get_user_pages_fast(alloc->buffer + 4 * PAGE_SIZE,
						  1, 0, &p), 0);
	/*
	 * Hold page 4, all b's, past the release, to see what the page
	 * allocator gets back.
	 */
	p = alloc->range.pages[4].page;
	get_page(p);
	memcpy_from_page((char *)page, p, 0, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, page[PAGE_SIZE - 1], 0xa5);
	KUNIT_ASSERT_EQ(test, vm_munmap(ctx->uaddr, ctx->size), 0);
	KUNIT_ASSERT_TRUE(test, at_closed(ctx));

	bpa_alloc_release(alloc);
	ctx->inited = false;
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs), 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(&ctx->prs), 0);
	/* Our extra reference kept the page: its bytes were zeroed. */
	memcpy_from_page((char *)page, p, 0, PAGE_SIZE);
	put_page(p);
	KUNIT_EXPECT_TRUE(test, prt_all_zero(page, PAGE_SIZE));
}

static void bpa_alloc_test_mmap_rules(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;

	/* A shared writable mapping of a read-only file: the VFS says no. */
	KUNIT_EXPECT_EQ(test, at_map(test, PAGE_SIZE, PROT_READ | PROT_WRITE),
			-EACCES);
	/* A private writable one gets to the handler, which says no. */
	KUNIT_EXPECT_EQ(test, at_map_flags(test, PAGE_SIZE,
					   PROT_READ | PROT_WRITE, MAP_PRIVATE),
			-EPERM);
	KUNIT_ASSERT_EQ(test, at_map(test, SZ_4M + SZ_1M, PROT_READ), 0);
	KUNIT_EXPECT_EQ(test, ctx->alloc.buffer_size, SZ_4M);
	KUNIT_EXPECT_EQ(test, page_range_num_pages(&ctx->alloc.range),
			SZ_4M >> PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, at_map(test, PAGE_SIZE, PROT_READ), -EBUSY);
}

/* Copies land where the user mapping shows them; bounds are the buffer's. */
static void bpa_alloc_test_copy(struct kunit *test)
{
	struct bpa_alloc *alloc = at_alloc(test);
	size_t len = PAGE_SIZE + 200;
	const void __user *uptr;
	struct bpa_buffer *a, *b;
	unsigned long ubuf;
	u8 *want, *got;

	want = kunit_kmalloc(test, len, GFP_KERNEL);
	got = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);

	a = at_new(test, alloc, 100, false);
	b = at_new(test, alloc, len, false);

	prt_fill(want, len, 9);
	KUNIT_ASSERT_EQ(test, bpa_alloc_copy_to_buffer(alloc, b, 0, want, len), 0);
	KUNIT_ASSERT_TRUE(test, prt_user_read(b->user_data, got, len));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);
	memset(got, 0, len);
	KUNIT_ASSERT_EQ(test, bpa_alloc_copy_from_buffer(alloc, got, b, 0, len),
			0);
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);

	ubuf = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_FALSE(test, !ubuf || IS_ERR_VALUE(ubuf));
	prt_fill(want, len, 10);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)ubuf, want, len), 0);
	uptr = (const void __user *)ubuf;
	KUNIT_ASSERT_EQ(test, bpa_alloc_copy_user_to_buffer(alloc, b, 0, uptr,
							    len), 0);
	KUNIT_ASSERT_TRUE(test, prt_user_read(b->user_data, got, len));
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);

	/* Out of the buffer, even where the neighbour or the area goes on. */
	KUNIT_EXPECT_EQ(test, bpa_alloc_copy_to_buffer(alloc, a, 100, want, 8),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, bpa_alloc_copy_from_buffer(alloc, got, b, len, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, bpa_alloc_copy_from_buffer(alloc, got, b,
							 SIZE_MAX, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, bpa_alloc_copy_user_to_buffer(alloc, a, 0, uptr,
							    200), -EINVAL);
	/* The neighbour was not touched. */
	KUNIT_ASSERT_TRUE(test, prt_user_read(a->user_data, got, 104));
	KUNIT_EXPECT_TRUE(test, prt_all_zero(got, 104));

	/*
	 * clear_on_free zeroes the bytes before the pages are released: the
	 * page shared with a stays used, the next one is available but still
	 * mapped, and both read as zeroes.
	 */
	ubuf = b->user_data;
	b->clear_on_free = true;
	bpa_alloc_free_buf(alloc, b);
	KUNIT_EXPECT_EQ(test, page_range_get_state(&alloc->range, 1),
			PAGE_RANGE_AVAILABLE);
	KUNIT_ASSERT_TRUE(test, prt_user_read(ubuf, got, len));
	KUNIT_EXPECT_TRUE(test, prt_all_zero(got, len));
	bpa_alloc_free_buf(alloc, a);
}

/* What the tracepoint probes saw. */
struct at_trace {
	int allocs, frees, reclaims, zapped;
	unsigned int alloc_id, free_id;
	unsigned long alloc_offset;
	size_t alloc_size;
	pid_t pid;
};

static void at_probe_alloc(void *data, pid_t pid, unsigned int debug_id,
			   unsigned long offset, size_t size, bool async)
{
	struct at_trace *t = data;

	t->allocs++;
	t->alloc_id = debug_id;
	t->alloc_offset = offset;
	t->alloc_size = size;
	t->pid = pid;
}

static void at_probe_free(void *data, pid_t pid, unsigned int debug_id,
			  unsigned long offset, size_t size, bool async)
{
	struct at_trace *t = data;

	t->frees++;
	t->free_id = debug_id;
}

static void at_probe_reclaim(void *data, pid_t pid, size_t index,
			     bool zapped)
{
	struct at_trace *t = data;

	t->reclaims++;
	t->zapped += zapped;
}

/*
 * The probes' removal, as KUnit actions: a test that stops early (an
 * allocation failed under fault injection) must not leave a probe behind,
 * or the next test's first allocation calls it with the at_trace that
 * KUnit has freed by then. Only a registered probe may be unregistered
 * (the tracepoint core warns otherwise), so each has its own action, added
 * once its registration succeeded.
 */
static void at_unregister_alloc(void *t)
{
	unregister_trace_bpa_alloc_buf(at_probe_alloc, t);
}

static void at_unregister_free(void *t)
{
	unregister_trace_bpa_free_buf(at_probe_free, t);
}

static void at_unregister_reclaim(void *t)
{
	unregister_trace_page_range_reclaim(at_probe_reclaim, t);
}

/* After the removals: no probe still runs on another CPU. */
static void at_sync_unregister(void *unused)
{
	tracepoint_synchronize_unregister();
}

/* A user's structure around each buffer: the allocator's part, then its own. */
struct at_outer {
	struct bpa_buffer pb;
	u8 tag[64];
};

struct at_count {
	struct bpa_walk walk;
	size_t buffers;
	size_t bytes;
};

static void at_count_fn(struct bpa_walk *walk, struct bpa_buffer *b,
			size_t size)
{
	struct at_count *c = container_of(walk, struct at_count, walk);

	c->buffers++;
	c->bytes += size;
}

static int at_refuse(struct bpa_buffer *b)
{
	return -EPERM;
}

static int at_accept(struct bpa_buffer *b)
{
	return 0;
}

static u8 *at_tag(struct bpa_buffer *b)
{
	return container_of(b, struct at_outer, pb)->tag;
}

/*
 * The calls a user of the allocator builds on: buffers embedded in larger
 * structures of its own (every structure the allocator hands out, from a
 * split, the spare or the first mmap, is whole: KASAN catches a short one
 * when its tag is written), the walk over the allocated buffers against
 * the statistics, and a lookup with the caller's own "may free" rule.
 */
static void bpa_alloc_test_embedding(struct kunit *test)
{
	struct at_count c = { .walk.fn = at_count_fn };
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc_stats st;
	struct bpa_buffer *b[8];
	struct bpa_alloc *alloc;
	int i, round;

	ctx->buffer_struct_size = sizeof(struct at_outer);
	alloc = at_alloc(test);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < ARRAY_SIZE(b); i++) {
			b[i] = at_new(test, alloc, 100 + 300 * i, i & 1);
			memset(at_tag(b[i]), round * 16 + i, 64);
		}
		c.buffers = 0;
		c.bytes = 0;
		bpa_alloc_walk_allocated(alloc, &c.walk);
		bpa_alloc_get_stats(alloc, &st);
		KUNIT_EXPECT_EQ(test, c.buffers, ARRAY_SIZE(b));
		KUNIT_EXPECT_EQ(test, st.buffers_allocated, ARRAY_SIZE(b));
		KUNIT_EXPECT_EQ(test, c.bytes,
				st.pages_total * PAGE_SIZE - st.free_space);

		KUNIT_EXPECT_PTR_EQ(test,
				    bpa_alloc_take_buffer(alloc,
							  b[0]->user_data + 8,
							  at_accept),
				    ERR_PTR(-ENOENT));
		KUNIT_EXPECT_PTR_EQ(test,
				    bpa_alloc_take_buffer(alloc,
							  b[0]->user_data,
							  at_refuse),
				    ERR_PTR(-EPERM));
		KUNIT_EXPECT_PTR_EQ(test,
				    bpa_alloc_take_buffer(alloc,
							  b[0]->user_data,
							  at_accept),
				    b[0]);

		/* Every other one, then the rest, which merge. */
		for (i = 0; i < ARRAY_SIZE(b); i++) {
			KUNIT_EXPECT_EQ(test, at_tag(b[i])[63], round * 16 + i);
			if (i % 2 == round % 2)
				bpa_alloc_free_buf(alloc, b[i]);
		}
		for (i = 0; i < ARRAY_SIZE(b); i++)
			if (i % 2 != round % 2)
				bpa_alloc_free_buf(alloc, b[i]);
		at_expect_one_free_buffer(test, alloc);
	}
}

/* The tracepoints follow a buffer and its pages. */
static void bpa_alloc_test_tracepoints(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	struct at_trace *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct bpa_buffer *a, *b;

	/* Without tracepoints, registering a probe is -ENOSYS. */
	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		kunit_skip(test, "the kernel has no tracepoints");
	KUNIT_ASSERT_NOT_NULL(test, t);
	a = at_new(test, alloc, 64, false);
	/* Actions run in reverse: the synchronisation after the removals. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, at_sync_unregister,
							NULL), 0);
	KUNIT_ASSERT_EQ(test, register_trace_bpa_alloc_buf(at_probe_alloc, t), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, at_unregister_alloc,
							t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_bpa_free_buf(at_probe_free, t), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, at_unregister_free,
							t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_page_range_reclaim(at_probe_reclaim,
								t), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, at_unregister_reclaim,
							t), 0);

	b = at_new(test, alloc, 2 * PAGE_SIZE, false);
	bpa_alloc_free_buf(alloc, b);
	bpa_alloc_free_buf(alloc, a);
	prt_shrink_all(&ctx->prs);

	/* Gone before the counts are read: no event of later code counts. */
	kunit_release_action(test, at_unregister_reclaim, t);
	kunit_release_action(test, at_unregister_free, t);
	kunit_release_action(test, at_unregister_alloc, t);
	kunit_release_action(test, at_sync_unregister, NULL);

	KUNIT_EXPECT_EQ(test, t->allocs, 1);
	KUNIT_EXPECT_EQ(test, t->alloc_offset, 64);
	KUNIT_EXPECT_EQ(test, t->alloc_size, 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, t->pid, alloc->pid);
	KUNIT_EXPECT_EQ(test, t->frees, 2);
	KUNIT_EXPECT_EQ(test, t->free_id, t->alloc_id - 1);
	/* Pages 0, 1 and 2, each zapped from the live mapping. */
	KUNIT_EXPECT_EQ(test, t->reclaims, 3);
	KUNIT_EXPECT_EQ(test, t->zapped, 3);
}

/* ---- race ---- */

/* What the race's workers share. */
struct at_race {
	struct prt_race race;
	struct bpa_alloc *alloc;
	atomic_long_t allocs;
	atomic_long_t nospace;
};

#define AT_RACE_BUFS	4
#define AT_RACE_MAX	(3 * PAGE_SIZE)

static bool at_verify(struct at_race *r, struct bpa_buffer *b, size_t size,
		      u8 *want, u8 *got, u32 seed)
{
	prt_fill(want, size, seed);
	if (bpa_alloc_copy_from_buffer(r->alloc, got, b, 0, size) ||
	    memcmp(want, got, size)) {
		prt_race_error(&r->race, "kernel view differs: seed %u, %zu bytes",
			       seed, size);
		return false;
	}
	if (!prt_user_read(b->user_data, got, size) || memcmp(want, got, size)) {
		prt_race_error(&r->race, "user view differs: seed %u, %zu bytes",
			       seed, size);
		return false;
	}
	return true;
}

/*
 * Allocate buffers of random sizes, fill each with its own pattern, check
 * it through both views, free them in random order, repeat.
 */
static void at_race_worker(struct prt_race_worker *w)
{
	struct at_race *r = container_of(w->race, struct at_race, race);
	struct bpa_alloc *alloc = r->alloc;
	struct mm_struct *mm = alloc->range.mm;
	struct bpa_buffer *bufs[AT_RACE_BUFS];
	size_t sizes[AT_RACE_BUFS];
	struct rnd_state rnd;
	u32 seed = w->id << 24;
	u8 *want, *got;
	int i, n;

	prandom_seed_state(&rnd, w->id + 1);
	want = kmalloc(AT_RACE_MAX, GFP_KERNEL);
	got = kmalloc(AT_RACE_MAX, GFP_KERNEL);
	if (!want || !got || !mmget_not_zero(mm)) {
		prt_race_error(&r->race, "worker %u: setup failed", w->id);
		goto out_free;
	}
	kthread_use_mm(mm);
	while (!prt_race_over(&r->race)) {
		n = 0;
		for (i = 0; i < AT_RACE_BUFS; i++) {
			size_t size = prandom_u32_state(&rnd) % AT_RACE_MAX + 1;
			struct bpa_buffer *b = bpa_alloc_new_buf(alloc, size, 0,
								 0, i & 1);

			if (IS_ERR(b)) {
				if (PTR_ERR(b) != -ENOSPC)
					prt_race_error(&r->race,
						       "alloc of %zu bytes: %ld",
						       size, PTR_ERR(b));
				atomic_long_inc(&r->nospace);
				continue;
			}
			prt_fill(want, size, ++seed);
			bpa_alloc_copy_to_buffer(alloc, b, 0, want, size);
			bufs[n] = b;
			sizes[n++] = size;
			atomic_long_inc(&r->allocs);
		}
		for (i = 0; i < n; i++)
			at_verify(r, bufs[i], sizes[i], want, got,
				  seed - n + 1 + i);
		while (n) {
			i = prandom_u32_state(&rnd) % n;
			bpa_alloc_free_buf(alloc, bufs[i]);
			bufs[i] = bufs[--n];
		}
		cond_resched();
	}
	kthread_unuse_mm(mm);
	mmput(mm);
out_free:
	kfree(want);
	kfree(got);
}

#define AT_RACE_WORKERS	3

/*
 * Threads allocate, fill, verify and free buffers of random sizes while
 * another runs the shrinker; at the end every page is accounted for.
 */
static void bpa_alloc_test_race(struct kunit *test)
{
	struct at_ctx *ctx = test->priv;
	struct bpa_alloc *alloc = at_alloc(test);
	struct bpa_alloc_stats st;
	struct at_race *r;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->alloc = alloc;
	prt_race_init(&r->race);
	ctx->race = &r->race;
	prt_race_start(test, &r->race, at_race_worker, AT_RACE_WORKERS);
	prt_race_start_shrinker(test, &r->race, &ctx->prs, AT_RACE_NR_TO_SCAN);
	prt_race_wait(test, &r->race);
	kunit_info(test, "%ld buffers, %ld -ENOSPC, %ld pages reclaimed\n",
		   atomic_long_read(&r->allocs),
		   atomic_long_read(&r->nospace),
		   atomic_long_read(&r->race.reclaimed));
	KUNIT_EXPECT_GT(test, atomic_long_read(&r->allocs), 0);

	/* Exact accounting: nothing allocated, one free buffer, no page used. */
	at_expect_one_free_buffer(test, alloc);
	bpa_alloc_get_stats(alloc, &st);
	KUNIT_EXPECT_EQ(test, st.pages_used, 0);
	KUNIT_EXPECT_EQ(test, alloc->pages_used, 0);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs),
			st.pages_available);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_count(&ctx->prs),
			st.pages_available);
	KUNIT_EXPECT_EQ(test, prt_shrink_all(&ctx->prs), st.pages_available);
	KUNIT_EXPECT_EQ(test, page_range_shrinker_nr_pages(&ctx->prs), 0);
}

static struct kunit_case bpa_alloc_test_cases[] = {
	KUNIT_CASE(bpa_alloc_test_shared_page),
	KUNIT_CASE(bpa_alloc_test_best_fit_split_merge),
	KUNIT_CASE_PARAM(bpa_alloc_test_best_fit_ties, at_ties_gen_params),
	KUNIT_CASE(bpa_alloc_test_async_space),
	KUNIT_CASE(bpa_alloc_test_nospace_and_overflow),
	KUNIT_CASE(bpa_alloc_test_bad_free),
	KUNIT_CASE(bpa_alloc_test_after_close),
	KUNIT_CASE(bpa_alloc_test_release),
	KUNIT_CASE(bpa_alloc_test_use_fails),
	KUNIT_CASE_PARAM(bpa_alloc_test_new_buf_killable,
			 prt_kill_lock_gen_params),
	KUNIT_CASE(bpa_alloc_test_counts),
	KUNIT_CASE(bpa_alloc_test_vma_rules),
	KUNIT_CASE(bpa_alloc_test_mmap_rules),
	KUNIT_CASE(bpa_alloc_test_copy),
	KUNIT_CASE(bpa_alloc_test_tracepoints),
	KUNIT_CASE(bpa_alloc_test_embedding),
	KUNIT_CASE_PARAM_ATTR(bpa_alloc_test_exhaustive, at_shift_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_SLOW(bpa_alloc_test_race),
	{}
};

static struct kunit_suite bpa_alloc_test_suite = {
	.name = "binder_page_range_alloc",
	.init = at_init,
	.exit = at_exit,
	.test_cases = bpa_alloc_test_cases,
};

kunit_test_suite(bpa_alloc_test_suite);
