// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace tests of /dev/binder_page_range, with the kernel's kselftest
 * harness. Run as root, with the device module (binder_page_range_ipc.ko)
 * and the two it needs loaded.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bpr_util.h"
#include <linux/android/binder_page_range.h>

#define AREA	(256 * 1024)

TEST(version)
{
	struct bpr_version v;
	int fd = open(BPR_DEVICE, O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, BPR_IOC_VERSION, &v));
	EXPECT_EQ(BPR_VERSION, v.version);
	EXPECT_EQ(BPR_AREA_MAX, v.area_max);
	close(fd);
}

TEST(bad_ioctls)
{
	int fd = open(BPR_DEVICE, O_RDWR);
	__u64 off = 0;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IO(BPR_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, BPR_IOC_VERSION, (void *)16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, BPR_IOC_TRANSACT, (void *)16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, BPR_IOC_STATS, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* Nothing mapped, nothing to free. */
	EXPECT_EQ(-1, ioctl(fd, BPR_IOC_FREE, &off));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(mmap_rules)
{
	int fd = open(BPR_DEVICE, O_RDWR);
	__u8 *a, *b;

	ASSERT_LE(0, fd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, AREA, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	a = mmap(NULL, AREA, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	b = mmap(NULL, AREA, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, b);
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, mprotect(a, AREA, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* No partial unmap, no shrinking or moving. */
	EXPECT_EQ(-1, munmap(a + 4096, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mremap(a, AREA, AREA / 2, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mremap(a, AREA, AREA, MREMAP_MAYMOVE |
				     MREMAP_FIXED, a + 16 * AREA));
	EXPECT_EQ(EINVAL, errno);
	/* VM_DONTEXPAND: no growing; the same size changes nothing. */
	EXPECT_EQ(MAP_FAILED, mremap(a, AREA, 2 * AREA, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(a, mremap(a, AREA, AREA, 0));
	EXPECT_EQ(0, munmap(a, AREA));
	close(fd);
}

TEST(bind)
{
	int a = open(BPR_DEVICE, O_RDWR), b = open(BPR_DEVICE, O_RDWR);
	__u32 id = 100, other = 101, zero = 0;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, ioctl(a, BPR_IOC_BIND, &id));
	EXPECT_EQ(-1, ioctl(a, BPR_IOC_BIND, &other));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, ioctl(b, BPR_IOC_BIND, &id));
	EXPECT_EQ(EADDRINUSE, errno);
	EXPECT_EQ(-1, ioctl(b, BPR_IOC_BIND, &zero));
	EXPECT_EQ(EINVAL, errno);
	/* Released on close. */
	close(a);
	EXPECT_EQ(0, ioctl(b, BPR_IOC_BIND, &id));
	close(b);
}

TEST(send_errors)
{
	struct ep rx, tx;
	__u8 buf[64] = { 0 };

	ASSERT_EQ(0, ep_open(&rx, 200, 64 * 1024));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	EXPECT_EQ(-1, send_msg(tx.fd, 4242, buf, 8, BPR_SEND_ONEWAY, NULL));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, send_msg(tx.fd, 200, (void *)16, 8, BPR_SEND_ONEWAY,
			       NULL));
	EXPECT_EQ(EFAULT, errno);
	/*
	 * Oneway, so that the unknown flag is the only thing wrong (a two-way
	 * send from an endpoint without a mapping is refused too).
	 */
	EXPECT_EQ(-1, send_msg(tx.fd, 200, buf, 8, 0x80 | BPR_SEND_ONEWAY,
			       NULL));
	EXPECT_EQ(EINVAL, errno);
	/* More than the area holds: it could never fit. */
	EXPECT_EQ(-1, send_msg(tx.fd, 200, buf, 1 << 30, BPR_SEND_ONEWAY,
			       NULL));
	EXPECT_EQ(EMSGSIZE, errno);
	ep_close(&tx);
	ep_close(&rx);
}

/* Oneway messages arrive intact where the receiver's mapping shows them. */
TEST(oneway)
{
	size_t sizes[] = { 0, 1, 4095, 4096, 4097, 20000 };
	struct bpr_message m;
	struct bpr_stats st;
	struct ep rx, tx;
	__u8 buf[20000];
	__u64 offs[6];
	int i;

	ASSERT_EQ(0, ep_open(&rx, 300, AREA));
	ASSERT_EQ(0, ep_open(&tx, 301, 0));
	for (i = 0; i < 6; i++) {
		fill(buf, sizes[i], i);
		ASSERT_EQ(0, send_msg(tx.fd, 300, buf, sizes[i],
				      BPR_SEND_ONEWAY, NULL));
	}
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(6, st.messages_queued);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
		EXPECT_EQ(sizes[i], m.size);
		EXPECT_EQ(301, m.sender);
		EXPECT_EQ(BPR_MSG_ONEWAY, m.flags);
		EXPECT_EQ(0, m.transaction);
		EXPECT_EQ(getpid(), m.sender_pid);
		EXPECT_EQ(geteuid(), m.sender_euid);
		EXPECT_EQ(0, m.reserved);
		fill(buf, sizes[i], i);
		EXPECT_EQ(0, memcmp(rx.area + m.offset, buf, sizes[i]));
		offs[i] = m.offset;
	}
	/* Free, then neither a second free nor a stray offset works. */
	for (i = 0; i < 6; i++)
		EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &offs[i]));
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_FREE, &offs[2]));
	EXPECT_EQ(EINVAL, errno);
	offs[0] = AREA + 8;
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_FREE, &offs[0]));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(0, st.buffers_allocated);
	EXPECT_EQ(0, st.messages_queued);
	EXPECT_EQ(0, st.pages_used);
	EXPECT_EQ(AREA, st.free_space);
	ep_close(&tx);
	ep_close(&rx);
}

