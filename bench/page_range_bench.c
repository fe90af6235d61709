// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel benchmarks: this driver's allocator (page range + buffers)
 * against upstream binder's binder_alloc, on identical workloads, in one
 * boot. Writing a command to debugfs binder_page_range_bench/run runs it in
 * the writer's context: each allocator maps its area into the writer's mm,
 * as a binder process would, and every operation is a real one (pages are
 * allocated, inserted into the VMA, zapped and freed).
 *
 *   echo "<workload> <rounds> [<impl>]" > /sys/kernel/debug/binder_page_range_bench/run
 *
 * with <workload> one of warm, cold, shrink, copy, scale, meta or all, and
 * <impl>, page_range or binder, to run one allocator alone (for a profile).
 * Every round runs both allocators, in alternating order, so that neither
 * always goes first. One line per measurement goes to the kernel log:
 *
 *   prb: <workload> <param> <impl> <round> <value> <unit>
 *
 * and scripts/bench.sh turns them into medians and ratios. Times are wall
 * clock (ktime_get_ns()) over many operations; under QEMU TCG only ratios
 * between the allocators mean anything.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define pr_fmt(fmt) "prb: " fmt

#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "bpa_alloc.h"
#include "page_range_internal.h"
#include "page_range_bench.h"

/* Every area is 4 MiB, binder's largest. */
#define PRB_AREA		SZ_4M
/* Cold install, shrink and copy work on buffers of this size. */
#define PRB_BIG			SZ_1M
#define PRB_CHUNK		SZ_64K
#define PRB_MAX_THREADS		16

static struct page_range_shrinker prb_prs;

/* The driver's half: its allocator over a shrinker of its own. */

static int prb_pr_mmap(struct file *file, struct vm_area_struct *vma)
{
	return bpa_alloc_mmap(file->private_data, vma);
}

static int prb_pr_release(struct inode *inode, struct file *file)
{
	struct bpa_alloc *alloc = file->private_data;

	bpa_alloc_release(alloc);
	kfree(alloc);
	return 0;
}

static const struct file_operations prb_pr_fops = {
	.owner = THIS_MODULE,
	.mmap = prb_pr_mmap,
	.release = prb_pr_release,
};

static struct file *prb_pr_create(void)
{
	struct bpa_alloc *alloc;
	struct file *file;
	int ret;

	alloc = kzalloc(sizeof(*alloc), GFP_KERNEL);
	if (!alloc)
		return ERR_PTR(-ENOMEM);
	ret = bpa_alloc_init(alloc, &prb_prs);
	if (ret) {
		kfree(alloc);
		return ERR_PTR(ret);
	}
	file = anon_inode_getfile("[prbench]", &prb_pr_fops, alloc, O_RDWR);
	if (IS_ERR(file)) {
		bpa_alloc_release(alloc);
		kfree(alloc);
	}
	return file;
}

static void *prb_pr_new_buf(struct file *file, size_t size)
{
	struct bpa_buffer *buffer;

	buffer = bpa_alloc_new_buf(file->private_data, size, 0, 0, false);
	return IS_ERR(buffer) ? NULL : buffer;
}

static void prb_pr_free_buf(struct file *file, void *buf)
{
	bpa_alloc_free_buf(file->private_data, buf);
}

static int prb_pr_copy(struct file *file, void *buf, size_t offset,
		       const void *src, size_t len)
{
	return bpa_alloc_copy_to_buffer(file->private_data, buf, offset, src,
					len);
}

static unsigned long prb_pr_shrink(unsigned long nr)
{
	return page_range_shrinker_scan(&prb_prs, nr);
}

static unsigned long prb_pr_lru_count(void)
{
	return page_range_shrinker_count(&prb_prs);
}

