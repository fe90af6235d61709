// SPDX-License-Identifier: GPL-2.0
/*
 * binder_alloc over the page range: the functions upstream binder.c calls
 * from binder_alloc.h, on this project's allocator (bpa_alloc.c)
 * and page range, in place of drivers/android/binder_alloc.c. Selected by
 * CONFIG_ANDROID_BINDER_ALLOC_PAGE_RANGE; Documentation/binder.rst says
 * where binder_alloc.c and this differ.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "binder_alloc_page_range.h"

static_assert(offsetof(struct binder_buffer, pb) == 0);

/* Every binder process's pages, on one shrinker, as binder_alloc.c has. */
static struct page_range_shrinker binder_prs;

static struct binder_buffer *to_binder_buffer(struct bpa_buffer *pb)
{
	return container_of(pb, struct binder_buffer, pb);
}

/**
 * binder_alloc_shrinker_init() - register the shrinker of binder's pages
 *
 * Context: binder's init.
 * Return: 0, or -ENOMEM.
 */
int binder_alloc_shrinker_init(void)
{
	return page_range_shrinker_register(&binder_prs, "android-binder");
}

/**
 * binder_alloc_shrinker_exit() - unregister the shrinker of binder's pages
 *
 * Context: binder's init, when it fails after binder_alloc_shrinker_init().
 */
void binder_alloc_shrinker_exit(void)
{
	page_range_shrinker_unregister(&binder_prs);
}

/**
 * binder_alloc_init() - initialise a binder process's allocator
 * @alloc: the allocator
 *
 * binder_alloc.c cannot fail here; bpa_alloc_init() can (no mm, or no
 * memory), and then mmap() fails with its error and every allocation with
 * -ESRCH.
 *
 * Context: binder's open(), in the owner's context.
 */
void binder_alloc_init(struct binder_alloc *alloc)
{
	alloc->pid = current->group_leader->pid;
	alloc->buffer = 0;
	alloc->oneway_spam_detected = 0;
	alloc->init_error = bpa_alloc_init(&alloc->pa, &binder_prs);
	if (!alloc->init_error)
		bpa_alloc_set_buffer_struct_size(&alloc->pa,
						 sizeof(struct binder_buffer));
}

/**
 * binder_alloc_mmap_handler() - set up the area over binder's VMA
 * @alloc: the allocator
 * @vma: the VMA, whose vm_ops binder.c has set
 *
 * binder.c's vm_ops stay: their ->close calls binder_alloc_vma_close().
 *
 * Context: binder's mmap(), mmap lock held for writing.
 * Return: 0; -EBUSY if the area was mapped before; -EPERM for a writable
 * (which binder.c refuses first) or executable mapping; -EINVAL for a
 * non-zero offset or a VMA of another mm; -ENOMEM; or, if
 * binder_alloc_init() failed, its error: -ESRCH or -ENOMEM.
 */
int binder_alloc_mmap_handler(struct binder_alloc *alloc,
			      struct vm_area_struct *vma)
{
	int ret;

	if (alloc->init_error)
		return alloc->init_error;
	ret = bpa_alloc_map_area(&alloc->pa, vma);
	if (ret) {
		pr_err("%d: mmap %lx-%lx failed %d\n", alloc->pid,
		       vma->vm_start, vma->vm_end, ret);
		return ret;
	}
	/* Read without the lock by binder.c's debug output. */
	WRITE_ONCE(alloc->buffer, bpa_alloc_area_start(&alloc->pa));
	return 0;
}

/**
 * binder_alloc_vma_close() - binder's VMA is being closed
 * @alloc: the allocator
 *
 * Context: The VMA's ->close.
 */
void binder_alloc_vma_close(struct binder_alloc *alloc)
{
	if (!alloc->init_error)
		bpa_alloc_vma_closed(&alloc->pa);
}

/* What binder_alloc_oneway_spam() counts of one sender's async buffers. */
struct binder_alloc_spam {
	struct bpa_walk walk;
	pid_t pid;
	size_t buffers;
	size_t bytes;
};