TEST(nonblock_and_poll)
{
	struct ep rx, tx;
	struct bpr_message m;
	struct pollfd p;
	int flags;

	ASSERT_EQ(0, ep_open(&rx, 400, AREA));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	flags = fcntl(rx.fd, F_GETFL);
	ASSERT_EQ(0, fcntl(rx.fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	EXPECT_EQ(EAGAIN, errno);
	p.fd = rx.fd;
	p.events = POLLIN;
	EXPECT_EQ(0, poll(&p, 1, 0));
	ASSERT_EQ(0, send_msg(tx.fd, 400, "x", 1, BPR_SEND_ONEWAY, NULL));
	EXPECT_EQ(1, poll(&p, 1, 1000));
	EXPECT_TRUE(p.revents & POLLIN);
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	EXPECT_EQ('x', rx.area[m.offset]);
	ep_close(&tx);
	ep_close(&rx);
}

/* A server in a child process answers two-way transactions. */
static void serve(__u32 id, int ready_fd, int count, int use_write_read)
{
	struct bpr_write_read wr = { 0 };
	struct bpr_message m;
	__u8 buf[70000];
	struct ep ep;
	int i;

	if (ep_open(&ep, id, AREA))
		_exit(2);
	if (write(ready_fd, "r", 1) != 1)
		_exit(3);
	if (ioctl(ep.fd, BPR_IOC_RECEIVE, &m))
		_exit(4);
	for (i = 0; i < count; i++) {
		/* The reply: each byte of the request plus one. */
		size_t j;

		for (j = 0; j < m.size; j++)
			buf[j] = ep.area[m.offset + j] + 1;
		if (use_write_read) {
			/* A new call: no step of it carried out yet. */
			wr.done = 0;
			wr.flags = BPR_WR_FREE | BPR_WR_REPLY |
				   (i + 1 < count ? BPR_WR_RECEIVE : 0);
			wr.free_offset = m.offset;
			wr.reply.transaction = m.transaction;
			wr.reply.data = (uintptr_t)buf;
			wr.reply.size = m.size;
			if (ioctl(ep.fd, BPR_IOC_WRITE_READ, &wr))
				_exit(5);
			/* The client waits for every reply. */
			if (wr.write_status)
				_exit(8);
			m = wr.message;
		} else {
			struct bpr_reply rp = {
				.transaction = m.transaction,
				.data = (uintptr_t)buf,
				.size = m.size,
			};

			if (ioctl(ep.fd, BPR_IOC_REPLY, &rp) ||
			    ioctl(ep.fd, BPR_IOC_FREE, &m.offset))
				_exit(6);
			if (i + 1 < count && ioctl(ep.fd, BPR_IOC_RECEIVE, &m))
				_exit(7);
		}
	}
	ep_close(&ep);
	_exit(0);
}

static pid_t start_server(__u32 id, int count, int use_write_read)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		close(p[0]);
		serve(id, p[1], count, use_write_read);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void check_two_way(struct __test_metadata *_metadata,
			  int use_write_read)
{
	size_t sizes[] = { 0, 8, 4096, 5000, 65536 };
	struct bpr_message reply = { 0 };
	__u8 buf[65536];
	struct ep cl;
	int i, status;
	size_t j;
	pid_t pid;

	pid = start_server(500, 5, use_write_read);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, ep_open(&cl, 501, AREA));
	for (i = 0; i < 5; i++) {
		fill(buf, sizes[i], i + 10);
		if (use_write_read) {
			struct bpr_write_read wr = {
				.flags = BPR_WR_SEND | (i ? BPR_WR_FREE : 0),
				.free_offset = reply.offset,
				.send = {
					.target = 500,
					.data = (uintptr_t)buf,
					.size = sizes[i],
				},
			};

			ASSERT_EQ(0, ioctl(cl.fd, BPR_IOC_WRITE_READ, &wr));
			EXPECT_EQ(0, wr.write_status);
			reply = wr.message;
		} else {
			if (i)
				ASSERT_EQ(0, ioctl(cl.fd, BPR_IOC_FREE,
						   &reply.offset));
			ASSERT_EQ(0, send_msg(cl.fd, 500, buf, sizes[i], 0,
					      &reply));
		}
		EXPECT_EQ(sizes[i], reply.size);
		EXPECT_EQ(BPR_MSG_REPLY, reply.flags);
		for (j = 0; j < sizes[i]; j++)
			if (cl.area[reply.offset + j] != (__u8)(buf[j] + 1))
				break;
		EXPECT_EQ(sizes[i], j);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ep_close(&cl);
}

TEST(two_way)
{
	check_two_way(_metadata, 0);
}

TEST(two_way_write_read)
{
	check_two_way(_metadata, 1);
}

/* A receiver that never frees: senders get ENOSPC, nothing else grows. */
TEST(receiver_never_frees)
{
	struct bpr_stats st;
	struct ep rx, tx;
	__u8 buf[8192] = { 1 };
	int sent = 0, i;

	ASSERT_EQ(0, ep_open(&rx, 600, 64 * 1024));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	while (!send_msg(tx.fd, 600, buf, sizeof(buf), BPR_SEND_ONEWAY, NULL))
		sent++;
	EXPECT_EQ(ENOSPC, errno);
	/* Refused sends leave nothing behind. */
	for (i = 0; i < 2000; i++) {
		EXPECT_EQ(-1, send_msg(tx.fd, 600, buf, 8, BPR_SEND_ONEWAY,
				       NULL));
		EXPECT_EQ(ENOSPC, errno);
	}
	/* Oneway messages get half the area. */
	EXPECT_EQ(4, sent);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(4, st.messages_queued);
	EXPECT_EQ(4, st.buffers_allocated);
	EXPECT_EQ(0, st.free_async_space);
	ep_close(&tx);
	ep_close(&rx);
}

/* A receiver exits with queued messages; the waiting sender gets an error. */
TEST(receiver_exits)
{
	struct bpr_message reply;
	struct ep cl;
	int p[2], status;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct bpr_stats st = { 0 };
		struct ep ep;

		close(p[0]);
		if (ep_open(&ep, 700, AREA) || write(p[1], "r", 1) != 1)
			_exit(2);
		while (!get_stats(ep.fd, &st) && st.messages_queued < 2)
			usleep(1000);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	ASSERT_EQ(0, ep_open(&cl, 0, AREA));
	ASSERT_EQ(0, send_msg(cl.fd, 700, "a", 1, BPR_SEND_ONEWAY, NULL));
	EXPECT_EQ(-1, send_msg(cl.fd, 700, "b", 1, 0, &reply));
	EXPECT_EQ(ECONNRESET, errno);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(-1, send_msg(cl.fd, 700, "c", 1, BPR_SEND_ONEWAY, NULL));
	EXPECT_EQ(ENXIO, errno);
	ep_close(&cl);
}

/* The sender is killed mid-transaction: the reply is dropped, not leaked. */
TEST(sender_killed)
{
	struct bpr_message m;
	struct bpr_stats st;
	struct bpr_reply rp = {};
	struct ep srv;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&srv, 800, AREA));
	pid = fork_client(800, NULL);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, ioctl(srv.fd, BPR_IOC_RECEIVE, &m));
	EXPECT_NE(0, m.transaction);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	rp.transaction = m.transaction;
	rp.data = (uintptr_t)"r";
	rp.size = 1;
	EXPECT_EQ(-1, ioctl(srv.fd, BPR_IOC_REPLY, &rp));
	EXPECT_EQ(ECONNRESET, errno);
	/* Once answered, the transaction is gone. */
	EXPECT_EQ(-1, ioctl(srv.fd, BPR_IOC_REPLY, &rp));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(srv.fd, BPR_IOC_FREE, &m.offset));
	ASSERT_EQ(0, get_stats(srv.fd, &st));
	EXPECT_EQ(0, st.buffers_allocated);
	ep_close(&srv);
}

