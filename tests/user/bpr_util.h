/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the userspace tests and the demo.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _BPR_UTIL_H
#define _BPR_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include <linux/android/binder_page_range.h>

/* FNV-1a over @len bytes: what a receiver sends back to prove delivery. */
static inline __u64 checksum(const __u8 *p, size_t len)
{
	__u64 sum = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		sum = (sum ^ p[i]) * 1099511628211ULL;
	return sum;
}

/* One open file of the device: an endpoint and, if mapped, its area. */
struct ep {
	int fd;
	__u8 *area;
	size_t size;
};

/*
 * Open an endpoint, map @size bytes of area (none if 0) and bind @id (none
 * if 0). Returns 0, or -1 with errno set.
 */
static inline int ep_open(struct ep *ep, __u32 id, size_t size)
{
	ep->area = NULL;
	ep->size = size;
	ep->fd = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);
	if (ep->fd < 0)
		return -1;
	if (size) {
		ep->area = mmap(NULL, size, PROT_READ, MAP_SHARED, ep->fd, 0);
		if (ep->area == MAP_FAILED)
			return -1;
	}
	if (id && ioctl(ep->fd, BPR_IOC_BIND, &id))
		return -1;
	return 0;
}

static inline void ep_close(struct ep *ep)
{
	if (ep->area && ep->area != MAP_FAILED)
		munmap(ep->area, ep->size);
	ep->area = NULL;
	if (ep->fd >= 0)
		close(ep->fd);
	ep->fd = -1;
}

/* The byte at @i of the pattern @seed: see fill(). */
static inline __u8 fill_byte(size_t i, __u32 seed)
{
	return (__u8)(seed * 131 + i * 7 + (i >> 9));
}

/* A pattern that differs with @seed and along the buffer. */
static inline void fill(__u8 *buf, size_t len, __u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = fill_byte(i, seed);
}

/* Whether @p holds fill(@len, @seed). */
static inline int fill_ok(const __u8 *p, size_t len, __u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != fill_byte(i, seed))
			return 0;
	return 1;
}

/*
 * BPR_IOC_TRANSACT: send @size bytes at @data to @target. A two-way send
 * waits and returns the reply's description in @reply (if not NULL). The
 * structure is new for every call, so its done field is 0: a new
 * transaction, not the resumption of an interrupted one.
 */
static inline int send_msg(int fd, __u32 target, const void *data,
			   size_t size, __u32 flags, struct bpr_message *reply)
{
	struct bpr_transaction tr = {
		.send = {
			.target = target,
			.flags = flags,
			.data = (uintptr_t)data,
			.size = size,
		},
	};
	int ret = ioctl(fd, BPR_IOC_TRANSACT, &tr);

	if (!ret && reply)
		*reply = tr.reply;
	return ret;
}

static inline int get_stats(int fd, struct bpr_stats *st)
{
	return ioctl(fd, BPR_IOC_STATS, st);
}

/*
 * The number after @key on the last line of @path that starts with @key
 * (with an empty @key: the first number of the last line), or -1.
 */
static inline long long read_value(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	long long val = -1;
	char line[256];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			val = atoll(line + strlen(key));
	fclose(f);
	return val;
}

/* Milliseconds on the monotonic clock, for bounded waits. */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Make the calling child die with @parent, the test process: a failed
 * ASSERT or the harness's timeout then leaves no helper behind holding a
 * file of the device (which would keep the module busy). Changing
 * credentials clears the setting: call it again after setuid().
 */
static inline void die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(99);
}

/* fork() for a helper process of a test: see die_with_parent(). */
static inline pid_t fork_helper(void)
{
	pid_t parent = getpid(), pid = fork();

	if (!pid)
		die_with_parent(parent);
	return pid;
}

/*
 * Wait up to @ms for @pid to end, and SIGKILL it if it does not. Returns
 * its exit code, 256 + the signal that killed it, or -1 if it had to be
 * killed (-2 if it was no child of ours).
 */
static inline int reap(pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	int status;

	for (;;) {
		pid_t ret = waitpid(pid, &status, WNOHANG);

		if (ret < 0)
			return -2;
		if (ret == pid)
			break;
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(5000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	       256 + WTERMSIG(status);
}

/* Read one byte from @fd within @ms: 0, or -1 (timeout, EOF, error). */
static inline int wait_byte(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return 0;
}

/* Whether a message is queued for @fd within @ms. */
static inline int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Area of the clients fork_client() starts. */
#define CLIENT_AREA	(256 * 1024)

/*
 * A child process that sends a two-way "q" to @target and exits 0 if the
 * reply is @want (with @want NULL, it is expected to be killed waiting).
 */
static inline pid_t fork_client(__u32 target, const char *want)
{
	struct bpr_message reply;
	pid_t parent = getpid(), pid;
	struct ep cl;

	pid = fork();
	if (pid)
		return pid;
	die_with_parent(parent);
	if (ep_open(&cl, 0, CLIENT_AREA) ||
	    send_msg(cl.fd, target, "q", 1, 0, &reply))
		_exit(2);
	if (!want || reply.size != strlen(want) ||
	    memcmp(cl.area + reply.offset, want, reply.size))
		_exit(3);
	_exit(0);
}

#define BPR_DEBUGFS_STATS "/sys/kernel/debug/binder_page_range/stats"

/* The module's live objects, from debugfs: see Documentation/uapi.rst. */
struct bpr_live {
	long long procs, areas, transactions, messages, buffers, pages;
};

/* Read every counter from one read of the file: 0, or -1. */
static inline int read_live(struct bpr_live *l)
{
	FILE *f = fopen(BPR_DEBUGFS_STATS, "re");
	char name[32];
	long long val;
	int n = 0;

	if (!f)
		return -1;
	memset(l, 0xff, sizeof(*l));
	while (fscanf(f, "%31s %lld", name, &val) == 2) {
		n++;
		if (!strcmp(name, "procs"))
			l->procs = val;
		else if (!strcmp(name, "areas"))
			l->areas = val;
		else if (!strcmp(name, "transactions"))
			l->transactions = val;
		else if (!strcmp(name, "messages"))
			l->messages = val;
		else if (!strcmp(name, "buffers"))
			l->buffers = val;
		else if (!strcmp(name, "pages"))
			l->pages = val;
	}
	fclose(f);
	return n == 6 ? 0 : -1;
}

/*
 * Wait up to @ms for every counter to read 0: teardown runs in a
 * workqueue, after the last close(). 0, or -1 with @l the last reading.
 */
static inline int wait_live_zero(struct bpr_live *l, int ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		if (!read_live(l) && !l->procs && !l->areas &&
		    !l->transactions && !l->messages && !l->buffers &&
		    !l->pages)
			return 0;
		if (now_ms() > end)
			return -1;
		usleep(20000);
	}
}

#endif /* _BPR_UTIL_H */
