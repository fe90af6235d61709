// SPDX-License-Identifier: GPL-2.0
/*
 * Run upstream's binder_alloc_selftest (CONFIG_ANDROID_BINDER_IPC_SELFTEST)
 * before binder_test: binder runs it once, in the first ioctl() after a
 * successful mmap(), on that process's area, and prints its verdict
 * ("binder_linux: PASSED") in the kernel log, where scripts/binder-run.sh
 * reads it. It takes minutes under TCG with KASAN, more than a
 * binder_test case may, and its cost grows with the area: 16 pages cover
 * every buffer layout it makes. Prints no result of its own; a kernel
 * without binderfs (Debian's) has nothing to trigger.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/android/binder.h>

#define AREA_PAGES	16
#define BINDERFS	"/dev/binderfs"

int main(void)
{
	struct binder_version v = { 0 };
	size_t size = AREA_PAGES * getpagesize();
	void *area;
	int fd;

	if (access(BINDERFS "/binder-control", F_OK)) {
		mkdir(BINDERFS, 0755);
		if (mount("binder", BINDERFS, "binder", 0, NULL) &&
		    errno != EBUSY) {
			printf("# no binderfs (%s): no selftest to run\n",
			       strerror(errno));
			return 0;
		}
	}
	fd = open(BINDERFS "/binder", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("# open " BINDERFS "/binder: %s\n", strerror(errno));
		return 1;
	}
	area = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (area == MAP_FAILED) {
		printf("# mmap: %s\n", strerror(errno));
		return 1;
	}
	/* The selftest runs here, before the ioctl itself. */
	if (ioctl(fd, BINDER_VERSION, &v)) {
		printf("# BINDER_VERSION: %s\n", strerror(errno));
		return 1;
	}
	printf("# binder protocol %d: the selftest ran if configured\n",
	       v.protocol_version);
	munmap(area, size);
	close(fd);
	return 0;
}