static void binder_alloc_count_async(struct bpa_walk *walk,
				     struct bpa_buffer *pb, size_t size)
{
	struct binder_alloc_spam *spam;

	spam = container_of(walk, struct binder_alloc_spam, walk);

	if (pb->async && pb->pid == spam->pid) {
		spam->buffers++;
		spam->bytes += size;
	}
}

/*
 * binder_alloc.c's oneway spam check, after an async allocation: once
 * less than a tenth of the area is left for async buffers, a sender with
 * more than 50 of them, or more than a quarter of the area, is reported
 * once, until the async space recovers. binder_alloc.c checks under the
 * allocation's lock; here the count comes just after it, which can only
 * differ by allocations racing with this one.
 */
static bool binder_alloc_oneway_spam(struct binder_alloc *alloc)
{
	struct binder_alloc_spam spam = {
		.walk.fn = binder_alloc_count_async,
		.pid = current->tgid,
	};
	struct bpa_alloc_stats st;
	size_t area;

	bpa_alloc_get_stats(&alloc->pa, &st);
	area = bpa_alloc_area_size(&alloc->pa);
	if (st.free_async_space >= area / 10) {
		clear_bit(0, &alloc->oneway_spam_detected);
		return false;
	}
	bpa_alloc_walk_allocated(&alloc->pa, &spam.walk);
	if (spam.buffers <= 50 && spam.bytes <= area / 4)
		return false;
	pr_info_ratelimited("%d: pid %d spamming oneway? %zd buffers allocated for a total size of %zd\n",
			    alloc->pid, spam.pid, spam.buffers, spam.bytes);
	return !test_and_set_bit(0, &alloc->oneway_spam_detected);
}

/**
 * binder_alloc_new_buf() - allocate a buffer for a transaction
 * @alloc: the target process's allocator
 * @data_size: bytes of data
 * @offsets_size: bytes of the offsets array
 * @extra_buffers_size: bytes of the scatter-gather buffers
 * @is_async: from the async space
 *
 * The buffer's pages are present and mapped in the target when this
 * returns.
 *
 * Context: Process context; may sleep.
 * Return: the buffer, or ERR_PTR(): -ESRCH if binder_alloc_init() failed,
 * the area is not mapped or its VMA was closed, or, where a page must be
 * inserted, the VMA is being unmapped or the target's mm has no users left
 * (binder.c answers BR_DEAD_REPLY); -EINVAL if the sizes overflow;
 * -ENOSPC; -ENOMEM; -EINTR if a fatal signal came while waiting for the
 * target's locks; or another error of vm_insert_pages().
 */
struct binder_buffer *binder_alloc_new_buf(struct binder_alloc *alloc,
					   size_t data_size,
					   size_t offsets_size,
					   size_t extra_buffers_size,
					   int is_async)
{
	struct binder_buffer *buffer;
	struct bpa_buffer *pb;

	if (alloc->init_error)
		return ERR_PTR(-ESRCH);
	pb = bpa_alloc_new_buf(&alloc->pa, data_size, offsets_size,
			       extra_buffers_size, is_async);
	if (IS_ERR(pb))
		return ERR_CAST(pb);

	/* The structure may have held another buffer before: set it all. */
	buffer = to_binder_buffer(pb);
	buffer->clear_on_free = 0;
	buffer->allow_user_free = 0;
	buffer->async_transaction = !!is_async;
	buffer->oneway_spam_suspect = is_async &&
				      binder_alloc_oneway_spam(alloc);
	buffer->debug_id = 0;
	buffer->transaction = NULL;
	buffer->target_node = NULL;
	buffer->data_size = data_size;
	buffer->offsets_size = offsets_size;
	buffer->extra_buffers_size = extra_buffers_size;
	buffer->user_data = pb->user_data;
	buffer->pid = current->tgid;
	return buffer;
}

/* Under the allocator's lock: userspace may free a buffer once, delivered. */
static int binder_alloc_may_free(struct bpa_buffer *pb)
{
	struct binder_buffer *buffer = to_binder_buffer(pb);

	if (!buffer->allow_user_free)
		return -EPERM;
	buffer->allow_user_free = 0;
	return 0;
}

