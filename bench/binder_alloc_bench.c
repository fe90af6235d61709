// SPDX-License-Identifier: GPL-2.0
/*
 * binder_alloc's half of the page range benchmarks (see the driver's
 * bench/page_range_bench.c): the same operations as the driver's allocator, on
 * upstream binder's binder_alloc, set up the way binder_mmap() sets it up.
 * Compiled in drivers/android/ (scripts/place-in-tree.sh copies it there)
 * because binder_alloc's functions are not exported.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/list_lru.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "binder_alloc.h"
#include "page_range_bench.h"

static void bab_vma_close(struct vm_area_struct *vma)
{
	binder_alloc_vma_close(vma->vm_private_data);
}

/* As binder_vm_fault(): nothing is ever faulted in. */
static vm_fault_t bab_vm_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct bab_vm_ops = {
	.close = bab_vma_close,
	.fault = bab_vm_fault,
};

/* The flags and order of binder_mmap(). */
static int bab_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct binder_alloc *alloc = file->private_data;

	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vm_flags_mod(vma, VM_DONTCOPY | VM_MIXEDMAP, VM_MAYWRITE);
	vma->vm_ops = &bab_vm_ops;
	vma->vm_private_data = alloc;
	return binder_alloc_mmap_handler(alloc, vma);
}

/* After munmap(): binder_alloc_deferred_release() wants the VMA closed. */
static int bab_release(struct inode *inode, struct file *file)
{
	struct binder_alloc *alloc = file->private_data;

	binder_alloc_deferred_release(alloc);
	kfree(alloc);
	return 0;
}

static const struct file_operations bab_fops = {
	.owner = THIS_MODULE,
	.mmap = bab_mmap,
	.release = bab_release,
};

static struct file *bab_create(void)
{
	struct binder_alloc *alloc;
	struct file *file;

	alloc = kzalloc(sizeof(*alloc), GFP_KERNEL);
	if (!alloc)
		return ERR_PTR(-ENOMEM);
	binder_alloc_init(alloc);
	file = anon_inode_getfile("[binder_alloc_bench]", &bab_fops, alloc,
				  O_RDWR);
	if (IS_ERR(file)) {
		/* As the release above, for an allocator never mapped. */
		binder_alloc_deferred_release(alloc);
		kfree(alloc);
	}
	return file;
}

static void *bab_new_buf(struct file *file, size_t size)
{
	struct binder_buffer *buffer;

	buffer = binder_alloc_new_buf(file->private_data, size, 0, 0, false);
	return IS_ERR(buffer) ? NULL : buffer;
}

static void bab_free_buf(struct file *file, void *buf)
{
	binder_alloc_free_buf(file->private_data, buf);
}

static int bab_copy(struct file *file, void *buf, size_t offset,
		    const void *src, size_t len)
{
	return binder_alloc_copy_to_buffer(file->private_data, buf, offset,
					   (void *)src, len);
}

static unsigned long bab_shrink(unsigned long nr)
{
	return list_lru_walk(&binder_freelist, binder_alloc_free_page, NULL,
			     nr);
}

static unsigned long bab_lru_count(void)
{
	return list_lru_count(&binder_freelist);
}

const struct prbench_ops binder_alloc_bench_ops = {
	.name = "binder",
	.create = bab_create,
	.new_buf = bab_new_buf,
	.free_buf = bab_free_buf,
	.copy = bab_copy,
	.shrink = bab_shrink,
	.lru_count = bab_lru_count,
	.meta_bytes = sizeof(struct binder_lru_page),
};