static const struct prbench_ops prb_pr_ops = {
	.name = "page_range",
	.create = prb_pr_create,
	.new_buf = prb_pr_new_buf,
	.free_buf = prb_pr_free_buf,
	.copy = prb_pr_copy,
	.shrink = prb_pr_shrink,
	.lru_count = prb_pr_lru_count,
	/* The slot and the allocator's per-page buffer count (u16). */
	.meta_bytes = sizeof(struct page_range_page) + sizeof(u16),
};

/* An allocator with its area mapped into current's mm. */
struct prb_area {
	const struct prbench_ops *ops;
	struct file *file;
	unsigned long addr;
};

static int prb_area_open(struct prb_area *area, const struct prbench_ops *ops)
{
	area->ops = ops;
	area->file = ops->create();
	if (IS_ERR(area->file))
		return PTR_ERR(area->file);
	area->addr = vm_mmap(area->file, 0, PRB_AREA, PROT_READ, MAP_SHARED, 0);
	if (IS_ERR_VALUE(area->addr)) {
		__fput_sync(area->file);
		return (int)area->addr;
	}
	return 0;
}

/*
 * Unmap, then release the file now rather than at the return to
 * userspace (fput()), so that one command's areas and their pages do not
 * pile up until it ends.
 */
static void prb_area_close(struct prb_area *area)
{
	vm_munmap(area->addr, PRB_AREA);
	__fput_sync(area->file);
}

/* Reclaim every available page of the area's allocator. */
static unsigned long prb_drain(const struct prbench_ops *ops)
{
	unsigned long freed = 0, n;

	while ((n = ops->lru_count())) {
		n = ops->shrink(n);
		if (!n)
			break;
		freed += n;
	}
	return freed;
}

static void prb_report(const char *workload, unsigned long param,
		       const char *impl, int round, u64 value, const char *unit)
{
	pr_info("%s %lu %s %d %llu %s\n", workload, param, impl, round, value,
		unit);
}

/* Warm cycles: allocate and free a buffer whose pages stay present. */
static int prb_warm(const struct prbench_ops *ops, int round, size_t size,
		    unsigned int iters)
{
	struct prb_area area;
	unsigned int i;
	void *buf;
	u64 t0;
	int ret;

	ret = prb_area_open(&area, ops);
	if (ret)
		return ret;
	/* Install the pages once, outside the timing. */
	ret = -ENOMEM;
	buf = ops->new_buf(area.file, size);
	if (!buf)
		goto out;
	ops->free_buf(area.file, buf);

	t0 = ktime_get_ns();
	for (i = 0; i < iters; i++) {
		buf = ops->new_buf(area.file, size);
		if (!buf)
			goto out;
		ops->free_buf(area.file, buf);
	}
	prb_report("warm", size, ops->name, round,
		   div_u64(ktime_get_ns() - t0, iters), "ns/op");
	ret = 0;
out:
	prb_area_close(&area);
	return ret;
}

/*
 * Cycles of a 1 MiB buffer whose pages all come and go: each allocation
 * installs every page (the shrinker took them all back before), and each
 * free makes them available, for the shrinker to reclaim. Times the
 * installs (@reclaim false: "cold") or the reclaims ("shrink"), per page.
 */
static int prb_cycle(const struct prbench_ops *ops, int round,
		     unsigned int reps, bool reclaim)
{
	unsigned long pages = 0, n;
	struct prb_area area;
	u64 t0, ns = 0;
	unsigned int i;
	void *buf;
	int ret;

	ret = prb_area_open(&area, ops);
	if (ret)
		return ret;
	for (i = 0; i < reps; i++) {
		prb_drain(ops);
		t0 = ktime_get_ns();
		buf = ops->new_buf(area.file, PRB_BIG);
		if (!reclaim)
			ns += ktime_get_ns() - t0;
		if (!buf) {
			ret = -ENOMEM;
			goto out;
		}
		ops->free_buf(area.file, buf);
		t0 = ktime_get_ns();
		n = prb_drain(ops);
		if (reclaim)
			ns += ktime_get_ns() - t0;
		pages += n;
	}
	if (!pages)
		ret = -EAGAIN;
	else
		prb_report(reclaim ? "shrink" : "cold", PAGE_SIZE, ops->name,
			   round, div_u64(ns, pages), "ns/page");
out:
	prb_area_close(&area);
	return ret;
}

