/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between the in-kernel benchmarks (page_range_bench.c, with the
 * driver) and binder_alloc's half (binder_alloc_bench.c, compiled in
 * drivers/android/ because binder_alloc's functions are not exported).
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _PAGE_RANGE_BENCH_H
#define _PAGE_RANGE_BENCH_H

#include <linux/types.h>

struct file;

/**
 * struct prbench_ops - one allocator under test
 * @name: short name for the results
 * @create: a new allocator with a file whose mmap sets up its area; the
 *	caller maps the file into current's mm (the owner) and releases it
 * @new_buf: a buffer of @size data bytes, its pages present; NULL on error
 * @free_buf: free a buffer from @new_buf; its pages stay present
 * @copy: copy kernel memory into a buffer at @offset
 * @shrink: reclaim up to @nr available pages through the shrinker's walk
 * @lru_count: available pages on the allocator's list_lru
 * @meta_bytes: per-page metadata: the page slot and any per-page count
 */
struct prbench_ops {
	const char *name;
	struct file *(*create)(void);
	void *(*new_buf)(struct file *file, size_t size);
	void (*free_buf)(struct file *file, void *buf);
	int (*copy)(struct file *file, void *buf, size_t offset,
		    const void *src, size_t len);
	unsigned long (*shrink)(unsigned long nr);
	unsigned long (*lru_count)(void);
	size_t meta_bytes;
};

extern const struct prbench_ops binder_alloc_bench_ops;

#endif /* _PAGE_RANGE_BENCH_H */
