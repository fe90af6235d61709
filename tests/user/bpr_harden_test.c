// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace tests of the hardening of /dev/binder_page_range (ABI v2), one
 * or a few per item of Documentation/uapi.rst's security model, with the
 * kernel's kselftest harness. Run as root, with the device module
 * (binder_page_range_ipc.ko) and the two it needs loaded.
 *
 * Each test asserts what userspace can observe: exact errnos, the bytes
 * read through the mapping, exact BPR_IOC_STATS and debugfs counts. Helper
 * processes die with the test process (fork_helper()) and are reaped with
 * a bound, so that a failure never leaves the module busy.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "bpr_util.h"
#include <linux/android/binder_page_range.h>

#define PAGE	4096
#define SMALL	(64 * 1024)

/* The helper threads' join, bounded. 0, or an errno (ETIMEDOUT). */
static int join_ms(pthread_t t, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(t, NULL, &ts);
}

/* A BPR_IOC_TRANSACT in a thread of its own, for the caller to serve. */
struct transact_call {
	int fd;
	struct bpr_transaction *tr;
	int ret;
	int err;
};

static void *transact_thread(void *arg)
{
	struct transact_call *c = arg;

	c->ret = ioctl(c->fd, BPR_IOC_TRANSACT, c->tr);
	c->err = errno;
	return NULL;
}

/* Receive the next message within 10 s: 0, or -1. */
static int receive_within(int fd, struct bpr_message *m)
{
	if (!wait_readable(fd, 10000))
		return -1;
	return ioctl(fd, BPR_IOC_RECEIVE, m);
}

static int reply_bytes(int fd, __u64 txn, const void *data, size_t size)
{
	struct bpr_reply rp = {
		.transaction = txn,
		.data = (uintptr_t)data,
		.size = size,
	};

	return ioctl(fd, BPR_IOC_REPLY, &rp);
}

/* ---- 1. a reply is the caller's only once the call has returned ---- */

/* Serves the faults of the page of the transaction's reply. */
struct uffd_handler {
	int uffd;
	int fd;			/* the client's file */
	int stop;
	int faults;
	int write_faults;
	int free_ret;		/* BPR_IOC_FREE of the reply during copy-out */
	int free_err;
	int stats_ret;
	struct bpr_stats stats;	/* the client's, during the copy-out */
};

static void *uffd_thread(void *arg)
{
	struct uffd_handler *h = arg;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = h->uffd, .events = POLLIN };
		struct uffdio_zeropage zp = { 0 };
		struct uffd_msg msg;

		if (poll(&p, 1, 50) != 1)
			continue;
		if (read(h->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) {
			__u64 off = 0;

			/*
			 * The kernel writes the call's result back: the reply
			 * is in the area, but not yet ours to free.
			 */
			h->free_ret = ioctl(h->fd, BPR_IOC_FREE, &off);
			h->free_err = errno;
			h->stats_ret = get_stats(h->fd, &h->stats);
			h->write_faults++;
		}
		h->faults++;
		zp.range.start = msg.arg.pagefault.address & ~(__u64)(PAGE - 1);
		zp.range.len = PAGE;
		if (ioctl(h->uffd, UFFDIO_ZEROPAGE, &zp) && errno == EEXIST)
			ioctl(h->uffd, UFFDIO_WAKE, &zp.range);
	}
	return NULL;
}

/*
 * The client's struct bpr_transaction straddles a page boundary: .send on
 * a present page, .reply on a page registered with userfaultfd. The fault
 * of the final copy-out stops the client there, with the reply in its area;
 * freeing it then must fail (before the fix it succeeded, and the copy-out
 * then described a freed buffer: a use after free for userspace).
 */
TEST(reply_not_freeable_before_return)
{
	struct uffd_handler h = { .free_ret = -2 };
	struct uffdio_register reg = { 0 };
	struct uffdio_api api = { .api = UFFD_API };
	struct transact_call call = { .ret = -2 };
	struct bpr_transaction *tr;
	struct bpr_message m;
	pthread_t ht, ct;
	struct ep srv, cl;
	__u8 *mem;
	__u64 off;

	/*
	 * Not UFFD_USER_MODE_ONLY: such a userfaultfd leaves faults in
	 * kernel mode, copy_to_user() here, unhandled, and the copy-out
	 * would simply fail with EFAULT. Root may handle kernel faults.
	 */
	h.uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (h.uffd < 0)
		SKIP(return, "no userfaultfd for kernel faults: %s",
		     strerror(errno));
	ASSERT_EQ(0, ioctl(h.uffd, UFFDIO_API, &api));

	ASSERT_EQ(0, ep_open(&srv, 2001, SMALL));
	ASSERT_EQ(0, ep_open(&cl, 0, SMALL));
	h.fd = cl.fd;

	mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0, PAGE);
	reg.range.start = (uintptr_t)mem + PAGE;
	reg.range.len = PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(h.uffd, UFFDIO_REGISTER, &reg));

	tr = (void *)(mem + PAGE - offsetof(struct bpr_transaction, reply));
	tr->send.target = 2001;
	tr->send.data = (uintptr_t)"request";
	tr->send.size = 8;
	tr->done = 0;
	tr->reserved = 0;
	call.fd = cl.fd;
	call.tr = tr;

	ASSERT_EQ(0, pthread_create(&ht, NULL, uffd_thread, &h));
	ASSERT_EQ(0, pthread_create(&ct, NULL, transact_thread, &call));
	ASSERT_EQ(0, receive_within(srv.fd, &m));
	EXPECT_EQ(8, m.size);
	EXPECT_EQ(0, memcmp(srv.area + m.offset, "request", 8));
	/*
	 * The call read the whole structure in, which may have faulted the
	 * page in (as the zero page): drop it, so that the copy-out faults.
	 */
	ASSERT_EQ(0, madvise(mem + PAGE, PAGE, MADV_DONTNEED));
	ASSERT_EQ(0, reply_bytes(srv.fd, m.transaction, "answer!", 8));
	ASSERT_EQ(0, join_ms(ct, 10000));
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, join_ms(ht, 5000));

	ASSERT_EQ(1, h.write_faults);
	EXPECT_EQ(-1, h.free_ret);
	EXPECT_EQ(EINVAL, h.free_err);
	/* In the area, not freed, not yet handed over. */
	EXPECT_EQ(0, h.stats_ret);
	EXPECT_EQ(1, h.stats.buffers_allocated);

	EXPECT_EQ(0, call.ret);
	EXPECT_EQ(0, tr->done);
	EXPECT_EQ(0, tr->reply.offset);
	EXPECT_EQ(8, tr->reply.size);
	EXPECT_EQ(BPR_MSG_REPLY, tr->reply.flags);
	EXPECT_EQ(0, memcmp(cl.area + tr->reply.offset, "answer!", 8));
	/* Now it is ours: freed exactly once. */
	off = tr->reply.offset;
	EXPECT_EQ(0, ioctl(cl.fd, BPR_IOC_FREE, &off));
	EXPECT_EQ(-1, ioctl(cl.fd, BPR_IOC_FREE, &off));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(srv.fd, BPR_IOC_FREE, &m.offset));

	munmap(mem, 2 * PAGE);
	close(h.uffd);
	ep_close(&cl);
	ep_close(&srv);
}

/*
 * A reply whose description cannot be written back (the structure is
 * read-only) fails with EFAULT, and the kernel frees that reply itself:
 * nobody could. Other buffers of the caller are not touched.
 */
TEST(reply_freed_when_copy_out_fails)
{
	struct transact_call call = { .ret = -2 };
	struct bpr_stats before, after;
	struct bpr_transaction *tr;
	struct bpr_message m, keep;
	struct ep srv, cl;
	pthread_t ct;
	void *mem;

	ASSERT_EQ(0, ep_open(&srv, 2002, SMALL));
	ASSERT_EQ(0, ep_open(&cl, 2003, SMALL));
	/* An unrelated buffer the client received and keeps. */
	ASSERT_EQ(0, send_msg(srv.fd, 2003, "keep-me", 8, BPR_SEND_ONEWAY,
			      NULL));
	ASSERT_EQ(0, ioctl(cl.fd, BPR_IOC_RECEIVE, &keep));
	ASSERT_EQ(0, get_stats(cl.fd, &before));
	ASSERT_EQ(1, before.buffers_allocated);

	mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	tr = mem;
	memset(tr, 0, sizeof(*tr));
	tr->send.target = 2002;
	tr->send.data = (uintptr_t)"ro-req";
	tr->send.size = 7;
	ASSERT_EQ(0, mprotect(mem, PAGE, PROT_READ));
	call.fd = cl.fd;
	call.tr = tr;

	ASSERT_EQ(0, pthread_create(&ct, NULL, transact_thread, &call));
	ASSERT_EQ(0, receive_within(srv.fd, &m));
	EXPECT_EQ(0, memcmp(srv.area + m.offset, "ro-req", 7));
	/* Delivered: the failure is the client's. */
	EXPECT_EQ(0, reply_bytes(srv.fd, m.transaction, "reply", 6));
	ASSERT_EQ(0, join_ms(ct, 10000));
	EXPECT_EQ(-1, call.ret);
	EXPECT_EQ(EFAULT, call.err);

	/* The reply is gone, by pointer; the kept buffer is intact. */
	ASSERT_EQ(0, get_stats(cl.fd, &after));
	EXPECT_EQ(1, after.buffers_allocated);
	EXPECT_EQ(before.free_space, after.free_space);
	EXPECT_EQ(before.pages_used, after.pages_used);
	EXPECT_EQ(0, after.messages_queued);
	EXPECT_EQ(0, memcmp(cl.area + keep.offset, "keep-me", 8));
	EXPECT_EQ(0, ioctl(cl.fd, BPR_IOC_FREE, &keep.offset));
	ASSERT_EQ(0, get_stats(cl.fd, &after));
	EXPECT_EQ(0, after.buffers_allocated);
	EXPECT_EQ(SMALL, after.free_space);
	EXPECT_EQ(0, ioctl(srv.fd, BPR_IOC_FREE, &m.offset));

	munmap(mem, PAGE);
	ep_close(&cl);
	ep_close(&srv);
}

