/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces that changed between 6.12 and 6.13, in one
 * place, so that the rest of the driver is written once.
 */

#ifndef _BINDER_PAGE_RANGE_COMPAT_H
#define _BINDER_PAGE_RANGE_COMPAT_H

#include <linux/version.h>

/*
 * 6.13 passes symbol namespaces as string literals (6.12 stringifies a bare
 * identifier), and dropped the lock argument of list_lru_walk_cb: the lock
 * an isolate callback holds is then the list's own, list->lock.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define PAGE_RANGE_NS BINDER_PAGE_RANGE
#define PAGE_RANGE_LRU_CB_HAS_LOCK_ARG 1
#else
#define PAGE_RANGE_NS "BINDER_PAGE_RANGE"
#endif

#endif /* _BINDER_PAGE_RANGE_COMPAT_H */