/* A thread that receives on @fd, and its thread id once it has one. */
struct receiver {
	int fd;
	pid_t tid;
};

static void *blocked_receive(void *arg)
{
	struct receiver *r = arg;
	struct bpr_message m;
	long ret;

	__atomic_store_n(&r->tid, gettid(), __ATOMIC_RELEASE);
	ret = ioctl(r->fd, BPR_IOC_RECEIVE, &m);
	return (void *)(ret ? (long)errno : 0L);
}

/*
 * Wait up to 10 s for @r's thread to sleep in BPR_IOC_RECEIVE on its file:
 * /proc shows the system call and arguments of a blocked task, and
 * "running" for one that runs. 0 once it sleeps there, -1 if it never
 * does: a test of what wakes a receiver proves nothing before that.
 */
static int receiver_asleep(struct receiver *r)
{
	char path[64], buf[256];
	unsigned long a0, a1;
	pid_t tid;
	ssize_t n;
	long nr;
	int fd, i;

	for (i = 0; i < 10000; i++, usleep(1000)) {
		tid = __atomic_load_n(&r->tid, __ATOMIC_ACQUIRE);
		if (!tid)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -1;
		buf[n] = 0;
		if (sscanf(buf, "%ld %lx %lx", &nr, &a0, &a1) == 3 &&
		    nr == SYS_ioctl && a0 == (unsigned long)r->fd &&
		    a1 == (unsigned long)BPR_IOC_RECEIVE)
			return 0;
	}
	return -1;
}

