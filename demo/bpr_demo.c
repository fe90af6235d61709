// SPDX-License-Identifier: GPL-2.0
/*
 * A client and a server exchange messages through /dev/binder_page_range,
 * showing the page statistics as pages are used, kept idle, reclaimed under
 * memory pressure, and used again.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "tests/user/bpr_util.h"
#include <linux/android/binder_page_range.h>

#define SERVER_ID	1
#define CLIENT_ID	2
#define REPLY_AREA	(1024 * 1024)
/* A one-byte request the server takes its time over. */
#define SLOW_REQUEST	0x5a

static void die(const char *what)
{
	fprintf(stderr, "demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_endpoint(__u32 id, size_t area_size, __u8 **area)
{
	int fd = open(BPR_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open " BPR_DEVICE " (is the module loaded?)");
	if (id && ioctl(fd, BPR_IOC_BIND, &id))
		die("bind");
	*area = mmap(NULL, area_size, PROT_READ, MAP_SHARED, fd, 0);
	if (*area == MAP_FAILED)
		die("mmap");
	return fd;
}

static void show_stats(const char *when, int fd)
{
	struct bpr_stats st;

	if (ioctl(fd, BPR_IOC_STATS, &st))
		die("stats");
	printf("  [server pages %-26s] %4llu total: %4llu used, ",
	       when, (unsigned long long)st.pages_total,
	       (unsigned long long)st.pages_used);
	printf("%4llu idle (reclaimable), %4llu free; %llu buffers, %llu queued\n",
	       (unsigned long long)st.pages_available,
	       (unsigned long long)st.pages_free,
	       (unsigned long long)st.buffers_allocated,
	       (unsigned long long)st.messages_queued);
}

/*
 * The server answers every request with the checksum of what it found in
 * its own mapping, where the kernel copied the client's bytes.
 */
struct server {
	int fd;
	const __u8 *area;
	int slow_seen;		/* a slow request arrived */
	int dropped;		/* replies whose client was gone */
	pid_t last_pid;		/* who sent the last request */
	uid_t last_euid;
};

static void *serve(void *arg)
{
	struct bpr_write_read wr = { .flags = BPR_WR_RECEIVE };
	struct server *srv = arg;
	int fd = srv->fd;
	const __u8 *area = srv->area;
	__u64 sum;

	for (;;) {
		/* A signal ends the call: repeat it, @done skips what was done. */
		if (ioctl(fd, BPR_IOC_WRITE_READ, &wr)) {
			if (errno == EINTR)
				continue;
			die("server write_read");
		}
		/* A client that died before its answer is no reason to stop. */
		if ((wr.done & BPR_WR_REPLY) && wr.write_status)
			__atomic_add_fetch(&srv->dropped, 1, __ATOMIC_SEQ_CST);
		srv->last_pid = wr.message.sender_pid;
		srv->last_euid = wr.message.sender_euid;
		if (wr.message.size == 1 &&
		    area[wr.message.offset] == SLOW_REQUEST) {
			__atomic_store_n(&srv->slow_seen, 1, __ATOMIC_SEQ_CST);
			usleep(500 * 1000);
		}
		sum = checksum(area + wr.message.offset, wr.message.size);
		/* Free the request, reply, and wait for the next: one call. */
		wr.flags = BPR_WR_FREE | BPR_WR_REPLY | BPR_WR_RECEIVE;
		wr.done = 0;
		wr.free_offset = wr.message.offset;
		wr.reply.transaction = wr.message.transaction;
		wr.reply.data = (uintptr_t)&sum;
		wr.reply.size = sizeof(sum);
	}
	return NULL;
}

/*
 * A client sends a request the server is slow to answer, and is killed
 * while it waits. The server's reply finds nobody: the call that replied
 * (and then received the next request) reports it in write_status.
 */
static void client_dies_mid_call(struct server *srv)
{
	pid_t pid;
	int i;

	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		__u8 req = SLOW_REQUEST, *area;
		struct bpr_transaction tr = {
			.send = {
				.target = SERVER_ID,
				.data = (uintptr_t)&req,
				.size = 1,
			},
		};
		int fd = open_endpoint(0, REPLY_AREA, &area);

		ioctl(fd, BPR_IOC_TRANSACT, &tr);
		_exit(0);
	}
	for (i = 0; i < 500 && !__atomic_load_n(&srv->slow_seen, __ATOMIC_SEQ_CST); i++)
		usleep(10 * 1000);
	if (kill(pid, SIGKILL) || waitpid(pid, NULL, 0) != pid)
		die("kill the client");
	printf("  Client %d was killed while the server worked on its request.\n",
	       (int)pid);
}

struct totals {
	unsigned long sent, intact;
};

/* @rounds round trips of @size bytes; prints throughput. */
static void exchange(int fd, const __u8 *area, size_t size, int rounds,
		     struct totals *t)
{
	struct bpr_write_read wr = { 0 };
	__u8 *buf = malloc(size ? size : 1);
	double start, secs;
	int i, have_reply = 0;
	size_t j;

	if (!buf)
		die("malloc");
	start = now();
	for (i = 0; i < rounds; i++) {
		__u64 want;

		for (j = 0; j < size; j++)
			buf[j] = (__u8)(i * 7 + j);
		want = checksum(buf, size);
		/* Free the previous reply and send the next request: one call. */
		wr.flags = BPR_WR_SEND | (have_reply ? BPR_WR_FREE : 0);
		wr.done = 0;
		wr.free_offset = wr.message.offset;
		wr.send.target = SERVER_ID;
		wr.send.flags = 0;
		wr.send.data = (uintptr_t)buf;
		wr.send.size = size;
		while (ioctl(fd, BPR_IOC_WRITE_READ, &wr))
			if (errno != EINTR)
				die("client write_read");
		if (wr.write_status) {
			errno = -wr.write_status;
			die("send");
		}
		have_reply = 1;
		t->sent++;
		if (wr.message.size == sizeof(want) &&
		    !memcmp(area + wr.message.offset, &want, sizeof(want)))
			t->intact++;
	}
	if (have_reply && ioctl(fd, BPR_IOC_FREE, &wr.message.offset))
		die("free");
	secs = now() - start;
	printf("  %8zu-byte messages: %5d round trips in %6.3f s: ",
	       size, rounds, secs);
	printf("%8.0f round trips/s, %8.2f MB/s\n",
	       rounds / secs, size * rounds / secs / 1e6);
	free(buf);
}

/* Ask every shrinker in the system to give memory back. */
static void reclaim(void)
{
	const char *path = "/proc/sys/vm/drop_caches";
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, "2\n", 2) != 2)
		die(path);
	close(fd);
}

