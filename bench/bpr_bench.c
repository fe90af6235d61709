// SPDX-License-Identifier: GPL-2.0
/*
 * bpr_bench: request/reply round trips between processes over
 * /dev/binder_page_range, upstream binder (binderfs), pipes and unix
 * stream sockets.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 *
 * Each measurement prints one line, in the format of the in-kernel half:
 *
 *	bpr: <workload> <param> <impl> <round> <value> <unit>
 *
 *	rtt <size>	one client and one server process, requests and
 *			replies of <size> bytes: mean ns per round trip
 *	rtt1 <size>	the same with both processes on CPU 0: no idle
 *			CPU and no cross-CPU wakeup in the round trip, so
 *			that it is the CPU's work and two context switches,
 *			which moves less from round to round under TCG
 *	pairs <n>	n client/server pairs at once, 4 KiB: round trips
 *			per second of all of them, first start to last end
 *	fanin <n>	n clients of one server with two threads, 4 KiB:
 *			round trips per second
 *	cold 65536	mean ns of a round trip right after every shrinker
 *			ran, with no page left in either area
 *
 * The ns figures time the client's call into the transport, from the
 * send to the reply in hand, which includes the server's work; not the
 * client's own filling and checking of the bytes (see round_trip()).
 *
 * Every request is checked by the server, which builds the reply from it,
 * and every reply by the client. The exit status is 0 only if every run
 * and every check passed; otherwise a "bpr: FAIL <reason>" line and 1.
 *
 * usage: bpr_bench [rounds [quick]]
 * "quick", or BPR_BENCH_QUICK=1 in the environment, runs a tenth of the
 * iterations: a functional run, not a measurement. BPR_BENCH_ONLY, a
 * comma-separated list of workloads ("rtt,rtt1"), runs those alone.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/android/binder.h>
#include <linux/android/binderfs.h>

#include "kselftest.h"
#include "tests/user/bpr_util.h"
#include <linux/android/binder_page_range.h>

#define WARMUP		5	/* untimed round trips of each client */
#define MAX_PROCS	4	/* servers, or clients, of one job */
#define READY_MS	60000	/* for a process to set up */
#define JOB_MS		600000	/* for a whole job */
#define SETTLE_US	50000	/* between jobs: see measure() */
#define ROUND_TIMEOUT	600	/* s per round: the last resort, see main() */
#define BPR_ID_BASE	4000	/* > BPR_ID_RESERVED_MAX: no capability */
#define BINDERFS	"/dev/binderfs"
#define BINDER_AREA	(4 << 20)	/* binder uses no more */

/* Why the last call of this thread failed: see failf(). */
static __thread char why[256];

/* Record why something failed, for the FAIL line, and return -1. */
static __printf(1, 2)
int failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return -1;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The data. Word k of the request of round trip @seq is @seq ^ (k * odd
 * constant): word 0 is the sequence number itself (all of an 8-byte
 * request), and every word differs from one round trip to the next, so a
 * stale or misplaced word shows. The reply is the request inverted: the
 * server can only build it from the bytes it received. Sizes are
 * multiples of 8; words are loaded with memcpy() because nothing promises
 * that a buffer in an area is 8-byte aligned.
 */
static inline __u64 req_word(__u64 seq, size_t k)
{
	return seq ^ (k * 0x9e3779b97f4a7c15ULL);
}

static inline __u64 ld64(const __u8 *p, size_t k)
{
	__u64 v;

	memcpy(&v, p + 8 * k, sizeof(v));
	return v;
}

static inline void st64(__u8 *p, size_t k, __u64 v)
{
	memcpy(p + 8 * k, &v, sizeof(v));
}

static void fill_request(__u8 *req, size_t size, __u64 seq)
{
	size_t k;

	for (k = 0; k < size / 8; k++)
		st64(req, k, req_word(seq, k));
}

/* Server side: check the request, and build the reply into @rep. */
static int answer(const __u8 *req, size_t len, size_t size, __u8 *rep)
{
	__u64 seq, bad = 0, v;
	size_t k;

	if (len != size)
		return failf("request of %zu bytes, expected %zu", len, size);
	seq = ld64(req, 0);
	/* No early exit: the loop stays simple enough to vectorize. */
	for (k = 0; k < size / 8; k++) {
		v = ld64(req, k);
		bad |= v ^ req_word(seq, k);
		st64(rep, k, ~v);
	}
	if (bad)
		return failf("request %#llx: wrong data",
			     (unsigned long long)seq);
	return 0;
}

static int check_reply(const __u8 *rep, size_t len, size_t size, __u64 seq)
{
	__u64 bad = 0;
	size_t k;

	if (len != size)
		return failf("reply of %zu bytes, expected %zu", len, size);
	for (k = 0; k < size / 8; k++)
		bad |= ld64(rep, k) ^ ~req_word(seq, k);
	if (bad)
		return failf("reply to %#llx: wrong data",
			     (unsigned long long)seq);
	return 0;
}