/* A blocking BPR_IOC_RECEIVE in a thread of its own. */
struct receive_call {
	int fd;
	struct bpr_message *m;
	int ret;
	int err;
	int done;
};

static void *receive_thread(void *arg)
{
	struct receive_call *c = arg;

	c->ret = ioctl(c->fd, BPR_IOC_RECEIVE, c->m);
	c->err = errno;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A message put back on the queue because its description could not be
 * written wakes the receivers. A takes the message and stops in its
 * copy-out (a userfaultfd page left unresolved); B then finds the queue
 * empty and sleeps. A's page goes away, its copy-out fails, the message
 * goes back to the queue: B must get it. Before the fix, B slept on until
 * the next message or close().
 */
TEST(requeue_wakes_receiver)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct receive_call a = { .ret = -2 }, b = { .ret = -2 };
	struct bpr_message mb = { 0 };
	struct pollfd p;
	struct ep rx, tx;
	pthread_t at, bt;
	struct uffd_msg msg;
	int uffd;
	__u8 *mem;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "no userfaultfd for kernel faults: %s",
		     strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	reg.range.start = (uintptr_t)mem;
	reg.range.len = PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, ep_open(&rx, 2950, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	a.fd = rx.fd;
	a.m = (struct bpr_message *)mem;
	ASSERT_EQ(0, pthread_create(&at, NULL, receive_thread, &a));
	usleep(200000);
	ASSERT_EQ(0, send_msg(tx.fd, 2950, "again", 6, BPR_SEND_ONEWAY, NULL));

	/* A holds the message, stopped in its copy-out. */
	p = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 10000));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	b.fd = rx.fd;
	b.m = &mb;
	ASSERT_EQ(0, pthread_create(&bt, NULL, receive_thread, &b));
	usleep(300000);
	/* B sleeps: the queue is empty. */
	ASSERT_EQ(0, __atomic_load_n(&b.done, __ATOMIC_ACQUIRE));

	/* A's copy-out fails: the page is gone, the fault retried. */
	ASSERT_EQ(0, munmap(mem, PAGE));
	close(uffd);
	ASSERT_EQ(0, join_ms(at, 10000));
	EXPECT_EQ(-1, a.ret);
	EXPECT_EQ(EFAULT, a.err);

	if (join_ms(bt, 5000)) {
		/* Not woken: the close wakes it, for the test to end. */
		ep_close(&rx);
		ASSERT_EQ(0, join_ms(bt, 10000));
		ep_close(&tx);
		ASSERT_TRUE(0) TH_LOG("the requeued message woke nobody");
	}
	EXPECT_EQ(0, b.ret);
	EXPECT_EQ(6, mb.size);
	EXPECT_EQ(0, memcmp(rx.area + mb.offset, "again", 6));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &mb.offset));
	ep_close(&tx);
	ep_close(&rx);
}

/* ---- 10. STATS: exact counts after a known sequence ---- */

/* Bytes a buffer of @size takes: a multiple of 8, at least 8. */
static size_t footprint(size_t size)
{
	return size ? (size + 7) & ~(size_t)7 : 8;
}

/* The pages under the buffers [@off[i], @off[i] + footprint(@size[i])). */
static __u64 pages_under(const __u64 *off, const size_t *size, int n)
{
	__u8 used[SMALL / PAGE] = { 0 };
	__u64 count = 0;
	int i, p;

	for (i = 0; i < n; i++) {
		if (off[i] == (__u64)-1)
			continue;
		for (p = off[i] / PAGE;
		     p <= (off[i] + footprint(size[i]) - 1) / PAGE; p++)
			used[p] = 1;
	}
	for (p = 0; p < SMALL / PAGE; p++)
		count += used[p];
	return count;
}

static void check_stats(struct __test_metadata *_metadata, int fd,
			__u64 buffers, __u64 used_bytes, __u64 async_bytes,
			__u64 queued, __u64 pending, __u64 pages_used,
			__u64 pages_idle)
{
	struct bpr_stats st;

	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, get_stats(fd, &st));
	EXPECT_EQ(SMALL / PAGE, st.pages_total);
	EXPECT_EQ(pages_used, st.pages_used);
	EXPECT_EQ(pages_idle, st.pages_available);
	EXPECT_EQ(st.pages_total, st.pages_used + st.pages_available +
				  st.pages_free);
	EXPECT_EQ(buffers, st.buffers_allocated);
	EXPECT_EQ(SMALL - used_bytes, st.free_space);
	EXPECT_EQ(SMALL / 2 - async_bytes, st.free_async_space);
	EXPECT_EQ(queued, st.messages_queued);
	EXPECT_EQ(pending, st.transactions_pending);
	EXPECT_EQ(0, st.reserved[0]);
	EXPECT_EQ(0, st.reserved[1]);
	EXPECT_EQ(0, st.reserved[2]);
}

TEST(stats_o1)
{
	size_t size[3] = { 100, 5000, 1 };
	__u64 off[3] = { -1, -1, -1 };
	__u8 buf[5000];
	struct bpr_message m;
	struct ep rx, tx;
	__u64 idle;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&rx, 2900, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	check_stats(_metadata, rx.fd, 0, 0, 0, 0, 0, 0, 0);

	/* Two oneway messages, queued: their space comes from the async half. */
	fill(buf, sizeof(buf), 1);
	ASSERT_EQ(0, send_msg(tx.fd, 2900, buf, size[0], BPR_SEND_ONEWAY,
			      NULL));
	ASSERT_EQ(0, send_msg(tx.fd, 2900, buf, size[1], BPR_SEND_ONEWAY,
			      NULL));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	ASSERT_EQ(size[0], m.size);
	off[0] = m.offset;
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	ASSERT_EQ(size[1], m.size);
	off[1] = m.offset;
	check_stats(_metadata, rx.fd, 2, 104 + 5000, 104 + 5000, 0, 0,
		    pages_under(off, size, 2), 0);

	/* A queued one counts like a received one, until freed. */
	ASSERT_EQ(0, send_msg(tx.fd, 2900, buf, 8, BPR_SEND_ONEWAY, NULL));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	ASSERT_EQ(0, send_msg(tx.fd, 2900, buf, 8, BPR_SEND_ONEWAY, NULL));
	/* Freed space is reused: the same place again. */
	off[2] = m.offset;
	size[2] = 8;
	check_stats(_metadata, rx.fd, 3, 104 + 5000 + 8, 104 + 5000 + 8, 1,
		    0, pages_under(off, size, 3), 0);
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	EXPECT_EQ(off[2], m.offset);
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	off[2] = -1;
	size[2] = 1;

	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &off[0]));
	off[0] = -1;
	check_stats(_metadata, rx.fd, 1, 5000, 5000, 0, 0,
		    pages_under(off, size, 2), 0);

	/* A two-way message: not from the async half; pending until replied. */
	pid = fork_client(2900, "ok");
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, receive_within(rx.fd, &m));
	ASSERT_NE(0, m.transaction);
	off[2] = m.offset;
	check_stats(_metadata, rx.fd, 2, 5000 + 8, 5000, 0, 1,
		    pages_under(off, size, 3), 0);
	ASSERT_EQ(0, reply_bytes(rx.fd, m.transaction, "ok", 2));
	EXPECT_EQ(0, reap(pid, 10000));
	check_stats(_metadata, rx.fd, 2, 5000 + 8, 5000, 0, 0,
		    pages_under(off, size, 3), 0);

	/* All freed: the pages stay, idle, for reuse until reclaimed. */
	idle = pages_under(off, size, 3);
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &off[1]));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &off[2]));
	check_stats(_metadata, rx.fd, 0, 0, 0, 0, 0, 0, idle);
	ep_close(&tx);
	ep_close(&rx);
}