int main(void)
{
	static const size_t sizes[] = { 64, 4096, 65536, 1 << 20 };
	static const int rounds[] = { 500, 300, 100, 20 };
	struct totals t = { 0 };
	struct bpr_version v;
	struct server srv = { 0 };
	__u8 *sarea, *carea;
	pthread_t server;
	int sfd, cfd, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sfd = open_endpoint(SERVER_ID, BPR_AREA_MAX, &sarea);
	if (ioctl(sfd, BPR_IOC_VERSION, &v))
		die("version");
	printf("binder page range demo: protocol %u, areas up to %u KiB\n",
	       v.version, v.area_max >> 10);
	printf("The server maps a %u KiB read-only area; the client sends it\n",
	       BPR_AREA_MAX >> 10);
	printf("messages that the kernel copies once, straight into that area.\n");

	/* The server runs in its own thread, blocked in the kernel between requests. */
	srv.fd = sfd;
	srv.area = sarea;
	if (pthread_create(&server, NULL, serve, &srv))
		die("pthread_create");

	cfd = open_endpoint(CLIENT_ID, REPLY_AREA, &carea);
	show_stats("before any message", sfd);

	printf("\n1. Messages of several sizes (a round trip: the client sends,\n");
	printf("   the server checks the bytes in its area and replies):\n");
	for (i = 0; i < 4; i++)
		exchange(cfd, carea, sizes[i], rounds[i], &t);
	show_stats("after the traffic", sfd);
	printf("  Freed buffers leave their pages mapped and idle: the next\n");
	printf("  message reuses them without allocating.\n");

	printf("\n2. Memory pressure: the kernel asks every shrinker to give\n");
	printf("   memory back (echo 2 > /proc/sys/vm/drop_caches).\n");
	reclaim();
	show_stats("after memory pressure", sfd);
	printf("  The idle pages went back to the system; nothing in use was touched.\n");

	printf("\n3. Traffic resumes:\n");
	exchange(cfd, carea, 65536, 100, &t);
	exchange(cfd, carea, 1 << 20, 10, &t);
	show_stats("after traffic resumed", sfd);
	printf("  Pages came back on demand, zeroed, as messages needed them.\n");
	printf("  Each request told the server who sent it: pid %d, uid %u.\n",
	       (int)srv.last_pid, (unsigned int)srv.last_euid);

	printf("\n4. A client dies in the middle of a call:\n");
	client_dies_mid_call(&srv);
	exchange(cfd, carea, 4096, 50, &t);
	printf("  The server's reply found nobody (%s) and it went on serving.\n",
	       __atomic_load_n(&srv.dropped, __ATOMIC_SEQ_CST) ?
	       "write_status -ECONNRESET" : "NOT REPORTED");
	show_stats("after the dead client", sfd);

	printf("\nSummary: %lu messages sent, %lu confirmed intact by the server: %s;\n",
	       t.sent, t.intact, t.sent == t.intact ? "all intact" : "MISMATCH");
	printf("%d reply to a dead client dropped, and the server kept serving.\n",
	       srv.dropped);
	printf("\nTo use the module on your own machine:\n"
	       "  make && sudo insmod binder_page_range.ko &&\n"
	       "  sudo insmod bpa_alloc.ko && sudo insmod binder_page_range_ipc.ko\n");
	return t.sent == t.intact && srv.dropped == 1 &&
	       srv.last_pid == getpid() ? 0 : 1;
}
