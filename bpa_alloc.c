// SPDX-License-Identifier: GPL-2.0
/*
 * Binder-style buffer allocator over a page range.
 *
 * Each process maps a read-only area; buffers are carved out of it, best
 * fit, and the pages under a buffer exist only while some buffer touches
 * them. A page shared at a boundary by two buffers stays in use until both
 * are freed: every page counts the allocated buffers that touch it, and
 * goes to page_range_stop_using_locked() when the count drops to zero.
 *
 * Locking: alloc->lock, a spinlock, protects the buffer lists and trees,
 * the page counts and the accounting, and is the page range's lock too
 * (page_range_init()): pages already present are taken off the LRU under
 * it (page_range_use_locked()), and put back under it when their count
 * drops to zero (page_range_stop_using_locked()), with no other lock but
 * the lru lock. It is never held across page_range_use(), which sleeps: an
 * allocation takes its page references under the lock and, if a page is
 * missing, makes it present after dropping it. Two allocations that touch
 * the same page both make it present, and each returns only once the page
 * is there, so neither can write to a missing page; a page is only stopped
 * when its count drops to zero under the lock, so a later allocation's use
 * always comes after it.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#include <linux/atomic.h>
#include <linux/cleanup.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "bpa_alloc.h"

#define CREATE_TRACE_POINTS
#include "bpa_trace.h"

/* For probes in other modules, such as the KUnit tests. */
EXPORT_TRACEPOINT_SYMBOL_GPL(bpa_alloc_buf);
EXPORT_TRACEPOINT_SYMBOL_GPL(bpa_free_buf);

/* A page's buffer count is a u16: at most one buffer per pointer + 1. */
static_assert(PAGE_SIZE / sizeof(void *) + 1 <= U16_MAX);

/* Every allocator, for debugfs; bpa_alloc_list_lock protects the list. */
static DEFINE_MUTEX(bpa_alloc_list_lock);
static LIST_HEAD(bpa_alloc_list);
static struct dentry *bpa_debugfs_root;
static atomic_t bpa_alloc_ids = ATOMIC_INIT(0);
/*
 * Allocated buffers of every allocator, for leak checks: per CPU, so that
 * allocators of different processes share no cache line on their paths.
 */
static DEFINE_PER_CPU(long, bpa_nr_buffers);

/* Size of @buffer: up to the next buffer, or to the end of the area. */
static size_t bpa_buffer_size_locked(struct bpa_alloc *alloc,
				     struct bpa_buffer *buffer)
{
	lockdep_assert_held(&alloc->lock);
	if (list_is_last(&buffer->entry, &alloc->buffers))
		return alloc->buffer + alloc->buffer_size - buffer->user_data;
	return list_next_entry(buffer, entry)->user_data - buffer->user_data;
}

/**
 * bpa_buffer_size() - size of an allocated buffer
 * @alloc: the allocator
 * @buffer: a buffer of @alloc
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: the bytes between the buffer's start and the next buffer's, or
 * the end of the area for the last buffer.
 */
size_t bpa_buffer_size(struct bpa_alloc *alloc, struct bpa_buffer *buffer)
{
	size_t size;

	spin_lock(&alloc->lock);
	size = bpa_buffer_size_locked(alloc, buffer);
	spin_unlock(&alloc->lock);
	return size;
}
EXPORT_SYMBOL_NS_GPL(bpa_buffer_size, PAGE_RANGE_NS);

/*
 * Free buffers are ordered by size, then address: best fit, lowest first.
 * By hand rather than with rb_add(): a buffer's size comes from its
 * neighbour or the end of the area, which the comparison cannot see.
 */
static void bpa_insert_free_buffer(struct bpa_alloc *alloc,
				   struct bpa_buffer *new)
{
	struct rb_node **p = &alloc->free_buffers.rb_node;
	size_t new_size = bpa_buffer_size_locked(alloc, new);
	struct rb_node *parent = NULL;

	lockdep_assert_held(&alloc->lock);
	while (*p) {
		struct bpa_buffer *buffer;
		size_t size;

		parent = *p;
		buffer = rb_entry(parent, struct bpa_buffer, rb_node);
		size = bpa_buffer_size_locked(alloc, buffer);
		if (new_size < size ||
		    (new_size == size && new->user_data < buffer->user_data))
			p = &parent->rb_left;
		else
			p = &parent->rb_right;
	}
	rb_link_node(&new->rb_node, parent, p);
	rb_insert_color(&new->rb_node, &alloc->free_buffers);
	alloc->nr_free++;
}

static void bpa_erase_free_buffer(struct bpa_alloc *alloc,
				  struct bpa_buffer *buffer)
{
	lockdep_assert_held(&alloc->lock);
	rb_erase(&buffer->rb_node, &alloc->free_buffers);
	alloc->nr_free--;
}

static bool bpa_allocated_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct bpa_buffer, rb_node)->user_data <
	       rb_entry(b, struct bpa_buffer, rb_node)->user_data;
}

static void bpa_insert_allocated_buffer(struct bpa_alloc *alloc,
					struct bpa_buffer *new)
{
	lockdep_assert_held(&alloc->lock);
	rb_add(&new->rb_node, &alloc->allocated_buffers, bpa_allocated_less);
	alloc->nr_allocated++;
	this_cpu_inc(bpa_nr_buffers);
}

static int bpa_allocated_cmp(const void *key, const struct rb_node *n)
{
	unsigned long user_ptr = *(const unsigned long *)key;
	unsigned long start = rb_entry(n, struct bpa_buffer, rb_node)->user_data;

	return user_ptr < start ? -1 : user_ptr > start;
}

