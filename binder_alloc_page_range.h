/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface of drivers/android/binder_alloc.h, over this project's
 * allocator (bpa_alloc.h): with CONFIG_ANDROID_BINDER_ALLOC_PAGE_RANGE
 * upstream binder.c is compiled unchanged with this header included first
 * (scripts/place-in-tree.sh adds "-include" to its flags), and
 * binder_alloc_page_range.c takes binder_alloc.c's place.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

/*
 * binder_alloc.h's own guard, so that its body is skipped when
 * binder_internal.h includes it after this header: these definitions
 * stand in for it.
 */
#ifndef _LINUX_BINDER_ALLOC_H
#define _LINUX_BINDER_ALLOC_H

/*
 * Included before binder.c's first line, which defines pr_fmt() this way
 * before any header: define it the same way first, so that the headers
 * below do not give it printk's default and binder.c's definition is an
 * identical, silent redefinition.
 */
#ifndef pr_fmt
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#endif

#include <linux/types.h>
#include <uapi/linux/android/binder.h>

#include "bpa_alloc.h"

struct binder_transaction;
struct binder_node;
struct seq_file;
struct vm_area_struct;

/**
 * struct binder_buffer - a buffer, as binder.c sees it
 * @pb: the allocator's buffer; first, as bpa_alloc_set_buffer_struct_size()
 *	requires, so that the allocator allocates this whole structure
 * @clear_on_free: binder.c's TF_CLEAR_BUF: zero the bytes when freed
 * @allow_user_free: binder.c sets it when it delivers the buffer, and
 *	binder_alloc_prepare_to_free() clears it under the allocator's lock
 * @async_transaction: allocated from the async space
 * @oneway_spam_suspect: the allocation found its sender filling the async
 *	space (binder.c then tells it BR_ONEWAY_SPAM_SUSPECT)
 * @debug_id: binder.c's transaction id
 * @transaction: binder.c's, NULL once delivered
 * @target_node: binder.c's
 * @data_size: bytes of data
 * @offsets_size: bytes of the offsets array
 * @extra_buffers_size: bytes of the scatter-gather buffers and the
 *	security context
 * @user_data: user address of the buffer's first byte
 * @pid: tgid of the task that allocated it
 *
 * The fields after @pb are those of binder_alloc.h's structure that
 * binder.c and binder_trace.h use, with the same types. The allocator
 * keeps its own state in @pb: the list and tree links, the size and the
 * async flag are never read here.
 */
struct binder_buffer {
	struct bpa_buffer pb;
	unsigned int clear_on_free:1;
	unsigned int allow_user_free:1;
	unsigned int async_transaction:1;
	unsigned int oneway_spam_suspect:1;
	unsigned int debug_id:27;
	struct binder_transaction *transaction;
	struct binder_node *target_node;
	size_t data_size;
	size_t offsets_size;
	size_t extra_buffers_size;
	unsigned long user_data;
	int pid;
};

/**
 * struct binder_alloc - binder_proc's allocator, as binder.c sees it
 * @pa: the allocator
 * @buffer: user address of the area, 0 until mmap (binder.c and the
 *	tracepoints read it)
 * @pid: the owner's pid (the tracepoints read it)
 * @init_error: what bpa_alloc_init() returned; every call after a failed
 *	one fails as if the area were gone
 * @oneway_spam_detected: a sender was reported as filling the async
 *	space, and no allocation found it below the threshold since (bit 0)
 */
struct binder_alloc {
	struct bpa_alloc pa;
	unsigned long buffer;
	int pid;
	int init_error;
	unsigned long oneway_spam_detected;
};

/* binder_alloc_selftest.c reads binder_alloc.c's internals: not here. */
static inline void binder_selftest_alloc(struct binder_alloc *alloc) {}

struct binder_buffer *binder_alloc_new_buf(struct binder_alloc *alloc,
					   size_t data_size,
					   size_t offsets_size,
					   size_t extra_buffers_size,
					   int is_async);
void binder_alloc_init(struct binder_alloc *alloc);
int binder_alloc_shrinker_init(void);
void binder_alloc_shrinker_exit(void);
void binder_alloc_vma_close(struct binder_alloc *alloc);
struct binder_buffer *
binder_alloc_prepare_to_free(struct binder_alloc *alloc,
			     unsigned long user_ptr);
void binder_alloc_free_buf(struct binder_alloc *alloc,
			   struct binder_buffer *buffer);
int binder_alloc_mmap_handler(struct binder_alloc *alloc,
			      struct vm_area_struct *vma);
void binder_alloc_deferred_release(struct binder_alloc *alloc);
int binder_alloc_get_allocated_count(struct binder_alloc *alloc);
void binder_alloc_print_allocated(struct seq_file *m,
				  struct binder_alloc *alloc);
void binder_alloc_print_pages(struct seq_file *m,
			      struct binder_alloc *alloc);
size_t binder_alloc_get_free_async_space(struct binder_alloc *alloc);
unsigned long
binder_alloc_copy_user_to_buffer(struct binder_alloc *alloc,
				 struct binder_buffer *buffer,
				 binder_size_t buffer_offset,
				 const void __user *from,
				 size_t bytes);
int binder_alloc_copy_to_buffer(struct binder_alloc *alloc,
				struct binder_buffer *buffer,
				binder_size_t buffer_offset,
				void *src,
				size_t bytes);
int binder_alloc_copy_from_buffer(struct binder_alloc *alloc,
				  void *dest,
				  struct binder_buffer *buffer,
				  binder_size_t buffer_offset,
				  size_t bytes);

#endif /* _LINUX_BINDER_ALLOC_H */