/* ---- 2. a dead sender's area is freed at once ---- */

#define DEAD_RX		2100
#define DEAD_AREA	(4 * 1024 * 1024)
#define DEAD_BIG	(1024 * 1024)

/*
 * A sender with ~256 pages of its own area in use (a 1 MiB message it
 * sent itself and received), waiting for the reply of a two-way message
 * to DEAD_RX, until it is killed.
 */
static pid_t fork_dead_sender(__u32 id)
{
	struct bpr_message m, reply;
	struct ep ep;
	__u8 *big;
	pid_t pid = fork_helper();

	if (pid)
		return pid;
	big = malloc(DEAD_BIG);
	if (!big || ep_open(&ep, id, DEAD_AREA))
		_exit(2);
	fill(big, DEAD_BIG, id);
	if (send_msg(ep.fd, id, big, DEAD_BIG, BPR_SEND_ONEWAY, NULL) ||
	    ioctl(ep.fd, BPR_IOC_RECEIVE, &m) || m.size != DEAD_BIG ||
	    !fill_ok(ep.area + m.offset, DEAD_BIG, id))
		_exit(3);
	send_msg(ep.fd, DEAD_RX, "dead", 4, 0, &reply);
	_exit(4);
}

/* Wait up to @ms for @fd to have @n messages queued. */
static int wait_queued(int fd, __u64 n, int ms)
{
	long long end = now_ms() + ms;
	struct bpr_stats st;

	while (!get_stats(fd, &st) && st.messages_queued != n) {
		if (now_ms() > end)
			return -1;
		usleep(10000);
	}
	return st.messages_queued == n ? 0 : -1;
}

static void check_dead_senders(struct __test_metadata *_metadata, int n)
{
	struct bpr_live live;
	struct bpr_stats st;
	struct bpr_message m;
	pid_t pids[8];
	long long end;
	struct ep rx;
	__u64 rx_pages;
	int i;

	ASSERT_EQ(0, wait_live_zero(&live, 5000));
	ASSERT_EQ(0, ep_open(&rx, DEAD_RX, SMALL));
	for (i = 0; i < n; i++) {
		pids[i] = fork_dead_sender(DEAD_RX + 1 + i);
		ASSERT_LT(0, pids[i]);
	}
	/* Every sender waits for its reply: its message is queued. */
	ASSERT_EQ(0, wait_queued(rx.fd, n, 15000));
	ASSERT_EQ(0, read_live(&live));
	EXPECT_EQ(1 + n, live.areas);
	EXPECT_EQ(n, live.transactions);
	EXPECT_LE(1 + n * (DEAD_BIG / PAGE), live.pages);

	for (i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		EXPECT_EQ(256 + SIGKILL, reap(pids[i], 5000));
	}
	/*
	 * The senders' areas go although their transactions are pending:
	 * only the receiver's area and its pages remain.
	 */
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	rx_pages = st.pages_used + st.pages_available;
	end = now_ms() + 5000;
	while (!read_live(&live) &&
	       (live.areas != 1 || live.pages != rx_pages) && now_ms() < end)
		usleep(20000);
	EXPECT_EQ(1, live.areas);
	EXPECT_EQ(rx_pages, live.pages);
	EXPECT_EQ(n, live.buffers);
	/* The receiver still holds the transactions and messages. */
	EXPECT_EQ(n, live.transactions);
	EXPECT_EQ(n, live.messages);

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
		EXPECT_NE(0, m.transaction);
		EXPECT_EQ(0, memcmp(rx.area + m.offset, "dead", 4));
		EXPECT_EQ(-1, reply_bytes(rx.fd, m.transaction, "late", 4));
		EXPECT_EQ(ECONNRESET, errno);
		EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	}
	ASSERT_EQ(0, read_live(&live));
	EXPECT_EQ(0, live.transactions);
	EXPECT_EQ(0, live.messages);
	EXPECT_EQ(0, live.buffers);
	ep_close(&rx);
	EXPECT_EQ(0, wait_live_zero(&live, 5000));
	TH_LOG("left: %lld %lld %lld %lld %lld %lld", live.procs, live.areas,
	       live.transactions, live.messages, live.buffers, live.pages);
}

TEST(dead_sender_area_freed)
{
	check_dead_senders(_metadata, 1);
}

/* Eight at once, twice: nothing accumulates. */
TEST(dead_senders_parallel)
{
	check_dead_senders(_metadata, 8);
	check_dead_senders(_metadata, 8);
}

/* ---- 5. identity: who sent, who replied, who may bind ---- */

/* A child as uid 1001 that answers one two-way message to @id with "id". */
static pid_t fork_uid_server(__u32 id, int ready)
{
	struct bpr_message m;
	pid_t parent = getpid(), pid = fork();
	struct ep ep;

	if (pid)
		return pid;
	if (setgid(1001) || setuid(1001))
		_exit(2);
	die_with_parent(parent);
	if (ep_open(&ep, id, SMALL) || write(ready, "r", 1) != 1)
		_exit(3);
	if (ioctl(ep.fd, BPR_IOC_RECEIVE, &m) || !m.transaction)
		_exit(4);
	/* The parent, root, in our pid namespace. */
	if (m.sender_pid != parent || m.sender_euid != 0)
		_exit(5);
	if (reply_bytes(ep.fd, m.transaction, "id", 2))
		_exit(6);
	_exit(0);
}

TEST(identity)
{
	struct bpr_message m, reply;
	struct ep rx, cl;
	int p[2];
	__u32 id;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&rx, 2400, SMALL));

	/* A client as uid 1001: the kernel, not the sender, says who. */
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		pid_t parent = getppid();

		if (setgid(1001) || setuid(1001))
			_exit(2);
		die_with_parent(parent);
		if (ep_open(&cl, 0, SMALL) ||
		    send_msg(cl.fd, 2400, "who", 3, 0, &reply))
			_exit(3);
		/* The reply says who replied. */
		if (reply.sender_pid != parent || reply.sender_euid != 0 ||
		    reply.sender != 2400)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(0, receive_within(rx.fd, &m));
	EXPECT_EQ(pid, m.sender_pid);
	EXPECT_EQ(1001, m.sender_euid);
	EXPECT_EQ(0, m.sender);
	EXPECT_EQ(0, reply_bytes(rx.fd, m.transaction, "me", 2));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	EXPECT_EQ(0, reap(pid, 10000));

	/* A replier as uid 1001. */
	ASSERT_EQ(0, pipe(p));
	pid = fork_uid_server(2401, p[1]);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_byte(p[0], 10000));
	ASSERT_EQ(0, send_msg(rx.fd, 2401, "who", 3, 0, &reply));
	EXPECT_EQ(pid, reply.sender_pid);
	EXPECT_EQ(1001, reply.sender_euid);
	EXPECT_EQ(2401, reply.sender);
	EXPECT_EQ(BPR_MSG_REPLY, reply.flags);
	EXPECT_EQ(0, memcmp(rx.area + reply.offset, "id", 2));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &reply.offset));
	EXPECT_EQ(0, reap(pid, 10000));

	/*
	 * A receiver in a new pid namespace, pid 1 there: we are not
	 * visible to it, while its own messages carry its pid there.
	 */
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		pid_t child;

		if (unshare(CLONE_NEWPID))
			_exit(2);
		/* Not fork_helper(): our pid is not visible to the child. */
		child = fork();
		if (child < 0)
			_exit(3);
		if (!child) {
			struct ep ns;

			if (prctl(PR_SET_PDEATHSIG, SIGKILL) ||
			    getpid() != 1 || ep_open(&ns, 2402, SMALL) ||
			    write(p[1], "r", 1) != 1)
				_exit(4);
			if (ioctl(ns.fd, BPR_IOC_RECEIVE, &m))
				_exit(5);
			if (m.sender_pid != 0 || m.sender_euid != 0)
				_exit(6);
			if (send_msg(ns.fd, 2402, "self", 4, BPR_SEND_ONEWAY,
				     NULL) ||
			    ioctl(ns.fd, BPR_IOC_RECEIVE, &m) ||
			    m.sender_pid != 1)
				_exit(7);
			_exit(0);
		}
		_exit(reap(child, 15000));
	}
	ASSERT_EQ(0, wait_byte(p[0], 10000));
	ASSERT_EQ(0, send_msg(rx.fd, 2402, "hi", 2, BPR_SEND_ONEWAY, NULL));
	EXPECT_EQ(0, reap(pid, 15000));

	/* A receiver in a new user namespace where uid 0 is not mapped. */
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct ep ns;

		if (unshare(CLONE_NEWUSER))
			_exit(2);
		if (ep_open(&ns, 2403, SMALL) || write(p[1], "r", 1) != 1)
			_exit(3);
		if (ioctl(ns.fd, BPR_IOC_RECEIVE, &m))
			_exit(4);
		if (m.sender_euid != 65534 || m.sender_pid != getppid())
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(0, wait_byte(p[0], 10000));
	ASSERT_EQ(0, send_msg(rx.fd, 2403, "hi", 2, BPR_SEND_ONEWAY, NULL));
	EXPECT_EQ(0, reap(pid, 10000));

	/* Reserved ids need CAP_IPC_OWNER; others are for anyone. */
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		int a, b, ret;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		a = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);
		b = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);
		if (a < 0 || b < 0)
			_exit(3);
		id = 5;
		ret = ioctl(a, BPR_IOC_BIND, &id);
		if (ret != -1 || errno != EPERM)
			_exit(4);
		id = 5000;
		ret = ioctl(b, BPR_IOC_BIND, &id);
		if (ret)
			_exit(5);
		_exit(0);
	}
	EXPECT_EQ(0, reap(pid, 10000));
	ASSERT_EQ(0, ep_open(&cl, 0, 0));
	id = 5;
	EXPECT_EQ(0, ioctl(cl.fd, BPR_IOC_BIND, &id));
	ep_close(&cl);
	close(p[0]);
	close(p[1]);
	ep_close(&rx);
}