/*
 * What any cold install costs at least: allocating and zeroing the page,
 * as both allocators do; per page, in runs of 256. The pages are freed
 * outside the timing, as a cold install's are (by the shrinker, before the
 * next install is timed), so that both time the same work.
 */
static int prb_cold_floor(int round, unsigned int reps)
{
	struct page **pages;
	unsigned int i, j, n = PRB_BIG >> PAGE_SHIFT;
	u64 t0, ns = 0;
	int ret = 0;

	pages = kcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < reps && !ret; i++) {
		t0 = ktime_get_ns();
		for (j = 0; j < n; j++) {
			pages[j] = alloc_page(GFP_KERNEL | __GFP_HIGHMEM |
					      __GFP_ZERO);
			if (!pages[j]) {
				ret = -ENOMEM;
				break;
			}
		}
		ns += ktime_get_ns() - t0;
		while (j--)
			__free_page(pages[j]);
	}
	if (!ret)
		prb_report("cold", PAGE_SIZE, "alloc_page", round,
			   div_u64(ns, reps * n), "ns/page");
	kfree(pages);
	return ret;
}

/*
 * Copy 64 KiB chunks from kernel memory into a 1 MiB buffer (ops), or into
 * 1 MiB of vmalloc'd memory with plain memcpy() (ops == NULL); in MiB/s.
 */
static int prb_copy(const struct prbench_ops *ops, int round,
		    unsigned int reps)
{
	struct prb_area area;
	void *src, *dst = NULL, *buf = NULL;
	unsigned int i;
	size_t off;
	u64 t0, ns;
	int ret;

	src = kvmalloc(PRB_CHUNK, GFP_KERNEL);
	if (!src)
		return -ENOMEM;
	memset(src, 0x5a, PRB_CHUNK);
	if (ops) {
		ret = prb_area_open(&area, ops);
		if (ret)
			goto out_src;
		ret = -ENOMEM;
		buf = ops->new_buf(area.file, PRB_BIG);
		if (!buf)
			goto out_area;
	} else {
		ret = -ENOMEM;
		dst = vmalloc(PRB_BIG);
		if (!dst)
			goto out_src;
		memset(dst, 0, PRB_BIG);
	}

	t0 = ktime_get_ns();
	for (i = 0; i < reps; i++) {
		for (off = 0; off < PRB_BIG; off += PRB_CHUNK) {
			if (!ops) {
				memcpy(dst + off, src, PRB_CHUNK);
				continue;
			}
			ret = ops->copy(area.file, buf, off, src, PRB_CHUNK);
			if (ret)
				goto out_buf;
		}
	}
	ns = ktime_get_ns() - t0;
	/* MiB per second: reps MiB in ns nanoseconds. */
	prb_report("copy", PRB_CHUNK, ops ? ops->name : "memcpy", round,
		   div64_u64((u64)reps * NSEC_PER_SEC, ns ? ns : 1), "MiB/s");
	ret = 0;
out_buf:
	if (ops)
		ops->free_buf(area.file, buf);
out_area:
	if (ops)
		prb_area_close(&area);
	vfree(dst);
out_src:
	kvfree(src);
	return ret;
}

/* Scaling: kthreads doing warm 4 KiB cycles on shared or disjoint areas. */
struct prb_thread {
	const struct prbench_ops *ops;
	struct file *file;
	unsigned int iters;
	atomic_t *go;
	struct completion done;
	int ret;
};

