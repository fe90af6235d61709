// SPDX-License-Identifier: GPL-2.0
/*
 * binder_test: upstream binder, driven through its uapi by processes on
 * binderfs devices of their own, with the kernel's kselftest harness.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 *
 * Everything binder.c does with a transaction's data goes through its
 * allocator: it carves a buffer out of the receiver's mapping in the
 * sender's call; copies the data, the offsets and the scatter-gather
 * buffers in; fixes objects up inside it (handles, parent pointers, and
 * file descriptors, some only when the receiver reads); reads objects
 * back out to release them; frees the buffer on BC_FREE_BUFFER, on a
 * failed transaction or with a dead process; holds oneway buffers to half
 * of the mapping; lets the shrinker take the pages of free buffers; and
 * shows all of it in debugfs. These cases exercise each of those uses and
 * check every byte that comes out, so that binder_alloc.c with the page
 * range as its page layer is held to what stock binder does, on which
 * the same cases pass.
 *
 * The cases:
 *	round_trips		two clients, a server, 0 to 200 KiB each way
 *	oneway_flood		2000 oneway transactions: all, in order
 *	async_space		oneway space: half the mapping, to the byte
 *	node_object		BINDER_TYPE_BINDER, a call back to the node
 *	fd_objects		BINDER_TYPE_FD both ways, and refused
 *	sg_buffers		BC_TRANSACTION_SG: buffers, fixups, fd array
 *	server_killed		a server dies holding a call: BR_DEAD_REPLY
 *	client_killed		a client dies: its reply goes nowhere
 *	dead_procs_vanish	dead processes leave binder with their buffers
 *	memory_pressure		round trips while memory is taken and reclaimed
 *	shrinker_reclaim	every free page reclaimed, then mapped again
 *	debugfs_during_traffic	binder's debugfs files read during traffic
 *	bad_free		frees that binder must refuse
 *
 * Run as root with debugfs at /sys/kernel/debug. binderfs is mounted at
 * /dev/binderfs unless it is there; every case adds a device of its own
 * and unlinks it at the end. Every wait is bounded: a kernel that loses
 * a transaction fails the case instead of hanging it. The global count
 * of dead_procs_vanish is checked only if no other binder process runs.
 *
 * For a kernel without binderfs, such as one whose binder module was
 * loaded with devices=binder, BINDER_TEST_DEVICE (set and not empty)
 * names a binder device node, /dev/binder say, and every case runs on
 * it: binderfs is not touched, nothing is added or unlinked. The cases
 * take the device in turn, and with it its one context manager, which a
 * case's server may find still held by the last case's for a moment
 * (see bt_manager()). The device's context in binder's debugfs is named
 * as the device is: the last part of the path, symbolic links followed.
 * No case is skipped there. None needs more of binderfs than a device:
 * binder's debugfs files are the same global ones with binderfs, and
 * the cases find their own processes in them by pid and context.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/android/binder.h>
#include <linux/android/binderfs.h>

#include "kselftest_harness.h"

#define BINDERFS	"/dev/binderfs"
#define DEVICE_ENV	"BINDER_TEST_DEVICE"	/* a shared device instead */
#define DEBUGFS		"/sys/kernel/debug/binder"
#define MAP_SIZE	(1024 * 1024)	/* every process's mapping */
#define ASYNC_SPACE	(MAP_SIZE / 2)	/* binder's budget for oneway */
#define STEP_MS		30000		/* one step, on a slow (TCG) VM */
#define IDLE_MS		(4 * STEP_MS)	/* a server or helper between steps */
#define GONE_MS		5000		/* for a dead process to leave binder */
#define BIG		(200 * 1024 + 3)	/* the largest echo request */
#define ANSWER_HDR	16		/* see answer() */
#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

/*
 * Transaction codes. An echo request's code is its sequence number,
 * which stays below these.
 */
enum {
	BT_QUIT = 0x40000000,	/* the echo server answers its count, ends */
	BT_FLOOD,		/* oneway_flood */
	BT_FILL,		/* async_space */
	BT_NODE,		/* node_object: carries the client's node */
	BT_CALLBACK,		/* node_object: the server calls that node */
	BT_FD,			/* fd_objects: carries a memfd */
	BT_FD_REFUSED,		/* fd_objects: a call that takes no fds */
	BT_SG,			/* sg_buffers */
};

/* Why the last step of this thread failed, for the log. */
static __thread char why[512];

static __printf(1, 2) int failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Put what the caller was doing in front of why a step below failed. */
static __printf(1, 2) int failp(const char *fmt, ...)
{
	char tail[sizeof(why)];
	va_list ap;
	int n;

	memcpy(tail, why, sizeof(tail));
	va_start(ap, fmt);
	n = vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(why))
		snprintf(why + n, sizeof(why) - n, ": %s", tail);
	return -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The data ------------------------------------------------------------ */

static __u64 mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * Pattern @seed: word k is a hash of (seed, k), so that a byte copied to
 * the wrong place, from the wrong transaction or from a stale page shows.
 */
static __u64 pat_word(__u64 seed, size_t k)
{
	return mix64(seed * 0x9e3779b97f4a7c15ULL + k);
}

static void pat_fill(void *buf, size_t len, __u64 seed)
{
	__u8 *p = buf;
	size_t k, n;
	__u64 w;

	for (k = 0; k * 8 < len; k++) {
		w = pat_word(seed, k);
		n = len - k * 8 < 8 ? len - k * 8 : 8;
		memcpy(p + k * 8, &w, n);
	}
}

/* The first offset where @got and @want differ, or -1. */
static long cmp_bytes(const void *got, const void *want, size_t len)
{
	const __u8 *g = got, *w = want;
	size_t i;

	if (!memcmp(g, w, len))
		return -1;
	for (i = 0; g[i] == w[i]; i++)
		continue;
	return i;
}

/* The first offset where @len bytes at @p are not pattern @seed, or -1. */
static long pat_diff(const void *p, size_t len, __u64 seed)
{
	const __u8 *b = p;
	size_t k, n;
	long bad;
	__u64 w;

	for (k = 0; k * 8 < len; k++) {
		w = pat_word(seed, k);
		n = len - k * 8 < 8 ? len - k * 8 : 8;
		bad = cmp_bytes(b + k * 8, &w, n);
		if (bad >= 0)
			return k * 8 + bad;
	}
	return -1;
}

static __u64 csum(const void *buf, size_t len)
{
	const __u8 *p = buf;
	__u64 h = 0xcbf29ce484222325ULL, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		h = mix64(h ^ w);
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return mix64(h ^ len);
}

/*
 * The answer to @len bytes at @req under @code, into @rep: a header (the
 * code folded, the checksum of the request), then the request backwards,
 * each byte xor 0x5a. Only a receiver that saw every byte can build it,
 * and its length differs from the request's.
 */
static size_t answer(__u32 code, const __u8 *req, size_t len, __u8 *rep)
{
	__u64 hdr[2] = { code ^ 0x5a5a5a5a5a5a5a5aULL, csum(req, len) };
	size_t i;

	memcpy(rep, hdr, sizeof(hdr));
	for (i = 0; i < len; i++)
		rep[ANSWER_HDR + i] = req[len - 1 - i] ^ 0x5a;
	return ANSWER_HDR + len;
}

static int answer_check(__u32 code, const __u8 *req, size_t len,
			const __u8 *rep, size_t rlen)
{
	__u64 hdr[2] = { code ^ 0x5a5a5a5a5a5a5a5aULL, csum(req, len) };
	size_t i;

	if (rlen != ANSWER_HDR + len)
		return failf("answer of %zu bytes to %zu", rlen, len);
	if (memcmp(rep, hdr, sizeof(hdr)))
		return failf("answer header wrong");
	for (i = 0; i < len; i++)
		if (rep[ANSWER_HDR + i] != (req[len - 1 - i] ^ 0x5a))
			return failf("answer byte %zu of %zu wrong", i, len);
	return 0;
}

/* Pipes and processes --------------------------------------------------- */

/* Read @len bytes from @fd within @ms: 0, or -1 (timeout, EOF, error). */
static int pipe_read(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long end = now_ms() + ms;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (now_ms() > end)
			return failf("timed out reading a pipe");
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return failf("pipe: %m");
		if (!n)
			return failf("pipe closed: the other side ended");
		done += n;
	}
	return 0;
}

static int pipe_write(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		return failf("pipe write: %m");
	return 0;
}

/*
 * Whether the other side said stop within @ms: a byte it wrote and that
 * nobody reads, so that every process polling @fd sees it.
 */
static int stopped(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * Run @fn(@arg) in a child that dies with the calling thread, so that a
 * failed ASSERT or the harness's timeout leaves nothing behind. It exits
 * 0 if @fn returned 0, else 1 after saying why. The stdio buffers are
 * flushed first: fork() would copy them.
 */
static pid_t spawn(const char *name, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(2);
	if (fn(arg)) {
		fprintf(stderr, "# %s (pid %d): %s\n", name, getpid(), why);
		_exit(1);
	}
	_exit(0);
}

/*
 * Spawn @fn, which writes a byte to *@ready (a pipe made here) once it
 * serves, and wait for that byte. Returns the pid, or -1.
 */
static pid_t start(const char *name, int (*fn)(void *), void *arg,
		   int *ready)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return failf("pipe: %m");
	*ready = p[1];
	pid = spawn(name, fn, arg);
	close(p[1]);
	*ready = -1;
	if (pid < 0) {
		close(p[0]);
		return failf("fork: %m");
	}
	if (pipe_read(p[0], &c, 1, STEP_MS)) {
		close(p[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return failp("%s is not ready", name);
	}
	close(p[0]);
	return pid;
}

/*
 * Wait up to @ms for @pid: its exit code, 256 + the signal that ended it,
 * or -1 if it had to be killed.
 */
static int reap(pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	int status;
	pid_t ret;

	while (!(ret = waitpid(pid, &status, WNOHANG))) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		usleep(5000);
	}
	if (ret != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	       256 + WTERMSIG(status);
}

/* Binder ---------------------------------------------------------------- */

#define BR(x)	{ x, #x }
static const struct {
	__u32 cmd;
	const char *name;
} br_names[] = {
	BR(BR_ERROR), BR(BR_OK), BR(BR_TRANSACTION_SEC_CTX),
	BR(BR_TRANSACTION), BR(BR_REPLY), BR(BR_ACQUIRE_RESULT),
	BR(BR_DEAD_REPLY), BR(BR_TRANSACTION_COMPLETE), BR(BR_INCREFS),
	BR(BR_ACQUIRE), BR(BR_RELEASE), BR(BR_DECREFS),
	BR(BR_ATTEMPT_ACQUIRE), BR(BR_NOOP), BR(BR_SPAWN_LOOPER),
	BR(BR_FINISHED), BR(BR_DEAD_BINDER),
	BR(BR_CLEAR_DEATH_NOTIFICATION_DONE), BR(BR_FAILED_REPLY),
	BR(BR_FROZEN_REPLY), BR(BR_ONEWAY_SPAM_SUSPECT),
};

#undef BR

static const char *br_name(__u32 cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(br_names); i++)
		if (br_names[i].cmd == cmd)
			return br_names[i].name;
	return "unknown binder return";
}

enum { REF_INCREFS, REF_ACQUIRE, REF_RELEASE, REF_DECREFS, REF_EVENTS };

/*
 * One thread's end of a binder file. Binder knows a thread by its task,
 * so every thread that talks to binder has one; they share the file and
 * the process's mapping. The file is O_NONBLOCK, and bt_next() polls
 * before it reads, within a time limit.
 */
struct bt {
	int fd;
	const __u8 *area;
	__u8 wb[256];		/* commands for the next BINDER_WRITE_READ */
	size_t wlen;
	__u8 rb[256];		/* returns read and not yet taken */
	size_t rlen, rpos;
	/* Reference events on nodes of this process, answered as they come. */
	int refs[REF_EVENTS];
	struct binder_ptr_cookie ref_node;	/* the last one's node */
	int ref_nodes;		/* changes of node, counting the first */
};

static int bt_open(struct bt *b, const char *path)
{
	struct binder_version v = { 0 };
	void *area;

	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (b->fd < 0)
		return failf("open %s: %m", path);
	if (ioctl(b->fd, BINDER_VERSION, &v))
		return failf("BINDER_VERSION: %m");
	if (v.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION)
		return failf("binder protocol %d, not %d", v.protocol_version,
			     BINDER_CURRENT_PROTOCOL_VERSION);
	area = mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, b->fd, 0);
	if (area == MAP_FAILED)
		return failf("mmap %s: %m", path);
	b->area = area;
	return 0;
}

/* Another thread's end of the file that @b opened. */
static void bt_thread(struct bt *t, const struct bt *b)
{
	memset(t, 0, sizeof(*t));
	t->fd = b->fd;
	t->area = b->area;
}

static void bt_close(struct bt *b)
{
	munmap((void *)b->area, MAP_SIZE);
	close(b->fd);
}

static void bt_put(struct bt *b, __u32 cmd, const void *arg, size_t len)
{
	/* A mistake of the test's, not the kernel's: stop there. */
	if (b->wlen + sizeof(cmd) + len > sizeof(b->wb))
		abort();
	memcpy(b->wb + b->wlen, &cmd, sizeof(cmd));
	if (len)
		memcpy(b->wb + b->wlen + sizeof(cmd), arg, len);
	b->wlen += sizeof(cmd) + len;
}

/*
 * One BINDER_WRITE_READ: the commands queued, then (if @rd) whatever is
 * there to read. Returns the bytes read, 0 if there was nothing after all
 * (another thread took it), or -1.
 */
static long bt_io(struct bt *b, int rd)
{
	struct binder_write_read bwr = {
		.write_size = b->wlen,
		.write_buffer = (uintptr_t)b->wb,
		.read_size = rd ? sizeof(b->rb) : 0,
		.read_buffer = (uintptr_t)b->rb,
	};
	int ret;

	/* Interrupted, binder wrote back what it took: go on from there. */
	do
		ret = ioctl(b->fd, BINDER_WRITE_READ, &bwr);
	while (ret && errno == EINTR);
	if (ret && errno != EAGAIN)
		return failf("BINDER_WRITE_READ: %m");
	if (bwr.write_consumed != bwr.write_size)
		return failf("BINDER_WRITE_READ took %llu of %llu bytes",
			     bwr.write_consumed, bwr.write_size);
	b->wlen = 0;
	return ret ? 0 : (long)bwr.read_consumed;
}