/* Whether [@addr, @addr + @len) lies within the @size bytes at @base. */
static int in_area(__u64 base, __u64 size, __u64 addr, __u64 len)
{
	return addr >= base && len <= size && addr - base <= size - len;
}

struct transport;

/* One measurement: its servers, its clients and what they do. */
struct job {
	const char *workload;
	unsigned long param;
	const char *unit;		/* "ns" per round trip, or "rt/s" */
	int ntp;			/* over the first ntp transports[] */
	int servers, clients;		/* client i calls server i % servers */
	int threads;			/* receiving threads of each server */
	size_t size;			/* of requests and replies */
	long iters;			/* round trips of each client */
	int cold;			/* reclaim before each timed trip */
	int pin;			/* every process on CPU 0 */
	const struct transport *tp;	/* the one running */
};

/* What a server and its clients share, set up by the parent. */
struct chan {
	unsigned int n;			/* unique in the run: names a server */
	__u32 id;			/* page_range: the endpoint id */
	char path[sizeof(BINDERFS "/") + BINDERFS_MAX_NAME]; /* binder */
	int srv_rd, srv_wr, cli_rd, cli_wr;	/* pipe, unix */
};

/* A server process; its threads share it. */
struct srv {
	const struct job *job;
	const struct chan *ch;
	int fd;
	const __u8 *area;
	int (*loop)(struct srv *s);
};

/* A client's end. */
struct conn {
	const struct chan *ch;
	size_t size;
	int fd;
	__u8 *area;
	int held;			/* a reply to free with the next call */
	__u64 held_at;			/* offset, or address (binder) */
	struct bpr_write_read wr;	/* page_range: reserved fields stay 0 */
	__u8 *buf;			/* pipe, unix: the reply */
};

/*
 * A transport. @serve runs in the server process and returns only on
 * failure (-1) or when its client is gone (0). @rt sends the request of
 * @c->size bytes and returns the reply, which stays valid (and, in an
 * area, allocated) until the next @rt or @release.
 */
struct transport {
	const char *name;
	int (*chan_init)(struct chan *ch);
	int (*serve)(struct srv *s, int ready);
	int (*connect)(struct conn *c);
	int (*rt)(struct conn *c, const __u8 *req, const __u8 **rep,
		  size_t *len);
	int (*release)(struct conn *c);	/* optional */
	void (*disconnect)(struct conn *c);
};

static void server_exit(const struct job *job)
{
	printf("bpr: FAIL %s %lu %s server: %s\n", job->workload, job->param,
	       job->tp->name, why);
	fflush(stdout);
	_exit(1);
}

static void *server_thread(void *arg)
{
	struct srv *s = arg;

	s->loop(s);
	server_exit(s->job);
	return NULL;
}

/* Tell the parent that the server can be called, and serve. */
static int serve_loops(struct srv *s, int (*loop)(struct srv *), int ready)
{
	pthread_t t;
	int i;

	s->loop = loop;
	if (write(ready, "r", 1) != 1)
		return failf("ready: %m");
	for (i = 1; i < s->job->threads; i++)
		if (pthread_create(&t, NULL, server_thread, s))
			return failf("pthread_create");
	return loop(s);
}

/* page_range ------------------------------------------------------------ */

static int bpr_chan_init(struct chan *ch)
{
	ch->id = BPR_ID_BASE + ch->n;
	return 0;
}

static int bpr_serve_loop(struct srv *s)
{
	struct bpr_write_read wr = { .flags = BPR_WR_RECEIVE };
	const struct bpr_message *m = &wr.message;
	size_t size = s->job->size;
	__u8 *rep = malloc(size);

	if (!rep)
		return failf("out of memory");
	for (;;) {
		/* After a signal, the same call: done skips the steps done. */
		if (ioctl(s->fd, BPR_IOC_WRITE_READ, &wr)) {
			if (errno == EINTR)
				continue;
			return failf("BPR_IOC_WRITE_READ: %m");
		}
		/* No client here gives up on a call: a lost reply is a bug. */
		if (wr.write_status)
			return failf("reply: %s", strerror(-wr.write_status));
		if (!m->transaction ||
		    !in_area(0, BPR_AREA_MAX, m->offset, m->size))
			return failf("bad message: %llu bytes at %llu",
				     (unsigned long long)m->size,
				     (unsigned long long)m->offset);
		if (answer(s->area + m->offset, m->size, size, rep))
			return -1;
		/* Free the request, reply and wait for the next: one call. */
		wr.flags = BPR_WR_FREE | BPR_WR_REPLY | BPR_WR_RECEIVE;
		wr.done = 0;
		wr.free_offset = m->offset;
		wr.reply.transaction = m->transaction;
		wr.reply.data = (uintptr_t)rep;
		wr.reply.size = size;
	}
}