static int prb_thread_fn(void *data)
{
	struct prb_thread *t = data;
	unsigned int i;
	void *buf;

	while (!atomic_read(t->go))
		cond_resched();
	for (i = 0; i < t->iters; i++) {
		buf = t->ops->new_buf(t->file, PAGE_SIZE);
		if (!buf) {
			t->ret = -ENOMEM;
			break;
		}
		t->ops->free_buf(t->file, buf);
	}
	complete(&t->done);
	return 0;
}

static int prb_scale(const struct prbench_ops *ops, int round,
		     unsigned int nthreads, bool shared, unsigned int iters)
{
	struct prb_area *areas;
	struct prb_thread *threads;
	struct task_struct *task;
	unsigned int i, nareas = shared ? 1 : nthreads, opened = 0;
	atomic_t go = ATOMIC_INIT(0);
	u64 t0, ns;
	int ret = 0;

	areas = kcalloc(nareas, sizeof(*areas), GFP_KERNEL);
	threads = kcalloc(nthreads, sizeof(*threads), GFP_KERNEL);
	if (!areas || !threads) {
		ret = -ENOMEM;
		goto out;
	}
	for (; opened < nareas; opened++) {
		ret = prb_area_open(&areas[opened], ops);
		if (ret)
			goto out;
	}
	for (i = 0; i < nthreads; i++) {
		threads[i] = (struct prb_thread) {
			.ops = ops,
			.file = areas[shared ? 0 : i].file,
			.iters = iters,
			.go = &go,
		};
		init_completion(&threads[i].done);
		task = kthread_run(prb_thread_fn, &threads[i], "prb/%u", i);
		if (IS_ERR(task)) {
			/* The threads started so far still need their go. */
			ret = PTR_ERR(task);
			nthreads = i;
			break;
		}
	}
	t0 = ktime_get_ns();
	atomic_set(&go, 1);
	for (i = 0; i < nthreads; i++) {
		wait_for_completion(&threads[i].done);
		if (threads[i].ret)
			ret = threads[i].ret;
	}
	ns = ktime_get_ns() - t0;
	if (!ret)
		/* Thousands of cycles per second, all threads together. */
		prb_report(shared ? "scale-shared" : "scale-disjoint", nthreads,
			   ops->name, round,
			   div64_u64((u64)nthreads * iters * USEC_PER_SEC,
				     ns ? ns : 1), "kops/s");
out:
	while (opened--)
		prb_area_close(&areas[opened]);
	kfree(threads);
	kfree(areas);
	return ret;
}

/*
 * The measurements, each long enough (tens of milliseconds under TCG) for
 * the clock and the scheduler not to matter much.
 */
static int prb_step_warm(const struct prbench_ops *ops, int round,
			 unsigned long size)
{
	return prb_warm(ops, round, size, size >= SZ_1M ? 1000 :
					  size >= SZ_64K ? 10000 : 40000);
}

static int prb_step_cold(const struct prbench_ops *ops, int round,
			 unsigned long unused)
{
	return ops ? prb_cycle(ops, round, 64, false) :
		     prb_cold_floor(round, 64);
}

static int prb_step_shrink(const struct prbench_ops *ops, int round,
			   unsigned long unused)
{
	return prb_cycle(ops, round, 64, true);
}

static int prb_step_copy(const struct prbench_ops *ops, int round,
			 unsigned long unused)
{
	return prb_copy(ops, round, 128);
}

static int prb_step_disjoint(const struct prbench_ops *ops, int round,
			     unsigned long nthreads)
{
	return prb_scale(ops, round, nthreads, false, 32000 / nthreads);
}

static int prb_step_shared(const struct prbench_ops *ops, int round,
			   unsigned long nthreads)
{
	return prb_scale(ops, round, nthreads, true, 32000 / nthreads);
}

static int prb_step_meta(const struct prbench_ops *ops, int round,
			 unsigned long unused)
{
	prb_report("meta", PAGE_SIZE, ops->name, round, ops->meta_bytes,
		   "bytes/page");
	return 0;
}