/* ---- 6. the reply wait is restartable ---- */

#define RESTART_SRV	2500

/* Handlers run: atomics, as the handler interrupts the ioctl's caller. */
static int restart_signals;

static void count_signal(int sig)
{
	__atomic_add_fetch(&restart_signals, 1, __ATOMIC_RELAXED);
}

/* Process state letter from /proc/@pid/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static int wait_state(pid_t pid, char state, int ms)
{
	long long end = now_ms() + ms;

	while (proc_state(pid) != state) {
		if (now_ms() > end)
			return -1;
		usleep(5000);
	}
	return 0;
}

enum restart_mode {
	RESTART_SA,		/* SA_RESTART handler: transparent */
	RESTART_EINTR,		/* no SA_RESTART: EINTR, call again */
	RESTART_WR_EINTR,	/* the same with BPR_IOC_WRITE_READ */
};

/*
 * A client that sends "req" two-way and checks that the reply is "rep",
 * however the signals that come meanwhile interrupt it. Exits 0 if so.
 */
static pid_t fork_restart_client(enum restart_mode mode)
{
	struct sigaction sa = { .sa_handler = count_signal };
	struct bpr_transaction tr = { 0 };
	struct bpr_write_read wr = { 0 };
	struct bpr_message *reply;
	int ret, eintr = 0;
	struct ep cl;
	pid_t pid = fork_helper();

	if (pid)
		return pid;
	if (mode == RESTART_SA)
		sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL) || ep_open(&cl, 0, SMALL))
		_exit(2);
	if (mode == RESTART_WR_EINTR) {
		wr.flags = BPR_WR_SEND;
		wr.send.target = RESTART_SRV;
		wr.send.data = (uintptr_t)"req";
		wr.send.size = 4;
		while ((ret = ioctl(cl.fd, BPR_IOC_WRITE_READ, &wr)) &&
		       errno == EINTR) {
			/* Sent, waiting: call again with the same structure. */
			if (wr.done != BPR_WR_SENT)
				_exit(3);
			eintr++;
		}
		if (ret || wr.write_status || !(wr.done & BPR_WR_SEND) ||
		    !(wr.done & BPR_WR_SENT))
			_exit(4);
		reply = &wr.message;
	} else {
		tr.send.target = RESTART_SRV;
		tr.send.data = (uintptr_t)"req";
		tr.send.size = 4;
		while ((ret = ioctl(cl.fd, BPR_IOC_TRANSACT, &tr)) &&
		       errno == EINTR) {
			if (tr.done != BPR_WR_SENT)
				_exit(3);
			eintr++;
		}
		/* A completed call leaves 0, ready for the next one. */
		if (ret || tr.done)
			_exit(4);
		reply = &tr.reply;
	}
	if (reply->size != 4 || memcmp(cl.area + reply->offset, "rep", 4))
		_exit(5);
	if (__atomic_load_n(&restart_signals, __ATOMIC_RELAXED) != 3)
		_exit(6);
	/* With SA_RESTART, never seen; without, at least once. */
	if (mode == RESTART_SA ? eintr != 0 : eintr == 0)
		_exit(7);
	_exit(0);
}

static void check_restart(struct __test_metadata *_metadata, struct ep *srv,
			  enum restart_mode mode)
{
	struct bpr_message m, again;
	struct bpr_stats st;
	pid_t pid;
	int i;

	pid = fork_restart_client(mode);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, receive_within(srv->fd, &m));
	ASSERT_NE(0, m.transaction);
	/* The client waits for the reply now: interrupt it. */
	for (i = 0; i < 3; i++) {
		usleep(100000);
		ASSERT_EQ(0, kill(pid, SIGUSR1));
	}
	usleep(100000);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	EXPECT_EQ(0, wait_state(pid, 'T', 5000));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	usleep(100000);
	/* Exactly one request: nothing sent again. */
	ASSERT_EQ(0, get_stats(srv->fd, &st));
	EXPECT_EQ(0, st.messages_queued);
	EXPECT_EQ(1, st.transactions_pending);
	EXPECT_EQ(-1, ioctl(srv->fd, BPR_IOC_RECEIVE, &again));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, reply_bytes(srv->fd, m.transaction, "rep", 4));
	EXPECT_EQ(0, ioctl(srv->fd, BPR_IOC_FREE, &m.offset));
	EXPECT_EQ(0, reap(pid, 10000));
}

TEST(restart)
{
	struct ep srv;

	ASSERT_EQ(0, ep_open(&srv, RESTART_SRV, SMALL));
	ASSERT_EQ(0, fcntl(srv.fd, F_SETFL, O_NONBLOCK));
	check_restart(_metadata, &srv, RESTART_SA);
	check_restart(_metadata, &srv, RESTART_EINTR);
	check_restart(_metadata, &srv, RESTART_WR_EINTR);
	ep_close(&srv);
}

/*
 * After EINTR, a new call (done 0) gives the old transaction up, but only
 * once that new send starts: until then the old one may still be resumed.
 */
