/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A binder-style buffer allocator over a page range: buffers are carved out
 * of a process's read-only mmap'd area, and the pages under them exist only
 * while some buffer uses them.
 *
 * Its names start with bpa_, for binder-style page-range allocator.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _BPA_ALLOC_H
#define _BPA_ALLOC_H

#include <linux/compiler.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "page_range.h"

struct dentry;
struct mm_struct;
struct vm_area_struct;

/**
 * struct bpa_buffer - one buffer of an allocator's area
 * @entry: in &bpa_alloc.buffers, which covers the area in address order
 * @rb_node: in &bpa_alloc.free_buffers (by size, then address) while free,
 *	in &bpa_alloc.allocated_buffers (by address) while allocated
 * @free: the buffer is free
 * @async: allocated from the async space
 * @allow_user_free: userspace may free the buffer (it was delivered)
 * @clear_on_free: zero the bytes when the buffer is freed
 * @debug_id: id for debugging output and tracepoints, unique in its
 *	allocator
 * @data_size: bytes of data
 * @offsets_size: bytes of the offsets array after the data
 * @extra_size: bytes of extra buffers after the offsets
 * @user_data: user address of the buffer's first byte
 * @pid: pid of the task the buffer was allocated for
 * @private: the owner's, e.g. what the buffer is charged to; the
 *	allocator never looks at it
 *
 * A buffer's size is implicit: it extends to the next buffer's start, or
 * to the end of the area. The allocator owns @entry, @rb_node, @free,
 * @async, @user_data, @debug_id and @pid, and changes @allow_user_free
 * under &bpa_alloc.lock; the owner of an allocated buffer sets the sizes,
 * @clear_on_free and (with the lock, once the buffer is delivered)
 * @allow_user_free. Flags are separate bytes, so that writes to one never
 * race with writes to another.
 */
struct bpa_buffer {
	struct list_head entry;
	struct rb_node rb_node;
	bool free;
	bool async;
	bool allow_user_free;
	bool clear_on_free;
	unsigned int debug_id;
	size_t data_size;
	size_t offsets_size;
	size_t extra_size;
	unsigned long user_data;
	pid_t pid;
	void *private;
};

/**
 * struct bpa_alloc - the buffer allocator of one process
 * @lock: protects the buffers, the trees, @page_refs and the accounting;
 *	@buffer, @buffer_size and @mapped are set under it once, at mmap.
 *	It is also @range's lock (see page_range_init()), so that taking a
 *	buffer's pages off the LRU, or putting them back, takes no lock but
 *	this one and the lru lock, as in binder
 * @range: the pages under the area
 * @buffer: user address of the area, 0 until mmap
 * @buffer_size: size of the area
 * @buffers: every buffer, in address order
 * @free_buffers: free buffers by size, then address
 * @allocated_buffers: allocated buffers by address
 * @free_async_space: bytes left for async buffers
 * @spare: a buffer structure kept for the next split (read unlocked as a
 *	hint only)
 * @page_refs: per page, the number of allocated buffers that touch it
 * @pages_high: the most pages ever used at once
 * @pages_used: pages touched by some allocated buffer
 * @nr_allocated: buffers in @allocated_buffers
 * @next_debug_id: the last &bpa_buffer.debug_id given out
 * @nr_free: buffers in @free_buffers
 * @allocated_bytes: bytes of the allocated buffers, their full sizes
 * @mapped: an area was mapped (it may be closed since)
 * @closed: the area's VMA was closed: no new allocation
 * @pid: pid of the owner, for debugging output
 * @node: in the global list of allocators, for debugfs (under its mutex)
 * @debugfs: this allocator's debugfs file
 * @buffer_struct_size: bytes of each buffer structure the allocator
 *	allocates: a user may embed &struct bpa_buffer at the start of a
 *	larger structure of its own (bpa_alloc_set_buffer_struct_size())
 *
 * Users embed this structure and go through the functions below, never
 * its fields.
 */
struct bpa_alloc {
	spinlock_t lock;	/* see kernel-doc above */
	struct page_range range;
	unsigned long buffer;
	size_t buffer_size;
	struct list_head buffers;
	struct rb_root free_buffers;
	struct rb_root allocated_buffers;
	size_t free_async_space;
	struct bpa_buffer *spare;
	u16 *page_refs;
	size_t pages_high;
	size_t pages_used;
	size_t nr_allocated;
	unsigned int next_debug_id;
	size_t nr_free;
	size_t allocated_bytes;
	bool mapped;
	bool closed;
	pid_t pid;
	struct list_head node;
	struct dentry *debugfs;
	size_t buffer_struct_size;
};

/**
 * struct bpa_alloc_stats - a snapshot of an allocator's state
 * @pages_total: pages of the area
 * @pages_used: pages in the USED state
 * @pages_available: pages on the shrinker's LRU
 * @pages_free: pages without a page
 * @pages_high: the most pages in use at once
 * @buffers_allocated: allocated buffers
 * @buffers_free: free buffers
 * @free_space: bytes in free buffers
 * @free_async_space: bytes left for async buffers
 */