/* close() wakes a thread blocked in receive. */
TEST(close_while_receiving)
{
	struct receiver r = { .fd = open(BPR_DEVICE, O_RDWR) };
	pthread_t t;
	void *res;

	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_receive, &r));
	ASSERT_EQ(0, receiver_asleep(&r));
	close(r.fd);
	ASSERT_EQ(0, pthread_join(t, &res));
	EXPECT_EQ(EBADF, (long)res);
}

/* A reply whose bytes cannot be read fails with EFAULT and can be retried. */
TEST(reply_retry_after_efault)
{
	struct bpr_message m;
	struct bpr_reply rp = {};
	struct ep srv;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&srv, 1100, AREA));
	pid = fork_client(1100, "ok");
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, ioctl(srv.fd, BPR_IOC_RECEIVE, &m));
	rp.transaction = m.transaction;
	rp.data = 16;
	rp.size = 2;
	EXPECT_EQ(-1, ioctl(srv.fd, BPR_IOC_REPLY, &rp));
	EXPECT_EQ(EFAULT, errno);
	rp.data = (uintptr_t)"ok";
	EXPECT_EQ(0, ioctl(srv.fd, BPR_IOC_REPLY, &rp));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ep_close(&srv);
}

/* A child closing its inherited copy does not wake the owner's receivers. */
TEST(child_close_does_not_wake)
{
	struct receiver r;
	struct ep rx, tx;
	pthread_t t;
	void *res;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&rx, 1400, AREA));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	r = (struct receiver){ .fd = rx.fd };
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_receive, &r));
	ASSERT_EQ(0, receiver_asleep(&r));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(rx.fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	usleep(100000);
	/* Still waiting: the message is what wakes it. */
	ASSERT_EQ(0, receiver_asleep(&r));
	ASSERT_EQ(0, send_msg(tx.fd, 1400, "m", 1, BPR_SEND_ONEWAY, NULL));
	ASSERT_EQ(0, pthread_join(t, &res));
	EXPECT_EQ(0, (long)res);
	ep_close(&tx);
	ep_close(&rx);
}