TEST(restart_abandon)
{
	struct sigaction sa = { .sa_handler = count_signal };
	struct bpr_transaction tr = { 0 };
	struct bpr_message m1, m2;
	int to_parent[2], to_child[2];
	struct ep srv, cl;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&srv, RESTART_SRV + 1, SMALL));
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct bpr_message reply;
		int ret;

		if (sigaction(SIGUSR1, &sa, NULL) || ep_open(&cl, 0, SMALL))
			_exit(2);
		tr.send.target = RESTART_SRV + 1;
		tr.send.data = (uintptr_t)"old";
		tr.send.size = 4;
		ret = ioctl(cl.fd, BPR_IOC_TRANSACT, &tr);
		if (ret != -1 || errno != EINTR || tr.done != BPR_WR_SENT)
			_exit(3);
		if (write(to_parent[1], "i", 1) != 1 ||
		    wait_byte(to_child[0], 10000))
			_exit(4);
		/* A new transaction: the old one is given up. */
		if (send_msg(cl.fd, RESTART_SRV + 1, "new", 4, 0, &reply))
			_exit(5);
		if (reply.size != 4 || memcmp(cl.area + reply.offset, "rnw", 4))
			_exit(6);
		/* Nothing left to resume. */
		tr.done = BPR_WR_SENT;
		ret = ioctl(cl.fd, BPR_IOC_TRANSACT, &tr);
		if (ret != -1 || errno != EINVAL)
			_exit(7);
		_exit(0);
	}
	ASSERT_EQ(0, receive_within(srv.fd, &m1));
	usleep(100000);
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_byte(to_parent[0], 10000));
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	/* The new send has started once its message is here. */
	ASSERT_EQ(0, receive_within(srv.fd, &m2));
	EXPECT_EQ(0, memcmp(srv.area + m2.offset, "new", 4));
	EXPECT_EQ(-1, reply_bytes(srv.fd, m1.transaction, "rld", 4));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, reply_bytes(srv.fd, m2.transaction, "rnw", 4));
	EXPECT_EQ(0, reap(pid, 10000));

	/* done = BPR_WR_SENT with nothing to resume, from a fresh thread. */
	ASSERT_EQ(0, ep_open(&cl, 0, SMALL));
	tr.send.target = RESTART_SRV + 1;
	tr.send.data = (uintptr_t)"x";
	tr.send.size = 1;
	tr.done = BPR_WR_SENT;
	EXPECT_EQ(-1, ioctl(cl.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(EINVAL, errno);
	ep_close(&cl);
	ep_close(&srv);
}

/* ---- 7. a WRITE_READ server carries on after a dead client ---- */

TEST(write_read_server)
{
	struct bpr_write_read wr = { 0 };
	struct bpr_transaction tr = { 0 };
	struct bpr_message m1, m2;
	struct bpr_stats st;
	struct ep srv, cl;
	pid_t dead, next;

	ASSERT_EQ(0, ep_open(&srv, 2600, SMALL));
	dead = fork_client(2600, NULL);
	ASSERT_LT(0, dead);
	ASSERT_EQ(0, receive_within(srv.fd, &m1));
	kill(dead, SIGKILL);
	EXPECT_EQ(256 + SIGKILL, reap(dead, 5000));
	next = fork_client(2600, "ok");
	ASSERT_LT(0, next);

	/* Reply to the dead one, receive the next one, in one call. */
	wr.flags = BPR_WR_REPLY | BPR_WR_RECEIVE;
	wr.done = 0;
	wr.reply.transaction = m1.transaction;
	wr.reply.data = (uintptr_t)"xx";
	wr.reply.size = 2;
	ASSERT_EQ(0, ioctl(srv.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(-ECONNRESET, wr.write_status);
	EXPECT_EQ(BPR_WR_REPLY | BPR_WR_RECEIVE, wr.done);
	m2 = wr.message;
	EXPECT_EQ(next, m2.sender_pid);
	EXPECT_NE(0, m2.transaction);
	EXPECT_EQ(1, m2.size);
	EXPECT_EQ('q', srv.area[m2.offset]);

	memset(&wr, 0, sizeof(wr));
	wr.flags = BPR_WR_FREE | BPR_WR_REPLY;
	wr.free_offset = m1.offset;
	wr.reply.transaction = m2.transaction;
	wr.reply.data = (uintptr_t)"ok";
	wr.reply.size = 2;
	ASSERT_EQ(0, ioctl(srv.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(0, wr.write_status);
	EXPECT_EQ(BPR_WR_FREE | BPR_WR_REPLY, wr.done);
	EXPECT_EQ(0, reap(next, 10000));
	EXPECT_EQ(0, ioctl(srv.fd, BPR_IOC_FREE, &m2.offset));

	/* A two-way send needs a mapping for its reply: nothing is sent. */
	ASSERT_EQ(0, ep_open(&cl, 0, 0));
	tr.send.target = 2600;
	tr.send.data = (uintptr_t)"q";
	tr.send.size = 1;
	EXPECT_EQ(-1, ioctl(cl.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(ENOBUFS, errno);
	ep_close(&cl);
	ASSERT_EQ(0, ep_open(&cl, 0, SMALL));
	ASSERT_EQ(0, munmap(cl.area, SMALL));
	cl.area = NULL;
	EXPECT_EQ(-1, ioctl(cl.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(ENOBUFS, errno);
	memset(&wr, 0, sizeof(wr));
	wr.flags = BPR_WR_SEND;
	wr.send = tr.send;
	EXPECT_EQ(-1, ioctl(cl.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(ENOBUFS, errno);
	EXPECT_EQ(0, wr.done);
	ep_close(&cl);
	ASSERT_EQ(0, get_stats(srv.fd, &st));
	EXPECT_EQ(0, st.messages_queued);
	EXPECT_EQ(0, st.buffers_allocated);

	/* A two-way send's reply and a receive would share .message. */
	ASSERT_EQ(0, ep_open(&cl, 0, SMALL));
	memset(&wr, 0, sizeof(wr));
	wr.flags = BPR_WR_SEND | BPR_WR_RECEIVE;
	wr.send = tr.send;
	EXPECT_EQ(-1, ioctl(cl.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, get_stats(srv.fd, &st));
	EXPECT_EQ(0, st.messages_queued);
	ep_close(&cl);
	ep_close(&srv);
}

/* ---- 8. ABI hygiene: every field checked, every error as documented ---- */

/* A message stays queued when its description cannot be written. */
TEST(abi_receive_efault)
{
	struct bpr_message m;
	struct bpr_stats st;
	struct ep rx, tx;
	void *ro;

	ASSERT_EQ(0, ep_open(&rx, 2700, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, send_msg(tx.fd, 2700, "abc", 4, BPR_SEND_ONEWAY, NULL));
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_RECEIVE, NULL));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(1, st.messages_queued);
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_RECEIVE, ro));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(1, st.messages_queued);
	EXPECT_EQ(1, st.buffers_allocated);
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	EXPECT_EQ(4, m.size);
	EXPECT_EQ(0, memcmp(rx.area + m.offset, "abc", 4));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(0, st.messages_queued);
	EXPECT_EQ(0, st.buffers_allocated);
	munmap(ro, PAGE);
	ep_close(&tx);
	ep_close(&rx);
}

/* Reserved fields and unknown flags: EINVAL, and nothing happens. */
TEST(abi_reserved_and_flags)
{
	struct bpr_transaction tr;
	struct bpr_write_read wr;
	struct bpr_reply rp;
	struct bpr_message m;
	struct bpr_stats st;
	struct ep rx, tx;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&rx, 2701, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, SMALL));

	/* struct bpr_send, through BPR_IOC_TRANSACT */
	memset(&tr, 0, sizeof(tr));
	tr.send.target = 2701;
	tr.send.flags = BPR_SEND_ONEWAY;
	tr.send.data = (uintptr_t)"m";
	tr.send.size = 1;
	tr.send.reserved = 1;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(EINVAL, errno);
	tr.send.reserved = 0;
	tr.send.flags = BPR_SEND_ONEWAY | 0x4;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(EINVAL, errno);
	tr.send.flags = BPR_SEND_ONEWAY;
	/* struct bpr_transaction */
	tr.reserved = 1;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(EINVAL, errno);
	tr.reserved = 0;
	tr.done = 0x2;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(EINVAL, errno);
	tr.done = 0;
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(0, st.messages_queued);
	/* The same structure, valid, is sent. */
	ASSERT_EQ(0, ioctl(tx.fd, BPR_IOC_TRANSACT, &tr));

	/* struct bpr_write_read: the queued message must stay queued. */
	memset(&wr, 0, sizeof(wr));
	wr.flags = BPR_WR_RECEIVE;
	wr.reserved = 1;
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	wr.reserved = 0;
	wr.flags = BPR_WR_RECEIVE | 0x10;
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	wr.flags = BPR_WR_RECEIVE;
	wr.done = 0x20;
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	/* The send step's own structure too. */
	wr.done = 0;
	wr.flags = BPR_WR_SEND;
	wr.send = tr.send;
	wr.send.reserved = 1;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	/* Send and reply in one call. */
	wr.send.reserved = 0;
	wr.flags = BPR_WR_SEND | BPR_WR_REPLY;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(1, st.messages_queued);
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
	EXPECT_EQ('m', rx.area[m.offset]);
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));

	/* struct bpr_reply: the transaction stays pending, to retry. */
	pid = fork_client(2701, "ok");
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, receive_within(rx.fd, &m));
	memset(&rp, 0, sizeof(rp));
	rp.transaction = m.transaction;
	rp.data = (uintptr_t)"ok";
	rp.size = 2;
	rp.reserved = 1;
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_REPLY, &rp));
	EXPECT_EQ(EINVAL, errno);
	rp.reserved = 0;
	rp.flags = 0x1;
	EXPECT_EQ(-1, ioctl(rx.fd, BPR_IOC_REPLY, &rp));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(1, st.transactions_pending);
	rp.flags = 0;
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_REPLY, &rp));
	EXPECT_EQ(0, reap(pid, 10000));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	ep_close(&tx);
	ep_close(&rx);
}

/* Whether each unknown command gets ENOTTY on @fd: 0, or the failing one. */
static unsigned long unknown_commands(int fd)
{
	unsigned long cmds[] = {
		_IO(BPR_IOC_MAGIC, 0x0F),
		_IOR(BPR_IOC_MAGIC, 0x08, __u64),
		0x1234,
	};
	__u64 arg[16] = { 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		int ret = ioctl(fd, cmds[i], arg);

		if (ret != -1 || errno != ENOTTY)
			return cmds[i];
	}
	return 0;
}

/*
 * BPR_WR_SENT resumes a two-way send and nothing else: with a oneway send,
 * or with no send to do, it is refused and nothing is sent.
 */
TEST(abi_sent_only_two_way)
{
	struct bpr_transaction tr = { 0 };
	struct bpr_write_read wr = { 0 };
	struct bpr_stats st;
	struct ep rx, tx;

	ASSERT_EQ(0, ep_open(&rx, 2720, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, SMALL));
	tr.send.target = 2720;
	tr.send.flags = BPR_SEND_ONEWAY;
	tr.send.data = (uintptr_t)"one";
	tr.send.size = 4;
	tr.done = BPR_WR_SENT;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_TRANSACT, &tr));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(BPR_WR_SENT, tr.done);

	wr.flags = BPR_WR_RECEIVE;
	wr.done = BPR_WR_SENT;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	wr.flags = BPR_WR_SEND;
	wr.send = tr.send;
	EXPECT_EQ(-1, ioctl(tx.fd, BPR_IOC_WRITE_READ, &wr));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(BPR_WR_SENT, wr.done);

	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(0, st.messages_queued);
	EXPECT_EQ(0, st.buffers_allocated);
	ep_close(&tx);
	ep_close(&rx);
}