static int bpr_serve(struct srv *s, int ready)
{
	__u32 id = s->ch->id;
	struct ep ep;
	int tries;

	if (ep_open(&ep, 0, BPR_AREA_MAX))
		return failf("open and mmap " BPR_DEVICE ": %m");
	/* Ids repeat from one run to the next: wait for a late release. */
	for (tries = 0; ioctl(ep.fd, BPR_IOC_BIND, &id); tries++) {
		if (errno != EADDRINUSE || tries == 200)
			return failf("bind %u: %m", id);
		usleep(10000);
	}
	s->fd = ep.fd;
	s->area = ep.area;
	return serve_loops(s, bpr_serve_loop, ready);
}

static int bpr_connect(struct conn *c)
{
	struct ep ep;

	/* Replies land in the client's own area. */
	if (ep_open(&ep, 0, BPR_AREA_MAX))
		return failf("open and mmap " BPR_DEVICE ": %m");
	c->fd = ep.fd;
	c->area = ep.area;
	memset(&c->wr, 0, sizeof(c->wr));
	return 0;
}

static int bpr_rt(struct conn *c, const __u8 *req, const __u8 **rep,
		  size_t *len)
{
	struct bpr_write_read *wr = &c->wr;
	const struct bpr_message *m = &wr->message;

	/* Free the previous reply and send, the reply coming back: one call. */
	wr->flags = BPR_WR_SEND | (c->held ? BPR_WR_FREE : 0);
	wr->done = 0;
	wr->free_offset = c->held_at;
	wr->send.target = c->ch->id;
	wr->send.data = (uintptr_t)req;
	wr->send.size = c->size;
	while (ioctl(c->fd, BPR_IOC_WRITE_READ, wr))
		if (errno != EINTR)
			return failf("BPR_IOC_WRITE_READ: %m");
	c->held = 0;
	if (wr->write_status)
		return failf("send: %s", strerror(-wr->write_status));
	if (!(m->flags & BPR_MSG_REPLY) ||
	    !in_area(0, BPR_AREA_MAX, m->offset, m->size))
		return failf("bad reply: %llu bytes at %llu, flags %#x",
			     (unsigned long long)m->size,
			     (unsigned long long)m->offset, m->flags);
	c->held = 1;
	c->held_at = m->offset;
	*rep = c->area + m->offset;
	*len = m->size;
	return 0;
}

static int bpr_release(struct conn *c)
{
	if (c->held && ioctl(c->fd, BPR_IOC_FREE, &c->held_at))
		return failf("BPR_IOC_FREE: %m");
	c->held = 0;
	return 0;
}

static void bpr_disconnect(struct conn *c)
{
	munmap(c->area, BPR_AREA_MAX);
	close(c->fd);
}

/* binder ---------------------------------------------------------------- */

/* Commands for one BINDER_WRITE_READ: at most FREE_BUFFER + a transaction. */
struct wbuf {
	__u8 b[128];
	size_t len;
};

static void put_cmd(struct wbuf *w, __u32 cmd, const void *arg, size_t n)
{
	memcpy(w->b + w->len, &cmd, sizeof(cmd));
	if (n)
		memcpy(w->b + w->len + sizeof(cmd), arg, n);
	w->len += sizeof(cmd) + n;
}

/*
 * One BINDER_WRITE_READ: the commands in @w, then a read into @rbuf if
 * @rsize. Returns the bytes read, or -1.
 */
static long binder_io(int fd, const struct wbuf *w, void *rbuf, size_t rsize)
{
	struct binder_write_read bwr = {
		.write_size = w->len,
		.write_buffer = (uintptr_t)w->b,
		.read_size = rsize,
		.read_buffer = (uintptr_t)rbuf,
	};

	/*
	 * An interrupted call wrote back what it consumed, and binder
	 * resumes from there: the same structure goes in again.
	 */
	while (ioctl(fd, BINDER_WRITE_READ, &bwr))
		if (errno != EINTR)
			return failf("BINDER_WRITE_READ: %m");
	if (bwr.write_consumed != bwr.write_size)
		return failf("BINDER_WRITE_READ consumed %llu of %llu bytes",
			     (unsigned long long)bwr.write_consumed,
			     (unsigned long long)bwr.write_size);
	return bwr.read_consumed;
}

/* For the FAIL line: the returns that end a call badly. */
static const char *br_name(__u32 cmd)
{
	return cmd == BR_DEAD_REPLY ? "BR_DEAD_REPLY" :
	       cmd == BR_FAILED_REPLY ? "BR_FAILED_REPLY" :
	       cmd == BR_FROZEN_REPLY ? "BR_FROZEN_REPLY" :
	       cmd == BR_ERROR ? "BR_ERROR" : "unexpected binder return";
}

/*
 * Write the commands in @w, then read until @want (BR_TRANSACTION or
 * BR_REPLY) comes, into @tr. A read can bring only BR_NOOP and a
 * BR_TRANSACTION_COMPLETE: a server's, for its last reply, comes at once;
 * a client's is held back until the reply, except in a thread's first
 * call, which does not wait.
 */