/* A child after fork has no mapping, and cannot use the parent's file. */
TEST(fork_child)
{
	struct ep ep;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&ep, 900, AREA));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned char vec;
		struct bpr_stats st;

		if (mincore(ep.area, 4096, &vec) != -1 || errno != ENOMEM)
			_exit(2);
		if (get_stats(ep.fd, &st) != -1 || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ep_close(&ep);
}

/* Idle pages are reclaimed by drop_caches; traffic afterwards is intact. */
TEST(reclaim_drop_caches)
{
	struct bpr_message m;
	struct bpr_stats st;
	struct ep rx, tx;
	__u8 buf[65536];
	int fd, i;

	ASSERT_EQ(0, ep_open(&rx, 1000, AREA));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	for (i = 0; i < 3; i++) {
		fill(buf, sizeof(buf), i);
		ASSERT_EQ(0, send_msg(tx.fd, 1000, buf, sizeof(buf), 0x1, NULL));
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
		EXPECT_EQ(0, memcmp(rx.area + m.offset, buf, sizeof(buf)));
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	}
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_LT(0, st.pages_available);
	EXPECT_EQ(0, st.pages_used);

	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, write(fd, "2\n", 2));
	close(fd);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(0, st.pages_available);
	EXPECT_EQ(st.pages_total, st.pages_free);

	fill(buf, sizeof(buf), 99);
	ASSERT_EQ(0, send_msg(tx.fd, 1000, buf, sizeof(buf), 0x1, NULL));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	EXPECT_EQ(0, memcmp(rx.area + m.offset, buf, sizeof(buf)));
	ep_close(&tx);
	ep_close(&rx);
}

/* ---- stress ---- */

#define STRESS_ID	1200
#define STRESS_SENDERS	4	/* two threads here, two processes */
#define STRESS_SECONDS	4
#define STRESS_MAX	(1024 * 1024)

struct stress {
	int stop;		/* 1: senders stop; 2: the receiver too */
	__u64 sent[STRESS_SENDERS];
	__u64 received[STRESS_SENDERS];
	__u64 bad;
	__u64 nospace;
};

struct stress_sender {
	struct stress *sh;
	int index;
	int fd;
	__u8 *area;
};

static int stress_stop(struct stress *sh)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);
}

/*
 * A message of at least 16 bytes starts with its sender, its sequence
 * number and the checksum of the rest; shorter ones carry a pattern only.
 */
static void stress_fill(__u8 *buf, size_t size, __u32 sender, __u32 seq)
{
	__u64 sum;

	fill(buf, size, sender * 65536 + seq);
	if (size < 16)
		return;
	sum = checksum(buf + 16, size - 16);
	memcpy(buf, &sender, 4);
	memcpy(buf + 4, &seq, 4);
	memcpy(buf + 8, &sum, 8);
}

static void *stress_send(void *arg)
{
	struct stress_sender *s = arg;
	struct bpr_message reply;
	unsigned int rnd = 12345 + s->index;
	__u8 *buf = malloc(STRESS_MAX);
	__u32 seq = 0;

	if (!buf)
		return NULL;
	while (!stress_stop(s->sh)) {
		size_t size = rand_r(&rnd) % 4 ? rand_r(&rnd) % 8192 :
			      rand_r(&rnd) % (STRESS_MAX + 1);
		int oneway = rand_r(&rnd) & 1, tries = 0;
		__u64 sum;

		stress_fill(buf, size, s->index, seq);
		sum = checksum(buf, size);
		while (send_msg(s->fd, STRESS_ID, buf, size,
				oneway ? BPR_SEND_ONEWAY : 0, &reply)) {
			if (errno != ENOSPC || ++tries > 10000) {
				__atomic_add_fetch(&s->sh->bad, 1,
						   __ATOMIC_RELAXED);
				goto out;
			}
			__atomic_add_fetch(&s->sh->nospace, 1,
					   __ATOMIC_RELAXED);
			usleep(200);
		}
		seq++;
		__atomic_add_fetch(&s->sh->sent[s->index], 1, __ATOMIC_RELAXED);
		if (oneway)
			continue;
		/* The receiver answers with the checksum it computed. */
		if (reply.size != 8 || memcmp(s->area + reply.offset, &sum, 8))
			__atomic_add_fetch(&s->sh->bad, 1, __ATOMIC_RELAXED);
		ioctl(s->fd, BPR_IOC_FREE, &reply.offset);
	}
out:
	free(buf);
	return NULL;
}

