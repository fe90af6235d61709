/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A binder-style buffer allocator over a page range: buffers are carved out
 * of a process's read-only mmap'd area, and the pages under them exist only
 * while some buffer uses them.
 */

#ifndef _BINDER_PAGE_RANGE_ALLOC_H
#define _BINDER_PAGE_RANGE_ALLOC_H

#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "page_range.h"

struct dentry;
struct vm_area_struct;

/**
 * struct pr_buffer - one buffer of an allocator's area
 * @entry: in &pr_alloc.buffers, which covers the area in address order
 * @rb_node: in &pr_alloc.free_buffers (by size) while free, in
 *	&pr_alloc.allocated_buffers (by address) while allocated
 * @free: the buffer is free
 * @clear_on_free: zero the bytes when the buffer is freed
 * @allow_user_free: userspace may free the buffer (it was delivered)
 * @async: allocated from the async space
 * @debug_id: id for debugging output and tracepoints
 * @data_size: bytes of data
 * @offsets_size: bytes of the offsets array after the data
 * @extra_size: bytes of extra buffers after the offsets
 * @user_data: user address of the buffer's first byte
 * @pid: pid of the task the buffer was allocated for
 *
 * A buffer's size is implicit: it extends to the next buffer's start, or
 * to the end of the area. Only the allocator touches @entry, @rb_node,
 * @free and @async; the other fields belong to the buffer's owner while
 * it is allocated.
 */
struct pr_buffer {
	struct list_head entry;
	struct rb_node rb_node;
	unsigned int free:1;
	unsigned int clear_on_free:1;
	unsigned int allow_user_free:1;
	unsigned int async:1;
	unsigned int debug_id;
	size_t data_size;
	size_t offsets_size;
	size_t extra_size;
	unsigned long user_data;
	pid_t pid;
};

/**
 * struct pr_alloc - the buffer allocator of one process
 * @lock: protects every field below but @range, and the buffers' lists
 * @range: the pages under the area
 * @buffer: user address of the area, 0 until mmap
 * @buffer_size: size of the area
 * @buffers: every buffer, in address order
 * @free_buffers: free buffers by size, then address
 * @allocated_buffers: allocated buffers by address
 * @free_async_space: bytes left for async buffers
 * @page_refs: per page, the number of allocated buffers that touch it
 * @pages_high: the most pages ever used at once
 * @pages_used: pages touched by some allocated buffer
 * @mapped: an area was mapped (it may be closed since)
 * @closed: the area's VMA was closed: no new allocation
 * @pid: pid of the owner, for debugging output
 * @node: in the global list of allocators, for debugfs
 * @debugfs: this allocator's debugfs file
 */
struct pr_alloc {
	spinlock_t lock;	/* see kernel-doc above */
	struct page_range range;
	unsigned long buffer;
	size_t buffer_size;
	struct list_head buffers;
	struct rb_root free_buffers;
	struct rb_root allocated_buffers;
	size_t free_async_space;
	u16 *page_refs;
	size_t pages_high;
	size_t pages_used;
	bool mapped;
	bool closed;
	pid_t pid;
	struct list_head node;
	struct dentry *debugfs;
};

/**
 * struct pr_alloc_stats - a snapshot of an allocator's state
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
struct pr_alloc_stats {
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

int pr_alloc_init(struct pr_alloc *alloc, struct page_range_shrinker *prs);
int pr_alloc_mmap(struct pr_alloc *alloc, struct vm_area_struct *vma);
void pr_alloc_release(struct pr_alloc *alloc);

struct pr_buffer *pr_alloc_new_buf(struct pr_alloc *alloc, size_t data_size,
				   size_t offsets_size, size_t extra_size,
				   bool is_async);
void pr_alloc_free_buf(struct pr_alloc *alloc, struct pr_buffer *buffer);
struct pr_buffer *pr_alloc_prepare_to_free(struct pr_alloc *alloc,
					   unsigned long user_ptr);
size_t pr_buffer_size(struct pr_alloc *alloc, struct pr_buffer *buffer);

int pr_alloc_copy_user_to_buffer(struct pr_alloc *alloc,
				 struct pr_buffer *buffer, size_t offset,
				 const void __user *from, size_t bytes);
int pr_alloc_copy_to_buffer(struct pr_alloc *alloc, struct pr_buffer *buffer,
			    size_t offset, const void *from, size_t bytes);
int pr_alloc_copy_from_buffer(struct pr_alloc *alloc, void *to,
			      struct pr_buffer *buffer, size_t offset,
			      size_t bytes);

void pr_alloc_get_stats(struct pr_alloc *alloc, struct pr_alloc_stats *stats);

void pr_alloc_debugfs_init(void);
void pr_alloc_debugfs_exit(void);

#endif /* _BINDER_PAGE_RANGE_ALLOC_H */