static int bt_flush(struct bt *b)
{
	return bt_io(b, 0) < 0 ? -1 : 0;
}

static int is_ref_event(__u32 cmd)
{
	return cmd == BR_INCREFS || cmd == BR_ACQUIRE || cmd == BR_RELEASE ||
	       cmd == BR_DECREFS;
}

static void bt_ref_event(struct bt *b, __u32 cmd,
			 const struct binder_ptr_cookie *pc)
{
	b->refs[cmd == BR_INCREFS ? REF_INCREFS :
		cmd == BR_ACQUIRE ? REF_ACQUIRE :
		cmd == BR_RELEASE ? REF_RELEASE : REF_DECREFS]++;
	if (!b->ref_nodes || memcmp(&b->ref_node, pc, sizeof(*pc)))
		b->ref_nodes++;
	b->ref_node = *pc;
	/* Binder keeps a reference on the node until it hears back. */
	if (cmd == BR_INCREFS)
		bt_put(b, BC_INCREFS_DONE, pc, sizeof(*pc));
	else if (cmd == BR_ACQUIRE)
		bt_put(b, BC_ACQUIRE_DONE, pc, sizeof(*pc));
}

/*
 * The next return within @ms, BR_NOOP and BR_SPAWN_LOOPER aside, with its
 * argument in @tr (big enough for any we take). Reference events are
 * answered and counted, and returned too.
 */
static int bt_next_raw(struct bt *b, __u32 *cmd,
		       struct binder_transaction_data *tr, int ms)
{
	struct pollfd p = { .fd = b->fd, .events = POLLIN };
	long long end = now_ms() + ms;
	const __u8 *arg;
	long long left;
	size_t n;
	long got;

	for (;;) {
		while (b->rpos < b->rlen) {
			if (b->rlen - b->rpos < sizeof(*cmd))
				return failf("truncated binder return");
			memcpy(cmd, b->rb + b->rpos, sizeof(*cmd));
			/* Each return's argument has the size _IOR() says. */
			n = _IOC_SIZE(*cmd);
			if (b->rlen - b->rpos - sizeof(*cmd) < n)
				return failf("short %s", br_name(*cmd));
			arg = b->rb + b->rpos + sizeof(*cmd);
			b->rpos += sizeof(*cmd) + n;
			if (*cmd == BR_NOOP || *cmd == BR_SPAWN_LOOPER)
				continue;
			if (n > sizeof(*tr))
				return failf("%s: %zu bytes", br_name(*cmd), n);
			memcpy(tr, arg, n);
			if (is_ref_event(*cmd))
				bt_ref_event(b, *cmd, (void *)tr);
			return 0;
		}
		/*
		 * The commands first; then a read only once poll() says
		 * there is something: binder logs every read that fails
		 * with EAGAIN.
		 */
		if (b->wlen && bt_flush(b))
			return -1;
		left = end - now_ms();
		if (left <= 0)
			return failf("nothing from binder in %d ms", ms);
		if (poll(&p, 1, left) <= 0)
			continue;
		got = bt_io(b, 1);
		if (got < 0)
			return -1;
		b->rlen = got;
		b->rpos = 0;
	}
}

/* The next return other than a reference event. */
static int bt_next(struct bt *b, __u32 *cmd,
		   struct binder_transaction_data *tr, int ms)
{
	long long end = now_ms() + ms;

	do {
		if (bt_next_raw(b, cmd, tr, end - now_ms()))
			return -1;
	} while (is_ref_event(*cmd));
	return 0;
}

static int in_area(const struct bt *b, __u64 addr, __u64 len)
{
	__u64 base = (uintptr_t)b->area;

	return addr >= base && len <= MAP_SIZE && addr - base <= MAP_SIZE - len;
}

static const __u8 *txn_data(const struct binder_transaction_data *tr)
{
	return (const __u8 *)(uintptr_t)tr->data.ptr.buffer;
}

static const binder_size_t *txn_offsets(const struct binder_transaction_data *tr)
{
	return (const binder_size_t *)(uintptr_t)tr->data.ptr.offsets;
}

/*
 * A transaction or reply received: its data lies in our area, and its
 * offsets right after the data, where binder puts them.
 */
static int txn_check(const struct bt *b,
		     const struct binder_transaction_data *tr)
{
	if (!in_area(b, tr->data.ptr.buffer, tr->data_size))
		return failf("%llu bytes at %#llx, outside the area",
			     tr->data_size, tr->data.ptr.buffer);
	if (tr->offsets_size &&
	    (tr->data.ptr.offsets !=
	     tr->data.ptr.buffer + ALIGN8(tr->data_size) ||
	     !in_area(b, tr->data.ptr.offsets, tr->offsets_size)))
		return failf("offsets at %#llx, data at %#llx",
			     tr->data.ptr.offsets, tr->data.ptr.buffer);
	return 0;
}

static void bt_free(struct bt *b, binder_uintptr_t buffer)
{
	bt_put(b, BC_FREE_BUFFER, &buffer, sizeof(buffer));
}

/* Queue transaction or reply @tr, with @sg bytes of buffers if not 0. */
static void bt_put_txn(struct bt *b, int reply,
		       const struct binder_transaction_data *tr, __u64 sg)
{
	struct binder_transaction_data_sg tsg = {
		.transaction_data = *tr,
		.buffers_size = sg,
	};

	if (sg)
		bt_put(b, reply ? BC_REPLY_SG : BC_TRANSACTION_SG, &tsg,
		       sizeof(tsg));
	else
		bt_put(b, reply ? BC_REPLY : BC_TRANSACTION, tr, sizeof(*tr));
}

/*
 * A two-way call @tr and binder's answer: *@ret is its last return,
 * BR_REPLY (into @rep) or an error; *@tcs counts the
 * BR_TRANSACTION_COMPLETE before it, which binder holds back until the
 * reply once the call got through.
 */
static int bt_call(struct bt *b, const struct binder_transaction_data *tr,
		   __u64 sg, struct binder_transaction_data *rep, __u32 *ret,
		   int *tcs)
{
	bt_put_txn(b, 0, tr, sg);
	for (*tcs = 0;; ++*tcs) {
		if (bt_next(b, ret, rep, STEP_MS))
			return failp("call %#x", tr->code);
		if (*ret != BR_TRANSACTION_COMPLETE)
			break;
	}
	if (*ret != BR_REPLY && *ret != BR_DEAD_REPLY &&
	    *ret != BR_FAILED_REPLY && *ret != BR_FROZEN_REPLY)
		return failf("call %#x: %s instead of a reply", tr->code,
			     br_name(*ret));
	/* Answers to reference events that came with the reply. */
	return b->wlen ? bt_flush(b) : 0;
}

/* A call that must get through and be answered. */
static int bt_call_ok(struct bt *b, const struct binder_transaction_data *tr,
		      __u64 sg, struct binder_transaction_data *rep)
{
	__u32 ret;
	int tcs;

	if (bt_call(b, tr, sg, rep, &ret, &tcs))
		return -1;
	if (ret != BR_REPLY || tcs != 1)
		return failf("call %#x: %s after %d BR_TRANSACTION_COMPLETE",
			     tr->code, br_name(ret), tcs);
	if (rep->flags & TF_STATUS_CODE)
		return failf("call %#x: a status reply", tr->code);
	return txn_check(b, rep);
}

/* A oneway transaction: *@ret is BR_TRANSACTION_COMPLETE or an error. */
static int bt_oneway(struct bt *b, const struct binder_transaction_data *tr,
		     __u32 *ret)
{
	struct binder_transaction_data t = *tr, arg;

	t.flags |= TF_ONE_WAY;
	bt_put_txn(b, 0, &t, 0);
	return bt_next(b, ret, &arg, STEP_MS);
}

/* A reply: binder tells the replier BR_TRANSACTION_COMPLETE, only that. */
static int bt_reply(struct bt *b, const struct binder_transaction_data *tr,
		    __u64 sg)
{
	struct binder_transaction_data arg;
	__u32 ret;

	bt_put_txn(b, 1, tr, sg);
	if (bt_next(b, &ret, &arg, STEP_MS))
		return failp("reply");
	if (ret != BR_TRANSACTION_COMPLETE)
		return failf("reply: %s", br_name(ret));
	return 0;
}

static int bt_wait_txn(struct bt *b, struct binder_transaction_data *tr,
		       int ms)
{
	__u32 ret;

	if (bt_next(b, &ret, tr, ms))
		return -1;
	if (ret != BR_TRANSACTION)
		return failf("%s instead of a transaction", br_name(ret));
	return txn_check(b, tr);
}

static int bt_ext_error(struct bt *b, struct binder_extended_error *ee)
{
	memset(ee, 0, sizeof(*ee));
	if (ioctl(b->fd, BINDER_GET_EXTENDED_ERROR, ee))
		return failf("BINDER_GET_EXTENDED_ERROR: %m");
	return 0;
}

/*
 * Become the context manager (handle 0 of everyone else), and a looper.
 * A device has one, and binder lets go of a manager that died only in
 * the deferred release of its process (binder_deferred_release(), on a
 * workqueue), which may not have run yet: EBUSY until then. That is the
 * first server of server_killed, and on a shared device the manager of
 * the case before, whose processes were reaped or killed just now. Each
 * EBUSY has binder log "BINDER_SET_CONTEXT_MGR already set".
 */
static int bt_manager(struct bt *b, int accept_fds)
{
	struct flat_binder_object obj = {
		.flags = FLAT_BINDER_FLAG_ACCEPTS_FDS,
	};
	const char *cmd = accept_fds ? "BINDER_SET_CONTEXT_MGR_EXT" :
				       "BINDER_SET_CONTEXT_MGR";
	long long start = now_ms();
	int zero = 0, ret, tries;

	for (tries = 1;; tries++) {
		if (accept_fds)
			ret = ioctl(b->fd, BINDER_SET_CONTEXT_MGR_EXT, &obj);
		else
			ret = ioctl(b->fd, BINDER_SET_CONTEXT_MGR, &zero);
		if (!ret)
			break;
		if (errno != EBUSY)
			return failf("%s: %m", cmd);
		if (now_ms() - start > GONE_MS)
			return failf("%s: the device still has a manager after %lld ms, %d tries",
				     cmd, now_ms() - start, tries);
		usleep(10000);
	}
	bt_put(b, BC_ENTER_LOOPER, NULL, 0);
	return bt_flush(b);
}

/* debugfs ---------------------------------------------------------------- */

