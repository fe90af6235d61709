// SPDX-License-Identifier: GPL-2.0
/*
 * The driver is three modules, one per layer: the page range library
 * (binder_page_range.ko), the buffer allocator (bpa_alloc.ko) and the IPC
 * device (binder_page_range_ipc.ko). Only the last has a user interface:
 * with the library and the allocator alone loaded there is no
 * /dev/binder_page_range. Run as root in the test VM, after the three are
 * loaded from /lib/modules; unloads and reloads the upper two, and leaves
 * all three loaded.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define DEVICE		"/dev/binder_page_range"
#define MODULE_DIR	"/lib/modules"

/*
 * How long a module may stay in use: the device's file teardown runs in a
 * workqueue. Below the harness's 30 s timeout.
 */
#define BUSY_MS		10000

static bool loadable(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

/* 0, or a negative errno: retried while the module is still in use. */
static int unload(const char *name)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < BUSY_MS / 10; i++) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -errno;
		nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

/* 0, or a negative errno. */
static int load(const char *name)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), MODULE_DIR "/%s.ko", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Whether /proc/misc lists the device, whatever devtmpfs shows. */
static bool misc_registered(void)
{
	char line[128];
	bool found = false;
	FILE *f;

	f = fopen("/proc/misc", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " binder_page_range\n"))
			found = true;
	fclose(f);
	return found;
}

static bool device_exists(void)
{
	struct stat st;

	return stat(DEVICE, &st) == 0 || misc_registered();
}

/* The names of the modules that hold @name, space-separated. */
static void list_holders(const char *name, char *buf, size_t size)
{
	char path[128];
	struct dirent *d;
	DIR *dir;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/module/%s/holders", name);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' &&
		    strlen(buf) + strlen(d->d_name) + 2 < size) {
			strcat(buf, d->d_name);
			strcat(buf, " ");
		}
	closedir(dir);
}

/*
 * Each case leaves the three modules loaded, whatever happens in it, for
 * the tests that run after this one.
 */
FIXTURE(modules) {};

FIXTURE_SETUP(modules)
{
	if (!loadable("binder_page_range"))
		SKIP(return, "the driver is built in: no module to unload");
	ASSERT_TRUE(loadable("bpa_alloc"));
	ASSERT_TRUE(loadable("binder_page_range_ipc"));
	ASSERT_TRUE(device_exists());
}

FIXTURE_TEARDOWN(modules)
{
	if (!loadable("binder_page_range"))
		return;
	if (!loadable("bpa_alloc"))
		EXPECT_EQ(load("bpa_alloc"), 0);
	if (!loadable("binder_page_range_ipc"))
		EXPECT_EQ(load("binder_page_range_ipc"), 0);
}

/* Unloading the device's module takes the device away, and only that. */
TEST_F(modules, device_comes_with_its_module)
{
	int fd;

	ASSERT_EQ(unload("binder_page_range_ipc"), 0);
	EXPECT_FALSE(device_exists());
	EXPECT_EQ(access("/sys/kernel/debug/binder_page_range", F_OK), -1);
	/* The layers below stay, and keep their own debugfs. */
	EXPECT_TRUE(loadable("bpa_alloc"));
	EXPECT_EQ(access("/sys/kernel/debug/bpa_alloc/allocators", R_OK), 0);

	ASSERT_EQ(load("binder_page_range_ipc"), 0);
	ASSERT_TRUE(device_exists());
	fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	close(fd);
}

/*
 * The library alone, then with the allocator: no device. Needs the
 * allocator unloadable, which a loaded KUnit test module (a holder of
 * both) prevents; the VMs that load none, such as distro-6.12, run it.
 */
TEST_F(modules, library_and_allocator_create_no_device)
{
	char held[256];

	ASSERT_EQ(unload("binder_page_range_ipc"), 0);
	list_holders("bpa_alloc", held, sizeof(held));
	if (held[0])
		SKIP(return, "bpa_alloc is held by %s", held);

	ASSERT_EQ(unload("bpa_alloc"), 0);
	EXPECT_TRUE(loadable("binder_page_range"));
	EXPECT_FALSE(device_exists());
	EXPECT_EQ(access("/sys/kernel/debug/bpa_alloc", F_OK), -1);

	ASSERT_EQ(load("bpa_alloc"), 0);
	EXPECT_FALSE(device_exists());
	EXPECT_EQ(access("/sys/kernel/debug/bpa_alloc/allocators", R_OK), 0);
}

/* The allocator and the device hold the library: it cannot go first. */
TEST_F(modules, library_stays_while_used)
{
	EXPECT_EQ(syscall(SYS_delete_module, "binder_page_range", O_NONBLOCK),
		  -1);
	EXPECT_EQ(errno, EWOULDBLOCK);
	EXPECT_TRUE(loadable("binder_page_range"));
	EXPECT_TRUE(device_exists());
}

TEST_HARNESS_MAIN
