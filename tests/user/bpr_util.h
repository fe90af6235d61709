/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the userspace tests and the demo.
 */

#ifndef _BPR_UTIL_H
#define _BPR_UTIL_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/types.h>

#include "uapi/binder_page_range.h"

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

#endif /* _BPR_UTIL_H */