static int binder_wait(int fd, struct wbuf *w, __u32 want,
		       struct binder_transaction_data *tr)
{
	const __u8 *p, *end;
	__u64 rbuf[64];
	__u32 cmd = 0;
	int got = 0;
	long n;

	while (!got) {
		n = binder_io(fd, w, rbuf, sizeof(rbuf));
		if (n < 0)
			return -1;
		w->len = 0;
		/* Each return's argument has the size its _IOR() encodes. */
		end = (const __u8 *)rbuf + n;
		for (p = (const __u8 *)rbuf; p < end;
		     p += sizeof(cmd) + _IOC_SIZE(cmd)) {
			if (end - p < 4)
				return failf("truncated binder return");
			memcpy(&cmd, p, sizeof(cmd));
			if ((size_t)(end - p - 4) < _IOC_SIZE(cmd))
				return failf("short binder return %#x", cmd);
			/* BR_SPAWN_LOOPER: not wanted, but harmless. */
			if (cmd == BR_NOOP || cmd == BR_SPAWN_LOOPER ||
			    cmd == BR_TRANSACTION_COMPLETE)
				continue;
			/* Binder returns one transaction per read at most. */
			if (cmd != want || got++)
				return failf("%s (%#x)", br_name(cmd), cmd);
			memcpy(tr, p + 4, sizeof(*tr));
		}
	}
	return 0;
}