TEST(abi_unknown_commands)
{
	struct bpr_version v;
	struct bpr_stats st;
	struct ep ep;
	pid_t pid;

	ASSERT_EQ(0, ep_open(&ep, 0, SMALL));
	EXPECT_EQ(0, unknown_commands(ep.fd));
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		int ret;

		/* Unknown for anyone; known ones are the owner's only. */
		if (unknown_commands(ep.fd))
			_exit(2);
		ret = ioctl(ep.fd, BPR_IOC_STATS, &st);
		if (ret != -1 || errno != EPERM)
			_exit(3);
		ret = ioctl(ep.fd, BPR_IOC_VERSION, &v);
		if (ret || v.version != BPR_VERSION)
			_exit(4);
		_exit(0);
	}
	EXPECT_EQ(0, reap(pid, 10000));
	ep_close(&ep);
}

/* Too large for the area: EMSGSIZE; a too large reply can be retried. */
TEST(abi_emsgsize)
{
	size_t big = CLIENT_AREA + 1;
	struct bpr_message m;
	struct bpr_stats st;
	struct ep rx, tx;
	__u8 *buf;
	pid_t pid;

	buf = calloc(1, big);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ep_open(&rx, 2702, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	EXPECT_EQ(-1, send_msg(tx.fd, 2702, buf, SMALL + 1, BPR_SEND_ONEWAY,
			       NULL));
	EXPECT_EQ(EMSGSIZE, errno);
	/* Fits the area, not its oneway half: no room, not too large. */
	EXPECT_EQ(-1, send_msg(tx.fd, 2702, buf, SMALL, BPR_SEND_ONEWAY,
			       NULL));
	EXPECT_EQ(ENOSPC, errno);

	pid = fork_client(2702, "ok");
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, receive_within(rx.fd, &m));
	EXPECT_EQ(-1, reply_bytes(rx.fd, m.transaction, buf, big));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(1, st.transactions_pending);
	EXPECT_EQ(0, reply_bytes(rx.fd, m.transaction, "ok", 2));
	EXPECT_EQ(0, reap(pid, 10000));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &m.offset));
	free(buf);
	ep_close(&tx);
	ep_close(&rx);
}

TEST(abi_mmap)
{
	int fd = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);
	void *a;

	ASSERT_LE(0, fd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SMALL, PROT_READ, MAP_SHARED, fd,
				   PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SMALL, PROT_READ | PROT_EXEC,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	a = mmap(NULL, SMALL, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(-1, mprotect(a, SMALL, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	munmap(a, SMALL);
	close(fd);
}

/* Transaction ids are per receiver: 1, 2, ... in each. */
TEST(abi_transaction_ids)
{
	struct bpr_message m[4];
	pid_t pid[4];
	struct ep r1, r2;
	int i;

	ASSERT_EQ(0, ep_open(&r1, 2710, SMALL));
	ASSERT_EQ(0, ep_open(&r2, 2711, SMALL));
	for (i = 0; i < 4; i++) {
		struct ep *r = i & 1 ? &r2 : &r1;

		pid[i] = fork_client(i & 1 ? 2711 : 2710, "ok");
		ASSERT_LT(0, pid[i]);
		ASSERT_EQ(0, receive_within(r->fd, &m[i]));
		EXPECT_EQ(i / 2 + 1, m[i].transaction);
	}
	for (i = 0; i < 4; i++) {
		struct ep *r = i & 1 ? &r2 : &r1;

		EXPECT_EQ(0, reply_bytes(r->fd, m[i].transaction, "ok", 2));
		EXPECT_EQ(0, reap(pid[i], 10000));
	}
	ep_close(&r2);
	ep_close(&r1);
}

/* ---- 9. data hygiene ---- */

/* Whether @len bytes at @p are all zero. */
static int all_zero(const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * A copy that fails half way leaves no byte behind: A holds page 0, so
 * that the failed message's first bytes land in a page that stays mapped.
 */
TEST(data_failed_copy_zeroed)
{
	struct bpr_message a;
	struct bpr_stats st;
	struct ep rx, tx;
	__u8 *src;

	ASSERT_EQ(0, ep_open(&rx, 2800, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	ASSERT_EQ(0, send_msg(tx.fd, 2800, "A", 1, BPR_SEND_ONEWAY, NULL));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &a));
	ASSERT_EQ(0, a.offset);

	src = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	memset(src, 0xaa, PAGE);
	ASSERT_EQ(0, munmap(src + PAGE, PAGE));
	EXPECT_EQ(-1, send_msg(tx.fd, 2800, src, 2 * PAGE, BPR_SEND_ONEWAY,
			       NULL));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_EQ(0, st.messages_queued);
	EXPECT_EQ(1, st.buffers_allocated);
	EXPECT_EQ(1, st.pages_used);
	/* Right after A, to the end of its page: nothing of the copy. */
	EXPECT_EQ('A', rx.area[0]);
	EXPECT_TRUE(all_zero(rx.area + 1, PAGE - 1));
	munmap(src, PAGE);
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &a.offset));
	ep_close(&tx);
	ep_close(&rx);
}

/*
 * BPR_SEND_CLEAR_BUF: the bytes are zeroed when the receiver frees them,
 * though the page stays mapped for a neighbour; without it they stay.
 */
TEST(data_clear_buf)
{
	struct bpr_message a, b, c;
	__u8 secret[64];
	struct ep rx, tx;

	ASSERT_EQ(0, ep_open(&rx, 2801, SMALL));
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	fill(secret, sizeof(secret), 7);
	ASSERT_EQ(0, send_msg(tx.fd, 2801, secret, sizeof(secret),
			      BPR_SEND_ONEWAY | BPR_SEND_CLEAR_BUF, NULL));
	ASSERT_EQ(0, send_msg(tx.fd, 2801, secret, sizeof(secret),
			      BPR_SEND_ONEWAY, NULL));
	ASSERT_EQ(0, send_msg(tx.fd, 2801, secret, sizeof(secret),
			      BPR_SEND_ONEWAY, NULL));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &a));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &b));
	ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &c));
	EXPECT_EQ(BPR_MSG_ONEWAY | BPR_MSG_CLEAR_BUF, a.flags);
	EXPECT_EQ(BPR_MSG_ONEWAY, b.flags);
	EXPECT_EQ(BPR_MSG_ONEWAY, c.flags);
	/* All in page 0, which c keeps mapped. */
	ASSERT_EQ(0, a.offset / PAGE);
	ASSERT_EQ(0, b.offset / PAGE);
	ASSERT_EQ(0, c.offset / PAGE);
	EXPECT_TRUE(fill_ok(rx.area + a.offset, sizeof(secret), 7));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &a.offset));
	EXPECT_TRUE(all_zero(rx.area + a.offset, sizeof(secret)));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &b.offset));
	EXPECT_TRUE(fill_ok(rx.area + b.offset, sizeof(secret), 7));
	EXPECT_TRUE(fill_ok(rx.area + c.offset, sizeof(secret), 7));
	EXPECT_EQ(0, ioctl(rx.fd, BPR_IOC_FREE, &c.offset));
	ep_close(&tx);
	ep_close(&rx);
}

/* The area is not inherited, and cannot be made so. */
TEST(data_not_inherited)
{
	struct ep ep;
	int p[2];
	pid_t pid;

	ASSERT_EQ(0, ep_open(&ep, 2802, SMALL));
	EXPECT_EQ(-1, madvise(ep.area, SMALL, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, send_msg(ep.fd, 2802, "secret", 7, BPR_SEND_ONEWAY,
			      NULL));
	ASSERT_EQ(0, pipe(p));
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		ssize_t ret = write(p[1], ep.area, 16);

		_exit(ret == -1 && errno == EFAULT ? 0 : 2);
	}
	EXPECT_EQ(0, reap(pid, 10000));
	close(p[0]);
	close(p[1]);
	ep_close(&ep);
}

/* ---- 3, 4. memory cgroups: charged to the owner, floods contained ---- */

#define CG_ROOT		"/sys/fs/cgroup"

static int write_str(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, str, strlen(str)) == (ssize_t)strlen(str) ? 0 : -1;
	close(fd);
	return ret;
}

static long long cg_value(const char *cg, const char *file, const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), CG_ROOT "/%s/%s", cg, file);
	return read_value(path, key);
}