/* All of @path, NUL-terminated, malloc()ed; NULL if it cannot be read. */
static char *slurp(const char *path)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap), *more;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf) {
		failf("open %s: %m", path);
		goto fail;
	}
	for (;;) {
		if (cap - len < 4096) {
			more = realloc(buf, cap * 2);
			if (!more) {
				failf("out of memory");
				goto fail;
			}
			buf = more;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			failf("read %s: %m", path);
			goto fail;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = 0;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/*
 * The section of process @pid in binder's state or stats @text: from the
 * line after "proc <pid>" to the next line that starts with "proc ".
 */
static const char *proc_section(const char *text, int pid, const char **end)
{
	const char *p = text, *e;
	char head[32];
	int n = snprintf(head, sizeof(head), "proc %d\n", pid);

	while ((p = strstr(p, head)) && p != text && p[-1] != '\n')
		p += n;
	if (!p)
		return NULL;
	p += n;
	e = strstr(p - 1, "\nproc ");
	*end = e ? e + 1 : p + strlen(p);
	return p;
}

/* The first line in [@p, @end) that starts with @prefix, or NULL. */
static const char *find_line(const char *p, const char *end,
			     const char *prefix)
{
	size_t len = strlen(prefix);

	while (p && p < end) {
		if (!strncmp(p, prefix, len))
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int count_lines(const char *p, const char *end, const char *prefix)
{
	int n = 0;

	while ((p = find_line(p, end, prefix))) {
		n++;
		p += strlen(prefix);
	}
	return n;
}

/* binder_alloc_print_allocated() prints a line per allocated buffer. */
#define BUFFER_LINE	"  buffer "

/*
 * Whether @text lists a buffer at offset @off of its area, of @data bytes
 * of data, @offs of offsets and @extra of extra buffers.
 */
static int has_buffer(const char *text, unsigned long off, size_t data,
		      size_t offs, size_t extra)
{
	const char *p = text;
	size_t d, f, e;
	unsigned long o;
	int id;

	while ((p = find_line(p, p + strlen(p), BUFFER_LINE))) {
		if (sscanf(p, BUFFER_LINE "%d: %lx size %zu:%zu:%zu", &id, &o,
			   &d, &f, &e) == 5 && o == off && d == data &&
		    f == offs && e == extra)
			return 1;
		p++;
	}
	return 0;
}

static char *proc_file(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), DEBUGFS "/proc/%d", pid);
	return slurp(path);
}

/* Buffers that binder's proc/<pid> lists: -1 if it cannot be read. */
static int proc_buffers(int pid)
{
	char *text = proc_file(pid);
	int n;

	if (!text)
		return -1;
	n = count_lines(text, text + strlen(text), BUFFER_LINE);
	free(text);
	return n;
}

/*
 * Buffers of @pid in binder's state: -1 if the state does not list the
 * process, -2 if it cannot be read.
 */
static int state_buffers(int pid)
{
	char *text = slurp(DEBUGFS "/state");
	const char *sec, *end;
	int n = -1;

	if (!text)
		return -2;
	sec = proc_section(text, pid, &end);
	if (sec)
		n = count_lines(sec, end, BUFFER_LINE);
	free(text);
	return n;
}

/* Wait for binder's state to stop listing @pid, a dead process. */
static int wait_gone(int pid)
{
	long long end = now_ms() + GONE_MS;
	int n;

	while ((n = state_buffers(pid)) != -1) {
		if (n == -2)
			return -1;
		if (now_ms() > end)
			return failf("process %d still listed %d ms after its death",
				     pid, GONE_MS);
		usleep(20000);
	}
	return 0;
}

/* The number after @key on its line in [@sec, @end), or -1. */
static long long sec_value(const char *sec, const char *end, const char *key)
{
	const char *line = find_line(sec, end, key);

	return line ? strtoll(line + strlen(key), NULL, 10) : -1;
}

/* The number after @key in @pid's section of binder's stats, or -1. */
static long long stats_value(int pid, const char *key)
{
	char *text = slurp(DEBUGFS "/stats");
	const char *sec, *end;
	long long val = -1;

	if (!text)
		return -1;
	sec = proc_section(text, pid, &end);
	if (sec)
		val = sec_value(sec, end, key);
	free(text);
	return val;
}

/*
 * The pages of a process's section of binder's stats, as
 * binder_alloc_print_pages() prints them: in use by buffers, free ones on
 * the shrinker's list, and not there; and the high watermark.
 */
static int sec_pages(const char *sec, const char *end, int pg[3],
		     long long *high)
{
	const char *line = find_line(sec, end, "  pages: ");

	if (!line ||
	    sscanf(line, "  pages: %d:%d:%d", &pg[0], &pg[1], &pg[2]) != 3)
		return failf("no pages line");
	*high = sec_value(sec, end, "  pages high watermark: ");
	if (*high < 0)
		return failf("no pages high watermark line");
	return 0;
}

static int stats_pages(int pid, int pg[3], long long *high)
{
	char *text = slurp(DEBUGFS "/stats");
	const char *sec, *end;
	int ret;

	if (!text)
		return -1;
	sec = proc_section(text, pid, &end);
	ret = sec ? sec_pages(sec, end, pg, high) :
		    failf("no proc %d in binder's stats", pid);
	free(text);
	return ret;
}

/* The line after the one at @p, or NULL. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p && p[1] ? p + 1 : NULL;
}

/* One entry of binder's transaction logs. */
struct log_entry {
	int id, from_proc, from_thread, to_proc, to_thread, node, handle;
	int data_size, offsets_size, ret, param, line;
	char type[8], context[BINDERFS_MAX_NAME + 1];
};

/* Parse the line at @p: 0, or -1 if it is not one that binder prints. */
static int log_parse(const char *p, struct log_entry *e)
{
	int n = 0;

	if (sscanf(p, "%d: %7s from %d:%d to %d:%d context %255s %n", &e->id,
		   e->type, &e->from_proc, &e->from_thread, &e->to_proc,
		   &e->to_thread, e->context, &n) != 7 || !n)
		return -1;
	if (sscanf(p + n, "node %d handle %d size %d:%d ret %d/%d l=%d",
		   &e->node, &e->handle, &e->data_size, &e->offsets_size,
		   &e->ret, &e->param, &e->line) != 7)
		return -1;
	return 0;
}

/*
 * Entries of failed_transaction_log for device @ctx, of @type ("call",
 * "async" or "reply"), from process @from, that ended with @ret/@param.
 */
static int failed_log_count(const char *ctx, const char *type, int from,
			    __u32 ret, int param)
{
	char *text = slurp(DEBUGFS "/failed_transaction_log");
	struct log_entry e;
	const char *p;
	int n = 0;

	if (!text)
		return -1;
	for (p = *text ? text : NULL; p; p = next_line(p))
		if (!log_parse(p, &e) && !strcmp(e.context, ctx) &&
		    !strcmp(e.type, type) && e.from_proc == from &&
		    e.ret == (int)ret && e.param == param)
			n++;
	free(text);
	return n;
}

/* The device ------------------------------------------------------------ */

FIXTURE(binder) {
	char name[BINDERFS_MAX_NAME + 1];	/* its context in debugfs */
	char path[PATH_MAX];
	int shared;		/* BINDER_TEST_DEVICE's: not ours to unlink */
};

FIXTURE_SETUP(binder)
{
	struct binderfs_device dev = { 0 };
	const char *env = getenv(DEVICE_ENV);
	char real[PATH_MAX];
	static int devices;
	struct stat st;
	int fd, ret;

	/*
	 * The system's device, for every case: binder names the context of
	 * a device of its devices= parameter, and of a binderfs device, as
	 * the device. A link (/dev/binder to binderfs/binder) is followed.
	 */
	if (env && *env) {
		ASSERT_EQ(0, stat(env, &st))
			TH_LOG(DEVICE_ENV "=%s: %s", env, strerror(errno));
		ASSERT_TRUE(S_ISCHR(st.st_mode))
			TH_LOG(DEVICE_ENV "=%s: not a device", env);
		ASSERT_NE(NULL, realpath(env, real))
			TH_LOG(DEVICE_ENV "=%s: %s", env, strerror(errno));
		snprintf(self->name, sizeof(self->name), "%s",
			 strrchr(real, '/') + 1);
		snprintf(self->path, sizeof(self->path), "%s", env);
		self->shared = 1;
		return;
	}

	/* binderfs, unless it is there: EBUSY is a mount that won a race. */
	if (access(BINDERFS "/binder-control", F_OK)) {
		ret = mkdir(BINDERFS, 0755);
		ASSERT_TRUE(!ret || errno == EEXIST)
			TH_LOG("mkdir " BINDERFS ": %s", strerror(errno));
		ret = mount("binder", BINDERFS, "binder", 0, NULL);
		ASSERT_TRUE(!ret || errno == EBUSY)
			TH_LOG("mount binderfs: %s", strerror(errno));
	}
	/* A device of the case's own: one context manager each. */
	snprintf(dev.name, sizeof(dev.name), "bt-%d-%d", getpid(), devices++);
	fd = open(BINDERFS "/binder-control", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("binder-control: %s", strerror(errno));
	ret = ioctl(fd, BINDER_CTL_ADD, &dev);
	ASSERT_EQ(0, ret)
		TH_LOG("BINDER_CTL_ADD %s: %s", dev.name, strerror(errno));
	close(fd);
	snprintf(self->name, sizeof(self->name), "%s", dev.name);
	snprintf(self->path, sizeof(self->path), BINDERFS "/%s", dev.name);
}

/*
 * An unlinked binderfs device goes once nobody has it open. A shared
 * device is the system's: it stays.
 */
FIXTURE_TEARDOWN(binder)
{
	if (self->shared)
		return;
	EXPECT_EQ(0, unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

/* Echo: requests checked by the server, answers by the client ----------- */

/* Sizes around pages and the largest, in turn. */
static const size_t echo_sizes[] = { 0, 8, 100, 4096, 4097, 65536, BIG };
#define ECHO_SIZES	((int)ARRAY_SIZE(echo_sizes))

static size_t echo_size(__u32 seq)
{
	return echo_sizes[seq % ECHO_SIZES];
}

struct echo_srv {
	const char *path;
	int ready;		/* see start() */
	int go;			/* -1, or wait for a byte on it first */
	int linger;		/* -1, or after BT_QUIT wait for a byte on it */
	int keep;		/* free no request */
	int hold_first;		/* free the first request only at BT_QUIT */
	int die;		/* SIGKILL itself on the first request */
};

static void echo_srv_init(struct echo_srv *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->path = path;
	s->ready = -1;
	s->go = -1;
	s->linger = -1;
}

/* Whether @tr is echo request tr->code, every byte as echo_call() sent. */
static int echo_check(const struct binder_transaction_data *tr)
{
	long bad;

	if (tr->code >= BT_QUIT || tr->data_size != echo_size(tr->code) ||
	    tr->offsets_size)
		return failf("request %#x of %llu:%llu bytes", tr->code,
			     tr->data_size, tr->offsets_size);
	bad = pat_diff(txn_data(tr), tr->data_size, tr->code);
	if (bad >= 0)
		return failf("request %u: byte %ld of %llu wrong", tr->code,
			     bad, tr->data_size);
	return 0;
}

/* Answer echo request @tr from @rep, freeing the request unless @keep. */
static int echo_answer(struct bt *b, const struct binder_transaction_data *tr,
		       __u8 *rep, int keep)
{
	struct binder_transaction_data rtr = { 0 };

	rtr.data_size = answer(tr->code, txn_data(tr), tr->data_size, rep);
	rtr.data.ptr.buffer = (uintptr_t)rep;
	/* The free and the reply in one write, as libbinder does. */
	if (!keep)
		bt_free(b, tr->data.ptr.buffer);
	return bt_reply(b, &rtr, 0);
}

static int echo_serve(void *arg)
{
	struct echo_srv *s = arg;
	struct binder_transaction_data tr, rtr = { 0 };
	__u8 *rep = malloc(ANSWER_HDR + BIG);
	binder_uintptr_t held = 0;
	__u64 served = 0;
	struct bt b;
	int keep;
	char c;

	if (!rep)
		return failf("out of memory");
	if (s->go >= 0 && pipe_read(s->go, &c, 1, IDLE_MS))
		return failp("waiting to start");
	if (bt_open(&b, s->path) || bt_manager(&b, 0) ||
	    pipe_write(s->ready, "r", 1))
		return -1;
	for (;;) {
		if (bt_wait_txn(&b, &tr, IDLE_MS))
			return failp("after %llu requests", served);
		if (tr.code == BT_QUIT)
			break;
		if (echo_check(&tr))
			return -1;
		if (s->die)
			raise(SIGKILL);
		served++;
		keep = s->keep || (s->hold_first && !held);
		if (s->hold_first && !held)
			held = tr.data.ptr.buffer;
		if (!(tr.flags & TF_ONE_WAY)) {
			if (echo_answer(&b, &tr, rep, keep))
				return failp("request %u", tr.code);
		} else if (!keep) {
			bt_free(&b, tr.data.ptr.buffer);
		}
	}
	if (held)
		bt_free(&b, held);
	bt_free(&b, tr.data.ptr.buffer);
	rtr.data_size = sizeof(served);
	rtr.data.ptr.buffer = (uintptr_t)&served;
	if (bt_reply(&b, &rtr, 0))
		return failp("quit");
	if (s->linger >= 0 && !stopped(s->linger, IDLE_MS))
		return failf("lingered too long");
	bt_close(&b);
	free(rep);
	return 0;
}

/*
 * One round trip of echo request @seq from @req; the answer is checked
 * byte for byte and stays allocated at *@held.
 */
static int echo_call(struct bt *b, __u32 seq, __u8 *req,
		     binder_uintptr_t *held)
{
	struct binder_transaction_data tr = {
		.code = seq,
		.flags = TF_ACCEPT_FDS,
		.data_size = echo_size(seq),
		.data.ptr.buffer = (uintptr_t)req,
	}, rep;

	pat_fill(req, tr.data_size, seq);
	if (bt_call_ok(b, &tr, 0, &rep))
		return failp("echo %u", seq);
	*held = rep.data.ptr.buffer;
	if (rep.offsets_size)
		return failf("echo %u: answer with offsets", seq);
	if (answer_check(seq, req, tr.data_size, txn_data(&rep),
			 rep.data_size))
		return failp("echo %u", seq);
	return 0;
}

/*
 * @count round trips from sequence number @seq0. Up to @depth answers
 * stay allocated, and the one freed next is not always the oldest: the
 * frees come out of order.
 */
static int echo_run(struct bt *b, __u32 seq0, int count, int depth,
		    int *done)
{
	binder_uintptr_t held[8], ptr;
	__u8 *req = malloc(BIG);
	int n = 0, i, ret = -1;

	if (!req || depth > (int)ARRAY_SIZE(held))
		return failf("out of memory");
	for (*done = 0; *done < count; ++*done) {
		if (echo_call(b, seq0 + *done, req, &ptr))
			goto out;
		if (!depth) {
			bt_free(b, ptr);
		} else if (n < depth) {
			held[n++] = ptr;
		} else {
			i = (seq0 + *done) % depth;
			bt_free(b, held[i]);
			held[i] = ptr;
		}
	}
	for (i = 0; i < n; i++)
		bt_free(b, held[i]);
	ret = bt_flush(b);
out:
	free(req);
	return ret;
}

/* End the echo server: how many requests it served. */
static int echo_quit(struct bt *b, __u64 *served)
{
	struct binder_transaction_data tr = { .code = BT_QUIT }, rep;

	if (bt_call_ok(b, &tr, 0, &rep))
		return failp("quit");
	if (rep.data_size != sizeof(*served))
		return failf("quit: %llu bytes", rep.data_size);
	memcpy(served, txn_data(&rep), sizeof(*served));
	bt_free(b, rep.data.ptr.buffer);
	return bt_flush(b);
}

struct echo_cli {
	const char *path;
	int go;			/* -1, or wait for a byte on it first */
	__u32 seq0;
	int count, depth;
};

static int echo_client(void *arg)
{
	struct echo_cli *c = arg;
	struct bt b;
	int done, n;
	char ch;

	if (c->go >= 0 && pipe_read(c->go, &ch, 1, IDLE_MS))
		return failp("waiting to start");
	if (bt_open(&b, c->path) ||
	    echo_run(&b, c->seq0, c->count, c->depth, &done))
		return -1;
	n = proc_buffers(getpid());
	if (n)
		return failf("%d buffers left after the round trips", n);
	bt_close(&b);
	return 0;
}

/* Case 1: round trips ----------------------------------------------------- */

#define ROUNDS	40

/*
 * Two clients, one server, every size: each request checked by the
 * server, each answer (another length) by its client; the server counts.
 */
TEST_F_TIMEOUT(binder, round_trips, 300)
{
	struct echo_cli cli = {
		.path = self->path,
		.go = -1,
		.seq0 = ROUNDS * ECHO_SIZES,
		.count = ROUNDS * ECHO_SIZES,
		.depth = 2,
	};
	struct echo_srv srv;
	pid_t spid, cpid;
	__u64 served;
	struct bt b;
	int done;

	echo_srv_init(&srv, self->path);
	spid = start("server", echo_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	/* Requests of both clients share the server's area. */
	cpid = spawn("client", echo_client, &cli);
	ASSERT_LT(0, cpid);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	ASSERT_EQ(0, echo_run(&b, 0, ROUNDS * ECHO_SIZES, 3, &done))
		TH_LOG("%s", why);
	ASSERT_EQ(0, reap(cpid, IDLE_MS));
	ASSERT_EQ(0, echo_quit(&b, &served)) TH_LOG("%s", why);
	EXPECT_EQ(2 * ROUNDS * ECHO_SIZES, served);
	EXPECT_EQ(0, reap(spid, STEP_MS));
	/* Every answer freed, out of order: no buffer left. */
	EXPECT_EQ(0, proc_buffers(getpid()));
	bt_close(&b);
}

/* Case 2: oneway ---------------------------------------------------------- */

#define FLOOD_N		2000
#define FLOOD_MAX	4015
#define FLOOD_WINDOW	64	/* 64 * 4015 bytes: half the async space */

static size_t flood_size(__u32 i)
{
	return 16 + (i * 7919) % (FLOOD_MAX - 15);
}

struct flood_srv {
	const char *path;
	int ready;
	int ack;		/* write end: how many were freed, now and then */
};

static int flood_serve(void *arg)
{
	struct flood_srv *s = arg;
	struct binder_transaction_data tr;
	const __u8 *p;
	__u64 hdr[2];
	__u32 i, n, cmd;
	struct bt b;
	long bad;

	if (bt_open(&b, s->path) || bt_manager(&b, 0) ||
	    pipe_write(s->ready, "r", 1))
		return -1;
	for (i = 0; i < FLOOD_N; i++) {
		if (bt_wait_txn(&b, &tr, STEP_MS))
			return failp("oneway %u", i);
		p = txn_data(&tr);
		/* Binder names no sender of a oneway transaction. */
		if (!(tr.flags & TF_ONE_WAY) || tr.code != BT_FLOOD ||
		    tr.sender_pid || tr.data_size < sizeof(hdr))
			return failf("oneway %u: flags %#x, code %#x, from %d, %llu bytes",
				     i, tr.flags, tr.code, tr.sender_pid,
				     tr.data_size);
		memcpy(hdr, p, sizeof(hdr));
		/* Oneway transactions to a node come in the order sent. */
		if (hdr[0] != i)
			return failf("oneway %llu came as number %u", hdr[0],
				     i);
		if (tr.data_size != flood_size(i) ||
		    hdr[1] != csum(p + sizeof(hdr), tr.data_size - sizeof(hdr)))
			return failf("oneway %u: %llu bytes, checksum wrong",
				     i, tr.data_size);
		bad = pat_diff(p + sizeof(hdr), tr.data_size - sizeof(hdr), i);
		if (bad >= 0)
			return failf("oneway %u: byte %ld wrong", i,
				     bad + (long)sizeof(hdr));
		bt_free(&b, tr.data.ptr.buffer);
		/* The frees reach binder before the sender hears of them. */
		if ((i + 1) % 16 == 0 || i + 1 == FLOOD_N) {
			n = i + 1;
			if (bt_flush(&b) || pipe_write(s->ack, &n, sizeof(n)))
				return -1;
		}
	}
	if (!bt_next(&b, &cmd, &tr, 500))
		return failf("%s after the last oneway", br_name(cmd));
	bt_close(&b);
	return 0;
}

/*
 * FLOOD_N oneway transactions of many sizes, no more in flight than fit:
 * every one is taken, and the server gets them all, in order, intact.
 */
TEST_F_TIMEOUT(binder, oneway_flood, 300)
{
	struct binder_transaction_data tr = { .code = BT_FLOOD };
	struct flood_srv srv = { .path = self->path };
	__u8 *msg = malloc(FLOOD_MAX);
	__u32 i, acked = 0, ret;
	__u64 hdr[2];
	int ack[2];
	pid_t spid;
	struct bt b;

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, pipe2(ack, O_CLOEXEC));
	srv.ack = ack[1];
	spid = start("server", flood_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	close(ack[1]);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	tr.data.ptr.buffer = (uintptr_t)msg;
	for (i = 0; i < FLOOD_N; i++) {
		while (i - acked >= FLOOD_WINDOW) {
			ASSERT_EQ(0, pipe_read(ack[0], &acked, sizeof(acked),
					       STEP_MS))
				TH_LOG("oneway %u: %s", i, why);
		}
		tr.data_size = flood_size(i);
		pat_fill(msg + sizeof(hdr), tr.data_size - sizeof(hdr), i);
		hdr[0] = i;
		hdr[1] = csum(msg + sizeof(hdr), tr.data_size - sizeof(hdr));
		memcpy(msg, hdr, sizeof(hdr));
		ASSERT_EQ(0, bt_oneway(&b, &tr, &ret))
			TH_LOG("oneway %u: %s", i, why);
		ASSERT_EQ(BR_TRANSACTION_COMPLETE, ret)
			TH_LOG("oneway %u: %s", i, br_name(ret));
	}
	while (acked < FLOOD_N) {
		ASSERT_EQ(0, pipe_read(ack[0], &acked, sizeof(acked), STEP_MS))
			TH_LOG("%u acknowledged: %s", acked, why);
	}
	EXPECT_EQ(0, reap(spid, STEP_MS));
	bt_close(&b);
	free(msg);
}

#define FILL_SIZE	4096	/* each oneway buffer takes exactly this */
#define FILL_FITS	(ASYNC_SPACE / FILL_SIZE)

struct fill_srv {
	const char *path;
	int ready;
	int cmd;		/* read end: how many to take, 0 to end */
	int done;		/* write end: how many were taken in all */
};

static int fill_serve(void *arg)
{
	struct fill_srv *s = arg;
	struct binder_transaction_data tr;
	__u32 next = 0, n, k, cmd;
	const __u8 *p;
	struct bt b;
	__u64 seq;
	long bad;

	if (bt_open(&b, s->path) || bt_manager(&b, 0) ||
	    pipe_write(s->ready, "r", 1))
		return -1;
	/* Read nothing until told how many to take. */
	for (;;) {
		if (pipe_read(s->cmd, &n, sizeof(n), IDLE_MS))
			return failp("waiting for a command");
		if (!n)
			break;
		for (k = 0; k < n; k++, next++) {
			if (bt_wait_txn(&b, &tr, STEP_MS))
				return failp("oneway %u", next);
			p = txn_data(&tr);
			if (!(tr.flags & TF_ONE_WAY) || tr.code != BT_FILL ||
			    tr.sender_pid || tr.data_size != FILL_SIZE)
				return failf("oneway %u: flags %#x, code %#x, %llu bytes",
					     next, tr.flags, tr.code,
					     tr.data_size);
			memcpy(&seq, p, sizeof(seq));
			if (seq != next)
				return failf("oneway %llu came as number %u",
					     seq, next);
			bad = pat_diff(p + sizeof(seq), FILL_SIZE - sizeof(seq),
				       next);
			if (bad >= 0)
				return failf("oneway %u: byte %ld wrong", next,
					     bad + (long)sizeof(seq));
			bt_free(&b, tr.data.ptr.buffer);
		}
		if (bt_flush(&b))
			return -1;
		/* That many and no more: the refused ones never came. */
		if (!bt_next(&b, &cmd, &tr, 500))
			return failf("%s after oneway %u", br_name(cmd), next);
		if (pipe_write(s->done, &next, sizeof(next)))
			return -1;
	}
	bt_close(&b);
	return 0;
}

/* Send oneway transactions until binder refuses one. */
static int fill(struct bt *b, __u64 *seq, __u32 *sent, __u32 *ret)
{
	static __u8 msg[FILL_SIZE];
	struct binder_transaction_data tr = {
		.code = BT_FILL,
		.data_size = FILL_SIZE,
		.data.ptr.buffer = (uintptr_t)msg,
	};

	for (*sent = 0; *sent <= 2 * FILL_FITS; ++*sent) {
		memcpy(msg, seq, sizeof(*seq));
		pat_fill(msg + sizeof(*seq), FILL_SIZE - sizeof(*seq), *seq);
		if (bt_oneway(b, &tr, ret))
			return -1;
		if (*ret != BR_TRANSACTION_COMPLETE)
			return 0;
		++*seq;
	}
	return failf("binder took %u oneway buffers of %d bytes", *sent,
		     FILL_SIZE);
}

/*
 * Oneway buffers to a server that reads nothing: binder takes exactly half
 * of its mapping's worth, then fails the sender with BR_FAILED_REPLY
 * (-ENOSPC); once the server has taken and freed them all, the space is
 * whole again, to the byte.
 */
TEST_F_TIMEOUT(binder, async_space, 300)
{
	struct binder_transaction_data empty = { .code = BT_FILL };
	struct fill_srv srv = { .path = self->path };
	struct binder_extended_error ee;
	int cmd[2], done[2], round, pg[3];
	__u32 sent, ret, n, got;
	long long high;
	__u64 seq = 0;
	pid_t spid;
	struct bt b;

	ASSERT_EQ(0, pipe2(cmd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));
	srv.cmd = cmd[0];
	srv.done = done[1];
	spid = start("server", fill_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	for (round = 1; round <= 2; round++) {
		ASSERT_EQ(0, fill(&b, &seq, &sent, &ret)) TH_LOG("%s", why);
		EXPECT_EQ(FILL_FITS, sent);
		EXPECT_EQ(BR_FAILED_REPLY, ret) TH_LOG("%s", br_name(ret));
		ASSERT_EQ(0, bt_ext_error(&b, &ee)) TH_LOG("%s", why);
		EXPECT_EQ(BR_FAILED_REPLY, ee.command);
		EXPECT_EQ(-ENOSPC, ee.param);
		/* Even an empty one: binder pads it to 8 bytes. */
		ASSERT_EQ(0, bt_oneway(&b, &empty, &ret)) TH_LOG("%s", why);
		EXPECT_EQ(BR_FAILED_REPLY, ret) TH_LOG("%s", br_name(ret));
		EXPECT_EQ(0, stats_value(spid, "  free async space "));
		EXPECT_EQ(FILL_FITS, stats_value(spid, "  buffers: "));
		/* A page at least for every 4096 bytes held. */
		ASSERT_EQ(0, stats_pages(spid, pg, &high)) TH_LOG("%s", why);
		EXPECT_LE(FILL_FITS * FILL_SIZE / getpagesize(), pg[0]);
		EXPECT_EQ(2 * round,
			  failed_log_count(self->name, "async", getpid(),
					   BR_FAILED_REPLY, -ENOSPC));
		n = sent;
		ASSERT_EQ(0, pipe_write(cmd[1], &n, sizeof(n)));
		ASSERT_EQ(0, pipe_read(done[0], &got, sizeof(got), IDLE_MS))
			TH_LOG("%s", why);
		EXPECT_EQ(seq, got);
		EXPECT_EQ(ASYNC_SPACE,
			  stats_value(spid, "  free async space "));
		EXPECT_EQ(0, stats_value(spid, "  buffers: "));
		ASSERT_EQ(0, stats_pages(spid, pg, &high)) TH_LOG("%s", why);
		EXPECT_EQ(0, pg[0]);
	}
	n = 0;
	ASSERT_EQ(0, pipe_write(cmd[1], &n, sizeof(n)));
	EXPECT_EQ(0, reap(spid, STEP_MS));
	bt_close(&b);
}

/* Case 3: objects ----------------------------------------------------------- */

struct obj_srv {
	const char *path;
	int ready;
};

struct node_srv {
	const char *path;
	int ready;
	int go;			/* read end: the client has read our reply */
};

static __u64 node_obj;		/* the client's node: binder knows its address */
#define NODE_PTR	((binder_uintptr_t)(uintptr_t)&node_obj)
#define NODE_COOKIE	0xc0de0000c0deULL
#define NODE_FLAGS	FLAT_BINDER_FLAG_ACCEPTS_FDS
#define NODE_DATA	(16 + sizeof(struct flat_binder_object) + 16)
#define NODE_REPLY	100
#define CB_SIZE		3000

static int node_serve(void *arg)
{
	struct node_srv *s = arg;
	struct binder_transaction_data tr, rtr = { 0 }, cb = { 0 }, rep;
	__u8 reply[NODE_REPLY], req[CB_SIZE];
	struct binder_extended_error ee;
	struct flat_binder_object fbo;
	const binder_size_t *offs;
	__u32 handle, ret;
	const __u8 *p;
	struct bt b;
	int tcs;
	char c;

	if (bt_open(&b, s->path) || bt_manager(&b, 1) ||
	    pipe_write(s->ready, "r", 1))
		return -1;
	if (bt_wait_txn(&b, &tr, STEP_MS))
		return failp("node transaction");
	p = txn_data(&tr);
	offs = txn_offsets(&tr);
	if (tr.code != BT_NODE || tr.data_size != NODE_DATA ||
	    tr.offsets_size != sizeof(*offs) || offs[0] != 16 ||
	    tr.sender_pid != getppid())
		return failf("node transaction %#x of %llu:%llu bytes from %d",
			     tr.code, tr.data_size, tr.offsets_size,
			     tr.sender_pid);
	if (pat_diff(p, 16, 1) >= 0 ||
	    pat_diff(p + 16 + sizeof(fbo), 16, 2) >= 0)
		return failf("the data around the object changed");
	memcpy(&fbo, p + 16, sizeof(fbo));
	/* The client's node as our first handle (0 is the manager's). */
	if (fbo.hdr.type != BINDER_TYPE_HANDLE || fbo.flags != NODE_FLAGS ||
	    fbo.binder != 1 || fbo.cookie)
		return failf("object %#x, flags %#x, handle %#llx, cookie %#llx",
			     fbo.hdr.type, fbo.flags, fbo.binder, fbo.cookie);
	handle = fbo.handle;
	/* References of our own: the buffer's goes with the buffer. */
	bt_put(&b, BC_INCREFS, &handle, sizeof(handle));
	bt_put(&b, BC_ACQUIRE, &handle, sizeof(handle));
	bt_free(&b, tr.data.ptr.buffer);
	pat_fill(reply, sizeof(reply), 3);
	rtr.data_size = sizeof(reply);
	rtr.data.ptr.buffer = (uintptr_t)reply;
	if (bt_reply(&b, &rtr, 0))
		return failp("node reply");
	/*
	 * Binder tells the client of the node's first references (BR_INCREFS,
	 * BR_ACQUIRE) when the thread that sent it reads, ahead of our reply,
	 * and only then counts the client as holding the node. Were our call
	 * answered by the client's looper and the handle let go before that
	 * thread ran (our reply wakes it, no more), binder would find the
	 * node unheld, delete it and take that work off the thread's list
	 * unread: the client would hear neither those nor BR_RELEASE and
	 * BR_DECREFS. So wait until it has read the reply.
	 */
	if (pipe_read(s->go, &c, 1, STEP_MS))
		return failp("waiting for the client to read the reply");
	/*
	 * A call of our own to the node, not one nested in the client's (for
	 * which binder would pick the calling thread): it goes to whichever
	 * looper of the client is free.
	 */
	pat_fill(req, sizeof(req), 4);
	cb.target.handle = handle;
	cb.code = BT_CALLBACK;
	cb.data_size = sizeof(req);
	cb.data.ptr.buffer = (uintptr_t)req;
	if (bt_call_ok(&b, &cb, 0, &rep) ||
	    answer_check(BT_CALLBACK, req, sizeof(req), txn_data(&rep),
			 rep.data_size))
		return failp("callback");
	bt_free(&b, rep.data.ptr.buffer);
	bt_put(&b, BC_RELEASE, &handle, sizeof(handle));
	bt_put(&b, BC_DECREFS, &handle, sizeof(handle));
	if (bt_flush(&b))
		return -1;
	/* No reference left: the handle is gone, and a call to it fails. */
	if (bt_call(&b, &cb, 0, &rep, &ret, &tcs))
		return -1;
	if (ret != BR_FAILED_REPLY || tcs)
		return failf("call to a released handle: %s after %d BR_TRANSACTION_COMPLETE",
			     br_name(ret), tcs);
	if (bt_ext_error(&b, &ee))
		return -1;
	if (ee.command != BR_FAILED_REPLY || ee.param != -EINVAL)
		return failf("call to a released handle: extended error %s/%d",
			     br_name(ee.command), ee.param);
	bt_close(&b);
	return 0;
}

/* The client's looper: takes the server's call to the client's node. */
struct node_looper {
	struct bt t;
	pid_t server;
	int ok;
	char why[sizeof(why)];
};

static int node_loop(struct node_looper *l)
{
	struct binder_transaction_data tr, rtr = { 0 };
	__u8 rep[ANSWER_HDR + CB_SIZE];
	long long end;
	__u32 cmd;
	long bad;

	bt_put(&l->t, BC_ENTER_LOOPER, NULL, 0);
	if (bt_wait_txn(&l->t, &tr, STEP_MS))
		return failp("waiting for the callback");
	if (tr.target.ptr != NODE_PTR || tr.cookie != NODE_COOKIE)
		return failf("callback to node %#llx cookie %#llx",
			     tr.target.ptr, tr.cookie);
	if (tr.code != BT_CALLBACK || (tr.flags & TF_ONE_WAY) ||
	    tr.sender_pid != l->server || tr.data_size != CB_SIZE ||
	    tr.offsets_size)
		return failf("callback %#x, flags %#x, from %d, %llu:%llu bytes",
			     tr.code, tr.flags, tr.sender_pid, tr.data_size,
			     tr.offsets_size);
	bad = pat_diff(txn_data(&tr), CB_SIZE, 4);
	if (bad >= 0)
		return failf("callback byte %ld wrong", bad);
	rtr.data_size = answer(BT_CALLBACK, txn_data(&tr), CB_SIZE, rep);
	rtr.data.ptr.buffer = (uintptr_t)rep;
	bt_free(&l->t, tr.data.ptr.buffer);
	if (bt_reply(&l->t, &rtr, 0))
		return failp("callback");
	/* Then the server lets the node go, and binder says so here. */
	end = now_ms() + STEP_MS;
	while (l->t.refs[REF_RELEASE] < 1 || l->t.refs[REF_DECREFS] < 1) {
		if (bt_next_raw(&l->t, &cmd, &tr, end - now_ms()))
			return failp("waiting for BR_RELEASE and BR_DECREFS");
		if (!is_ref_event(cmd))
			return failf("%s on the looper", br_name(cmd));
	}
	bt_put(&l->t, BC_EXIT_LOOPER, NULL, 0);
	return bt_flush(&l->t);
}

static void *node_looper(void *arg)
{
	struct node_looper *l = arg;

	l->ok = !node_loop(l);
	if (!l->ok)
		memcpy(l->why, why, sizeof(why));
	return NULL;
}

/*
 * A node of the client's, sent as BINDER_TYPE_BINDER: the server gets a
 * handle, calls the node through it, and the client's looper answers;
 * binder asks the client to hold the node and to let it go.
 */
TEST_F_TIMEOUT(binder, node_object, 120)
{
	struct binder_transaction_data tr = {
		.code = BT_NODE,
		.flags = TF_ACCEPT_FDS,
		.data_size = NODE_DATA,
		.offsets_size = sizeof(binder_size_t),
	}, rep;
	struct flat_binder_object fbo = {
		.hdr.type = BINDER_TYPE_BINDER,
		.flags = NODE_FLAGS,
		.binder = NODE_PTR,
		.cookie = NODE_COOKIE,
	};
	struct node_srv srv = { .path = self->path };
	static struct node_looper looper;
	binder_size_t off = 16;
	__u8 data[NODE_DATA];
	pthread_t thread;
	pid_t spid;
	struct bt b;
	int go[2];
	long bad;

	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	srv.go = go[0];
	spid = start("server", node_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	bt_thread(&looper.t, &b);
	looper.server = spid;
	ASSERT_EQ(0, pthread_create(&thread, NULL, node_looper, &looper));
	pat_fill(data, 16, 1);
	memcpy(data + 16, &fbo, sizeof(fbo));
	pat_fill(data + 16 + sizeof(fbo), 16, 2);
	tr.data.ptr.buffer = (uintptr_t)data;
	tr.data.ptr.offsets = (uintptr_t)&off;
	ASSERT_EQ(0, bt_call_ok(&b, &tr, 0, &rep)) TH_LOG("%s", why);
	EXPECT_EQ(NODE_REPLY, rep.data_size);
	bad = pat_diff(txn_data(&rep), NODE_REPLY, 3);
	EXPECT_EQ(-1, bad);
	bt_free(&b, rep.data.ptr.buffer);
	ASSERT_EQ(0, bt_flush(&b)) TH_LOG("%s", why);
	/* The node's first references, to the thread that sent it. */
	EXPECT_EQ(1, b.refs[REF_INCREFS]);
	EXPECT_EQ(1, b.refs[REF_ACQUIRE]);
	EXPECT_EQ(1, b.ref_nodes);
	EXPECT_EQ(NODE_PTR, b.ref_node.ptr);
	EXPECT_EQ(NODE_COOKIE, b.ref_node.cookie);
	/* Read with the reply and answered (bt_call() did): go on. */
	ASSERT_EQ(0, pipe_write(go[1], "g", 1)) TH_LOG("%s", why);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_TRUE(looper.ok) TH_LOG("looper: %s", looper.why);
	EXPECT_EQ(1, looper.t.refs[REF_RELEASE]);
	EXPECT_EQ(1, looper.t.refs[REF_DECREFS]);
	EXPECT_EQ(1, looper.t.ref_nodes);
	EXPECT_EQ(NODE_PTR, looper.t.ref_node.ptr);
	EXPECT_EQ(NODE_COOKIE, looper.t.ref_node.cookie);
	EXPECT_EQ(0, reap(spid, STEP_MS));
	EXPECT_EQ(0, proc_buffers(getpid()));
	bt_close(&b);
}

#define MEMFD_SIZE	12345
#define PIPE_DATA	777
#define FD_COOKIE	0xfdfd0000fdfdULL
#define FD_DATA		(8 + sizeof(struct binder_fd_object) + 8)

/* Whether @fd is open and close-on-exec, as binder installs its fds. */
static int fd_cloexec(int fd)
{
	return fcntl(fd, F_GETFD) == FD_CLOEXEC;
}

/* Read @fd to its end, into at most @max bytes; the count, or -1. */
static ssize_t read_all(int fd, void *buf, size_t max)
{
	size_t len = 0;
	ssize_t n;

	while (len < max) {
		n = read(fd, (char *)buf + len, max - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		len += n;
	}
	return len;
}

/* A pipe holding PIPE_DATA bytes of pattern @seed: its read end, or -1. */
static int filled_pipe(__u64 seed)
{
	__u8 data[PIPE_DATA];
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return failf("pipe: %m");
	pat_fill(data, sizeof(data), seed);
	if (write(p[1], data, sizeof(data)) != sizeof(data)) {
		close(p[0]);
		p[0] = failf("pipe write: %m");
	}
	close(p[1]);
	return p[0];
}

/* A reply carrying the read end of a filled pipe, which is then closed. */
static int fd_reply(struct bt *b, __u64 seed)
{
	struct binder_fd_object fdo = {
		.hdr.type = BINDER_TYPE_FD,
		.cookie = FD_COOKIE + 1,
	};
	struct binder_transaction_data rtr = {
		.data_size = sizeof(fdo),
		.offsets_size = sizeof(binder_size_t),
		.data.ptr.buffer = (uintptr_t)&fdo,
	};
	binder_size_t off = 0;
	int fd = filled_pipe(seed), ret;

	if (fd < 0)
		return -1;
	fdo.fd = fd;
	rtr.data.ptr.offsets = (uintptr_t)&off;
	/* Binder holds the file from the reply on: ours can go. */
	ret = bt_reply(b, &rtr, 0);
	close(fd);
	return ret;
}

static int fd_serve(void *arg)
{
	struct obj_srv *s = arg;
	struct binder_transaction_data tr;
	struct binder_extended_error ee;
	struct binder_fd_object fdo;
	__u8 buf[MEMFD_SIZE + 1];
	const __u8 *p;
	struct bt b;
	ssize_t n;
	long bad;

	if (bt_open(&b, s->path) || bt_manager(&b, 1) ||
	    pipe_write(s->ready, "r", 1))
		return -1;
	/* 1: the client's memfd, read through the fd binder made here. */
	if (bt_wait_txn(&b, &tr, STEP_MS))
		return failp("fd transaction");
	p = txn_data(&tr);
	if (tr.code != BT_FD || !(tr.flags & TF_ACCEPT_FDS) ||
	    tr.data_size != FD_DATA || tr.offsets_size != sizeof(__u64) ||
	    txn_offsets(&tr)[0] != 8)
		return failf("fd transaction %#x, flags %#x, %llu:%llu bytes",
			     tr.code, tr.flags, tr.data_size, tr.offsets_size);
	if (pat_diff(p, 8, 5) >= 0 || pat_diff(p + 8 + sizeof(fdo), 8, 6) >= 0)
		return failf("the data around the fd changed");
	memcpy(&fdo, p + 8, sizeof(fdo));
	if (fdo.hdr.type != BINDER_TYPE_FD || fdo.cookie != FD_COOKIE ||
	    !fd_cloexec(fdo.fd))
		return failf("fd object %#x, fd %u, cookie %#llx",
			     fdo.hdr.type, fdo.fd, fdo.cookie);
	n = pread(fdo.fd, buf, sizeof(buf), 0);
	if (n != MEMFD_SIZE)
		return failf("read %zd bytes of the memfd: %m", n);
	bad = pat_diff(buf, MEMFD_SIZE, 7);
	if (bad >= 0)
		return failf("memfd byte %ld wrong", bad);
	close(fdo.fd);
	/* And a pipe back, in the reply. */
	bt_free(&b, tr.data.ptr.buffer);
	if (fd_reply(&b, 8))
		return failp("fd reply");
	/*
	 * 2: a call that takes no fds. An fd in the reply fails it, for the
	 * caller; the replier hears BR_TRANSACTION_COMPLETE, and no error.
	 */
	if (bt_wait_txn(&b, &tr, STEP_MS))
		return failp("second fd transaction");
	if (tr.code != BT_FD_REFUSED || (tr.flags & TF_ACCEPT_FDS))
		return failf("second fd transaction %#x, flags %#x", tr.code,
			     tr.flags);
	bt_free(&b, tr.data.ptr.buffer);
	if (fd_reply(&b, 9))
		return failp("refused fd reply");
	if (bt_ext_error(&b, &ee))
		return -1;
	if (ee.command != BR_OK)
		return failf("refused fd reply: extended error %s/%d",
			     br_name(ee.command), ee.param);
	bt_close(&b);
	return 0;
}

/*
 * BINDER_TYPE_FD: a memfd to the server, which reads it through its new
 * fd, and a pipe back in the reply; then a reply with an fd to a call
 * that takes none: binder fails it towards the caller, and frees the
 * buffer it had filled.
 */
TEST_F_TIMEOUT(binder, fd_objects, 120)
{
	struct binder_fd_object fdo = {
		.hdr.type = BINDER_TYPE_FD,
		.cookie = FD_COOKIE,
	}, rfdo;
	struct binder_transaction_data tr = {
		.code = BT_FD,
		.flags = TF_ACCEPT_FDS,
		.data_size = FD_DATA,
		.offsets_size = sizeof(binder_size_t),
	}, rep;
	struct obj_srv srv = { .path = self->path };
	struct binder_extended_error ee;
	__u8 data[FD_DATA], buf[PIPE_DATA + 1];
	__u8 mem[MEMFD_SIZE];
	binder_size_t off = 8;
	int mfd, tcs;
	pid_t spid;
	struct bt b;
	__u32 ret;

	spid = start("server", fd_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	mfd = memfd_create("binder_test", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	pat_fill(mem, sizeof(mem), 7);
	ASSERT_EQ(sizeof(mem), write(mfd, mem, sizeof(mem)));
	fdo.fd = mfd;
	pat_fill(data, 8, 5);
	memcpy(data + 8, &fdo, sizeof(fdo));
	pat_fill(data + 8 + sizeof(fdo), 8, 6);
	tr.data.ptr.buffer = (uintptr_t)data;
	tr.data.ptr.offsets = (uintptr_t)&off;
	ASSERT_EQ(0, bt_call_ok(&b, &tr, 0, &rep)) TH_LOG("%s", why);
	ASSERT_EQ(sizeof(rfdo), rep.data_size);
	ASSERT_EQ(sizeof(binder_size_t), rep.offsets_size);
	EXPECT_EQ(0, txn_offsets(&rep)[0]);
	memcpy(&rfdo, txn_data(&rep), sizeof(rfdo));
	EXPECT_EQ(BINDER_TYPE_FD, rfdo.hdr.type);
	EXPECT_EQ(FD_COOKIE + 1, rfdo.cookie);
	ASSERT_TRUE(fd_cloexec(rfdo.fd));
	EXPECT_EQ(PIPE_DATA, read_all(rfdo.fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, pat_diff(buf, PIPE_DATA, 8));
	close(rfdo.fd);
	bt_free(&b, rep.data.ptr.buffer);

	tr.code = BT_FD_REFUSED;
	tr.flags = 0;
	tr.data_size = 8;
	tr.offsets_size = 0;
	ASSERT_EQ(0, bt_call(&b, &tr, 0, &rep, &ret, &tcs)) TH_LOG("%s", why);
	EXPECT_EQ(BR_FAILED_REPLY, ret) TH_LOG("%s", br_name(ret));
	EXPECT_EQ(1, tcs);
	ASSERT_EQ(0, bt_ext_error(&b, &ee)) TH_LOG("%s", why);
	EXPECT_EQ(BR_FAILED_REPLY, ee.command);
	EXPECT_EQ(-EPERM, ee.param);
	EXPECT_EQ(1, failed_log_count(self->name, "reply", spid,
				      BR_FAILED_REPLY, -EPERM));
	EXPECT_EQ(0, reap(spid, STEP_MS));
	EXPECT_EQ(0, proc_buffers(getpid()));
	close(mfd);
	bt_close(&b);
}

/*
 * The scatter-gather transaction: a parent buffer that points to a child
 * buffer and holds an array of two fds, each described by an object.
 */
#define SG_PARENT	5000
#define SG_CHILD	3000
#define SG_FIXUP	1000	/* where the parent points to the child */
#define SG_FDS		2000	/* where the parent holds the fds */
#define SG_MEMFD	4000
#define SG_EXTRA	(ALIGN8(SG_PARENT) + ALIGN8(SG_CHILD))
#define SG_BBO		sizeof(struct binder_buffer_object)
#define SG_OBJ_PARENT	24
#define SG_OBJ_CHILD	(SG_OBJ_PARENT + SG_BBO + 8)
#define SG_OBJ_FDA	(SG_OBJ_CHILD + SG_BBO)
#define SG_DATA		(SG_OBJ_FDA + sizeof(struct binder_fd_array_object) + 16)
#define SG_OFFSETS	(3 * sizeof(binder_size_t))
#define SG_REPLY	7000
#define SG_REPLY_DATA	(SG_BBO + 8)

/* Check the SG transaction @tr as the server sees it, fds included. */
static int sg_check(const struct bt *b, const struct binder_transaction_data *tr,
		    __u32 fds[2])
{
	static const binder_size_t want_offs[] = {
		SG_OBJ_PARENT, SG_OBJ_CHILD, SG_OBJ_FDA
	};
	struct binder_buffer_object parent, child;
	struct binder_fd_array_object fda;
	const __u8 *p = txn_data(tr), *pc;
	__u8 want[SG_PARENT], buf[SG_MEMFD + 1];
	__u64 sg;
	long bad;

	if (tr->code != BT_SG || tr->data_size != SG_DATA ||
	    tr->offsets_size != SG_OFFSETS ||
	    memcmp(txn_offsets(tr), want_offs, SG_OFFSETS))
		return failf("sg transaction %#x of %llu:%llu bytes", tr->code,
			     tr->data_size, tr->offsets_size);
	if (pat_diff(p, SG_OBJ_PARENT, 10) >= 0 ||
	    pat_diff(p + SG_OBJ_PARENT + SG_BBO, 8, 11) >= 0 ||
	    pat_diff(p + SG_DATA - 16, 16, 12) >= 0)
		return failf("the data around the objects changed");
	memcpy(&parent, p + SG_OBJ_PARENT, sizeof(parent));
	memcpy(&child, p + SG_OBJ_CHILD, sizeof(child));
	memcpy(&fda, p + SG_OBJ_FDA, sizeof(fda));
	/* Binder copies the buffers after the offsets, in order. */
	sg = tr->data.ptr.buffer + ALIGN8(SG_DATA) + ALIGN8(SG_OFFSETS);
	if (parent.hdr.type != BINDER_TYPE_PTR || parent.flags ||
	    parent.length != SG_PARENT || parent.buffer != sg)
		return failf("parent %#x, flags %#x, %llu bytes at %#llx, not %#llx",
			     parent.hdr.type, parent.flags, parent.length,
			     parent.buffer, sg);
	if (child.hdr.type != BINDER_TYPE_PTR ||
	    child.flags != BINDER_BUFFER_FLAG_HAS_PARENT ||
	    child.length != SG_CHILD || child.parent ||
	    child.parent_offset != SG_FIXUP ||
	    child.buffer != sg + ALIGN8(SG_PARENT))
		return failf("child %#x, flags %#x, %llu bytes at %#llx",
			     child.hdr.type, child.flags, child.length,
			     child.buffer);
	if (fda.hdr.type != BINDER_TYPE_FDA || fda.num_fds != 2 ||
	    fda.parent || fda.parent_offset != SG_FDS)
		return failf("fd array %#x of %llu at %llu", fda.hdr.type,
			     fda.num_fds, fda.parent_offset);
	if (!in_area(b, sg, SG_EXTRA))
		return failf("buffers outside the area");
	/*
	 * The parent as sent, but for the pointer, fixed up to the child's
	 * copy, and the fds, to ours (written when we read the transaction).
	 */
	pc = (const __u8 *)(uintptr_t)parent.buffer;
	memcpy(fds, pc + SG_FDS, 2 * sizeof(*fds));
	pat_fill(want, SG_PARENT, 13);
	memcpy(want + SG_FIXUP, &child.buffer, sizeof(child.buffer));
	memcpy(want + SG_FDS, fds, 2 * sizeof(*fds));
	bad = cmp_bytes(pc, want, SG_PARENT);
	if (bad >= 0)
		return failf("parent byte %ld wrong", bad);
	bad = pat_diff((const void *)(uintptr_t)child.buffer, SG_CHILD, 14);
	if (bad >= 0)
		return failf("child byte %ld wrong", bad);
	if (!fd_cloexec(fds[0]) || !fd_cloexec(fds[1]))
		return failf("fds %u and %u not open close-on-exec", fds[0],
			     fds[1]);
	if (pread(fds[0], buf, sizeof(buf), 0) != SG_MEMFD ||
	    pat_diff(buf, SG_MEMFD, 15) >= 0)
		return failf("the memfd of the fd array is wrong");
	if (read_all(fds[1], buf, sizeof(buf)) != PIPE_DATA ||
	    pat_diff(buf, PIPE_DATA, 16) >= 0)
		return failf("the pipe of the fd array is wrong");
	return 0;
}

static int sg_serve(void *arg)
{
	struct obj_srv *s = arg;
	struct binder_buffer_object rbo = {
		.hdr.type = BINDER_TYPE_PTR,
		.length = SG_REPLY,
	};
	struct binder_transaction_data tr, rtr = {
		.data_size = SG_REPLY_DATA,
		.offsets_size = sizeof(binder_size_t),
	};
	static __u8 blob[SG_REPLY];
	__u8 rdata[SG_REPLY_DATA];
	binder_size_t roff = 0;
	struct bt b;
	char *text;
	__u32 fds[2];
	int found;

	if (bt_open(&b, s->path) || bt_manager(&b, 1) ||
	    pipe_write(s->ready, "r", 1))
		return -1;
	if (bt_wait_txn(&b, &tr, STEP_MS))
		return failp("sg transaction");
	if (sg_check(&b, &tr, fds))
		return -1;
	/* The buffer in debugfs: data, offsets and extra buffers. */
	text = proc_file(getpid());
	found = text && has_buffer(text, tr.data.ptr.buffer -
				   (uintptr_t)b.area, SG_DATA, SG_OFFSETS,
				   SG_EXTRA);
	free(text);
	if (!found)
		return failf("no buffer %llu:%zu:%zu in proc/%d", tr.data_size,
			     SG_OFFSETS, SG_EXTRA, getpid());
	/*
	 * Freeing a buffer closes the fds of its fd arrays (binder reads
	 * them back from the buffer), on the way back from the call.
	 */
	bt_free(&b, tr.data.ptr.buffer);
	if (bt_flush(&b))
		return -1;
	if (fcntl(fds[0], F_GETFD) != -1 || fcntl(fds[1], F_GETFD) != -1)
		return failf("fds %u and %u still open after the free", fds[0],
			     fds[1]);
	/* The reply carries a buffer of ours, through BC_REPLY_SG. */
	pat_fill(blob, sizeof(blob), 17);
	rbo.buffer = (uintptr_t)blob;
	memcpy(rdata, &rbo, sizeof(rbo));
	pat_fill(rdata + SG_BBO, 8, 18);
	rtr.data.ptr.buffer = (uintptr_t)rdata;
	rtr.data.ptr.offsets = (uintptr_t)&roff;
	if (bt_reply(&b, &rtr, ALIGN8(SG_REPLY)))
		return failp("sg reply");
	bt_close(&b);
	return 0;
}

/*
 * BC_TRANSACTION_SG: buffers copied into the extra space after the data
 * and offsets, a parent pointer fixed up to the child's copy, an fd array
 * filled in when the server reads and closed when it frees; then
 * BC_REPLY_SG back.
 */
TEST_F_TIMEOUT(binder, sg_buffers, 120)
{
	struct binder_buffer_object parent = {
		.hdr.type = BINDER_TYPE_PTR,
		.length = SG_PARENT,
	}, child = {
		.hdr.type = BINDER_TYPE_PTR,
		.flags = BINDER_BUFFER_FLAG_HAS_PARENT,
		.length = SG_CHILD,
		.parent = 0,
		.parent_offset = SG_FIXUP,
	}, rbo;
	struct binder_fd_array_object fda = {
		.hdr.type = BINDER_TYPE_FDA,
		.num_fds = 2,
		.parent = 0,
		.parent_offset = SG_FDS,
	};
	static const binder_size_t offs[] = {
		SG_OBJ_PARENT, SG_OBJ_CHILD, SG_OBJ_FDA
	};
	struct binder_transaction_data tr = {
		.code = BT_SG,
		.flags = TF_ACCEPT_FDS,
		.data_size = SG_DATA,
		.offsets_size = SG_OFFSETS,
		.data.ptr.offsets = (uintptr_t)offs,
	}, rep;
	struct obj_srv srv = { .path = self->path };
	static __u8 pbuf[SG_PARENT], cbuf[SG_CHILD], mem[SG_MEMFD];
	__u8 data[SG_DATA];
	__u64 cptr, rbase;
	__u32 fds[2];
	char *text;
	pid_t spid;
	struct bt b;

	spid = start("server", sg_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	fds[0] = memfd_create("binder_test", MFD_CLOEXEC);
	ASSERT_LE(0, (int)fds[0]);
	pat_fill(mem, sizeof(mem), 15);
	ASSERT_EQ(sizeof(mem), write(fds[0], mem, sizeof(mem)));
	fds[1] = filled_pipe(16);
	ASSERT_LE(0, (int)fds[1]) TH_LOG("%s", why);
	pat_fill(pbuf, sizeof(pbuf), 13);
	pat_fill(cbuf, sizeof(cbuf), 14);
	cptr = (uintptr_t)cbuf;
	memcpy(pbuf + SG_FIXUP, &cptr, sizeof(cptr));
	memcpy(pbuf + SG_FDS, fds, sizeof(fds));
	parent.buffer = (uintptr_t)pbuf;
	child.buffer = (uintptr_t)cbuf;
	pat_fill(data, SG_OBJ_PARENT, 10);
	memcpy(data + SG_OBJ_PARENT, &parent, sizeof(parent));
	pat_fill(data + SG_OBJ_PARENT + SG_BBO, 8, 11);
	memcpy(data + SG_OBJ_CHILD, &child, sizeof(child));
	memcpy(data + SG_OBJ_FDA, &fda, sizeof(fda));
	pat_fill(data + SG_DATA - 16, 16, 12);
	tr.data.ptr.buffer = (uintptr_t)data;
	ASSERT_EQ(0, bt_call_ok(&b, &tr, SG_EXTRA, &rep)) TH_LOG("%s", why);
	ASSERT_EQ(SG_REPLY_DATA, rep.data_size);
	ASSERT_EQ(sizeof(binder_size_t), rep.offsets_size);
	EXPECT_EQ(0, txn_offsets(&rep)[0]);
	memcpy(&rbo, txn_data(&rep), sizeof(rbo));
	rbase = rep.data.ptr.buffer;
	EXPECT_EQ(BINDER_TYPE_PTR, rbo.hdr.type);
	EXPECT_EQ(SG_REPLY, rbo.length);
	ASSERT_EQ(rbase + ALIGN8(SG_REPLY_DATA) + ALIGN8(sizeof(binder_size_t)),
		  rbo.buffer);
	EXPECT_EQ(-1, pat_diff((const void *)(uintptr_t)rbo.buffer, SG_REPLY,
			       17));
	EXPECT_EQ(-1, pat_diff(txn_data(&rep) + SG_BBO, 8, 18));
	text = proc_file(getpid());
	ASSERT_NE(NULL, text) TH_LOG("%s", why);
	EXPECT_TRUE(has_buffer(text, rbase - (uintptr_t)b.area, SG_REPLY_DATA,
			       sizeof(binder_size_t), ALIGN8(SG_REPLY)))
		TH_LOG("%s", text);
	free(text);
	bt_free(&b, rep.data.ptr.buffer);
	ASSERT_EQ(0, bt_flush(&b)) TH_LOG("%s", why);
	EXPECT_EQ(0, reap(spid, STEP_MS));
	EXPECT_EQ(0, proc_buffers(getpid()));
	close(fds[0]);
	close(fds[1]);
	bt_close(&b);
}

/* Case 4: processes killed mid-transaction ---------------------------------- */

/*
 * The server dies holding the request: the caller gets its
 * BR_TRANSACTION_COMPLETE, then BR_DEAD_REPLY; the dead server leaves
 * binder, calls to handle 0 are dead at once, and a new manager serves.
 */
TEST_F_TIMEOUT(binder, server_killed, 180)
{
	struct binder_transaction_data tr = {
		.code = 3,
		.data_size = 4096,
	}, rep;
	struct echo_srv s1, s2;
	pid_t pid1, pid2;
	int go[2], r2[2], tcs, done;
	__u8 req[4096];
	__u64 served;
	struct bt b;
	__u32 ret;
	char c;

	echo_srv_init(&s1, self->path);
	s1.die = 1;
	echo_srv_init(&s2, self->path);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(r2, O_CLOEXEC));
	s2.go = go[0];
	s2.ready = r2[1];
	pid1 = start("server", echo_serve, &s1, &s1.ready);
	ASSERT_LT(0, pid1) TH_LOG("%s", why);
	/* The next manager, waiting for the first to be gone. */
	pid2 = spawn("next server", echo_serve, &s2);
	ASSERT_LT(0, pid2);
	close(r2[1]);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	pat_fill(req, sizeof(req), tr.code);
	tr.data.ptr.buffer = (uintptr_t)req;
	ASSERT_EQ(0, bt_call(&b, &tr, 0, &rep, &ret, &tcs)) TH_LOG("%s", why);
	EXPECT_EQ(BR_DEAD_REPLY, ret) TH_LOG("%s", br_name(ret));
	EXPECT_EQ(1, tcs);
	EXPECT_EQ(256 + SIGKILL, reap(pid1, STEP_MS));
	ASSERT_EQ(0, wait_gone(pid1)) TH_LOG("%s", why);
	/* No manager: dead at once, without BR_TRANSACTION_COMPLETE. */
	ASSERT_EQ(0, bt_call(&b, &tr, 0, &rep, &ret, &tcs)) TH_LOG("%s", why);
	EXPECT_EQ(BR_DEAD_REPLY, ret) TH_LOG("%s", br_name(ret));
	EXPECT_EQ(0, tcs);
	ASSERT_EQ(0, pipe_write(go[1], "g", 1));
	ASSERT_EQ(0, pipe_read(r2[0], &c, 1, STEP_MS)) TH_LOG("%s", why);
	ASSERT_EQ(0, echo_run(&b, 0, ECHO_SIZES, 1, &done))
		TH_LOG("%s", why);
	ASSERT_EQ(0, echo_quit(&b, &served)) TH_LOG("%s", why);
	EXPECT_EQ(ECHO_SIZES, served);
	EXPECT_EQ(0, reap(pid2, STEP_MS));
	EXPECT_EQ(0, proc_buffers(getpid()));
	bt_close(&b);
}

/*
 * The client dies while the server holds its request. Once binder has
 * released the client, the reply finds no sender: the server hears
 * BR_TRANSACTION_COMPLETE and nothing else (binder logs the reply as
 * failed with BR_DEAD_REPLY), and serves the next client as usual.
 */
TEST_F_TIMEOUT(binder, client_killed, 180)
{
	struct echo_cli c1 = {
		.path = self->path,
		.seq0 = 4,
		.count = 1,
	}, c2 = {
		.path = self->path,
		.seq0 = 0,
		.count = ECHO_SIZES,
		.depth = 1,
	};
	struct binder_transaction_data tr;
	struct binder_extended_error ee;
	__u8 *rep = malloc(ANSWER_HDR + BIG);
	int go1[2], go2[2], i;
	pid_t pid1, pid2;
	struct bt b;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, pipe2(go1, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go2, O_CLOEXEC));
	c1.go = go1[0];
	c2.go = go2[0];
	/* Both before our own open: no child inherits our binder file. */
	pid1 = spawn("client", echo_client, &c1);
	ASSERT_LT(0, pid1);
	pid2 = spawn("next client", echo_client, &c2);
	ASSERT_LT(0, pid2);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_manager(&b, 0)) TH_LOG("%s", why);
	ASSERT_EQ(0, pipe_write(go1[1], "g", 1));
	ASSERT_EQ(0, bt_wait_txn(&b, &tr, STEP_MS)) TH_LOG("%s", why);
	ASSERT_EQ(0, echo_check(&tr)) TH_LOG("%s", why);
	EXPECT_EQ(pid1, tr.sender_pid);
	kill(pid1, SIGKILL);
	EXPECT_EQ(256 + SIGKILL, reap(pid1, STEP_MS));
	ASSERT_EQ(0, wait_gone(pid1)) TH_LOG("%s", why);
	/*
	 * Binder's deferred release takes the process off its list, then
	 * detaches its threads from their transactions: give the second
	 * step a moment, so that the reply finds no sender at all rather
	 * than a thread about to go (which ends the same for the server).
	 */
	usleep(500000);
	ASSERT_EQ(0, echo_answer(&b, &tr, rep, 0)) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_ext_error(&b, &ee)) TH_LOG("%s", why);
	EXPECT_EQ(BR_OK, ee.command);
	EXPECT_EQ(1, failed_log_count(self->name, "reply", getpid(),
				      BR_DEAD_REPLY, 0));
	ASSERT_EQ(0, pipe_write(go2[1], "g", 1));
	for (i = 0; i < ECHO_SIZES; i++) {
		ASSERT_EQ(0, bt_wait_txn(&b, &tr, STEP_MS))
			TH_LOG("request %d: %s", i, why);
		ASSERT_EQ(0, echo_check(&tr)) TH_LOG("%s", why);
		EXPECT_EQ(pid2, tr.sender_pid);
		ASSERT_EQ(0, echo_answer(&b, &tr, rep, 0)) TH_LOG("%s", why);
	}
	EXPECT_EQ(0, reap(pid2, STEP_MS));
	EXPECT_EQ(0, proc_buffers(getpid()));
	bt_close(&b);
	free(rep);
}

struct holder {
	const char *path;
	int ready;
	int stop;		/* read end: never written, it is killed */
};

#define HOLD_CALLS	3
#define HOLD_ONEWAY	5

/*
 * Echo round trips whose answers it keeps, then oneway requests that the
 * (keeping) server holds too; then wait to be killed.
 */
static int holder(void *arg)
{
	struct holder *h = arg;
	struct binder_transaction_data tr = { .data_size = 4096 };
	__u8 *req = malloc(BIG);
	binder_uintptr_t held;
	__u32 i, ret;
	struct bt b;

	if (!req)
		return failf("out of memory");
	if (bt_open(&b, h->path))
		return -1;
	for (i = 0; i < HOLD_CALLS; i++)
		if (echo_call(&b, 3 + i, req, &held))
			return -1;
	/* Sequence numbers of 4096-byte requests. */
	for (i = 0; i < HOLD_ONEWAY; i++) {
		tr.code = 3 + ECHO_SIZES * (i + 1);
		pat_fill(req, tr.data_size, tr.code);
		tr.data.ptr.buffer = (uintptr_t)req;
		if (bt_oneway(&b, &tr, &ret))
			return -1;
		if (ret != BR_TRANSACTION_COMPLETE)
			return failf("oneway %u: %s", i, br_name(ret));
	}
	if (pipe_write(h->ready, "r", 1))
		return -1;
	stopped(h->stop, IDLE_MS);
	return failf("not killed");
}

/* Whether binder's stats count no live object at all. */
static int stats_idle(void)
{
	char *text = slurp(DEBUGFS "/stats"), name[64];
	const char *p, *end;
	int active, total, busy = 0;

	if (!text)
		return -1;
	end = strstr(text, "\nproc ");
	end = end ? end : text + strlen(text);
	for (p = text; p && p < end; p = next_line(p)) {
		if (sscanf(p, "%63[^:]: active %d total %d", name, &active,
			   &total) == 3 && active) {
			failf("%s: %d active", name, active);
			busy = 1;
		}
	}
	free(text);
	return busy ? -1 : 0;
}

/*
 * Processes killed holding buffers, in their own areas and in others':
 * each leaves binder's state within GONE_MS; what a dead sender sent
 * stays the receiver's until it goes too; then nothing is left.
 */
TEST_F_TIMEOUT(binder, dead_procs_vanish, 180)
{
	struct holder h = { .path = self->path };
	long long end;
	struct echo_srv srv;
	char *state;
	pid_t spid, hpid;
	int stop[2], procs;

	echo_srv_init(&srv, self->path);
	srv.keep = 1;
	ASSERT_EQ(0, pipe2(stop, O_CLOEXEC));
	h.stop = stop[0];
	spid = start("server", echo_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	hpid = start("holder", holder, &h, &h.ready);
	ASSERT_LT(0, hpid) TH_LOG("%s", why);
	/* The holder its answers; the server the requests and the oneway. */
	EXPECT_EQ(HOLD_CALLS, state_buffers(hpid));
	EXPECT_EQ(HOLD_CALLS + HOLD_ONEWAY, state_buffers(spid));
	EXPECT_EQ(HOLD_CALLS, stats_value(hpid, "  buffers: "));
	EXPECT_EQ(HOLD_CALLS + HOLD_ONEWAY, stats_value(spid, "  buffers: "));
	EXPECT_EQ(HOLD_CALLS, proc_buffers(hpid));
	EXPECT_EQ(HOLD_CALLS + HOLD_ONEWAY, proc_buffers(spid));
	kill(hpid, SIGKILL);
	EXPECT_EQ(256 + SIGKILL, reap(hpid, STEP_MS));
	ASSERT_EQ(0, wait_gone(hpid)) TH_LOG("%s", why);
	EXPECT_EQ(HOLD_CALLS + HOLD_ONEWAY, state_buffers(spid));
	kill(spid, SIGKILL);
	EXPECT_EQ(256 + SIGKILL, reap(spid, STEP_MS));
	ASSERT_EQ(0, wait_gone(spid)) TH_LOG("%s", why);
	state = slurp(DEBUGFS "/state");
	ASSERT_NE(NULL, state) TH_LOG("%s", why);
	procs = count_lines(state, state + strlen(state), "proc ");
	free(state);
	if (procs) {
		TH_LOG("%d other binder processes: global counts not checked",
		       procs);
		return;
	}
	/* With no binder process left, no object of binder's is. */
	end = now_ms() + GONE_MS;
	while (stats_idle() && now_ms() < end)
		usleep(20000);
	EXPECT_EQ(0, stats_idle()) TH_LOG("%s", why);
}

/* Case 5: memory pressure ---------------------------------------------------- */

#define PRESSURE_MS	10000	/* at least, and until the hog got there */

struct pressure {
	int stop;		/* read end: a byte there says stop */
	int full;		/* write end: the hog took all it wanted */
};

/* drop_caches runs every shrinker: binder's takes its free pages. */
static int dropper(void *arg)
{
	struct pressure *pr = arg;
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	int n = 0;

	if (fd < 0)
		return failf("drop_caches: %m");
	do {
		if (pwrite(fd, "3\n", 2, 0) != 2)
			return failf("drop_caches: %m");
		n++;
	} while (!stopped(pr->stop, 50));
	close(fd);
	fprintf(stderr, "# %d drops of the caches\n", n);
	return 0;
}

static long long mem_available(void)
{
	char *text = slurp("/proc/meminfo");
	const char *line;
	long long kb = -1;

	if (!text)
		return -1;
	line = strstr(text, "MemAvailable:");
	if (line)
		kb = strtoll(line + strlen("MemAvailable:"), NULL, 10);
	free(text);
	return kb * 1024;
}

/*
 * Take 60% of the available memory in chunks, each populated (every page
 * written), say so, and free it all; again, until told to stop.
 */
static int hog(void *arg)
{
	struct pressure *pr = arg;
	long long target = mem_available() * 6 / 10;
	const size_t chunk = 8 << 20;
	int cycles = 0;
	size_t n, max;
	char **c;

	if (target <= 0)
		return failf("no MemAvailable in /proc/meminfo");
	max = target / chunk;
	c = calloc(max, sizeof(*c));
	if (!c)
		return failf("out of memory");
	while (!stopped(pr->stop, 0)) {
		for (n = 0; n < max && !stopped(pr->stop, 0); n++) {
			c[n] = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				    -1, 0);
			if (c[n] == MAP_FAILED)
				return failf("mmap: %m");
		}
		if (n == max && pipe_write(pr->full, "f", 1))
			return -1;
		while (n)
			munmap(c[--n], chunk);
		cycles++;
	}
	free(c);
	fprintf(stderr, "# %d cycles of taking %zu MiB\n", cycles,
		max * (chunk >> 20));
	return 0;
}

/*
 * Round trips while one process drops caches and another takes and frees
 * most of the memory, for PRESSURE_MS and until the hog has taken all it
 * wants once: not one round trip lost, not one byte damaged.
 */
TEST_F_TIMEOUT(binder, memory_pressure, 300)
{
	int stop[2], full[2], done, ret = 0;
	pid_t spid, dpid, hpid;
	long long end, limit;
	struct echo_srv srv;
	struct pressure pr;
	__u32 seq = 0;
	__u64 served;
	struct bt b;
	char c;

	echo_srv_init(&srv, self->path);
	ASSERT_EQ(0, pipe2(stop, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(full, O_CLOEXEC | O_NONBLOCK));
	pr.stop = stop[0];
	pr.full = full[1];
	spid = start("server", echo_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	dpid = spawn("dropper", dropper, &pr);
	ASSERT_LT(0, dpid);
	hpid = spawn("hog", hog, &pr);
	ASSERT_LT(0, hpid);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	end = now_ms() + PRESSURE_MS;
	limit = now_ms() + 9 * PRESSURE_MS;
	while (!ret && now_ms() < limit &&
	       (now_ms() < end || read(full[0], &c, 1) != 1)) {
		ret = echo_run(&b, seq, ECHO_SIZES, 2, &done);
		seq += done;
	}
	ASSERT_EQ(0, pipe_write(stop[1], "s", 1));
	ASSERT_EQ(0, ret) TH_LOG("after %u round trips: %s", seq, why);
	ASSERT_GT(limit, now_ms()) TH_LOG("the hog never took all it wanted");
	EXPECT_EQ(0, reap(dpid, STEP_MS));
	EXPECT_EQ(0, reap(hpid, IDLE_MS));
	ASSERT_EQ(0, echo_quit(&b, &served)) TH_LOG("%s", why);
	EXPECT_EQ(seq, served);
	TH_LOG("%u round trips under pressure", seq);
	EXPECT_EQ(0, reap(spid, STEP_MS));
	EXPECT_EQ(0, proc_buffers(getpid()));
	bt_close(&b);
}

static int shrink_all(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	int ret = fd >= 0 && write(fd, "3\n", 2) == 2 ? 0 : -1;

	if (ret)
		failf("drop_caches: %m");
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * With every buffer freed, all of both areas' mapped pages wait on the
 * shrinker's list; drop_caches takes every one, and the next round trips
 * map them again, byte for byte.
 *
 * The list is global, and binder_alloc.c's shrinker passes over the pages
 * of a process whose mm has no users left (one still exiting, from a case
 * before this one) without moving them: they stay at the head of the list
 * until binder's deferred release frees them, and each walk spends its
 * budget on them first. So the drops go on until every page is back, for
 * as long as a dead process may take to leave binder.
 */
TEST_F_TIMEOUT(binder, shrinker_reclaim, 180)
{
	int pages = MAP_SIZE / getpagesize(), pg[3], i, k, tries, done;
	struct echo_srv srv;
	long long high, end;
	__u64 served;
	pid_t pid[2];
	struct bt b;

	echo_srv_init(&srv, self->path);
	pid[0] = getpid();
	pid[1] = start("server", echo_serve, &srv, &srv.ready);
	ASSERT_LT(0, pid[1]) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, echo_run(&b, i * ECHO_SIZES, ECHO_SIZES, 0,
				      &done))
			TH_LOG("%s", why);
		for (k = 0; k < 2; k++) {
			ASSERT_EQ(0, stats_pages(pid[k], pg, &high))
				TH_LOG("%s", why);
			EXPECT_EQ(0, pg[0]);
			EXPECT_LT(0, pg[1]);
			EXPECT_EQ(pages, pg[0] + pg[1] + pg[2]);
			/* The largest request or answer took 51 pages. */
			EXPECT_LE((BIG + ANSWER_HDR + 4095) / 4096, high);
		}
		end = now_ms() + GONE_MS;
		for (tries = 0; now_ms() < end; tries++) {
			ASSERT_EQ(0, shrink_all()) TH_LOG("%s", why);
			ASSERT_EQ(0, stats_pages(pid[0], pg, &high));
			if (!pg[1]) {
				ASSERT_EQ(0, stats_pages(pid[1], pg, &high));
				if (!pg[1])
					break;
			}
			usleep(10000);
		}
		for (k = 0; k < 2; k++) {
			ASSERT_EQ(0, stats_pages(pid[k], pg, &high))
				TH_LOG("%s", why);
			EXPECT_EQ(0, pg[0]);
			EXPECT_EQ(0, pg[1]) TH_LOG("pid %d, after %d drops",
						   pid[k], tries + 1);
			EXPECT_EQ(pages, pg[2]);
		}
	}
	ASSERT_EQ(0, echo_quit(&b, &served)) TH_LOG("%s", why);
	EXPECT_EQ(2 * ECHO_SIZES, served);
	EXPECT_EQ(0, reap(pid[1], STEP_MS));
	bt_close(&b);
}

/* Case 6: debugfs during traffic ----------------------------------------------- */

#define DEBUGFS_MS	5000
#define DEBUGFS_PASSES	10

struct reader {
	pid_t server, client;
	const char *ctx;
	unsigned long held_off;	/* the client's kept answer */
	size_t held_size;
	int stop;
	int passes;
	int ok;
	char why[sizeof(why)];
};

#define INCOMPLETE	13	/* strlen(" (incomplete)") */

/*
 * Whether every line of a transaction log @text is one binder prints;
 * *@ours counts those from the client or the server in their context
 * (on a shared device, the context alone is not only ours).
 */
static int log_check(const char *text, const struct reader *r, int *ours)
{
	const char *p, *eol;
	struct log_entry e;

	*ours = 0;
	for (p = *text ? text : NULL; p; p = next_line(p)) {
		/* An entry that binder is filling in may be partly zero. */
		eol = strchr(p, '\n');
		if (eol && eol - p > INCOMPLETE &&
		    !strncmp(eol - INCOMPLETE, " (incomplete)", INCOMPLETE))
			continue;
		if (log_parse(p, &e))
			return failf("log line: %.80s", p);
		if (!strcmp(e.context, r->ctx) &&
		    (e.from_proc == r->client || e.from_proc == r->server))
			++*ours;
	}
	return 0;
}

/* @pid's section of binder's state: its device, and its buffers. */
static int state_check(const char *text, const struct reader *r, int pid)
{
	const char *sec, *end;
	char ctx[BINDERFS_MAX_NAME + 16];

	sec = proc_section(text, pid, &end);
	if (!sec)
		return failf("state: no proc %d", pid);
	snprintf(ctx, sizeof(ctx), "context %s\n", r->ctx);
	if (strncmp(sec, ctx, strlen(ctx)))
		return failf("state: proc %d not in context %s", pid, r->ctx);
	if (!count_lines(sec, end, BUFFER_LINE))
		return failf("state: proc %d without buffers", pid);
	return 0;
}

static int procfile_check(const struct reader *r, int pid)
{
	char head[BINDERFS_MAX_NAME + 64], *text = proc_file(pid);
	int ret = 0;

	if (!text)
		return failp("proc/%d", pid);
	snprintf(head, sizeof(head), "binder proc state:\nproc %d\ncontext %s\n",
		 pid, r->ctx);
	if (strncmp(text, head, strlen(head)))
		ret = failf("proc/%d: %.80s", pid, text);
	else if (pid == r->client &&
		 !has_buffer(text, r->held_off, r->held_size, 0, 0))
		ret = failf("proc/%d: the kept answer is missing", pid);
	else if (!count_lines(text, text + strlen(text), BUFFER_LINE))
		ret = failf("proc/%d: no buffers", pid);
	free(text);
	return ret;
}

/* Each of binder's debugfs files read once, and checked. */
static int reader_pass(const struct reader *r)
{
	static const char *const heads[] = {
		"binder state:\n", "binder stats:\n",
		"binder transactions:\n",
	};
	static const char *const files[] = {
		DEBUGFS "/state", DEBUGFS "/stats", DEBUGFS "/transactions",
		DEBUGFS "/transaction_log",
		DEBUGFS "/failed_transaction_log",
	};
	char *text[ARRAY_SIZE(files)] = { NULL };
	int pg[3], i, pid, ours, ret = -1;
	const char *sec, *end;
	long long high;

	for (i = 0; i < (int)ARRAY_SIZE(files); i++) {
		text[i] = slurp(files[i]);
		if (!text[i])
			goto out;
		if (i < (int)ARRAY_SIZE(heads) &&
		    strncmp(text[i], heads[i], strlen(heads[i]))) {
			failf("%s: %.40s", files[i], text[i]);
			goto out;
		}
	}
	if (state_check(text[0], r, r->client) ||
	    state_check(text[0], r, r->server))
		goto out;
	if (!has_buffer(text[0], r->held_off, r->held_size, 0, 0)) {
		failf("state: the kept answer is missing");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		pid = i ? r->server : r->client;
		sec = proc_section(text[1], pid, &end);
		if (!sec || sec_pages(sec, end, pg, &high) ||
		    pg[0] + pg[1] + pg[2] != MAP_SIZE / getpagesize() ||
		    sec_value(sec, end, "  buffers: ") < 1) {
			failf("stats: proc %d without pages or buffers", pid);
			goto out;
		}
	}
	if (log_check(text[3], r, &ours))
		goto out;
	if (!ours) {
		failf("transaction_log: nothing of ours");
		goto out;
	}
	if (log_check(text[4], r, &ours) ||
	    procfile_check(r, r->client) || procfile_check(r, r->server))
		goto out;
	ret = 0;
out:
	for (i = 0; i < (int)ARRAY_SIZE(files); i++)
		free(text[i]);
	return ret;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (reader_pass(r)) {
			r->ok = 0;
			memcpy(r->why, why, sizeof(why));
			break;
		}
		r->passes++;
	}
	return NULL;
}

/*
 * Binder's debugfs files, read over and over during round trips: every
 * read works and shows the processes, their pages and the buffers they
 * hold; after the traffic, no buffer is left.
 */
TEST_F_TIMEOUT(binder, debugfs_during_traffic, 300)
{
	static struct reader r;
	struct echo_srv srv;
	long long end, limit;
	binder_uintptr_t held;
	__u32 seq = 1;
	__u8 *req = malloc(BIG);
	pthread_t thread;
	int linger[2], done, ret = 0;
	__u64 served;
	pid_t spid;
	struct bt b;

	ASSERT_NE(NULL, req);
	echo_srv_init(&srv, self->path);
	srv.hold_first = 1;
	ASSERT_EQ(0, pipe2(linger, O_CLOEXEC));
	srv.linger = linger[0];
	spid = start("server", echo_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	/* The first answer stays: every read must list it. */
	ASSERT_EQ(0, echo_call(&b, 0, req, &held)) TH_LOG("%s", why);
	r.server = spid;
	r.client = getpid();
	r.ctx = self->name;
	r.held_off = held - (uintptr_t)b.area;
	r.held_size = ANSWER_HDR + echo_size(0);
	r.ok = 1;
	ASSERT_EQ(0, pthread_create(&thread, NULL, reader_main, &r));
	end = now_ms() + DEBUGFS_MS;
	limit = now_ms() + 12 * DEBUGFS_MS;
	while (!ret && now_ms() < limit &&
	       __atomic_load_n(&r.ok, __ATOMIC_RELAXED) &&
	       (now_ms() < end ||
		__atomic_load_n(&r.passes, __ATOMIC_RELAXED) < DEBUGFS_PASSES)) {
		ret = echo_run(&b, seq, ECHO_SIZES, 0, &done);
		seq += done;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, ret) TH_LOG("round trip %u: %s", seq, why);
	ASSERT_TRUE(r.ok) TH_LOG("after %d passes: %s", r.passes, r.why);
	EXPECT_LE(DEBUGFS_PASSES, r.passes);
	TH_LOG("%d passes over debugfs during %u round trips", r.passes, seq);
	bt_free(&b, held);
	ASSERT_EQ(0, echo_quit(&b, &served)) TH_LOG("%s", why);
	EXPECT_EQ(seq, served);
	/* The server lingers: both have freed everything. */
	EXPECT_EQ(0, proc_buffers(getpid()));
	EXPECT_EQ(0, proc_buffers(spid));
	EXPECT_EQ(0, stats_value(getpid(), "  buffers: "));
	EXPECT_EQ(0, stats_value(spid, "  buffers: "));
	ASSERT_EQ(0, pipe_write(linger[1], "x", 1));
	EXPECT_EQ(0, reap(spid, STEP_MS));
	bt_close(&b);
	free(req);
}

/* Case 7: frees binder must refuse ----------------------------------------- */

/*
 * BC_FREE_BUFFER of an address inside a buffer, of a free part of the
 * area, of one outside it, and a second free of a buffer: binder logs
 * each and frees nothing; the buffers held stay, and traffic goes on.
 */
TEST_F_TIMEOUT(binder, bad_free, 120)
{
	binder_uintptr_t a, c, base;
	struct echo_srv srv;
	__u8 *req = malloc(BIG);
	__u64 served;
	char *text;
	pid_t spid;
	struct bt b;
	int done;

	ASSERT_NE(NULL, req);
	echo_srv_init(&srv, self->path);
	spid = start("server", echo_serve, &srv, &srv.ready);
	ASSERT_LT(0, spid) TH_LOG("%s", why);
	ASSERT_EQ(0, bt_open(&b, self->path)) TH_LOG("%s", why);
	base = (uintptr_t)b.area;
	ASSERT_EQ(0, echo_call(&b, 3, req, &a)) TH_LOG("%s", why);
	ASSERT_EQ(0, echo_call(&b, 5, req, &c)) TH_LOG("%s", why);
	bt_free(&b, a + 8);
	bt_free(&b, base + MAP_SIZE - 8);
	bt_free(&b, 4096);
	ASSERT_EQ(0, bt_flush(&b)) TH_LOG("%s", why);
	text = proc_file(getpid());
	ASSERT_NE(NULL, text) TH_LOG("%s", why);
	EXPECT_EQ(2, count_lines(text, text + strlen(text), BUFFER_LINE));
	EXPECT_TRUE(has_buffer(text, a - base, ANSWER_HDR + 4096, 0, 0));
	EXPECT_TRUE(has_buffer(text, c - base, ANSWER_HDR + 65536, 0, 0));
	free(text);
	bt_free(&b, a);
	bt_free(&b, a);
	ASSERT_EQ(0, bt_flush(&b)) TH_LOG("%s", why);
	text = proc_file(getpid());
	ASSERT_NE(NULL, text) TH_LOG("%s", why);
	EXPECT_EQ(1, count_lines(text, text + strlen(text), BUFFER_LINE));
	EXPECT_TRUE(has_buffer(text, c - base, ANSWER_HDR + 65536, 0, 0));
	free(text);
	ASSERT_EQ(0, echo_run(&b, 0, ECHO_SIZES, 0, &done))
		TH_LOG("%s", why);
	bt_free(&b, c);
	ASSERT_EQ(0, echo_quit(&b, &served)) TH_LOG("%s", why);
	EXPECT_EQ(2 + ECHO_SIZES, served);
	EXPECT_EQ(0, proc_buffers(getpid()));
	EXPECT_EQ(0, reap(spid, STEP_MS));
	bt_close(&b);
	free(req);
}

TEST_HARNESS_MAIN