struct bpa_alloc_stats {
	size_t pages_total;
	size_t pages_used;
	size_t pages_available;
	size_t pages_free;
	size_t pages_high;
	size_t buffers_allocated;
	size_t buffers_free;
	size_t free_space;
	size_t free_async_space;
};

int bpa_alloc_init(struct bpa_alloc *alloc, struct page_range_shrinker *prs);
int bpa_alloc_mmap(struct bpa_alloc *alloc, struct vm_area_struct *vma);
int bpa_alloc_map_area(struct bpa_alloc *alloc, struct vm_area_struct *vma);
void bpa_alloc_vma_closed(struct bpa_alloc *alloc);
void bpa_alloc_set_buffer_struct_size(struct bpa_alloc *alloc, size_t size);
void bpa_alloc_release(struct bpa_alloc *alloc);

struct bpa_buffer *bpa_alloc_new_buf(struct bpa_alloc *alloc, size_t data_size,
				     size_t offsets_size, size_t extra_size,
				     bool is_async);
void bpa_alloc_free_buf(struct bpa_alloc *alloc, struct bpa_buffer *buffer);
struct bpa_buffer *bpa_alloc_prepare_to_free(struct bpa_alloc *alloc,
					     unsigned long user_ptr);
struct bpa_buffer *bpa_alloc_take_buffer(struct bpa_alloc *alloc,
					 unsigned long user_ptr,
					 int (*may_free)(struct bpa_buffer *));

/**
 * struct bpa_walk - what bpa_alloc_walk_allocated() calls
 * @fn: called with the allocator's lock held, in address order, with each
 *	allocated buffer and its size; must not sleep nor call the
 *	allocator. Users embed the structure in their own, as a dir_context
 *	is, and find it with container_of().
 */
struct bpa_walk {
	void (*fn)(struct bpa_walk *walk, struct bpa_buffer *buffer,
		   size_t size);
};

void bpa_alloc_walk_allocated(struct bpa_alloc *alloc,
			      struct bpa_walk *walk);
size_t bpa_buffer_size(struct bpa_alloc *alloc, struct bpa_buffer *buffer);

int bpa_alloc_copy_user_to_buffer(struct bpa_alloc *alloc,
				  struct bpa_buffer *buffer, size_t offset,
				  const void __user *from, size_t bytes);
int bpa_alloc_copy_to_buffer(struct bpa_alloc *alloc, struct bpa_buffer *buffer,
			     size_t offset, const void *from, size_t bytes);
int bpa_alloc_copy_from_buffer(struct bpa_alloc *alloc, void *to,
			       struct bpa_buffer *buffer, size_t offset,
			       size_t bytes);

void bpa_alloc_get_stats(struct bpa_alloc *alloc, struct bpa_alloc_stats *stats);
size_t bpa_alloc_area_size(struct bpa_alloc *alloc);
bool bpa_alloc_has_area(struct bpa_alloc *alloc);
void bpa_alloc_release_to_user(struct bpa_alloc *alloc,
			       struct bpa_buffer *buffer);

unsigned long bpa_alloc_nr_buffers(void);

/**
 * bpa_alloc_is_owner() - whether @mm owns the allocator
 * @alloc: the allocator
 * @mm: an mm, usually current's
 *
 * The owner's mm is the one bpa_alloc_init() recorded; only it may map the
 * area, and offsets into the area mean something only to it.
 *
 * Context: Any context.
 * Return: true if @mm is the owner's mm.
 */
static inline bool bpa_alloc_is_owner(struct bpa_alloc *alloc,
				      struct mm_struct *mm)
{
	/* Set at init, never changed: no lock needed. */
	return mm == alloc->range.mm;
}

/**
 * bpa_alloc_area_start() - user address of the area
 * @alloc: the allocator
 *
 * bpa_alloc_mmap() publishes the area's size before its start, so a caller
 * that checked an offset against bpa_alloc_area_size() and races with it
 * sees either the start or 0.
 *
 * Context: Any context.
 * Return: the user address of the area's first byte, 0 until it is mapped.
 */
static inline unsigned long bpa_alloc_area_start(struct bpa_alloc *alloc)
{
	return READ_ONCE(alloc->buffer);
}

/**
 * bpa_buffer_user_offset() - where a buffer starts in the area
 * @alloc: the allocator
 * @buffer: an allocated buffer
 *
 * The offset by which userspace, mapping the area anywhere, names @buffer,
 * e.g. to free it.
 *
 * Context: Any context.
 * Return: the byte offset of @buffer's first byte from the area's start.
 */
static inline size_t bpa_buffer_user_offset(struct bpa_alloc *alloc,
					    struct bpa_buffer *buffer)
{
	/* A buffer exists only once the area is mapped: the start is set. */
	return buffer->user_data - alloc->buffer;
}

#endif /* _BPA_ALLOC_H */