/**
 * binder_alloc_prepare_to_free() - look up a buffer userspace frees
 * @alloc: the allocator
 * @user_ptr: the buffer's user address, from BC_FREE_BUFFER
 *
 * Context: Process context.
 * Return: the buffer, which the caller frees with binder_alloc_free_buf();
 * NULL if no allocated buffer starts at @user_ptr; ERR_PTR(-EPERM) if it
 * was not delivered yet or is being freed already.
 */
struct binder_buffer *binder_alloc_prepare_to_free(struct binder_alloc *alloc,
						   unsigned long user_ptr)
{
	struct bpa_buffer *pb;

	if (alloc->init_error)
		return NULL;
	pb = bpa_alloc_take_buffer(&alloc->pa, user_ptr,
				   binder_alloc_may_free);
	if (pb == ERR_PTR(-ENOENT))
		return NULL;
	if (IS_ERR(pb))
		return ERR_CAST(pb);
	return to_binder_buffer(pb);
}

/**
 * binder_alloc_free_buf() - free a buffer
 * @alloc: the allocator
 * @buffer: an allocated buffer, zeroed first if binder.c set
 *	&binder_buffer.clear_on_free
 *
 * Context: Process context.
 */
void binder_alloc_free_buf(struct binder_alloc *alloc,
			   struct binder_buffer *buffer)
{
	/* Only the freeing thread looks at the buffer now. */
	buffer->pb.clear_on_free = buffer->clear_on_free;
	buffer->clear_on_free = 0;
	bpa_alloc_free_buf(&alloc->pa, &buffer->pb);
}

/**
 * binder_alloc_deferred_release() - free the buffers and the pages
 * @alloc: the allocator of a process whose file was released
 *
 * binder.c has freed every transaction of the process first.
 *
 * Context: binder's deferred work.
 */
void binder_alloc_deferred_release(struct binder_alloc *alloc)
{
	if (!alloc->init_error)
		bpa_alloc_release(&alloc->pa);
}

/**
 * binder_alloc_get_allocated_count() - the number of allocated buffers
 * @alloc: the allocator
 *
 * Context: Process context.
 * Return: allocated buffers.
 */
int binder_alloc_get_allocated_count(struct binder_alloc *alloc)
{
	struct bpa_alloc_stats st;

	if (alloc->init_error)
		return 0;
	bpa_alloc_get_stats(&alloc->pa, &st);
	return st.buffers_allocated;
}

/**
 * binder_alloc_get_free_async_space() - bytes left for async buffers
 * @alloc: the allocator
 *
 * Context: Process context.
 * Return: bytes left for async buffers.
 */
size_t binder_alloc_get_free_async_space(struct binder_alloc *alloc)
{
	struct bpa_alloc_stats st;

	if (alloc->init_error)
		return 0;
	bpa_alloc_get_stats(&alloc->pa, &st);
	return st.free_async_space;
}

/* binder_alloc.c's line per allocated buffer. */
struct binder_alloc_print {
	struct bpa_walk walk;
	struct seq_file *m;
	unsigned long start;
};

static void binder_alloc_print_buffer(struct bpa_walk *walk,
				      struct bpa_buffer *pb, size_t size)
{
	struct binder_buffer *buffer = to_binder_buffer(pb);
	struct binder_alloc_print *p;

	p = container_of(walk, struct binder_alloc_print, walk);

	seq_printf(p->m, "  buffer %d: %lx size %zd:%zd:%zd %s\n",
		   buffer->debug_id, pb->user_data - p->start,
		   buffer->data_size, buffer->offsets_size,
		   buffer->extra_buffers_size,
		   buffer->transaction ? "active" : "delivered");
}

/**
 * binder_alloc_print_allocated() - print the allocated buffers
 * @m: binder's debugfs file
 * @alloc: the allocator
 *
 * Context: Process context.
 */