/*
 * cgroup2 at CG_ROOT with the memory controller enabled for its children:
 * 0, or -1 if the kernel has no memory controller to give.
 */
static int cg_setup(void)
{
	char buf[512] = "";
	FILE *f;

	if (access(CG_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(CG_ROOT, 0755);
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL))
			return -1;
	}
	f = fopen(CG_ROOT "/cgroup.controllers", "re");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (!strstr(buf, "memory"))
		return -1;
	return write_str(CG_ROOT "/cgroup.subtree_control", "+memory");
}

/* A new, empty cgroup @name: 0, or -1. */
static int cg_create(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CG_ROOT "/%s", name);
	rmdir(path);
	return mkdir(path, 0755);
}

static void cg_remove(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CG_ROOT "/%s", name);
	rmdir(path);
}

/* Move the calling process into @name: 0, or -1. */
static int cg_enter(const char *name)
{
	char path[256], pid[32];

	snprintf(path, sizeof(path), CG_ROOT "/%s/cgroup.procs", name);
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	return write_str(path, pid);
}

#define MEMCG_BIG	(1024 * 1024)

/*
 * A sender in cgroup S fills 1 MiB of the area of a receiver in cgroup R:
 * the pages are R's, whoever's task allocated them.
 */
TEST(memcg_charging)
{
	int rx_ready[2], tx_ready[2], go[2];
	long long r0, s0, r1, s1, rk0, sk0, rk1, sk1;
	pid_t rx, tx;

	if (cg_setup())
		SKIP(return, "no memory cgroup controller");
	ASSERT_EQ(0, cg_create("bpr_R"));
	ASSERT_EQ(0, cg_create("bpr_S"));
	ASSERT_EQ(0, pipe(rx_ready));
	ASSERT_EQ(0, pipe(tx_ready));
	ASSERT_EQ(0, pipe(go));

	rx = fork_helper();
	ASSERT_LE(0, rx);
	if (!rx) {
		struct bpr_message m;
		struct ep ep;

		if (cg_enter("bpr_R") || ep_open(&ep, 2200, 2 * MEMCG_BIG) ||
		    write(rx_ready[1], "r", 1) != 1)
			_exit(2);
		if (!wait_readable(ep.fd, 20000) ||
		    ioctl(ep.fd, BPR_IOC_RECEIVE, &m) || m.size != MEMCG_BIG ||
		    !fill_ok(ep.area + m.offset, MEMCG_BIG, 3))
			_exit(3);
		if (write(rx_ready[1], "m", 1) != 1 || wait_byte(go[0], 20000))
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(0, wait_byte(rx_ready[0], 10000));
	/* memory.stat is exact once the periodic flush (every 2 s) ran. */
	usleep(2200000);
	r0 = cg_value("bpr_R", "memory.current", "");
	s0 = cg_value("bpr_S", "memory.current", "");
	rk0 = cg_value("bpr_R", "memory.stat", "kernel ");
	sk0 = cg_value("bpr_S", "memory.stat", "kernel ");

	tx = fork_helper();
	ASSERT_LE(0, tx);
	if (!tx) {
		__u8 *buf = malloc(MEMCG_BIG);
		cpu_set_t cpus;
		struct ep ep;

		/*
		 * Our own memory before we move: not what is measured. One
		 * CPU: one per-CPU stock of precharged pages, at most.
		 */
		if (!buf)
			_exit(2);
		fill(buf, MEMCG_BIG, 3);
		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
		if (cg_enter("bpr_S") || ep_open(&ep, 0, 0))
			_exit(3);
		if (send_msg(ep.fd, 2200, buf, MEMCG_BIG, BPR_SEND_ONEWAY,
			     NULL))
			_exit(4);
		if (write(tx_ready[1], "s", 1) != 1 || wait_byte(go[0], 20000))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(0, wait_byte(tx_ready[0], 15000));
	ASSERT_EQ(0, wait_byte(rx_ready[0], 15000));
	usleep(2200000);
	r1 = cg_value("bpr_R", "memory.current", "");
	s1 = cg_value("bpr_S", "memory.current", "");
	rk1 = cg_value("bpr_R", "memory.stat", "kernel ");
	sk1 = cg_value("bpr_S", "memory.stat", "kernel ");
	TH_LOG("R: memory.current +%lld, kernel +%lld", r1 - r0, rk1 - rk0);
	TH_LOG("S: memory.current +%lld, kernel +%lld", s1 - s0, sk1 - sk0);
	ASSERT_LE(0, r0);
	ASSERT_LE(0, s0);
	ASSERT_LE(0, rk0);
	ASSERT_LE(0, sk0);
	/*
	 * The area's pages are kernel memory of R's. memory.current counts
	 * besides the charges each CPU keeps in stock for a cgroup (up to
	 * 64 pages per CPU): R's stock may already be in r0, and S's, one
	 * CPU's, in s1. memory.stat has no such slack.
	 */
	EXPECT_LE(MEMCG_BIG, rk1 - rk0);
	EXPECT_GT(256 * 1024, sk1 - sk0);
	EXPECT_LE(MEMCG_BIG - 2 * 64 * PAGE, r1 - r0);
	EXPECT_GT(512 * 1024, s1 - s0);

	ASSERT_EQ(2, write(go[1], "gg", 2));
	EXPECT_EQ(0, reap(tx, 10000));
	EXPECT_EQ(0, reap(rx, 10000));
	cg_remove("bpr_S");
	cg_remove("bpr_R");
}

/*
 * A receiver in cgroup @cg opens an area and says "r" on @ready. If @leave
 * names another cgroup, it moves there at the first byte on @go and says
 * "d". Then it gets a 1 MiB message at @id and frees it, so that its area
 * has 256 available pages, says "m", and reports its number of available
 * pages on @report each time a byte comes on @go, until EOF.
 */
static void reclaim_receiver(const char *cg, const char *leave, __u32 id,
			     int ready, int go, int report)
{
	struct bpr_message m;
	struct bpr_stats st;
	struct ep ep;
	char c;

	if (cg_enter(cg) || ep_open(&ep, id, 2 * MEMCG_BIG) ||
	    write(ready, "r", 1) != 1)
		_exit(2);
	if (leave && (read(go, &c, 1) != 1 || cg_enter(leave) ||
		      write(ready, "d", 1) != 1))
		_exit(3);
	if (!wait_readable(ep.fd, 20000) ||
	    ioctl(ep.fd, BPR_IOC_RECEIVE, &m) || m.size != MEMCG_BIG ||
	    !fill_ok(ep.area + m.offset, MEMCG_BIG, 5) ||
	    ioctl(ep.fd, BPR_IOC_FREE, &m.offset) || write(ready, "m", 1) != 1)
		_exit(4);
	while (read(go, &c, 1) == 1) {
		if (get_stats(ep.fd, &st) ||
		    write(report, &st.pages_available, sizeof(__u64)) !=
		    sizeof(__u64))
			_exit(5);
	}
	_exit(0);
}

/* Ask a reclaim_receiver() how many pages it has available: 0, or -1. */
static int ask_available(int go, int report, __u64 *pages)
{
	if (write(go, "g", 1) != 1)
		return -1;
	return read(report, pages, sizeof(*pages)) == sizeof(*pages) ? 0 : -1;
}

/*
 * Reclaim aimed at one cgroup (memory.reclaim) frees the available pages
 * of that cgroup's areas and leaves another cgroup's alone: the shrinker
 * is memcg-aware, and each area's pages are on its owner's cgroup list.
 */
TEST(memcg_targeted_reclaim)
{
	static const char *const cgs[2] = { "bpr_A", "bpr_B" };
	int ready[2][2], go[2][2], report[2][2], i;
	__u64 before[2], after[2];
	__u8 *buf = malloc(MEMCG_BIG);
	pid_t rx[2];
	struct ep tx;

	ASSERT_NE(NULL, buf);
	if (cg_setup())
		SKIP(return, "no memory cgroup controller");
	fill(buf, MEMCG_BIG, 5);
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, cg_create(cgs[i]));
		ASSERT_EQ(0, pipe(ready[i]));
		ASSERT_EQ(0, pipe(go[i]));
		ASSERT_EQ(0, pipe(report[i]));
		rx[i] = fork_helper();
		ASSERT_LE(0, rx[i]);
		if (!rx[i]) {
			close(go[i][1]);
			reclaim_receiver(cgs[i], NULL, 2400 + i, ready[i][1],
					 go[i][0], report[i][1]);
		}
		close(go[i][0]);
		ASSERT_EQ(0, wait_byte(ready[i][0], 10000));
		ASSERT_EQ(0, send_msg(tx.fd, 2400 + i, buf, MEMCG_BIG,
				      BPR_SEND_ONEWAY, NULL));
		ASSERT_EQ(0, wait_byte(ready[i][0], 15000));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ask_available(go[i][1], report[i][0], &before[i]));
		EXPECT_EQ(MEMCG_BIG / PAGE, before[i]);
	}

	/* Asks for more than there is: reclaim runs down to priority 0. */
	write_str(CG_ROOT "/bpr_A/memory.reclaim", "64M");
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, ask_available(go[i][1], report[i][0], &after[i]));
	TH_LOG("available pages: A %llu -> %llu, B %llu -> %llu",
	       (unsigned long long)before[0], (unsigned long long)after[0],
	       (unsigned long long)before[1], (unsigned long long)after[1]);
	EXPECT_EQ(0, after[0]);
	EXPECT_EQ(before[1], after[1]);

	/* Both first: B holds a copy of A's end too. */
	for (i = 0; i < 2; i++)
		close(go[i][1]);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, reap(rx[i], 10000));
		cg_remove(cgs[i]);
	}
	ep_close(&tx);
	free(buf);
}