static struct bpa_buffer *bpa_find_allocated(struct bpa_alloc *alloc,
					     unsigned long user_ptr)
{
	struct rb_node *n;

	lockdep_assert_held(&alloc->lock);
	n = rb_find(&user_ptr, &alloc->allocated_buffers, bpa_allocated_cmp);
	return n ? rb_entry(n, struct bpa_buffer, rb_node) : NULL;
}

/* The smallest free buffer of at least @size bytes, lowest address first. */
static struct bpa_buffer *bpa_best_fit(struct bpa_alloc *alloc, size_t size)
{
	struct rb_node *n = alloc->free_buffers.rb_node;
	struct bpa_buffer *best = NULL;

	lockdep_assert_held(&alloc->lock);
	while (n) {
		struct bpa_buffer *buffer = rb_entry(n, struct bpa_buffer, rb_node);

		if (bpa_buffer_size_locked(alloc, buffer) >= size) {
			best = buffer;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

/* First and last page index that bytes [user_data, + size) touch. */
static void bpa_buffer_pages(struct bpa_alloc *alloc, unsigned long user_data,
			     size_t size, size_t *first, size_t *last)
{
	*first = (user_data - alloc->buffer) >> PAGE_SHIFT;
	*last = (user_data - alloc->buffer + size - 1) >> PAGE_SHIFT;
}

/* Take a reference on pages [first, last]. */
static void bpa_get_pages(struct bpa_alloc *alloc, size_t first, size_t last)
{
	size_t i;

	lockdep_assert_held(&alloc->lock);
	for (i = first; i <= last; i++)
		if (!alloc->page_refs[i]++)
			alloc->pages_used++;
	alloc->pages_high = max(alloc->pages_high, alloc->pages_used);
}

/*
 * Drop a reference on pages [first, last]; pages that no buffer touches
 * any more become available to the shrinker, in runs.
 */
static void bpa_put_pages(struct bpa_alloc *alloc, size_t first, size_t last)
{
	size_t i, run = SIZE_MAX;

	lockdep_assert_held(&alloc->lock);
	for (i = first; i <= last; i++) {
		if (--alloc->page_refs[i]) {
			if (run != SIZE_MAX)
				page_range_stop_using_locked(&alloc->range,
							     run, i);
			run = SIZE_MAX;
			continue;
		}
		alloc->pages_used--;
		if (run == SIZE_MAX)
			run = i;
	}
	if (run != SIZE_MAX)
		page_range_stop_using_locked(&alloc->range, run, last + 1);
}

/* Bytes a request takes: each part pointer-aligned, at least a pointer. */
static int bpa_request_size(size_t data_size, size_t offsets_size,
			    size_t extra_size, size_t *size)
{
	size_t d, o, e, sum;

	if (check_add_overflow(data_size, sizeof(void *) - 1, &d) ||
	    check_add_overflow(offsets_size, sizeof(void *) - 1, &o) ||
	    check_add_overflow(extra_size, sizeof(void *) - 1, &e))
		return -EINVAL;
	d &= ~(sizeof(void *) - 1);
	o &= ~(sizeof(void *) - 1);
	e &= ~(sizeof(void *) - 1);
	if (check_add_overflow(d, o, &sum) || check_add_overflow(sum, e, &sum))
		return -EINVAL;
	*size = max(sum, sizeof(void *));
	return 0;
}

/*
 * Zero the buffer's bytes if its owner asked for it. The pages are still
 * used (the buffer holds them), and zeroing does not sleep.
 */
static void bpa_clear_on_free_locked(struct bpa_alloc *alloc,
				     struct bpa_buffer *buffer)
{
	lockdep_assert_held(&alloc->lock);
	if (!buffer->clear_on_free)
		return;
	page_range_fill_zero(&alloc->range, buffer->user_data - alloc->buffer,
			     bpa_buffer_size_locked(alloc, buffer));
	buffer->clear_on_free = false;
}

/*
 * Keep @buffer, a structure no longer in use (or NULL), as the allocator's
 * spare if it has none: the next split takes it instead of allocating.
 * Returns what is left to kfree(). A merge frees a structure and the next
 * split needs one, so in steady state no allocation or free happens for
 * them; the spare may be charged to an earlier sender than the one whose
 * buffer it ends up in, one structure per allocator at most.
 */
static struct bpa_buffer *bpa_keep_spare(struct bpa_alloc *alloc,
					 struct bpa_buffer *buffer)
{
	lockdep_assert_held(&alloc->lock);
	if (!buffer || alloc->spare)
		return buffer;
	WRITE_ONCE(alloc->spare, buffer);
	return NULL;
}

/*
 * Return @buffer to the free tree, merging it with free neighbours, and
 * release its pages. @buffer may be freed.
 */
static void bpa_free_buf_locked(struct bpa_alloc *alloc,
				struct bpa_buffer *buffer)
{
	size_t size = bpa_buffer_size_locked(alloc, buffer);
	struct bpa_buffer *prev, *next;
	size_t first, last;

	lockdep_assert_held(&alloc->lock);

	trace_bpa_free_buf(alloc->pid, buffer->debug_id,
			   buffer->user_data - alloc->buffer, size, buffer->async);
	bpa_buffer_pages(alloc, buffer->user_data, size, &first, &last);
	bpa_put_pages(alloc, first, last);
	if (buffer->async)
		alloc->free_async_space += size;

	rb_erase(&buffer->rb_node, &alloc->allocated_buffers);
	alloc->nr_allocated--;
	this_cpu_dec(bpa_nr_buffers);
	alloc->allocated_bytes -= size;
	buffer->free = true;
	buffer->async = false;
	buffer->allow_user_free = false;

	if (!list_is_last(&buffer->entry, &alloc->buffers)) {
		next = list_next_entry(buffer, entry);
		if (next->free) {
			bpa_erase_free_buffer(alloc, next);
			list_del(&next->entry);
			kfree(bpa_keep_spare(alloc, next));
		}
	}
	if (!list_is_first(&buffer->entry, &alloc->buffers)) {
		prev = list_prev_entry(buffer, entry);
		if (prev->free) {
			bpa_erase_free_buffer(alloc, prev);
			list_del(&buffer->entry);
			kfree(bpa_keep_spare(alloc, buffer));
			buffer = prev;
		}
	}
	bpa_insert_free_buffer(alloc, buffer);
}

/*
 * What one bpa_alloc_new_buf() asks for, the bytes that takes, and the
 * pages the buffer touches once it is placed.
 */
struct bpa_request {
	size_t data_size;
	size_t offsets_size;
	size_t extra_size;
	size_t size;
	bool is_async;
	size_t first;
	size_t last;
};

/* The free buffer a request is carved from, or why there is none. */
static struct bpa_buffer *bpa_find_space(struct bpa_alloc *alloc,
					 struct bpa_request *req)
	__must_hold(&alloc->lock)
{
	struct bpa_buffer *buffer;

	lockdep_assert_held(&alloc->lock);
	if (!alloc->mapped || alloc->closed)
		return ERR_PTR(-ESRCH);
	if (req->is_async && req->size > alloc->free_async_space)
		return ERR_PTR(-ENOSPC);
	buffer = bpa_best_fit(alloc, req->size);
	return buffer ? buffer : ERR_PTR(-ENOSPC);
}

/*
 * Take @buffer, free, off the free tree and cut it to @size bytes; the
 * remainder becomes a free buffer with the structure *@split, or else the
 * allocator's spare. False, with nothing done, if a structure is needed
 * and the spare was taken meanwhile by another allocation.
 */
static bool bpa_carve(struct bpa_alloc *alloc, struct bpa_buffer *buffer,
		      size_t size, struct bpa_buffer **split)
	__must_hold(&alloc->lock)
{
	struct bpa_buffer *rest = *split;
	size_t buffer_size;

	lockdep_assert_held(&alloc->lock);
	buffer_size = bpa_buffer_size_locked(alloc, buffer);
	if (buffer_size > size && !rest) {
		rest = alloc->spare;
		if (!rest)
			return false;
		WRITE_ONCE(alloc->spare, NULL);
		memset(rest, 0, sizeof(*rest));
	}

	bpa_erase_free_buffer(alloc, buffer);
	if (buffer_size > size) {
		rest->user_data = buffer->user_data + size;
		rest->free = true;
		list_add(&rest->entry, &buffer->entry);
		bpa_insert_free_buffer(alloc, rest);
		*split = NULL;
	}
	return true;
}

/*
 * Make @buffer, just carved, an allocated buffer for @req, and take a
 * reference on each page it touches.
 */
static void bpa_setup_buffer(struct bpa_alloc *alloc, struct bpa_buffer *buffer,
			     struct bpa_request *req)
	__must_hold(&alloc->lock)
{
	lockdep_assert_held(&alloc->lock);
	buffer->free = false;
	buffer->allow_user_free = false;
	buffer->clear_on_free = false;
	buffer->async = req->is_async;
	buffer->data_size = req->data_size;
	buffer->offsets_size = req->offsets_size;
	buffer->extra_size = req->extra_size;
	buffer->pid = current->tgid;
	buffer->private = NULL;
	buffer->debug_id = ++alloc->next_debug_id;
	bpa_insert_allocated_buffer(alloc, buffer);
	alloc->allocated_bytes += bpa_buffer_size_locked(alloc, buffer);
	if (req->is_async)
		alloc->free_async_space -= req->size;

	bpa_buffer_pages(alloc, buffer->user_data, req->size, &req->first,
			 &req->last);
	bpa_get_pages(alloc, req->first, req->last);
	trace_bpa_alloc_buf(alloc->pid, buffer->debug_id,
			    buffer->user_data - alloc->buffer, req->size,
			    req->is_async);
}

/*
 * The allocation's one critical section: place the buffer and take the
 * pages under it that are present off the LRU, with no sleep. Returns the
 * buffer, with *@use_ret set to what page_range_use_locked() said; NULL if
 * a split found no structure (see bpa_carve()); or an error. What is left
 * in *@split is the caller's to kfree().
 */
static struct bpa_buffer *bpa_place_buffer(struct bpa_alloc *alloc,
					   struct bpa_request *req,
					   struct bpa_buffer **split,
					   int *use_ret)
{
	struct bpa_buffer *buffer;

	scoped_guard(spinlock, &alloc->lock) {
		buffer = bpa_find_space(alloc, req);
		if (!IS_ERR(buffer)) {
			/* Nothing to keep as the spare: *@split is NULL. */
			if (!bpa_carve(alloc, buffer, req->size, split))
				return NULL;
			bpa_setup_buffer(alloc, buffer, req);
			/* Pages already present: no other lock, no sleep. */
			*use_ret = page_range_use_locked(&alloc->range,
							 req->first,
							 req->last + 1);
		}
		*split = bpa_keep_spare(alloc, *split);
	}
	return buffer;
}

/**
 * bpa_alloc_new_buf() - allocate a buffer and make its pages present
 * @alloc: the allocator
 * @data_size: bytes of data
 * @offsets_size: bytes of offsets
 * @extra_size: bytes of extra buffers
 * @is_async: take the space from the async half
 *
 * Each size is rounded up to a pointer's size; the buffer takes their sum,
 * at least one pointer. The pages the buffer touches are made present and
 * mapped before it is returned; their contents are zero for pages that
 * were free, and whatever earlier buffers left for pages that were kept.
 *
 * Context: Process context; may sleep. Takes the owner's locks killably
 * where a page must be made present (page_range_use()).
 * Return: the buffer; ERR_PTR(-EINVAL) if the sizes overflow;
 * ERR_PTR(-ENOSPC) if no free buffer is large enough or the async space is
 * exhausted; ERR_PTR(-ESRCH) if the area is not mapped or its VMA was
 * closed, or, where a page must be inserted, if the VMA is being unmapped
 * or the owner's mm has no users left; ERR_PTR(-ENOMEM); ERR_PTR(-EINTR)
 * if a fatal signal came while waiting for the owner's locks; or another
 * error of vm_insert_pages(). On error the allocation is undone.
 */
struct bpa_buffer *bpa_alloc_new_buf(struct bpa_alloc *alloc, size_t data_size,
				     size_t offsets_size, size_t extra_size,
				     bool is_async)
{
	struct bpa_request req = {
		.data_size = data_size,
		.offsets_size = offsets_size,
		.extra_size = extra_size,
		.is_async = is_async,
	};
	struct bpa_buffer *buffer, *split = NULL;
	bool missed_spare = false;
	int ret;

	ret = bpa_request_size(data_size, offsets_size, extra_size, &req.size);
	if (ret)
		return ERR_PTR(ret);

	do {
		/*
		 * The remainder of a split needs a structure, and we may not
		 * sleep under the lock: allocate one now, unless the
		 * allocator keeps a spare (read as a hint here, taken under
		 * the lock), or another allocation took the spare we counted
		 * on (not to wait for a spare again). Charged to the task
		 * that asks for the buffer: the sender.
		 */
		if (!split && (missed_spare || !READ_ONCE(alloc->spare))) {
			split = kzalloc(alloc->buffer_struct_size,
					GFP_KERNEL_ACCOUNT);
			if (!split)
				return ERR_PTR(-ENOMEM);
		}
		/* After a miss, the free buffers may have changed too. */
		buffer = bpa_place_buffer(alloc, &req, &split, &ret);
		missed_spare = true;
	} while (!buffer);
	kfree(split);
	if (IS_ERR(buffer))
		return buffer;

	/*
	 * Outside the lock: page_range_use() sleeps. Our page references keep
	 * every page of ours from being stopped meanwhile.
	 */
	if (ret == -EAGAIN)
		ret = page_range_use(&alloc->range, req.first, req.last + 1);
	if (ret) {
		/* Undone like a free (the free tracepoint says so too). */
		scoped_guard(spinlock, &alloc->lock)
			bpa_free_buf_locked(alloc, buffer);
		return ERR_PTR(ret);
	}
	return buffer;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_new_buf, PAGE_RANGE_NS);

/**
 * bpa_alloc_take_buffer() - look up a buffer userspace asks to free
 * @alloc: the allocator
 * @user_ptr: the user address of the buffer, as userspace gave it
 * @may_free: called with the allocator's lock held on the buffer found;
 *	returns 0 if userspace may free it now (and records that it no
 *	longer may), or a negative errno
 *
 * For a user that keeps its own "may userspace free this" state, as
 * binder.c does in &struct binder_buffer; bpa_alloc_prepare_to_free()
 * keeps it in &bpa_buffer.allow_user_free.
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: the buffer, which the caller frees with bpa_alloc_free_buf();
 * ERR_PTR(-ENOENT) if @user_ptr is not the start of an allocated buffer;
 * or ERR_PTR() of what @may_free returned.
 */
struct bpa_buffer *bpa_alloc_take_buffer(struct bpa_alloc *alloc,
					 unsigned long user_ptr,
					 int (*may_free)(struct bpa_buffer *))
{
	struct bpa_buffer *buffer;
	int ret;

	scoped_guard(spinlock, &alloc->lock) {
		buffer = bpa_find_allocated(alloc, user_ptr);
		if (!buffer)
			return ERR_PTR(-ENOENT);
		ret = may_free(buffer);
	}
	return ret ? ERR_PTR(ret) : buffer;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_take_buffer, PAGE_RANGE_NS);

/* bpa_alloc_prepare_to_free()'s rule: once, after delivery. */
static int bpa_may_free(struct bpa_buffer *buffer)
{
	if (!buffer->allow_user_free)
		return -EINVAL;
	buffer->allow_user_free = false;
	return 0;
}

/**
 * bpa_alloc_prepare_to_free() - look up a buffer userspace asks to free
 * @alloc: the allocator
 * @user_ptr: the user address of the buffer, as userspace gave it
 *
 * Userspace may free a buffer only once, and only after it was released to
 * it (&bpa_buffer.allow_user_free). On success the buffer can no longer be
 * freed by userspace, and the caller frees it with bpa_alloc_free_buf().
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: the buffer, or ERR_PTR(-EINVAL) if @user_ptr is not the start
 * of an allocated buffer that userspace may free; nothing changes then.
 */
struct bpa_buffer *bpa_alloc_prepare_to_free(struct bpa_alloc *alloc,
					     unsigned long user_ptr)
{
	struct bpa_buffer *buffer;

	buffer = bpa_alloc_take_buffer(alloc, user_ptr, bpa_may_free);
	return buffer == ERR_PTR(-ENOENT) ? ERR_PTR(-EINVAL) : buffer;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_prepare_to_free, PAGE_RANGE_NS);

/**
 * bpa_alloc_release_to_user() - let userspace free a buffer
 * @alloc: the allocator
 * @buffer: an allocated buffer, delivered to userspace
 *
 * From now on bpa_alloc_prepare_to_free() accepts the buffer's address, once.
 *
 * Context: Process or atomic context, not interrupt context.
 */
void bpa_alloc_release_to_user(struct bpa_alloc *alloc, struct bpa_buffer *buffer)
{
	spin_lock(&alloc->lock);
	buffer->allow_user_free = true;
	spin_unlock(&alloc->lock);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_release_to_user, PAGE_RANGE_NS);

/**
 * bpa_alloc_free_buf() - free an allocated buffer
 * @alloc: the allocator
 * @buffer: a buffer from bpa_alloc_new_buf(); invalid afterwards
 *
 * Zeroes the buffer's bytes first if &bpa_buffer.clear_on_free is set. Pages
 * that no other buffer touches become available to the shrinker; a page
 * shared with a live neighbour stays in use.
 *
 * Context: Process or atomic context, not interrupt context.
 */
void bpa_alloc_free_buf(struct bpa_alloc *alloc, struct bpa_buffer *buffer)
{
	scoped_guard(spinlock, &alloc->lock) {
		/* A double free would corrupt both trees. */
		if (WARN_ON_ONCE(buffer->free))
			return;
		bpa_clear_on_free_locked(alloc, buffer);
		bpa_free_buf_locked(alloc, buffer);
	}
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_free_buf, PAGE_RANGE_NS);

/**
 * bpa_alloc_walk_allocated() - visit every allocated buffer
 * @alloc: the allocator
 * @walk: its @fn is called on each buffer, under the allocator's lock
 *
 * For debugging output and accounting that the statistics do not give.
 *
 * Context: Process or atomic context, not interrupt context.
 */
void bpa_alloc_walk_allocated(struct bpa_alloc *alloc,
			      struct bpa_walk *walk)
{
	struct bpa_buffer *buffer;
	struct rb_node *n;

	spin_lock(&alloc->lock);
	for (n = rb_first(&alloc->allocated_buffers); n; n = rb_next(n)) {
		buffer = rb_entry(n, struct bpa_buffer, rb_node);
		walk->fn(walk, buffer, bpa_buffer_size_locked(alloc, buffer));
	}
	spin_unlock(&alloc->lock);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_walk_allocated, PAGE_RANGE_NS);

/*
 * Offset in the range of bytes [@offset, + @bytes) of @buffer, if inside.
 * Without the lock, as binder_alloc.c checks: a copy's caller holds the
 * buffer allocated, and only the holder frees it; its address and the
 * sizes asked for, which bpa_carve() made its size, were set before the
 * allocation handed it out and stay until the free, while a neighbour's
 * free or split changes only the neighbour. The area's address was set at
 * mmap, before any buffer. A copy into a buffer freed already is the
 * caller's bug, which the free flag refuses where it can. The copies
 * return at once after it for zero bytes, which binder.c asks for in
 * every transaction without offsets.
 */
static int bpa_buffer_offset(struct bpa_alloc *alloc, struct bpa_buffer *buffer,
			     size_t offset, size_t bytes, size_t *range_off)
{
	size_t size, end;

	if (READ_ONCE(buffer->free) ||
	    bpa_request_size(buffer->data_size, buffer->offsets_size,
			     buffer->extra_size, &size) ||
	    check_add_overflow(offset, bytes, &end) || end > size)
		return -EINVAL;
	*range_off = buffer->user_data - READ_ONCE(alloc->buffer) + offset;
	return 0;
}

/**
 * bpa_alloc_copy_user_to_buffer() - copy user memory into a buffer
 * @alloc: the allocator
 * @buffer: an allocated buffer
 * @offset: byte offset in the buffer
 * @from: user source
 * @bytes: number of bytes
 *
 * Context: Process context; may fault.
 * Return: 0; -EINVAL if the bytes are not inside an allocated buffer;
 * -EFAULT if @from cannot be read; -EFAULT, with a warning, if a page is
 * missing (a bug: an allocated buffer's pages are present).
 */
int bpa_alloc_copy_user_to_buffer(struct bpa_alloc *alloc,
				  struct bpa_buffer *buffer, size_t offset,
				  const void __user *from, size_t bytes)
{
	size_t off;
	int ret;

	ret = bpa_buffer_offset(alloc, buffer, offset, bytes, &off);
	if (ret || !bytes)
		return ret;
	return page_range_copy_from_user(&alloc->range, off, from, bytes);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_copy_user_to_buffer, PAGE_RANGE_NS);

/**
 * bpa_alloc_copy_to_buffer() - copy kernel memory into a buffer
 * @alloc: the allocator
 * @buffer: an allocated buffer
 * @offset: byte offset in the buffer
 * @from: kernel source
 * @bytes: number of bytes
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: 0, -EINVAL if the bytes are not inside an allocated buffer,
 * -EFAULT, with a warning, if a page is missing (a bug: an allocated
 * buffer's pages are present).
 */
int bpa_alloc_copy_to_buffer(struct bpa_alloc *alloc, struct bpa_buffer *buffer,
			     size_t offset, const void *from, size_t bytes)
{
	size_t off;
	int ret;

	ret = bpa_buffer_offset(alloc, buffer, offset, bytes, &off);
	if (ret || !bytes)
		return ret;
	return page_range_write(&alloc->range, off, from, bytes);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_copy_to_buffer, PAGE_RANGE_NS);

/**
 * bpa_alloc_copy_from_buffer() - copy bytes of a buffer into kernel memory
 * @alloc: the allocator
 * @to: kernel destination
 * @buffer: an allocated buffer
 * @offset: byte offset in the buffer
 * @bytes: number of bytes
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: 0, -EINVAL if the bytes are not inside an allocated buffer,
 * -EFAULT, with a warning, if a page is missing (a bug: an allocated
 * buffer's pages are present).
 */
int bpa_alloc_copy_from_buffer(struct bpa_alloc *alloc, void *to,
			       struct bpa_buffer *buffer, size_t offset,
			       size_t bytes)
{
	size_t off;
	int ret;

	ret = bpa_buffer_offset(alloc, buffer, offset, bytes, &off);
	if (ret || !bytes)
		return ret;
	return page_range_read(&alloc->range, off, to, bytes);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_copy_from_buffer, PAGE_RANGE_NS);

/* A copy of the VMA (a refused mremap, fork after MADV_DOFORK) is not ours. */
static void bpa_alloc_vma_open(struct vm_area_struct *vma)
{
	vma->vm_private_data = NULL;
}

/**
 * bpa_alloc_vma_closed() - the area's VMA is being closed
 * @alloc: the allocator
 *
 * For a user that installs its own vm_ops (bpa_alloc_map_area()): call it
 * from their ->close. No allocation succeeds afterwards, and the shrinker
 * frees the pages without touching the address, which may be mapped
 * again by then.
 *
 * Context: The VMA's ->close (mmap lock held for writing).
 */
void bpa_alloc_vma_closed(struct bpa_alloc *alloc)
{
	/*
	 * Refuse new allocations first, so that none starts between the two
	 * steps and finds pages still there. One that already passed the check
	 * may still finish, with the pages it found.
	 */
	spin_lock(&alloc->lock);
	alloc->closed = true;
	spin_unlock(&alloc->lock);
	page_range_vma_closed(&alloc->range);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_vma_closed, PAGE_RANGE_NS);

static void bpa_alloc_vma_close(struct vm_area_struct *vma)
{
	struct bpa_alloc *alloc = vma->vm_private_data;

	if (alloc)
		bpa_alloc_vma_closed(alloc);
}

/* Pages are inserted by the allocator only; anything else is a bug. */
static vm_fault_t bpa_alloc_vm_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

/* The range's addresses must stay true: no moving, no splitting. */
static int bpa_alloc_vma_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static int bpa_alloc_vma_may_split(struct vm_area_struct *vma,
				   unsigned long addr)
{
	return -EINVAL;
}

static const struct vm_operations_struct bpa_alloc_vm_ops = {
	.open = bpa_alloc_vma_open,
	.close = bpa_alloc_vma_close,
	.fault = bpa_alloc_vm_fault,
	.mremap = bpa_alloc_vma_mremap,
	.may_split = bpa_alloc_vma_may_split,
};

static void bpa_alloc_print_buffers(struct seq_file *m, struct bpa_alloc *alloc)
{
	struct bpa_buffer *buffer;

	spin_lock(&alloc->lock);
	list_for_each_entry(buffer, &alloc->buffers, entry) {
		size_t size = bpa_buffer_size_locked(alloc, buffer);

		if (buffer->free) {
			seq_printf(m, "  free      offset %lu size %zu\n",
				   buffer->user_data - alloc->buffer, size);
			continue;
		}
		seq_printf(m, "  allocated offset %lu size %zu id %u data %zu offsets %zu extra %zu%s%s pid %d\n",
			   buffer->user_data - alloc->buffer, size,
			   buffer->debug_id, buffer->data_size,
			   buffer->offsets_size, buffer->extra_size,
			   buffer->async ? " async" : "",
			   buffer->allow_user_free ? " delivered" : "",
			   buffer->pid);
	}
	spin_unlock(&alloc->lock);
}

static void bpa_alloc_print_summary(struct seq_file *m, struct bpa_alloc *alloc)
{
	struct bpa_alloc_stats st;

	bpa_alloc_get_stats(alloc, &st);
	seq_printf(m, "pid %d: area %zu bytes, %zu buffers allocated, %zu free (%zu bytes), free async space %zu\n",
		   alloc->pid, st.pages_total << PAGE_SHIFT,
		   st.buffers_allocated, st.buffers_free, st.free_space,
		   st.free_async_space);
	seq_printf(m, "  pages: %zu total, %zu used, %zu available, %zu free, high water %zu\n",
		   st.pages_total, st.pages_used, st.pages_available,
		   st.pages_free, st.pages_high);
}

static int bpa_alloc_show(struct seq_file *m, void *unused)
{
	struct bpa_alloc *alloc = m->private;

	bpa_alloc_print_summary(m, alloc);
	bpa_alloc_print_buffers(m, alloc);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bpa_alloc);

static int bpa_allocators_show(struct seq_file *m, void *unused)
{
	struct bpa_alloc *alloc;

	guard(mutex)(&bpa_alloc_list_lock);
	list_for_each_entry(alloc, &bpa_alloc_list, node)
		bpa_alloc_print_summary(m, alloc);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bpa_allocators);

/*
 * debugfs bpa_alloc/: a file "allocators" that summarises every allocator,
 * and one file per allocator, added by bpa_alloc_init().
 */
static int __init bpa_alloc_module_init(void)
{
	bpa_debugfs_root = debugfs_create_dir("bpa_alloc", NULL);
	debugfs_create_file("allocators", 0444, bpa_debugfs_root, NULL,
			    &bpa_allocators_fops);
	return 0;
}
module_init(bpa_alloc_module_init);

/* Every user module holds a reference: every allocator is released. */
static void __exit bpa_alloc_module_exit(void)
{
	debugfs_remove_recursive(bpa_debugfs_root);
}
module_exit(bpa_alloc_module_exit);

/**
 * bpa_alloc_nr_buffers() - allocated buffers of every allocator
 *
 * A sum over the CPUs, exact when no allocation or free runs meanwhile.
 *
 * Context: Any context.
 * Return: the number of buffers allocated and not yet freed.
 */
unsigned long bpa_alloc_nr_buffers(void)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(bpa_nr_buffers, cpu);
	return sum;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_nr_buffers, PAGE_RANGE_NS);

/**
 * bpa_alloc_init() - initialise an allocator for the current process
 * @alloc: the allocator, embedded in the caller's per-process structure
 * @prs: the shrinker for its pages
 *
 * Records current's mm: only that mm may map the area. Adds the allocator
 * to debugfs.
 *
 * Context: Process context of the owner; not under the mmap lock.
 * Return: 0, -ESRCH if current has no mm, or -ENOMEM (page_range_init()).
 */
int bpa_alloc_init(struct bpa_alloc *alloc, struct page_range_shrinker *prs)
{
	char name[32];
	int ret;

	memset(alloc, 0, sizeof(*alloc));
	spin_lock_init(&alloc->lock);
	/* Our lock is the range's: see bpa_alloc's kernel-doc. */
	ret = page_range_init(&alloc->range, prs, &alloc->lock);
	if (ret)
		return ret;
	INIT_LIST_HEAD(&alloc->buffers);
	INIT_LIST_HEAD(&alloc->node);
	alloc->free_buffers = RB_ROOT;
	alloc->allocated_buffers = RB_ROOT;
	alloc->pid = current->tgid;
	alloc->buffer_struct_size = sizeof(struct bpa_buffer);

	mutex_lock(&bpa_alloc_list_lock);
	list_add_tail(&alloc->node, &bpa_alloc_list);
	mutex_unlock(&bpa_alloc_list_lock);
	if (bpa_debugfs_root) {
		snprintf(name, sizeof(name), "%d-%d", alloc->pid,
			 atomic_inc_return(&bpa_alloc_ids));
		alloc->debugfs = debugfs_create_file(name, 0444,
						     bpa_debugfs_root, alloc,
						     &bpa_alloc_fops);
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_init, PAGE_RANGE_NS);

/**
 * bpa_alloc_map_area() - set up the area, leaving the VMA's ops to the caller
 * @alloc: the allocator
 * @vma: the new VMA
 *
 * The area is read-only and not executable for userspace (%VM_MAYWRITE and
 * %VM_MAYEXEC are cleared so that mprotect() cannot add either), starts at
 * offset 0, is not inherited by fork(), covers at most 4 MiB of the VMA,
 * and cannot be moved or split. It is %VM_IO: madvise(MADV_DOFORK) cannot
 * make fork() copy it (a child would see every later message), and
 * get_user_pages() (ptrace, process_vm_readv()) refuses it. @vma's
 * vm_ops and vm_private_data are the caller's, whose ->close must call
 * bpa_alloc_vma_closed(); unlike bpa_alloc_mmap()'s, they may let the
 * VMA be moved or split, which closes the area as munmap() does.
 *
 * Context: The mmap handler (mmap lock held for writing).
 * Return: 0; -EPERM for a writable or executable mapping; -EINVAL for a
 * non-zero offset or a VMA of another mm; -EBUSY if the allocator was
 * mapped before; -ENOMEM.
 */
int bpa_alloc_map_area(struct bpa_alloc *alloc, struct vm_area_struct *vma)
{
	struct bpa_buffer *buffer __free(kfree) = NULL;
	u16 *page_refs __free(kvfree) = NULL;
	size_t size;
	int ret;

	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EPERM;
	if (vma->vm_pgoff || vma->vm_mm != alloc->range.mm)
		return -EINVAL;

	/*
	 * Mappings of one mm are serialised by its mmap lock, which we hold
	 * for writing, and only that mm may map: no lock needed to check.
	 */
	if (READ_ONCE(alloc->mapped))
		return -EBUSY;

	size = min(vma->vm_end - vma->vm_start, (unsigned long)SZ_4M);
	/* The owner's mmap handler: charged to the owner. */
	buffer = kzalloc(alloc->buffer_struct_size, GFP_KERNEL_ACCOUNT);
	page_refs = kvcalloc(size >> PAGE_SHIFT, sizeof(*page_refs),
			     GFP_KERNEL_ACCOUNT);
	if (!buffer || !page_refs)
		return -ENOMEM;

	vm_flags_mod(vma, VM_DONTCOPY | VM_MIXEDMAP | VM_DONTEXPAND | VM_IO,
		     VM_MAYWRITE | VM_MAYEXEC);
	/* The last step that can fail: see page_range_register_vma(). */
	ret = page_range_register_vma(&alloc->range, vma);
	if (ret < 0)
		return ret;

	buffer->user_data = vma->vm_start;
	buffer->free = true;

	spin_lock(&alloc->lock);
	/* Nothing fails from here on: the allocator owns both now. */
	alloc->page_refs = no_free_ptr(page_refs);
	WRITE_ONCE(alloc->buffer_size, size);
	alloc->free_async_space = size / 2;
	list_add(&buffer->entry, &alloc->buffers);
	/* Callers that turn an offset into an address read it unlocked. */
	WRITE_ONCE(alloc->buffer, vma->vm_start);
	bpa_insert_free_buffer(alloc, no_free_ptr(buffer));
	/* Lets allocations in. */
	WRITE_ONCE(alloc->mapped, true);
	spin_unlock(&alloc->lock);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_map_area, PAGE_RANGE_NS);

/**
 * bpa_alloc_mmap() - set up the area in the caller's mmap handler
 * @alloc: the allocator
 * @vma: the new VMA
 *
 * bpa_alloc_map_area(), with the allocator's own vm_ops: the VMA cannot be
 * moved or split, and a fault in it is a SIGBUS.
 *
 * Context: The mmap handler (mmap lock held for writing).
 * Return: as bpa_alloc_map_area().
 */
int bpa_alloc_mmap(struct bpa_alloc *alloc, struct vm_area_struct *vma)
{
	int ret = bpa_alloc_map_area(alloc, vma);

	if (ret)
		return ret;
	vma->vm_private_data = alloc;
	vma->vm_ops = &bpa_alloc_vm_ops;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_mmap, PAGE_RANGE_NS);

/**
 * bpa_alloc_set_buffer_struct_size() - embed buffers in larger structures
 * @alloc: the allocator, initialised and not yet mapped
 * @size: bytes of the user's structure, which starts with a
 *	&struct bpa_buffer
 *
 * Every buffer structure the allocator allocates from then on has @size
 * bytes, zeroed when allocated, so that a user can keep its own fields
 * beside the allocator's without a second allocation per buffer. The
 * allocator never touches the bytes past &struct bpa_buffer; a structure
 * may be reused for another buffer after a free, so the user sets its
 * fields again for every buffer it gets.
 *
 * Context: Before bpa_alloc_mmap() or bpa_alloc_map_area().
 */
void bpa_alloc_set_buffer_struct_size(struct bpa_alloc *alloc, size_t size)
{
	if (WARN_ON_ONCE(size < sizeof(struct bpa_buffer) ||
			 READ_ONCE(alloc->mapped)))
		return;
	alloc->buffer_struct_size = size;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_set_buffer_struct_size, PAGE_RANGE_NS);

/**
 * bpa_alloc_release() - free every buffer, the pages and the page range
 * @alloc: the allocator; nothing may use it concurrently or afterwards
 *
 * The deferred release of an owner that went away: buffers still
 * allocated are freed (their owners are gone too), then the page range
 * with every page it holds.
 *
 * Context: Process context; may sleep; after the area's VMA was closed
 * (the file's ->release, or later).
 */
void bpa_alloc_release(struct bpa_alloc *alloc)
{
	struct bpa_buffer *buffer, *tmp;
	struct rb_node *n;

	/* Waits for readers of the file; nobody finds us in the list after. */
	debugfs_remove(alloc->debugfs);
	mutex_lock(&bpa_alloc_list_lock);
	list_del(&alloc->node);
	mutex_unlock(&bpa_alloc_list_lock);

	spin_lock(&alloc->lock);
	while ((n = rb_first(&alloc->allocated_buffers))) {
		buffer = rb_entry(n, struct bpa_buffer, rb_node);
		bpa_clear_on_free_locked(alloc, buffer);
		bpa_free_buf_locked(alloc, buffer);
		/*
		 * Up to 512K buffers: let others in between. Safe to drop the
		 * lock: nobody allocates or frees any more (the owner is
		 * gone), and the loop starts again from rb_first().
		 */
		spin_unlock(&alloc->lock);
		cond_resched();
		spin_lock(&alloc->lock);
	}
	list_for_each_entry_safe(buffer, tmp, &alloc->buffers, entry) {
		list_del(&buffer->entry);
		kfree(buffer);
	}
	kfree(alloc->spare);
	alloc->spare = NULL;
	alloc->free_buffers = RB_ROOT;
	alloc->nr_free = 0;
	spin_unlock(&alloc->lock);

	page_range_destroy(&alloc->range);
	kvfree(alloc->page_refs);
	alloc->page_refs = NULL;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_release, PAGE_RANGE_NS);

/**
 * bpa_alloc_get_stats() - take a snapshot of the allocator's state
 * @alloc: the allocator
 * @stats: filled in
 *
 * In constant time, from running counters: userspace may ask as often as
 * it likes.
 *
 * Context: Process or atomic context, not interrupt context.
 */
void bpa_alloc_get_stats(struct bpa_alloc *alloc, struct bpa_alloc_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->pages_total = page_range_num_pages(&alloc->range);
	page_range_get_counts(&alloc->range, &stats->pages_used,
			      &stats->pages_available);
	stats->pages_free = stats->pages_total - stats->pages_used -
			    stats->pages_available;

	spin_lock(&alloc->lock);
	stats->buffers_allocated = alloc->nr_allocated;
	stats->buffers_free = alloc->nr_free;
	stats->free_space = alloc->buffer_size - alloc->allocated_bytes;
	stats->free_async_space = alloc->free_async_space;
	stats->pages_high = alloc->pages_high;
	spin_unlock(&alloc->lock);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_get_stats, PAGE_RANGE_NS);

/**
 * bpa_alloc_area_size() - size of the area
 * @alloc: the allocator
 *
 * Context: Any context.
 * Return: the bytes of the area, 0 until it is mapped.
 */
size_t bpa_alloc_area_size(struct bpa_alloc *alloc)
{
	return READ_ONCE(alloc->buffer_size);
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_area_size, PAGE_RANGE_NS);

/**
 * bpa_alloc_has_area() - whether the area can take new buffers
 * @alloc: the allocator
 *
 * A caller about to ask for a buffer later, e.g. one that sends a request
 * and waits for the reply to land in its own area, checks first that the
 * reply would have somewhere to go.
 *
 * Context: Process or atomic context, not interrupt context.
 * Return: true if the area is mapped and its VMA is not closed.
 */
bool bpa_alloc_has_area(struct bpa_alloc *alloc)
{
	bool ret;

	spin_lock(&alloc->lock);
	ret = alloc->mapped && !alloc->closed;
	spin_unlock(&alloc->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(bpa_alloc_has_area, PAGE_RANGE_NS);

MODULE_DESCRIPTION("Binder-style buffer allocator over the shrinkable page range");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PAGE_RANGE_NS);