static void *stress_receive(void *arg)
{
	struct stress_sender *r = arg;
	struct stress *sh = r->sh;
	struct bpr_message m;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	__u8 *area = r->area;

	/* Per sender, the sequence number its next message must carry. */
	__u32 next[STRESS_SENDERS] = { 0 };

	for (;;) {
		__u32 sender = 0, seq = 0;
		__u64 sum, want;
		__u8 *data;

		if (poll(&p, 1, 100) == 0) {
			if (stress_stop(sh) == 2)
				break;
			continue;
		}
		if (ioctl(r->fd, BPR_IOC_RECEIVE, &m))
			continue;
		data = area + m.offset;
		sender = m.sender - STRESS_ID - 1;
		if (sender < STRESS_SENDERS) {
			__atomic_add_fetch(&sh->received[sender], 1,
					   __ATOMIC_RELAXED);
			seq = next[sender]++;
		} else {
			__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		}
		/*
		 * Exactly once and in order: a sender sends its next message
		 * once the last is queued, and the queue is FIFO. A lost or
		 * repeated message shifts every later one off its number.
		 */
		if (m.size >= 16) {
			memcpy(&want, data + 8, 8);
			if (memcmp(data, &sender, 4) ||
			    memcmp(data + 4, &seq, 4) ||
			    checksum(data + 16, m.size - 16) != want)
				__atomic_add_fetch(&sh->bad, 1,
						   __ATOMIC_RELAXED);
		} else if (!fill_ok(data, m.size, sender * 65536 + seq)) {
			__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		}
		sum = checksum(data, m.size);
		if (m.transaction) {
			struct bpr_write_read wr = {
				.flags = BPR_WR_FREE | BPR_WR_REPLY,
				.free_offset = m.offset,
				.reply = {
					.transaction = m.transaction,
					.data = (uintptr_t)&sum,
					.size = sizeof(sum),
				},
			};

			if (ioctl(r->fd, BPR_IOC_WRITE_READ, &wr))
				__atomic_add_fetch(&sh->bad, 1,
						   __ATOMIC_RELAXED);
		} else if (ioctl(r->fd, BPR_IOC_FREE, &m.offset)) {
			__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static int stress_open_sender(struct stress_sender *s, struct stress *sh,
			      int index)
{
	__u32 id = STRESS_ID + 1 + index;

	s->sh = sh;
	s->index = index;
	s->fd = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);
	if (s->fd < 0 || ioctl(s->fd, BPR_IOC_BIND, &id))
		return -1;
	s->area = mmap(NULL, 64 * 1024, PROT_READ, MAP_SHARED, s->fd, 0);
	return s->area == MAP_FAILED ? -1 : 0;
}

/*
 * Threads and processes send oneway and two-way messages of random sizes
 * (0 to 1 MiB) to one receiver for a bounded time; every message arrives
 * once, intact, and at the end every buffer and page is accounted for.
 */
TEST(stress)
{
	struct stress_sender senders[STRESS_SENDERS], rx;
	struct stress *sh;
	pthread_t rt, st[2];
	struct bpr_stats stt;
	__u32 id = STRESS_ID;
	pid_t pids[2];
	int i, status, waited;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	rx.sh = sh;
	rx.fd = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, rx.fd);
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_BIND, &id));
	/*
	 * Mapped before any sender starts: a message to a receiver without
	 * an area fails (ESRCH), which would count as a lost message.
	 */
	rx.area = mmap(NULL, BPR_AREA_MAX, PROT_READ, MAP_SHARED, rx.fd, 0);
	ASSERT_NE(MAP_FAILED, rx.area);
	ASSERT_EQ(0, pthread_create(&rt, NULL, stress_receive, &rx));

	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			if (stress_open_sender(&senders[i], sh, i))
				_exit(2);
			stress_send(&senders[i]);
			_exit(0);
		}
	}
	for (i = 2; i < STRESS_SENDERS; i++) {
		ASSERT_EQ(0, stress_open_sender(&senders[i], sh, i));
		ASSERT_EQ(0, pthread_create(&st[i - 2], NULL,
					    stress_send, &senders[i]));
	}

	sleep(STRESS_SECONDS);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		ASSERT_EQ(0, pthread_join(st[i], NULL));
	}
	/* Every sent message must arrive; give the receiver time to drain. */
	for (waited = 0; waited < 200; waited++) {
		__u64 s = 0, r = 0;

		for (i = 0; i < STRESS_SENDERS; i++) {
			s += sh->sent[i];
			r += sh->received[i];
		}
		if (s == r)
			break;
		usleep(50000);
	}
	__atomic_store_n(&sh->stop, 2, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(rt, NULL));

	EXPECT_EQ(0, sh->bad);
	for (i = 0; i < STRESS_SENDERS; i++) {
		EXPECT_LT(0, sh->sent[i]);
		EXPECT_EQ(sh->sent[i], sh->received[i]);
		TH_LOG("sender %d: %llu messages", i,
		       (unsigned long long)sh->sent[i]);
	}
	TH_LOG("%llu retries after ENOSPC", (unsigned long long)sh->nospace);
	ASSERT_EQ(0, get_stats(rx.fd, &stt));
	EXPECT_EQ(0, stt.messages_queued);
	EXPECT_EQ(0, stt.buffers_allocated);
	EXPECT_EQ(0, stt.pages_used);
	EXPECT_EQ(stt.pages_total * 4096, stt.free_space);
	for (i = 2; i < STRESS_SENDERS; i++)
		close(senders[i].fd);
	munmap(rx.area, BPR_AREA_MAX);
	close(rx.fd);
	munmap(sh, sizeof(*sh));
}

