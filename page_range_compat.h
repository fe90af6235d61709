/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel versions the driver is built and tested against: 6.12 only.
 * Included first in every file of an out-of-tree build (Kbuild); a kernel
 * tree the driver is part of needs no such check.
 *
 * 6.13 changed what this driver relies on: list_lru_add() and
 * list_lru_del() are no longer exported to modules, a list_lru_walk_cb
 * has no lock argument and must leave the lock dropped when it returns
 * LRU_REMOVED_RETRY, and symbol namespaces became string literals. None of
 * that has been built or run here, so another version fails now, with a
 * reason, rather than later in a way nobody looked at.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _PAGE_RANGE_COMPAT_H
#define _PAGE_RANGE_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_MAJOR != 6 || LINUX_VERSION_PATCHLEVEL != 12
#error "binder_page_range is built and tested against Linux 6.12 only"
#endif

#endif /* _PAGE_RANGE_COMPAT_H */