/*
 * The area's owner leaves its cgroup, which is then removed: the pages
 * freed afterwards go on the list the parent took over, and reclaim aimed
 * at the parent still finds them (the shrinker is told the parent has
 * items, not the removed cgroup, which reclaim never visits).
 */
TEST(memcg_reclaim_after_rmdir)
{
	int ready[2], go[2], report[2];
	__u8 *buf = malloc(MEMCG_BIG);
	__u64 before, after;
	struct ep tx;
	pid_t rx;

	ASSERT_NE(NULL, buf);
	if (cg_setup())
		SKIP(return, "no memory cgroup controller");
	fill(buf, MEMCG_BIG, 5);
	ASSERT_EQ(0, ep_open(&tx, 0, 0));
	ASSERT_EQ(0, cg_create("bpr_P"));
	ASSERT_EQ(0, write_str(CG_ROOT "/bpr_P/cgroup.subtree_control",
			       "+memory"));
	ASSERT_EQ(0, cg_create("bpr_P/bpr_C"));
	ASSERT_EQ(0, cg_create("bpr_P/bpr_D"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(report));

	rx = fork_helper();
	ASSERT_LE(0, rx);
	if (!rx) {
		close(go[1]);
		/* The area, and so its pages, belong to bpr_C, which it leaves. */
		reclaim_receiver("bpr_P/bpr_C", "bpr_P/bpr_D", 2500, ready[1],
				 go[0], report[1]);
	}
	close(go[0]);
	ASSERT_EQ(0, wait_byte(ready[0], 10000));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, wait_byte(ready[0], 10000));
	/*
	 * Removed, kept alive by the area's charges and reference. It goes
	 * offline (and hands its list to bpr_P) a grace period or so later,
	 * in a workqueue: give that time, so that the pages below are freed
	 * after it, not before (reparenting would then mark bpr_P itself).
	 */
	ASSERT_EQ(0, rmdir(CG_ROOT "/bpr_P/bpr_C"));
	usleep(1000000);
	ASSERT_EQ(0, send_msg(tx.fd, 2500, buf, MEMCG_BIG, BPR_SEND_ONEWAY,
			      NULL));
	ASSERT_EQ(0, wait_byte(ready[0], 15000));
	ASSERT_EQ(0, ask_available(go[1], report[0], &before));
	EXPECT_EQ(MEMCG_BIG / PAGE, before);

	write_str(CG_ROOT "/bpr_P/memory.reclaim", "64M");
	ASSERT_EQ(0, ask_available(go[1], report[0], &after));
	TH_LOG("available pages: %llu -> %llu", (unsigned long long)before,
	       (unsigned long long)after);
	EXPECT_EQ(0, after);

	close(go[1]);
	EXPECT_EQ(0, reap(rx, 10000));
	cg_remove("bpr_P/bpr_D");
	cg_remove("bpr_P");
	ep_close(&tx);
	free(buf);
}

#define FLOOD_RX	2300
#define FLOOD_AREA	(1024 * 1024)

struct flood_result {
	int sent;
	int err;
};

/*
 * A user floods a receiver that never receives, from a cgroup with 1 MiB
 * of room: its quota stops it with EDQUOT once it holds a quarter of the
 * area, and other users still get through.
 */
TEST(flood_contained)
{
	int ready[2], go[2], res[2], memcg = !cg_setup();
	struct flood_result fr = { -1, 0 };
	struct bpr_message m, reply;
	struct bpr_stats st;
	struct ep rx;
	pid_t pid;
	int i;

	if (!memcg)
		TH_LOG("no memory cgroup controller: flooding without a limit");
	else
		ASSERT_EQ(0, cg_create("bpr_F"));
	ASSERT_EQ(0, ep_open(&rx, FLOOD_RX, FLOOD_AREA));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));

	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		pid_t parent = getppid();
		__u8 buf[PAGE];
		long long end;
		int fd;

		if ((memcg && cg_enter("bpr_F")) ||
		    write(ready[1], "r", 1) != 1 || wait_byte(go[0], 10000))
			_exit(2);
		if (setgid(1001) || setuid(1001))
			_exit(3);
		die_with_parent(parent);
		fd = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(4);
		memset(buf, 0x66, sizeof(buf));
		end = now_ms() + 15000;
		for (fr.sent = 0; now_ms() < end; fr.sent++) {
			if (send_msg(fd, FLOOD_RX, buf, sizeof(buf),
				     BPR_SEND_ONEWAY, NULL)) {
				fr.err = errno;
				break;
			}
		}
		if (write(res[1], &fr, sizeof(fr)) != sizeof(fr))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(0, wait_byte(ready[0], 10000));
	if (memcg) {
		long long cur = cg_value("bpr_F", "memory.current", "");
		char max[32];

		ASSERT_LE(0, cur);
		snprintf(max, sizeof(max), "%lld\n", cur + 1024 * 1024);
		ASSERT_EQ(0, write_str(CG_ROOT "/bpr_F/memory.max", max));
	}
	ASSERT_EQ(1, write(go[1], "g", 1));
	/*
	 * The quota stops it, before its own cgroup's limit: the area's
	 * pages are the receiver's, only the per-message objects are its.
	 */
	ASSERT_EQ(0, reap(pid, 20000));
	ASSERT_EQ(sizeof(fr), read(res[0], &fr, sizeof(fr)));
	TH_LOG("flooder stopped after %d messages: %s", fr.sent,
	       strerror(fr.err));
	EXPECT_EQ(EDQUOT, fr.err);
	EXPECT_EQ(FLOOD_AREA / 4 / PAGE, fr.sent);
	if (memcg)
		EXPECT_EQ(0, cg_value("bpr_F", "memory.events", "oom_kill "));
	ASSERT_EQ(0, get_stats(rx.fd, &st));
	EXPECT_GE(FLOOD_AREA / 4, st.buffers_allocated * PAGE);
	EXPECT_EQ(st.buffers_allocated, st.messages_queued);
	EXPECT_EQ(fr.sent, st.messages_queued);
	if (memcg)
		cg_remove("bpr_F");

	/* Another user still gets through, oneway and two-way. */
	pid = fork_helper();
	ASSERT_LE(0, pid);
	if (!pid) {
		pid_t parent = getppid();
		struct ep cl;

		if (setgid(1002) || setuid(1002))
			_exit(2);
		die_with_parent(parent);
		if (ep_open(&cl, 0, SMALL) ||
		    send_msg(cl.fd, FLOOD_RX, "hello", 6, BPR_SEND_ONEWAY,
			     NULL))
			_exit(3);
		if (send_msg(cl.fd, FLOOD_RX, "ping", 5, 0, &reply))
			_exit(4);
		if (reply.size != 5 || memcmp(cl.area + reply.offset, "pong", 5) ||
		    reply.sender_euid != 0)
			_exit(5);
		_exit(0);
	}
	/* The flood first, all from uid 1001, kept: still counted. */
	for (i = 0; i < (int)st.messages_queued; i++) {
		ASSERT_EQ(0, ioctl(rx.fd, BPR_IOC_RECEIVE, &m));
		EXPECT_EQ(1001, m.sender_euid);
		EXPECT_EQ(PAGE, m.size);
	}
	ASSERT_EQ(0, receive_within(rx.fd, &m));
	EXPECT_EQ(1002, m.sender_euid);
	EXPECT_EQ(BPR_MSG_ONEWAY, m.flags);
	EXPECT_EQ(0, memcmp(rx.area + m.offset, "hello", 6));
	ASSERT_EQ(0, receive_within(rx.fd, &m));
	EXPECT_EQ(1002, m.sender_euid);
	EXPECT_NE(0, m.transaction);
	EXPECT_EQ(0, memcmp(rx.area + m.offset, "ping", 5));
	EXPECT_EQ(0, reply_bytes(rx.fd, m.transaction, "pong", 5));
	EXPECT_EQ(0, reap(pid, 10000));
	ep_close(&rx);
}

TEST_HARNESS_MAIN
