/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the userspace tests and the demo.
 */

#ifndef _BPR_UTIL_H
#define _BPR_UTIL_H

#include <stddef.h>
#include <linux/types.h>

/* FNV-1a over @len bytes: what a receiver sends back to prove delivery. */
static inline __u64 checksum(const __u8 *p, size_t len)
{
	__u64 sum = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		sum = (sum ^ p[i]) * 1099511628211ULL;
	return sum;
}

#endif /* _BPR_UTIL_H */