static int binder_chan_init(struct chan *ch)
{
	struct binderfs_device dev = { 0 };
	int fd, ret, err;

	/* One device per server: a device has one context manager. */
	snprintf(dev.name, sizeof(dev.name), "bpr-bench%u", ch->n);
	snprintf(ch->path, sizeof(ch->path), BINDERFS "/%s", dev.name);
	fd = open(BINDERFS "/binder-control", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf("open " BINDERFS "/binder-control: %m");
	ret = ioctl(fd, BINDER_CTL_ADD, &dev);
	err = errno;
	close(fd);
	/* From an earlier run in this boot: reuse it. */
	if (ret && err != EEXIST) {
		errno = err;
		return failf("BINDER_CTL_ADD %s: %m", dev.name);
	}
	return 0;
}

static int binder_serve_loop(struct srv *s)
{
	struct binder_transaction_data tr, rtr = { 0 };
	size_t size = s->job->size;
	__u8 *rep = malloc(size);
	struct wbuf w = { .len = 0 };

	if (!rep)
		return failf("out of memory");
	rtr.data_size = size;
	rtr.data.ptr.buffer = (uintptr_t)rep;
	/* A thread of the server's own making, not one binder asked for. */
	put_cmd(&w, BC_ENTER_LOOPER, NULL, 0);
	for (;;) {
		if (binder_wait(s->fd, &w, BR_TRANSACTION, &tr))
			return -1;
		if ((tr.flags & TF_ONE_WAY) ||
		    !in_area((uintptr_t)s->area, BINDER_AREA,
			     tr.data.ptr.buffer, tr.data_size))
			return failf("bad transaction, flags %#x", tr.flags);
		if (answer((const __u8 *)(uintptr_t)tr.data.ptr.buffer,
			   tr.data_size, size, rep))
			return -1;
		/* Free the request and reply in one write, then read on. */
		put_cmd(&w, BC_FREE_BUFFER, &tr.data.ptr.buffer,
			sizeof(tr.data.ptr.buffer));
		put_cmd(&w, BC_REPLY, &rtr, sizeof(rtr));
	}
}

static int binder_serve(struct srv *s, int ready)
{
	struct binder_version v;
	int zero = 0, tries;
	void *area;

	s->fd = open(s->ch->path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return failf("open %s: %m", s->ch->path);
	if (ioctl(s->fd, BINDER_VERSION, &v) ||
	    v.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION)
		return failf("binder protocol version");
	area = mmap(NULL, BINDER_AREA, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (area == MAP_FAILED)
		return failf("mmap %s: %m", s->ch->path);
	s->area = area;
	/*
	 * A device reused from an earlier run may still have the manager of
	 * a process whose release binder does later, in a workqueue.
	 */
	for (tries = 0; ioctl(s->fd, BINDER_SET_CONTEXT_MGR, &zero); tries++) {
		if (errno != EBUSY || tries == 200)
			return failf("BINDER_SET_CONTEXT_MGR: %m");
		usleep(10000);
	}
	return serve_loops(s, binder_serve_loop, ready);
}

static int binder_connect(struct conn *c)
{
	c->fd = open(c->ch->path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return failf("open %s: %m", c->ch->path);
	c->area = mmap(NULL, BINDER_AREA, PROT_READ, MAP_PRIVATE, c->fd, 0);
	if (c->area == MAP_FAILED)
		return failf("mmap %s: %m", c->ch->path);
	return 0;
}

static int binder_rt(struct conn *c, const __u8 *req, const __u8 **rep,
		     size_t *len)
{
	struct binder_transaction_data tr = {
		.target.handle = 0,	/* the context manager: our server */
		.code = 1,
		.flags = TF_ACCEPT_FDS,
		.data_size = c->size,
		.data.ptr.buffer = (uintptr_t)req,
	};
	struct wbuf w = { .len = 0 };

	/* Free the previous reply and send in one write. */
	if (c->held)
		put_cmd(&w, BC_FREE_BUFFER, &c->held_at, sizeof(c->held_at));
	put_cmd(&w, BC_TRANSACTION, &tr, sizeof(tr));
	c->held = 0;
	if (binder_wait(c->fd, &w, BR_REPLY, &tr))
		return -1;
	if ((tr.flags & TF_STATUS_CODE) ||
	    !in_area((uintptr_t)c->area, BINDER_AREA, tr.data.ptr.buffer,
		     tr.data_size))
		return failf("bad reply, flags %#x", tr.flags);
	c->held = 1;
	c->held_at = tr.data.ptr.buffer;
	*rep = (const __u8 *)(uintptr_t)tr.data.ptr.buffer;
	*len = tr.data_size;
	return 0;
}

static int binder_release(struct conn *c)
{
	struct wbuf w = { .len = 0 };

	if (!c->held)
		return 0;
	put_cmd(&w, BC_FREE_BUFFER, &c->held_at, sizeof(c->held_at));
	c->held = 0;
	return binder_io(c->fd, &w, NULL, 0) < 0 ? -1 : 0;
}

static void binder_disconnect(struct conn *c)
{
	munmap(c->area, BINDER_AREA);
	close(c->fd);
}

/* Mount binderfs, unless it is there already. */
static int binderfs_setup(void)
{
	if (!access(BINDERFS "/binder-control", F_OK))
		return 0;
	if (mkdir(BINDERFS, 0755) && errno != EEXIST)
		return failf("mkdir " BINDERFS ": %m");
	if (mount("binder", BINDERFS, "binder", 0, NULL) && errno != EBUSY)
		return failf("mount binderfs: %m");
	return 0;
}

/* pipe and unix: a byte stream each way, of requests of a known size --- */

/* Bytes read before the end of the stream, or -1. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		done += n;
	}
	return done;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return failf("write: %m");
		done += n;
	}
	return 0;
}

static int pipe_chan_init(struct chan *ch)
{
	int req[2], rep[2];

	if (pipe2(req, O_CLOEXEC))
		return failf("pipe: %m");
	if (pipe2(rep, O_CLOEXEC)) {
		close(req[0]);
		close(req[1]);
		return failf("pipe: %m");
	}
	ch->srv_rd = req[0];
	ch->cli_wr = req[1];
	ch->cli_rd = rep[0];
	ch->srv_wr = rep[1];
	return 0;
}

static int unix_chan_init(struct chan *ch)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return failf("socketpair: %m");
	ch->srv_rd = sv[0];
	ch->srv_wr = sv[0];
	ch->cli_rd = sv[1];
	ch->cli_wr = sv[1];
	return 0;
}

static int stream_serve_loop(struct srv *s)
{
	size_t size = s->job->size;
	__u8 *req = malloc(size), *rep = malloc(size);
	ssize_t n;

	if (!req || !rep)
		return failf("out of memory");
	for (;;) {
		n = read_full(s->ch->srv_rd, req, size);
		if (!n)
			return 0;	/* the client is done */
		if (n < 0)
			return failf("read: %m");
		if (answer(req, n, size, rep) ||
		    write_full(s->ch->srv_wr, rep, size))
			return -1;
	}
}

static int stream_serve(struct srv *s, int ready)
{
	return serve_loops(s, stream_serve_loop, ready);
}

static int stream_connect(struct conn *c)
{
	c->buf = malloc(c->size);
	return c->buf ? 0 : failf("out of memory");
}

static int stream_rt(struct conn *c, const __u8 *req, const __u8 **rep,
		     size_t *len)
{
	ssize_t n;

	/* All of the request first: the server reads it all, then replies. */
	if (write_full(c->ch->cli_wr, req, c->size))
		return -1;
	n = read_full(c->ch->cli_rd, c->buf, c->size);
	if (n < 0)
		return failf("read: %m");
	*rep = c->buf;
	*len = n;
	return 0;
}

static void stream_disconnect(struct conn *c)
{
	free(c->buf);
}

/*
 * page_range and binder come first: the workloads other than rtt and rtt1
 * use only those two, rtt1 adds pipes.
 */
static const struct transport transports[] = {
	{
		.name = "page_range",
		.chan_init = bpr_chan_init,
		.serve = bpr_serve,
		.connect = bpr_connect,
		.rt = bpr_rt,
		.release = bpr_release,
		.disconnect = bpr_disconnect,
	}, {
		.name = "binder",
		.chan_init = binder_chan_init,
		.serve = binder_serve,
		.connect = binder_connect,
		.rt = binder_rt,
		.release = binder_release,
		.disconnect = binder_disconnect,
	}, {
		.name = "pipe",
		.chan_init = pipe_chan_init,
		.serve = stream_serve,
		.connect = stream_connect,
		.rt = stream_rt,
		.disconnect = stream_disconnect,
	}, {
		.name = "unix",
		.chan_init = unix_chan_init,
		.serve = stream_serve,
		.connect = stream_connect,
		.rt = stream_rt,
		.disconnect = stream_disconnect,
	},
};

/* The job runner ---------------------------------------------------------- */

/* What a client reports to the parent: one write, atomic on a pipe. */
struct result {
	__u64 start, end;	/* CLOCK_MONOTONIC, around the timed loop */
	__u64 ns;		/* spent in the transport's round trips */
	__u64 count;		/* timed round trips */
};

/* Run every shrinker: binder's, the driver's, everyone's. */
static int reclaim(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "2\n", 2) == 2;

	if (!ok)
		failf("writing /proc/sys/vm/drop_caches: %m");
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/*
 * One checked round trip. The time counted is the transport's call only:
 * the client's own filling and checking are the same for every transport
 * and would only dilute the difference (the server's are on the path and
 * count).
 */
static int round_trip(const struct job *job, struct conn *c, __u8 *req,
		      __u64 seq, __u64 *ns)
{
	const __u8 *rep;
	size_t len;
	__u64 t0;

	fill_request(req, job->size, seq);
	t0 = now_ns();
	if (job->tp->rt(c, req, &rep, &len))
		return -1;
	if (ns)
		*ns += now_ns() - t0;
	return check_reply(rep, len, job->size, seq);
}

static int client_main(const struct job *job, const struct chan *ch,
		       int idx, int ready, int go, int res)
{
	const struct transport *tp = job->tp;
	struct conn c = { .ch = ch, .size = job->size, .fd = -1 };
	/* Unique among the clients of a server, for the checks. */
	__u64 seq = (__u64)(idx + 1) << 32;
	struct result r = { 0 };
	__u8 *req = malloc(job->size);
	long i;
	char b;

	if (!req) {
		failf("out of memory");
		goto fail;
	}
	if (tp->connect(&c))
		goto fail;
	for (i = 0; i < WARMUP; i++)
		if (round_trip(job, &c, req, ++seq, NULL))
			goto fail;
	/* All clients start together when the parent closes @go. */
	if (write(ready, "r", 1) != 1 || read(go, &b, 1) != 0) {
		failf("start: %m");
		goto fail;
	}
	r.start = now_ns();
	for (i = 0; i < job->iters; i++) {
		/*
		 * Cold: a round trip so that both areas have pages, the
		 * reply freed so that nothing holds them, then every
		 * shrinker; the round trip timed next finds no page.
		 */
		if (job->cold &&
		    (round_trip(job, &c, req, ++seq, NULL) ||
		     (tp->release && tp->release(&c)) || reclaim()))
			goto fail;
		if (round_trip(job, &c, req, ++seq, &r.ns))
			goto fail;
	}
	r.end = now_ns();
	r.count = job->iters;
	tp->disconnect(&c);
	if (write(res, &r, sizeof(r)) != sizeof(r)) {
		failf("result: %m");
		goto fail;
	}
	return 0;
fail:
	printf("bpr: FAIL %s %lu %s client %d: %s\n", job->workload,
	       job->param, tp->name, idx, why);
	return 1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Close the server's and/or the client's ends of @ch. */
static void chan_close(struct chan *ch, int srv, int cli)
{
	if (srv) {
		if (ch->srv_wr == ch->srv_rd)
			ch->srv_wr = -1;
		close_fd(&ch->srv_rd);
		close_fd(&ch->srv_wr);
	}
	if (cli) {
		if (ch->cli_wr == ch->cli_rd)
			ch->cli_wr = -1;
		close_fd(&ch->cli_rd);
		close_fd(&ch->cli_wr);
	}
}

/* Whether a process in @pids ended badly; it stays unreaped. */
static int any_failed(const pid_t *pids, int n)
{
	siginfo_t si;
	int i;

	for (i = 0; i < n; i++) {
		if (!pids[i])
			continue;
		memset(&si, 0, sizeof(si));
		if (!waitid(P_PID, pids[i], &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == pids[i] &&
		    (si.si_code != CLD_EXITED || si.si_status))
			return failf("process %d ended (code %d, status %d)",
				     (int)pids[i], si.si_code, si.si_status);
	}
	return 0;
}

/*
 * Read @len bytes from @fd within @ms, giving up early if a process of
 * @pids fails: a dead client would otherwise cost the whole timeout.
 */
static int wait_read(int fd, void *buf, size_t len, long long ms,
		     const pid_t *pids, int npids)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long end = now_ms() + ms;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (any_failed(pids, npids))
			return -1;
		if (now_ms() > end)
			return failf("timed out");
		n = poll(&p, 1, 200);
		if (n <= 0)
			continue;
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return failf("a process quit early");
		done += n;
	}
	return 0;
}

/*
 * fork() a child that dies with us; stdout is flushed not to print twice.
 * A child of a pinned job runs on CPU 0, and so do its threads.
 */
static int spawn(const struct job *job, pid_t *pid)
{
	cpu_set_t cpus;

	fflush(stdout);
	*pid = fork_helper();
	if (*pid < 0) {
		*pid = 0;
		return failf("fork: %m");
	}
	if (!*pid && job->pin) {
		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
			printf("bpr: FAIL %s %lu %s: sched_setaffinity: %s\n",
			       job->workload, job->param, job->tp->name,
			       strerror(errno));
			_exit(1);
		}
	}
	return 0;
}

/*
 * Run @job: fork its servers, each once it is ready, then its clients,
 * which warm up and start together; add up their results into @sum.
 * Every process is gone on return.
 */
static int run_job(const struct job *job, struct result *sum)
{
	static unsigned int instances;
	int fds[6] = { -1, -1, -1, -1, -1, -1 };
	int *ready = fds, *go = fds + 2, *res = fds + 4;
	pid_t pids[2 * MAX_PROCS] = { 0 }, *srv = pids, *cli = pids + MAX_PROCS;
	struct chan ch[MAX_PROCS];
	int nch = 0, i, j, st, ret = -1;
	struct result r;
	char b;

	memset(sum, 0, sizeof(*sum));
	sum->start = ~0ULL;
	for (nch = 0; nch < job->servers; nch++) {
		ch[nch] = (struct chan){ .n = instances++, .srv_rd = -1,
			.srv_wr = -1, .cli_rd = -1, .cli_wr = -1 };
		if (job->tp->chan_init(&ch[nch]))
			goto out;
	}
	for (i = 0; i < job->servers; i++) {
		if (pipe2(ready, O_CLOEXEC)) {
			failf("pipe: %m");
			goto out;
		}
		if (spawn(job, &srv[i]))
			goto out;
		if (!srv[i]) {
			struct srv s = { .job = job, .ch = &ch[i], .fd = -1 };

			close(ready[0]);
			for (j = 0; j < nch; j++)
				chan_close(&ch[j], j != i, 1);
			if (job->tp->serve(&s, ready[1]))
				server_exit(job);
			fflush(stdout);
			_exit(0);
		}
		close_fd(&ready[1]);
		if (wait_read(ready[0], &b, 1, READY_MS, srv, i + 1))
			goto out;
		close_fd(&ready[0]);
	}

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC) ||
	    pipe2(res, O_CLOEXEC)) {
		failf("pipe: %m");
		goto out;
	}
	for (i = 0; i < job->clients; i++) {
		if (spawn(job, &cli[i]))
			goto out;
		if (!cli[i]) {
			int k = i % job->servers;

			close(ready[0]);
			close(go[1]);
			close(res[0]);
			for (j = 0; j < nch; j++)
				chan_close(&ch[j], 1, j != k);
			st = client_main(job, &ch[k], i, ready[1], go[0],
					 res[1]);
			fflush(stdout);
			_exit(st);
		}
	}
	/* Only the clients hold these now: EOF if they all die. */
	close_fd(&ready[1]);
	close_fd(&res[1]);
	for (j = 0; j < nch; j++)
		chan_close(&ch[j], 1, 1);
	for (i = 0; i < job->clients; i++)
		if (wait_read(ready[0], &b, 1, READY_MS, pids, 2 * MAX_PROCS))
			goto out;
	close_fd(&go[1]);		/* go */

	for (i = 0; i < job->clients; i++) {
		if (wait_read(res[0], &r, sizeof(r), JOB_MS, pids,
			      2 * MAX_PROCS))
			goto out;
		sum->ns += r.ns;
		sum->count += r.count;
		if (r.start < sum->start)
			sum->start = r.start;
		if (r.end > sum->end)
			sum->end = r.end;
	}
	for (i = 0; i < job->clients; i++) {
		st = reap(cli[i], 30000);
		cli[i] = 0;
		if (st) {
			failf("client %d exited with %d", i, st);
			goto out;
		}
	}
	/* A page_range or binder server waits for more until it is told. */
	for (i = 0; i < job->servers; i++) {
		kill(srv[i], SIGTERM);
		st = reap(srv[i], 30000);
		srv[i] = 0;
		if (st && st != 256 + SIGTERM) {
			failf("server %d exited with %d", i, st);
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < 2 * MAX_PROCS; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	}
	for (i = 0; i < 6; i++)
		close_fd(&fds[i]);
	for (j = 0; j < nch; j++)
		chan_close(&ch[j], 1, 1);
	return ret;
}