void binder_alloc_print_allocated(struct seq_file *m,
				  struct binder_alloc *alloc)
{
	struct binder_alloc_print p = {
		.walk.fn = binder_alloc_print_buffer,
		.m = m,
		.start = bpa_alloc_area_start(&alloc->pa),
	};

	if (!alloc->init_error)
		bpa_alloc_walk_allocated(&alloc->pa, &p.walk);
}

/**
 * binder_alloc_print_pages() - print the pages' states
 * @m: binder's debugfs file
 * @alloc: the allocator
 *
 * The same lines as binder_alloc.c: used, on the shrinker's LRU and
 * absent pages, then the most pages ever used at once.
 *
 * Context: Process context.
 */
void binder_alloc_print_pages(struct seq_file *m, struct binder_alloc *alloc)
{
	struct bpa_alloc_stats st = {};

	if (!alloc->init_error)
		bpa_alloc_get_stats(&alloc->pa, &st);
	seq_printf(m, "  pages: %zu:%zu:%zu\n", st.pages_used,
		   st.pages_available, st.pages_free);
	seq_printf(m, "  pages high watermark: %zu\n", st.pages_high);
}

/* binder.c's offsets are 64-bit; the allocator's are size_t. */
static bool binder_alloc_offset_ok(binder_size_t offset)
{
	return offset <= SIZE_MAX;
}

/**
 * binder_alloc_copy_user_to_buffer() - copy user memory into a buffer
 * @alloc: the allocator
 * @buffer: an allocated buffer
 * @buffer_offset: where in @buffer
 * @from: user source, in current's address space
 * @bytes: how many bytes
 *
 * Context: Process context; may sleep.
 * Return: 0, or @bytes if the bytes are not inside @buffer, @from could
 * not be read or (with a warning: a bug) a page is missing (binder.c only
 * tests for non-zero; binder_alloc.c returns the bytes not copied).
 */
unsigned long
binder_alloc_copy_user_to_buffer(struct binder_alloc *alloc,
				 struct binder_buffer *buffer,
				 binder_size_t buffer_offset,
				 const void __user *from,
				 size_t bytes)
{
	if (!binder_alloc_offset_ok(buffer_offset) ||
	    bpa_alloc_copy_user_to_buffer(&alloc->pa, &buffer->pb,
					  buffer_offset, from, bytes))
		return bytes;
	return 0;
}

/**
 * binder_alloc_copy_to_buffer() - copy kernel memory into a buffer
 * @alloc: the allocator
 * @buffer: an allocated buffer
 * @buffer_offset: where in @buffer
 * @src: source
 * @bytes: how many bytes
 *
 * Context: Process context.
 * Return: 0; -EINVAL if the bytes are not inside @buffer; -EFAULT, with a
 * warning, if a page is missing (a bug: an allocated buffer's pages are
 * present).
 */
int binder_alloc_copy_to_buffer(struct binder_alloc *alloc,
				struct binder_buffer *buffer,
				binder_size_t buffer_offset,
				void *src,
				size_t bytes)
{
	if (!binder_alloc_offset_ok(buffer_offset))
		return -EINVAL;
	return bpa_alloc_copy_to_buffer(&alloc->pa, &buffer->pb,
					buffer_offset, src, bytes);
}

/**
 * binder_alloc_copy_from_buffer() - copy from a buffer into kernel memory
 * @alloc: the allocator
 * @dest: destination
 * @buffer: an allocated buffer
 * @buffer_offset: where in @buffer
 * @bytes: how many bytes
 *
 * Context: Process context.
 * Return: 0; -EINVAL if the bytes are not inside @buffer; -EFAULT, with a
 * warning, if a page is missing (a bug: an allocated buffer's pages are
 * present).
 */
int binder_alloc_copy_from_buffer(struct binder_alloc *alloc,
				  void *dest,
				  struct binder_buffer *buffer,
				  binder_size_t buffer_offset,
				  size_t bytes)
{
	if (!binder_alloc_offset_ok(buffer_offset))
		return -EINVAL;
	return bpa_alloc_copy_from_buffer(&alloc->pa, dest, &buffer->pb,
					  buffer_offset, bytes);
}