/*
 * The device's module cannot be unloaded while a file is open. Not the
 * library's: that one is held by the modules that use it, file or none.
 */
TEST(unload_refused_while_open)
{
	int fd = open(BPR_DEVICE, O_RDWR);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "binder_page_range_ipc",
			      O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
}

/* ---- real memory pressure ---- */

/* Filling memory under emulation takes a while: a longer timeout. */
FIXTURE(pressure) {
	int unused;
};

FIXTURE_SETUP(pressure)
{
}

FIXTURE_TEARDOWN(pressure)
{
}

/*
 * A process allocating anonymous memory (there is no swap) drives free
 * memory below the low watermark; kswapd reclaims and takes the idle
 * pages back. Traffic afterwards is intact.
 */
TEST_F_TIMEOUT(pressure, reclaim, 240)
{
	struct bpr_message m;
	struct bpr_stats st;
	struct ep rx, tx;
	__u8 buf[65536];
	int i, status, *done;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&rx, 1300, BPR_AREA_MAX));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	/* 1 MiB of messages, received and freed: their pages stay, idle. */
	for (i = 0; i < 16; i++) {
		fill(buf, sizeof(buf), i);
		ASSERT_EQ(0, send_msg(tx.fd, 1300, buf, sizeof(buf),
				      BPR_SEND_ONEWAY, NULL));
	}
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	}
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	ASSERT_LT(0, st.pages_available);

	done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, done);
	*done = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/*
		 * Fault memory in 1 MiB at a time until free memory is below
		 * the low watermark (about min_free_kbytes * 5 / 4), and hold
		 * it there, above the minimum, so the OOM killer stays away.
		 */
		long low = read_value("/proc/sys/vm/min_free_kbytes", "") * 5 / 4;

		while (!__atomic_load_n(done, __ATOMIC_ACQUIRE)) {
			if (read_value("/proc/meminfo", "MemFree:") < low) {
				usleep(10000);
				continue;
			}
			if (mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				 -1, 0) == MAP_FAILED)
				break;
		}
		_exit(0);
	}
	for (i = 0; i < 1800; i++) {
		ASSERT_EQ(0, get_stats(rx.fd, &st));
		if (!st.pages_available)
			break;
		usleep(100000);
	}
	__atomic_store_n(done, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("after %d.%d s of pressure: %llu pages idle, %llu free",
	       i / 10, i % 10, (unsigned long long)st.pages_available,
	       (unsigned long long)st.pages_free);
	EXPECT_EQ(0, st.pages_available);
	EXPECT_EQ(st.pages_total, st.pages_free);
	munmap(done, sizeof(*done));

	for (i = 0; i < 8; i++) {
		fill(buf, sizeof(buf), 1000 + i);
		ASSERT_EQ(0, send_msg(tx.fd, 1300, buf, sizeof(buf),
				      BPR_SEND_ONEWAY, NULL));
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
		EXPECT_EQ(0, memcmp(rx.area + m.offset, buf, sizeof(buf)));
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	}
	ep_close(&tx);
	ep_close(&rx);
}

TEST_HARNESS_MAIN