/*
 * Run @job over its transports, in an order rotated by @round so that
 * none always goes first, and print a line for each.
 */
static void measure(struct job *job, int round)
{
	unsigned long long value;
	struct result r;
	int t;

	for (t = 0; t < job->ntp; t++) {
		job->tp = &transports[(round + t) % job->ntp];
		if (run_job(job, &r)) {
			printf("bpr: FAIL %s %lu %s: %s\n", job->workload,
			       job->param, job->tp->name, why);
			exit(1);
		}
		if (!strcmp(job->unit, "ns"))
			value = r.ns / r.count;
		else
			value = r.count * 1000000000ULL / (r.end - r.start);
		printf("bpr: %s %lu %s %d %llu %s\n", job->workload,
		       job->param, job->tp->name, round, value, job->unit);
		/*
		 * Both drivers tear an area down in a workqueue after the
		 * last close: let that pass rather than land in the next
		 * measurement.
		 */
		usleep(SETTLE_US);
	}
}

/* Whether @workload is in the comma-separated @list (all, if none). */
static int wanted(const char *list, const char *workload)
{
	size_t n = strlen(workload);
	const char *p;

	if (!list || !*list)
		return 1;
	for (p = list; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (!strncmp(p, workload, n) && (p[n] == ',' || !p[n]))
			return 1;
	}
	return 0;
}