static const struct prb_step {
	const char *workload;
	int (*fn)(const struct prbench_ops *ops, int round,
		  unsigned long param);
	unsigned long param;
	bool baseline;	/* also run without an allocator (ops == NULL) */
} prb_steps[] = {
	{ "warm", prb_step_warm, 128 },
	{ "warm", prb_step_warm, SZ_4K },
	{ "warm", prb_step_warm, SZ_64K },
	{ "warm", prb_step_warm, SZ_1M },
	{ "cold", prb_step_cold, 0, true },
	{ "shrink", prb_step_shrink },
	{ "copy", prb_step_copy, 0, true },
	{ "scale", prb_step_disjoint, 1 },
	{ "scale", prb_step_disjoint, 2 },
	{ "scale", prb_step_disjoint, 4 },
	{ "scale", prb_step_disjoint, 8 },
	{ "scale", prb_step_disjoint, 16 },
	{ "scale", prb_step_shared, 1 },
	{ "scale", prb_step_shared, 2 },
	{ "scale", prb_step_shared, 4 },
	{ "scale", prb_step_shared, 8 },
	{ "scale", prb_step_shared, 16 },
	{ "meta", prb_step_meta },
};

/*
 * Every step runs on both allocators back to back, so that the two
 * figures of one round are taken under the same conditions, and in an
 * order that alternates between rounds, so that neither always goes first.
 * @only names one allocator to run alone (for a profile), or is empty.
 */
static int prb_run(const char *workload, int rounds, const char *only)
{
	const struct prbench_ops *impls[2] = {
		&prb_pr_ops, &binder_alloc_bench_ops,
	};
	const struct prb_step *step;
	int round, i, ret;
	size_t s;

	for (round = 1; round <= rounds; round++) {
		for (s = 0; s < ARRAY_SIZE(prb_steps); s++) {
			step = &prb_steps[s];
			if (strcmp(workload, "all") &&
			    strcmp(workload, step->workload))
				continue;
			for (i = 0; i < 2; i++) {
				const struct prbench_ops *ops =
					impls[(round + i) % 2];

				if (*only && strcmp(only, ops->name))
					continue;
				ret = step->fn(ops, round, step->param);
				if (ret)
					return ret;
			}
			if (step->baseline && !*only) {
				ret = step->fn(NULL, round, step->param);
				if (ret)
					return ret;
			}
			if (fatal_signal_pending(current))
				return -EINTR;
		}
	}
	return 0;
}

static ssize_t prb_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	char cmd[64], workload[16], only[16] = "";
	int rounds, ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	if (sscanf(cmd, "%15s %d %15s", workload, &rounds, only) < 2 ||
	    rounds < 1 || rounds > 100)
		return -EINVAL;
	if (*only && strcmp(only, prb_pr_ops.name) &&
	    strcmp(only, binder_alloc_bench_ops.name))
		return -EINVAL;
	if (strcmp(workload, "all") && strcmp(workload, "warm") &&
	    strcmp(workload, "cold") && strcmp(workload, "shrink") &&
	    strcmp(workload, "copy") && strcmp(workload, "scale") &&
	    strcmp(workload, "meta"))
		return -EINVAL;
	if (!current->mm)
		return -ESRCH;

	pr_info("start %s %d\n", workload, rounds);
	ret = prb_run(workload, rounds, only);
	pr_info("end %s %d\n", workload, ret);
	return ret ? ret : count;
}

static const struct file_operations prb_fops = {
	.owner = THIS_MODULE,
	.write = prb_write,
};

static int __init prb_init(void)
{
	struct dentry *dir;
	int ret;

	ret = page_range_shrinker_register(&prb_prs, "binder-page-range-bench");
	if (ret)
		return ret;
	dir = debugfs_create_dir("binder_page_range_bench", NULL);
	debugfs_create_file("run", 0200, dir, NULL, &prb_fops);
	return 0;
}
late_initcall(prb_init);