static void on_alarm(int sig)
{
	static const char msg[] = "bpr: FAIL timeout\n";

	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/*
 * A round, in order. The iterations are a full run's, chosen for a few
 * minutes in all under QEMU's TCG; pairs, fanin and cold use page_range
 * and binder only (the first two transports).
 */
static const struct job jobs[] = {
	/* workload param unit ntp servers clients threads size iters cold pin */
	{ "rtt", 8, "ns", 4, 1, 1, 1, 8, 2000 },
	{ "rtt", 128, "ns", 4, 1, 1, 1, 128, 2000 },
	{ "rtt", 4096, "ns", 4, 1, 1, 1, 4096, 2000 },
	{ "rtt", 65536, "ns", 4, 1, 1, 1, 65536, 300 },
	{ "rtt", 1 << 20, "ns", 4, 1, 1, 1, 1 << 20, 40 },
	{ "rtt1", 8, "ns", 3, 1, 1, 1, 8, 2000, 0, 1 },
	{ "rtt1", 4096, "ns", 3, 1, 1, 1, 4096, 2000, 0, 1 },
	{ "rtt1", 65536, "ns", 3, 1, 1, 1, 65536, 300, 0, 1 },
	{ "rtt1", 1 << 20, "ns", 3, 1, 1, 1, 1 << 20, 40, 0, 1 },
	{ "pairs", 1, "rt/s", 2, 1, 1, 1, 4096, 1000 },
	{ "pairs", 2, "rt/s", 2, 2, 2, 1, 4096, 1000 },
	{ "pairs", 4, "rt/s", 2, 4, 4, 1, 4096, 1000 },
	{ "fanin", 4, "rt/s", 2, 1, 4, 2, 4096, 1000 },
	{ "cold", 65536, "ns", 2, 1, 1, 1, 65536, 10, 1 },
};

int main(int argc, char **argv)
{
	const char *env = getenv("BPR_BENCH_QUICK");
	const char *only = getenv("BPR_BENCH_ONLY");
	int quick, rounds = 5, round;
	struct bpr_version v;
	struct job job;
	struct ep ep;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		rounds = atoi(argv[1]);
	quick = (argc > 2 && !strcmp(argv[2], "quick")) ||
		(env && !strcmp(env, "1"));
	if (rounds < 1 || argc > 3) {
		printf("bpr: FAIL usage: %s [rounds [quick]]\n", argv[0]);
		return 1;
	}
	/* A failed write to a dead peer is an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The last resort against a hang, per round so that a long run is
	 * not cut short: the children die with us (fork_helper() sets
	 * PR_SET_PDEATHSIG).
	 */
	signal(SIGALRM, on_alarm);
	alarm(ROUND_TIMEOUT * (rounds > 2 ? rounds : 2));

	/* The parent holds no device file while it forks: closed at once. */
	if (ep_open(&ep, 0, 0) || ioctl(ep.fd, BPR_IOC_VERSION, &v)) {
		printf("bpr: FAIL " BPR_DEVICE ": %s (module loaded?)\n",
		       strerror(errno));
		return 1;
	}
	ep_close(&ep);
	if (binderfs_setup()) {
		printf("bpr: FAIL %s\n", why);
		return 1;
	}
	printf("# bpr_bench: %d round(s)%s, page_range ABI %u\n", rounds,
	       quick ? ", quick (iterations / 10)" : "", v.version);

	for (round = 1; round <= rounds; round++) {
		printf("# round %d of %d\n", round, rounds);
		for (i = 0; i < ARRAY_SIZE(jobs); i++) {
			job = jobs[i];
			if (!wanted(only, job.workload))
				continue;
			if (quick)
				job.iters = job.iters / 10 ? job.iters / 10 : 1;
			measure(&job, round);
		}
	}
	printf("# bpr_bench: all runs and checks passed\n");
	return 0;
}
