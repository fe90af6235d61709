// SPDX-License-Identifier: GPL-2.0
/*
 * A stateful, seeded, bounded fuzzer of /dev/binder_page_range (ABI v2).
 *
 * Worker processes (the last one unprivileged), each with a few threads,
 * issue random sequences built from the device's whole surface: open,
 * close, dup, fcntl, mmap, munmap, mremap, mprotect, madvise, every ioctl
 * with valid, edge and invalid arguments, poll, fork, exec, senders killed
 * mid-call, signals during waits, SIGSTOP and SIGCONT. Each process keeps
 * what it knows of its files (bound id, area, delivered buffers, pending
 * transactions), so that most calls mean something, and checks:
 *
 * - every errno against Documentation/uapi.rst for that call, and the exact
 *   one where the arguments decide it (a free of a delivered buffer works,
 *   a reply to a transaction that is not pending is EINVAL, ...);
 * - every description the kernel writes back (bounds, flags, identity),
 *   and the payload of every message the fuzzer composed (a header with
 *   magic, length, checksum, sender and sequence number): intact, delivered
 *   at most once, never when its send failed;
 * - that an area cannot be written, split, moved or inherited, and that a
 *   delivered buffer always reads (no page in use is ever reclaimed);
 * - that the module's debugfs counters return to zero after the run.
 *
 * Environment: BPR_FUZZ_SEED (default: from the clock; printed first: the
 * same seed gives every thread the same sequence of operations again),
 * BPR_FUZZ_OPS (100000 in all), BPR_FUZZ_SECONDS (120, then it stops),
 * BPR_FUZZ_PROCS and BPR_FUZZ_THREADS (3 and 3), BPR_FUZZ_SKIP (operations
 * to leave out, by the names the summary prints: "mremap,fork"). A
 * watchdog interrupts any call that blocks for long, and the whole run is
 * killed after BPR_FUZZ_SECONDS + 60 s. Run as root, with the device
 * module (binder_page_range_ipc.ko) and the two it needs loaded.
 *
 * A failure prints the seed, the worker and thread, the operation's number
 * and seed, and the call with its arguments. Across threads the order of
 * events is the scheduler's, so a replay repeats each thread's operations
 * but not always the race that failed: run it again, or narrow it down
 * with BPR_FUZZ_SKIP, BPR_FUZZ_PROCS and BPR_FUZZ_THREADS.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bpr_util.h"
#include <linux/android/binder_page_range.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#define PAGE		4096ULL
#define AREA_MAX	((__u64)BPR_AREA_MAX)
#define FZ_SLOTS	4	/* files per process */
#define FZ_ALIASES	2	/* dup()s per file */
#define FZ_BUFS		96	/* delivered buffers tracked per file */
#define FZ_PEND		64	/* pending transactions tracked per file */
#define FZ_RING		8	/* recently freed offsets, replied ids */
#define FZ_ORPHANS	8	/* areas whose file is closed */
#define FZ_KIDS		16	/* fork and exec children per process */
#define FZ_MAXFD	1024
#define FZ_DEFERRED	64
#define FZ_MAXPROCS	8
#define FZ_MAXTHREADS	8
#define FZ_SEQS		131072	/* sequence numbers tracked per thread */
#define FZ_SENDBUF	(4ULL << 20)
#define FZ_SCRATCH	(64ULL << 20)	/* where MAP_FIXED may land */
#define FZ_NERR		160
#define FZ_PRINT_MAX	40
#define FZ_STUCK_MS	20000
#define FZ_KID_MS	15000
#define FZ_UID		1001
#define FZ_CHILD_ARG	"--bpr-fuzz-child"
#define FZ_ID_BASE	5000	/* the shared pool of endpoint ids */
#define FZ_ID_POOL	10

/* The payload header of every message the fuzzer composes. */
#define FZ_MAGIC	0xb9f1c0deU
#define FZ_H_ONEWAY	0x1
#define FZ_H_CLEAR	0x2
#define FZ_H_REPLY	0x4
#define FZ_ORIGIN_KID	0xffffU	/* children: no sequence bookkeeping */

struct fz_hdr {
	__u32 magic;
	__u32 len;
	__u64 sum;
	__u32 origin;
	__u32 seq;
	__s32 pid;
	__u32 euid;
	__u32 flags;
	__u32 pad;
};

enum fz_kind {
	K_OPEN, K_CLOSE, K_DUP, K_FCNTL, K_MMAP, K_MUNMAP, K_MREMAP,
	K_MPROTECT, K_MADVISE, K_VERSION, K_BIND, K_ONEWAY, K_TWOWAY,
	K_RESUME, K_RECEIVE, K_REPLY, K_FREE, K_WRITE_READ, K_STATS, K_POLL,
	K_BADCMD, K_SIGNAL, K_SIGACTION, K_STOPCONT, K_FORK, K_EXEC,
	K_KILLSEND, NKIND
};

static const char * const kind_name[NKIND] = {
	"open", "close", "dup", "fcntl", "mmap", "munmap", "mremap",
	"mprotect", "madvise", "VERSION", "BIND", "TRANSACT-oneway",
	"TRANSACT-twoway", "resume", "RECEIVE", "REPLY", "FREE", "WRITE_READ",
	"STATS", "poll", "bad-ioctl", "signal", "sigaction", "stop-cont",
	"fork", "exec", "kill-sender",
};

/* Relative weights; BPR_FUZZ_SKIP="mremap,fork,..." sets some to 0. */
static unsigned short kind_weight[NKIND] = {
	20, 10, 10, 8, 20, 10, 8, 8, 10, 10, 22, 130, 80, 12, 140, 60, 80,
	130, 30, 30, 14, 20, 5, 4, 6, 3, 3,
};

/* Counters that are no errno. */
enum fz_note {
	N_MSGS, N_REPLIES, N_VERIFIED, N_FOREIGN, N_FAULTS, N_KICKS, N_EINTR,
	N_RESUMED, N_ABANDONED, N_KIDS, N_KILLED, N_STOPS, N_ODD, N_NOWB,
	NNOTE
};

static const char * const note_name[NNOTE] = {
	"messages received", "replies received", "payloads verified",
	"payloads not ours", "reads not judged (racing unmap or free)",
	"watchdog interrupts", "EINTR", "resumed calls", "abandoned calls",
	"children", "senders killed", "SIGSTOPs",
	"oneway TRANSACTs with done BPR_WR_SENT (sent)",
	"results not written back (EFAULT)",
};

/* What all processes share (MAP_SHARED): counts, results, stop. */
struct fz_shared {
	int stop;
	int failures;
	long long end_ms;
	pid_t workers[FZ_MAXPROCS];
	__u64 ops_done;
	__u64 ops[NKIND];
	__u64 errs[NKIND][FZ_NERR];
	__u64 notes[NNOTE];
};

/* seen[origin][seq]: what became of each composed payload. */
#define SEEN_RX		0x1	/* delivered */
#define SEEN_LOST	0x2	/* its send or reply failed */

static struct {
	__u64 seed;
	__u64 ops;
	int seconds;
	int procs;
	int threads;
} cfg;

static struct fz_shared *shm;
static __u8 *seen;

/* ---- randomness: splitmix64, one stream per thread and per operation ---- */

struct rng {
	__u64 s;
};

static __u64 rnd(struct rng *r)
{
	__u64 z;

	r->s += 0x9e3779b97f4a7c15ULL;
	z = r->s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 below(struct rng *r, __u64 n)
{
	return n ? rnd(r) % n : 0;
}

/* True with a probability of @n per mille. */
static bool pm(struct rng *r, unsigned int n)
{
	return below(r, 1000) < n;
}

/* ---- sets of errnos ---- */

struct eset {
	__u64 w[3];
};

static void es_add(struct eset *s, int e)
{
	if (e > 0 && e < 192)
		s->w[e / 64] |= 1ULL << (e % 64);
}

static void es_del(struct eset *s, int e)
{
	if (e > 0 && e < 192)
		s->w[e / 64] &= ~(1ULL << (e % 64));
}

static bool es_has(const struct eset *s, int e)
{
	return e > 0 && e < 192 && (s->w[e / 64] & (1ULL << (e % 64)));
}

static struct eset es_of(const int *list)
{
	struct eset s = { { 0 } };

	for (; *list; list++)
		es_add(&s, *list);
	return s;
}

/*
 * Documentation/uapi.rst, command by command. EFAULT and EPERM (a caller
 * that is not the owner) hold for every command, VERSION excepted for
 * EPERM; the fuzzer's own files narrow these further below.
 */
static const int doc_version[] = { EFAULT, 0 };

static const int doc_bind[] = {
	EFAULT, EPERM, EINVAL, EBUSY, EADDRINUSE, ENOMEM, 0
};

static const int doc_transact[] = {
	EFAULT, EPERM, EINVAL, EMSGSIZE, ENOBUFS, ENXIO, ESRCH, ENOSPC, EDQUOT,
	ECONNRESET, ENOMEM, EINTR, 0
};

static const int doc_receive[] = { EFAULT, EPERM, EAGAIN, EBADF, EINTR, 0 };

static const int doc_reply[] = {
	EFAULT, EPERM, EINVAL, EMSGSIZE, ECONNRESET, ENOSPC, ENOMEM, 0
};

static const int doc_free[] = { EFAULT, EPERM, EINVAL, 0 };

static const int doc_write_read[] = {
	EFAULT, EPERM, EINVAL, EMSGSIZE, ENOBUFS, EAGAIN, EBADF, EINTR, 0
};

static const int doc_stats[] = { EFAULT, EPERM, 0 };

static const int doc_unknown[] = { ENOTTY, 0 };

/* write_status of a send step, and of a reply step. */
static const int doc_peer_send[] = {
	ENXIO, ESRCH, ENOSPC, EDQUOT, ECONNRESET, ENOMEM, 0
};

static const int doc_peer_reply[] = { ECONNRESET, ENOSPC, ENOMEM, 0 };

/* The usual errnos of the system calls that are not the device's own. */
static const int sys_open[] = { ENOMEM, EMFILE, ENFILE, EINTR, 0 };

static const int sys_mmap[] = {
	EPERM, EINVAL, EBUSY, ENOMEM, EACCES, EOVERFLOW, EEXIST, EAGAIN,
	EOPNOTSUPP, ENODEV, 0
};

static const int sys_munmap[] = { EINVAL, ENOMEM, 0 };

static const int sys_mremap[] = { EINVAL, EFAULT, ENOMEM, EAGAIN, EPERM, 0 };

static const int sys_mprotect[] = { EACCES, EINVAL, ENOMEM, 0 };

static const int sys_madvise[] = {
	EINVAL, EAGAIN, ENOMEM, EFAULT, EPERM, EBADF, EIO, EACCES, EBUSY,
	EHWPOISON, 0
};

static const int sys_poll[] = { EINTR, ENOMEM, 0 };

/* ---- what a worker process knows of its files ---- */

struct fz_buf {
	__u64 off;
	__u64 size;
	bool uncertain;	/* a racing wild free or unmap may have freed it */
	__u32 from;	/* the thread and operation that got it, to report */
	__u64 opseed;
};

struct fz_slot {
	int fd;			/* -1: closed */
	int alias[FZ_ALIASES];	/* dup()s, -1 if none */
	int last_fd;		/* for calls on a stale descriptor */
	unsigned int gen;	/* bumped when the file changes: close, open */
	unsigned int fdgen;	/* bumped when any descriptor of it closes */
	unsigned int epoch;	/* bumped around what may free or unmap buffers */
	unsigned int wild;	/* frees of unknown offsets in flight */
	unsigned int nbgen;	/* bumped by fcntl(O_NONBLOCK) */
	bool nonblock;
	bool cloexec;
	int accmode;
	__u32 id;
	bool ever_mapped;	/* so a second mmap must fail */
	bool mapped;		/* mapped for sure */
	bool lost;		/* may be unmapped: a refused MAP_FIXED over it */
	bool noread;		/* PROT_NONE or zapped: not to be read */
	bool zapped;		/* by madvise: its pages are gone for good */
	int prot;
	__u8 *area;
	__u64 maplen;
	__u64 area_size;
	struct fz_buf bufs[FZ_BUFS];
	int nbufs;
	__u64 pend[FZ_PEND];
	int npend;
	__u64 replied[FZ_RING];
	unsigned int nreplied;
	__u64 freed[FZ_RING];
	unsigned int nfreed;
};

struct fz_orphan {
	__u8 *addr;
	__u64 len;
	bool lost;
};

struct fz_kid {
	pid_t pid;
	int kind;
	long long kill_at;	/* SIGKILL it then (kill-sender), or 0 */
	long long limit;	/* it must be gone by then */
};

/* Per-slot state of this thread's interrupted two-way calls. */
enum { WS_NONE, WS_PENDING, WS_UNKNOWN };

struct fz_thread {
	int t;
	int origin;		/* worker * threads + t: the header's origin */
	pid_t tid;
	pthread_t pt;
	struct rng rng;		/* the thread's stream, from the seed */
	struct rng r;		/* the current operation's, from rng */
	__u64 opseed;
	__u64 nops;
	__u64 quota;
	__u32 seq;
	long long deadline;	/* the watchdog interrupts the call then */
	long long since;
	int kind;
	int stuck;
	char desc[480];
	__u8 *sendbuf;		/* FZ_SENDBUF bytes, then a PROT_NONE page */
	struct {
		unsigned int gen;
		int state;
	} wst[FZ_SLOTS];
	int saved;		/* 0, K_TWOWAY or K_WRITE_READ: to resume */
	int saved_slot;
	unsigned int saved_gen;
	struct bpr_transaction saved_tr;
	struct bpr_write_read saved_wr;
};

/* The prepared structures of the read-only probe page. */
#define RO_WR		0
#define RO_TR1		256
#define RO_TR2		512
#define RO_ID		768
#define RO_OFF		1024
#define RO_RP		1280
#define RO_DATA		2048
#define RO_BIND_ID	(FZ_ID_BASE + 2)

static struct {
	pthread_mutex_t lock;	/* everything below but kids */
	int widx;
	bool unpriv;
	struct fz_slot slot[FZ_SLOTS];
	struct fz_orphan orphan[FZ_ORPHANS];
	__u32 dead[FZ_RING];
	unsigned int ndead;
	__u8 *scratch;
	__u8 *probe;		/* RW page, PROT_NONE, RO page, PROT_NONE */
	pthread_mutex_t kids_lock;
	struct fz_kid kid[FZ_KIDS];
	int nkids;
	struct fz_thread *th;
	int nth;
	int quit;
	int placeholder;	/* an empty pipe: see fd_close() */
	int deferred[FZ_DEFERRED];
	int ndeferred;
} P = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.kids_lock = PTHREAD_MUTEX_INITIALIZER,
};

static void lock(void)
{
	pthread_mutex_lock(&P.lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&P.lock);
}

/* ---- reporting ---- */

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "ok";

	return n ? n : "E?";
}

static void note(int n)
{
	__atomic_add_fetch(&shm->notes[n], 1, __ATOMIC_RELAXED);
}

/* Count one call's result, by errno. */
static void count(int kind, int err)
{
	if (err < 0 || err >= FZ_NERR)
		err = FZ_NERR - 1;
	__atomic_add_fetch(&shm->errs[kind][err], 1, __ATOMIC_RELAXED);
}

static void say(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static int vfmt(char *buf, size_t size, int len, const char *fmt, va_list ap)
{
	int n;

	if (len >= (int)size)
		return len;
	n = vsnprintf(buf + len, size - len, fmt, ap);
	if (n < 0)
		return len;
	return len + n >= (int)size ? (int)size - 1 : len + n;
}

static int fmt(char *buf, size_t size, int len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	len = vfmt(buf, size, len, f, ap);
	va_end(ap);
	return len;
}

/*
 * An oracle failed: print what, with everything needed to find the call
 * again (the seed, the worker and thread, the operation and its seed).
 */
static void __printf(2, 3)
fz_fail(struct fz_thread *th, const char *f, ...)
{
	char buf[1400];
	va_list ap;
	int n;

	if (__atomic_add_fetch(&shm->failures, 1, __ATOMIC_RELAXED) > FZ_PRINT_MAX)
		return;
	if (th)
		n = fmt(buf, sizeof(buf), 0,
			"# FAIL seed=%llu worker=%d thread=%d op=%llu opseed=%#llx %s: ",
			(unsigned long long)cfg.seed, P.widx, th->t,
			(unsigned long long)th->nops,
			(unsigned long long)th->opseed, kind_name[th->kind]);
	else
		n = fmt(buf, sizeof(buf), 0, "# FAIL seed=%llu worker=%d child %d: ",
			(unsigned long long)cfg.seed, P.widx, getpid());
	va_start(ap, f);
	n = vfmt(buf, sizeof(buf), n, f, ap);
	va_end(ap);
	if (th && th->desc[0])
		n = fmt(buf, sizeof(buf), n, " [%s]", th->desc);
	n = fmt(buf, sizeof(buf), n, "\n");
	say(buf, n);
}

/* Describe the current operation, for fz_fail(). */
static void __printf(2, 3)
desc(struct fz_thread *th, const char *f, ...)
{
	va_list ap;
	int n = strlen(th->desc);

	if (n)
		n = fmt(th->desc, sizeof(th->desc), n, "; ");
	va_start(ap, f);
	vfmt(th->desc, sizeof(th->desc), n, f, ap);
	va_end(ap);
}

/*
 * Count a call's result; a failure if it failed with an errno not in @ok.
 * Returns whether it succeeded.
 */
static bool result(struct fz_thread *th, int kind, bool failed, int err,
		   const struct eset *ok, const char *call)
{
	count(kind, failed ? err : 0);
	if (failed && err == EINTR)
		note(N_EINTR);
	if (failed && !es_has(ok, err))
		fz_fail(th, "%s: undocumented errno %s (%d)", call, ename(err),
			err);
	return !failed;
}

/* A narrower expectation than the documented set: @err, exactly. */
static void want_err(struct fz_thread *th, bool failed, int err, int want,
		     const char *call)
{
	if (!failed)
		fz_fail(th, "%s succeeded, expected %s", call, ename(want));
	else if (err != want)
		fz_fail(th, "%s: %s, expected %s", call, ename(err),
			ename(want));
}

/* ---- reading an area, where a racing unmap may raise a signal ---- */

static __thread sigjmp_buf probe_env;
static __thread int probe_on;

static void on_fault(int sig)
{
	if (probe_on) {
		probe_on = 0;
		siglongjmp(probe_env, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static __u64 body_sum(const __u8 *p, __u64 n)
{
	__u64 h = 0x6a09e667f3bcc909ULL ^ n, w, i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * Copy @len bytes of an area to @dst, and checksum @sumlen bytes after
 * them into @sum: 0, or the signal that stopped it.
 */
static int area_read(void *dst, const __u8 *src, __u64 len, __u64 sumlen,
		     __u64 *sum)
{
	int sig = sigsetjmp(probe_env, 1);

	if (sig)
		return sig;
	__atomic_store_n(&probe_on, 1, __ATOMIC_SEQ_CST);
	memcpy(dst, src, len);
	if (sum)
		*sum = body_sum(src + len, sumlen);
	__atomic_store_n(&probe_on, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* ---- payloads ---- */

static __u8 *seen_cell(__u32 origin, __u32 seq)
{
	if (origin >= (__u32)(cfg.procs * cfg.threads) || seq >= FZ_SEQS)
		return NULL;
	return &seen[(size_t)origin * FZ_SEQS + seq];
}

/* Write a header over @buf if @size has room for one. */
static bool compose(__u8 *buf, __u64 size, __u32 origin, __u32 seq,
		    __u32 hflags)
{
	struct fz_hdr h = {
		.magic = FZ_MAGIC,
		.len = (__u32)size,
		.origin = origin,
		.seq = seq,
		.pid = getpid(),
		.euid = geteuid(),
		.flags = hflags,
	};

	if (size < sizeof(h)) {
		if (size >= sizeof(h.magic))
			memset(buf, 0, sizeof(h.magic));
		return false;
	}
	h.sum = body_sum(buf + sizeof(h), size - sizeof(h));
	memcpy(buf, &h, sizeof(h));
	return true;
}

/* A composed payload's send failed: it must never be delivered. */
static void mark_lost(struct fz_thread *th, __u32 seq, const char *call)
{
	__u8 *cell = seen_cell(th->origin, seq);

	if (cell && (__atomic_fetch_or(cell, SEEN_LOST, __ATOMIC_RELAXED) &
		     SEEN_RX))
		fz_fail(th, "%s failed, yet payload %u was delivered", call,
			seq);
}

/*
 * Verify a delivered payload at @p (in an area) against its description
 * @m. Returns 0 (verified, or not composed by a fuzzer), -1 with @why set
 * if it does not verify, or the signal that stopped the read.
 */
static int verify_payload(const __u8 *p, const struct bpr_message *m,
			  bool reply, struct fz_hdr *h, char *why, size_t n)
{
	__u64 sum = 0;
	int sig;

	if (m->size < sizeof(h->magic))
		return 0;
	if (m->size < sizeof(*h)) {
		sig = area_read(h, p, sizeof(h->magic), 0, NULL);
		if (sig)
			return sig;
		if (h->magic != FZ_MAGIC)
			return 0;
		/* Past its end, for the report: the area may have more. */
		memset(h, 0, sizeof(*h));
		area_read(h, p, sizeof(*h), 0, NULL);
		snprintf(why, n,
			 "magic in a %llu-byte payload at offset %llu (header: %u bytes, from %u/%u, pid %d, flags %#x)",
			 (unsigned long long)m->size,
			 (unsigned long long)m->offset, h->len, h->origin,
			 h->seq, h->pid, h->flags);
		return -1;
	}
	sig = area_read(h, p, sizeof(*h), 0, NULL);
	if (sig)
		return sig;
	if (h->magic != FZ_MAGIC)
		return 0;
	if (h->len != m->size) {
		__u8 *cell = seen_cell(h->origin, h->seq);

		snprintf(why, n,
			 "payload %u/%u (pid %d, flags %#x, %s) says %u bytes, delivered %llu at offset %llu",
			 h->origin, h->seq, h->pid, h->flags,
			 !cell ? "not tracked" : *cell & SEEN_RX ?
			 "delivered before" : "not delivered before",
			 h->len, (unsigned long long)m->size,
			 (unsigned long long)m->offset);
		return -1;
	}
	sig = area_read(h, p, sizeof(*h), m->size - sizeof(*h), &sum);
	if (sig)
		return sig;
	if (sum != h->sum)
		snprintf(why, n, "payload %u/%u (%llu bytes at offset %llu) corrupted",
			 h->origin, h->seq, (unsigned long long)m->size,
			 (unsigned long long)m->offset);
	else if (h->pid != m->sender_pid || h->euid != m->sender_euid)
		snprintf(why, n, "payload %u/%u from pid %d euid %u, described as pid %d euid %u",
			 h->origin, h->seq, h->pid, h->euid, m->sender_pid,
			 m->sender_euid);
	else if (!!(h->flags & FZ_H_REPLY) != reply)
		snprintf(why, n, "payload %u/%u: a %s delivered as a %s",
			 h->origin, h->seq, reply ? "message" : "reply",
			 reply ? "reply" : "message");
	else if (!reply && !!(h->flags & FZ_H_ONEWAY) !=
		 !!(m->flags & BPR_MSG_ONEWAY))
		snprintf(why, n, "payload %u/%u: oneway %d, flags %#x",
			 h->origin, h->seq, !!(h->flags & FZ_H_ONEWAY),
			 m->flags);
	else if (!!(h->flags & FZ_H_CLEAR) != !!(m->flags & BPR_MSG_CLEAR_BUF))
		snprintf(why, n, "payload %u/%u: clear %d, flags %#x",
			 h->origin, h->seq, !!(h->flags & FZ_H_CLEAR), m->flags);
	else
		return 0;
	return -1;
}

/* ---- pointers and values from edge lists ---- */

enum fz_ptr {
	P_VALID, P_NULL, P_KERN, P_KERN2, P_UNMAPPED, P_NONCANON, P_RO,
	P_NONE, P_AREA, P_STRADDLE, P_WRAP, P_OVERRUN, NPTR
};

static const char * const ptr_name[NPTR] = {
	"valid", "NULL", "kernel", "kernel2", "unmapped", "noncanonical",
	"read-only", "PROT_NONE", "own-area", "straddling", "wrapping",
	"overrunning",
};

#define KADDR1		0xffffffff81000000ULL
#define KADDR2		0xffff888000000000ULL
#define UNMAPPED	0x100000ULL	/* below a static binary's text */
#define NONCANON	0x0000800000000000ULL

/*
 * The kind of pointer for an ioctl's argument: mostly valid. The own area
 * is readable where a buffer is: only for arguments the call writes.
 */
static int pick_argp(struct rng *r, bool in)
{
	static const int bad[] = {
		P_NULL, P_KERN, P_KERN2, P_UNMAPPED, P_NONCANON, P_NONE,
		P_STRADDLE, P_WRAP, P_AREA,
	};
	int k;

	if (pm(r, 920))
		return P_VALID;
	if (pm(r, 300))
		return P_RO;
	k = bad[below(r, ARRAY_SIZE(bad))];
	return in && k == P_AREA ? P_NULL : k;
}

/*
 * The address for an argument of @len bytes of kind @k: @valid for
 * P_VALID, @ro (an offset in the read-only page) for P_RO.
 */
static __u64 argp(int k, void *valid, size_t len, int ro, __u8 *area)
{
	switch (k) {
	case P_VALID:
		return (uintptr_t)valid;
	case P_NULL:
		return 0;
	case P_KERN:
		return KADDR1;
	case P_KERN2:
		return KADDR2;
	case P_UNMAPPED:
		return UNMAPPED;
	case P_NONCANON:
		return NONCANON;
	case P_RO:
		return (uintptr_t)(P.probe + 2 * PAGE + ro);
	case P_NONE:
		return (uintptr_t)(P.probe + PAGE);
	case P_AREA:
		return area ? (uintptr_t)area : KADDR1;
	case P_STRADDLE:
		/* Readable start, the rest in the PROT_NONE page. */
		return (uintptr_t)(P.probe + PAGE - len / 2);
	default:
		return ~0ULL - 7;
	}
}

/* Sizes: mostly small, then every edge relative to a page and an area. */
static __u64 pick_size(struct rng *r)
{
	static const __u64 areas[] = {
		PAGE, 2 * PAGE, 64 << 10, 256 << 10, 1 << 20, AREA_MAX,
	};
	static const __u64 tiny[] = { 0, 7, 8, sizeof(struct fz_hdr) };
	__u64 a = areas[below(r, ARRAY_SIZE(areas))];

	switch (below(r, 24)) {
	case 0 ... 11:
		return below(r, 1024);
	case 12 ... 15:
		return below(r, 64 << 10);
	case 16:
		return tiny[below(r, ARRAY_SIZE(tiny))];
	case 17:
		return PAGE - 1 + below(r, 3);
	case 18:
	case 19:
		return a / 2 - 8 + 8 * below(r, 3);
	case 20:
		return a + below(r, 2);
	case 21:
		return below(r, 2) ? 1ULL << 63 : ~0ULL;
	default:
		return below(r, 8192);
	}
}

/* A payload for a send or a reply. */
struct fz_data {
	__u64 data;
	__u64 size;
	int kind;
	bool hdr;	/* composed by us: mark_lost() if it fails */
	__u32 seq;
};

static void gen_data(struct fz_thread *th, __u8 *area, __u64 area_size,
		     struct fz_data *d, __u32 hflags)
{
	struct rng *r = &th->r;
	__u64 k;

	d->size = pick_size(r);
	d->hdr = false;
	d->kind = pm(r, 870) ? P_VALID : (int)below(r, NPTR);
	switch (d->kind) {
	case P_VALID:
		d->data = (uintptr_t)th->sendbuf;
		if (d->size <= FZ_SENDBUF) {
			d->seq = th->seq++;
			d->hdr = compose(th->sendbuf, d->size, th->origin,
					 d->seq, hflags);
		}
		break;
	case P_RO:
		d->data = (uintptr_t)(P.probe + 2 * PAGE + RO_DATA);
		break;
	case P_AREA:
		/* Never a payload's start: its header would be sent again. */
		d->data = area && area_size ?
			  (uintptr_t)(area + (below(r, area_size) & ~7ULL) + 4) :
			  0;
		break;
	case P_OVERRUN:
		k = below(r, d->size < FZ_SENDBUF ? d->size : FZ_SENDBUF);
		d->data = (uintptr_t)(th->sendbuf + FZ_SENDBUF - k);
		break;
	case P_WRAP:
		d->data = ~0ULL - below(r, 64);
		break;
	default:
		d->data = argp(d->kind, NULL, 8, 0, area);
		break;
	}
}

static __u32 pool_id(struct rng *r)
{
	return FZ_ID_BASE + below(r, FZ_ID_POOL);
}

/* An id to bind: the pool, reserved ones, 0 and random ones. */
static __u32 pick_bind_id(struct rng *r)
{
	static const __u32 reserved[] = { 1, 7, BPR_ID_RESERVED_MAX };

	switch (below(r, 20)) {
	case 0 ... 13:
		return pool_id(r);
	case 14:
		return 0;
	case 15:
		return reserved[below(r, ARRAY_SIZE(reserved))];
	case 16:
		return 1024;
	case 17:
		return ~0U;
	default:
		return (__u32)rnd(r);
	}
}

/* ---- the process's files ---- */

struct fz_snap {
	int slot;		/* -1: a descriptor that is not ours now */
	int fd;
	bool stale;
	unsigned int gen, fdgen, epoch, nbgen;
	bool wild;
	bool nonblock;
	bool ever_mapped, mapped, lost, readable;
	__u8 *area;
	__u64 area_size;
	__u32 id;
};

/*
 * Descriptor numbers in use by calls in flight: a number a thread chose
 * under the lock stays its file's, or no file at all, until its call is
 * over, so a call never lands in another file of ours by a reused number.
 */
static int inflight[FZ_MAXFD];

static void fd_hold(int fd)
{
	if (fd >= 0 && fd < FZ_MAXFD)
		__atomic_add_fetch(&inflight[fd], 1, __ATOMIC_ACQ_REL);
}

static void fd_release(int fd)
{
	if (fd >= 0 && fd < FZ_MAXFD)
		__atomic_sub_fetch(&inflight[fd], 1, __ATOMIC_ACQ_REL);
}

static bool fd_busy(int fd)
{
	return fd >= 0 && fd < FZ_MAXFD &&
	       __atomic_load_n(&inflight[fd], __ATOMIC_ACQUIRE);
}

/* Keep @fd taken by the placeholder until no call holds the number. */
static bool fd_defer(int fd)
{
	if (P.ndeferred >= FZ_DEFERRED ||
	    dup3(P.placeholder, fd, O_CLOEXEC) != fd)
		return false;
	P.deferred[P.ndeferred++] = fd;
	return true;
}

/*
 * close() of a descriptor of ours, under the lock. The file sees the same
 * flush either way (dup3() closes what it replaces).
 */
static int fd_close(int fd)
{
	if (fd_busy(fd) && fd_defer(fd))
		return 0;
	return close(fd);
}

/* A descriptor just opened or duplicated: off numbers still in use. */
static int fd_fresh(int fd, bool cloexec)
{
	while (fd_busy(fd)) {
		int nfd = fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, fd + 1);

		if (nfd < 0)
			break;
		if (!fd_defer(fd))
			close(fd);
		fd = nfd;
	}
	return fd;
}

/* Close the placeholders no call uses any more. Under the lock. */
static void fd_gc(void)
{
	int i;

	for (i = 0; i < P.ndeferred; i++) {
		if (fd_busy(P.deferred[i]))
			continue;
		close(P.deferred[i]);
		P.deferred[i--] = P.deferred[--P.ndeferred];
	}
}

/* The live slot @fd belongs to, or -1. Under the lock. */
static int fd_slot(int fd)
{
	int s, a;

	if (fd < 0)
		return -1;
	for (s = 0; s < FZ_SLOTS; s++) {
		if (P.slot[s].fd == fd)
			return s;
		for (a = 0; a < FZ_ALIASES; a++)
			if (P.slot[s].alias[a] == fd)
				return s;
	}
	return -1;
}

static void snap_fill(struct fz_snap *sn, int s)
{
	struct fz_slot *sl = &P.slot[s];

	sn->slot = s;
	sn->gen = sl->gen;
	sn->fdgen = sl->fdgen;
	sn->epoch = sl->epoch;
	sn->nbgen = sl->nbgen;
	sn->wild = sl->wild != 0;
	sn->nonblock = sl->nonblock;
	sn->ever_mapped = sl->ever_mapped;
	sn->mapped = sl->mapped;
	sn->lost = sl->lost;
	sn->readable = sl->mapped && !sl->noread;
	sn->area = sl->area;
	sn->area_size = sl->area_size;
	sn->id = sl->id;
}

/*
 * Choose a descriptor for slot @s: its own, a dup(), or if it is closed
 * the number it last had (another file's now, or none, which then stays
 * none for the call: see fd_hold()). Under the lock; snap_put() after the
 * call.
 */
static void snap_locked(struct fz_thread *th, int s, struct fz_snap *sn)
{
	struct fz_slot *sl = &P.slot[s];
	int a = below(&th->r, FZ_ALIASES);

	memset(sn, 0, sizeof(*sn));
	if (sl->fd >= 0) {
		sn->fd = pm(&th->r, 150) && sl->alias[a] >= 0 ? sl->alias[a] :
			 sl->fd;
	} else {
		sn->fd = sl->last_fd >= 0 ? sl->last_fd : FZ_MAXFD - 1;
		s = fd_slot(sn->fd);
	}
	fd_hold(sn->fd);
	sn->stale = s < 0;
	sn->slot = -1;
	if (s >= 0)
		snap_fill(sn, s);
}

static void snap_take(struct fz_thread *th, int s, struct fz_snap *sn)
{
	lock();
	snap_locked(th, s, sn);
	unlock();
}

static void snap_put(struct fz_snap *sn)
{
	fd_release(sn->fd);
}

/* The file is still the one of the snapshot (not closed and reopened). */
static bool snap_same_file(const struct fz_snap *sn)
{
	bool same;

	if (sn->slot < 0)
		return false;
	lock();
	same = P.slot[sn->slot].gen == sn->gen;
	unlock();
	return same;
}

/*
 * Nothing happened to the file since the snapshot that could have freed or
 * unmapped one of its buffers, and nothing that could is under way: strict
 * checks hold.
 */
static bool snap_certain_locked(const struct fz_snap *sn)
{
	const struct fz_slot *sl;

	if (sn->slot < 0 || sn->wild)
		return false;
	sl = &P.slot[sn->slot];
	return sl->gen == sn->gen && sl->epoch == sn->epoch && !sl->wild;
}

static bool snap_certain(const struct fz_snap *sn)
{
	bool c;

	lock();
	c = snap_certain_locked(sn);
	unlock();
	return c;
}

/*
 * The descriptor was closed meanwhile, or was no file of ours: EBADF, or
 * ENOTTY from the placeholder. Nothing reached a file then.
 */
static bool allow_stale(const struct fz_snap *sn, struct eset *ok)
{
	bool stale = sn->stale;

	if (!stale) {
		lock();
		stale = P.slot[sn->slot].fdgen != sn->fdgen;
		unlock();
	}
	if (stale) {
		es_add(ok, EBADF);
		es_add(ok, ENOTTY);
	}
	return stale;
}

static bool missed(bool failed, int err)
{
	return failed && (err == EBADF || err == ENOTTY);
}

static int buf_find(struct fz_slot *sl, __u64 off);
static struct fz_buf buf_take(struct fz_slot *sl, int i);

/*
 * Keep a buffer delivered to us. One we held at the same offset is gone:
 * if we were sure of it, the kernel handed out the space twice.
 */
static void buf_add(struct fz_thread *th, struct fz_slot *sl,
		    const struct fz_buf *b)
{
	int i = buf_find(sl, b->off);

	if (i >= 0) {
		struct fz_buf old = buf_take(sl, i);

		if (!old.uncertain && !b->uncertain)
			fz_fail(th,
				"buffer at offset %llu (%llu bytes) delivered while the one there (%llu bytes, from thread %u op %u) was not freed",
				(unsigned long long)b->off,
				(unsigned long long)b->size,
				(unsigned long long)old.size, old.from >> 24,
				old.from & 0xffffff);
	}
	if (sl->nbufs >= FZ_BUFS)
		return;	/* freed when the file goes */
	sl->bufs[sl->nbufs++] = *b;
}

static int buf_find(struct fz_slot *sl, __u64 off)
{
	int i;

	for (i = 0; i < sl->nbufs; i++)
		if (sl->bufs[i].off == off)
			return i;
	return -1;
}

static struct fz_buf buf_take(struct fz_slot *sl, int i)
{
	struct fz_buf b = sl->bufs[i];

	sl->bufs[i] = sl->bufs[--sl->nbufs];
	return b;
}

static void ring_push(__u64 *ring, unsigned int *n, __u64 v)
{
	ring[(*n)++ % FZ_RING] = v;
}

static __u64 ring_pick(struct rng *r, const __u64 *ring, unsigned int n)
{
	return ring[below(r, n < FZ_RING ? n : FZ_RING)];
}

static void pend_add(struct fz_slot *sl, __u64 txn)
{
	if (sl->npend < FZ_PEND)
		sl->pend[sl->npend++] = txn;
}

static bool pend_has(const struct fz_slot *sl, __u64 txn)
{
	unsigned int i;
	int j;

	for (j = 0; j < sl->npend; j++)
		if (sl->pend[j] == txn)
			return true;
	for (i = 0; i < FZ_RING && i < sl->nreplied; i++)
		if (sl->replied[i] == txn)
			return true;
	return false;
}

/* Forget everything about a slot whose descriptors are all closed. */
static void slot_forget(struct fz_slot *sl)
{
	int a;

	sl->fd = -1;
	for (a = 0; a < FZ_ALIASES; a++)
		sl->alias[a] = -1;
	sl->gen++;
	sl->fdgen++;
	sl->epoch++;
	sl->nonblock = false;
	sl->id = 0;
	sl->ever_mapped = false;
	sl->mapped = false;
	sl->lost = false;
	sl->noread = false;
	sl->zapped = false;
	sl->area = NULL;
	sl->maplen = 0;
	sl->area_size = 0;
	sl->nbufs = 0;
	sl->npend = 0;
	sl->nreplied = 0;
	sl->nfreed = 0;
}

static void bufs_uncertain(struct fz_slot *sl)
{
	int i;

	for (i = 0; i < sl->nbufs; i++)
		sl->bufs[i].uncertain = true;
}

/*
 * [@a, @a + @len) was unmapped (@sure) or may have been (a refused
 * MAP_FIXED or mremap): update what we know of the areas in it. Under the
 * lock. A successful unmap of part of an area is a failure: areas do not
 * split.
 */
static void vm_gone(struct fz_thread *th, __u64 a, __u64 len, bool sure,
		    const char *call)
{
	__u64 end = a + len;
	int s, o;

	if (end < a)
		end = ~0ULL;
	for (s = 0; s < FZ_SLOTS; s++) {
		struct fz_slot *sl = &P.slot[s];
		__u64 as = (uintptr_t)sl->area, ae = as + sl->maplen;

		if (!(sl->mapped || sl->lost) || ae <= a || as >= end)
			continue;
		if (a <= as && ae <= end) {
			sl->epoch++;
			bufs_uncertain(sl);
			sl->lost = !sure;
			sl->mapped = false;
		} else if (sure && sl->mapped) {
			fz_fail(th, "%s unmapped part of an area (%#llx+%#llx)",
				call, (unsigned long long)as,
				(unsigned long long)sl->maplen);
			sl->epoch++;
			sl->mapped = false;
			sl->lost = true;
		}
	}
	for (o = 0; o < FZ_ORPHANS; o++) {
		struct fz_orphan *op = &P.orphan[o];
		__u64 as = (uintptr_t)op->addr, ae = as + op->len;

		if (!op->addr || ae <= a || as >= end)
			continue;
		if (a <= as && ae <= end) {
			if (sure)
				op->addr = NULL;
			else
				op->lost = true;
		} else if (sure && !op->lost) {
			fz_fail(th, "%s unmapped part of an orphan area", call);
			op->lost = true;
		}
	}
}

/*
 * After a refused operation on slot @s's area, and from time to time: a
 * delivered buffer still reads. Pages in use are never reclaimed, and a
 * refused munmap, mremap or mprotect leaves the area as it was. Under the
 * lock.
 */
static void probe_bufs(struct fz_thread *th, int s, int n, const char *why)
{
	struct fz_slot *sl = &P.slot[s];
	__u8 byte;
	int i, sig;

	if (!sl->mapped || sl->noread || sl->wild || !sl->nbufs)
		return;
	while (n--) {
		struct fz_buf *b = &sl->bufs[below(&th->r, sl->nbufs)];
		__u64 at = b->off;

		if (b->uncertain || !b->size)
			continue;
		for (i = 0; i < 2; i++) {
			sig = area_read(&byte, sl->area + at, 1, 0, NULL);
			if (sig) {
				fz_fail(th,
					"%s: signal %d reading byte %llu of a delivered buffer (offset %llu, %llu bytes)",
					why, sig, (unsigned long long)at,
					(unsigned long long)b->off,
					(unsigned long long)b->size);
				b->uncertain = true;
				return;
			}
			at = b->off + b->size - 1;
		}
	}
}

/* ---- the watchdog: no call blocks for long, no child lives for long ---- */

static void arm(struct fz_thread *th, int ms)
{
	long long now = now_ms();

	__atomic_store_n(&th->since, now, __ATOMIC_RELAXED);
	__atomic_store_n(&th->deadline, now + ms, __ATOMIC_RELEASE);
}

static void disarm(struct fz_thread *th)
{
	__atomic_store_n(&th->deadline, 0, __ATOMIC_RELEASE);
}

/* How long a blocking call may wait before the watchdog interrupts it. */
static int block_ms(struct fz_thread *th)
{
	return 10 + below(&th->r, 120);
}

static void kid_add(pid_t pid, int kind, long long kill_at)
{
	pthread_mutex_lock(&P.kids_lock);
	if (P.nkids < FZ_KIDS) {
		P.kid[P.nkids].pid = pid;
		P.kid[P.nkids].kind = kind;
		P.kid[P.nkids].kill_at = kill_at;
		P.kid[P.nkids].limit = now_ms() + FZ_KID_MS;
		P.nkids++;
	} else {
		/* Cannot happen: forks check the room first. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	pthread_mutex_unlock(&P.kids_lock);
}

static bool kid_room(void)
{
	bool room;

	pthread_mutex_lock(&P.kids_lock);
	room = P.nkids < FZ_KIDS - 1;
	pthread_mutex_unlock(&P.kids_lock);
	return room;
}

/*
 * Reap the children that ended: an exit status other than 0 is a failure
 * they printed, a signal other than SIGKILL (ours, or their parent thread
 * ending) a crash. With @all, kill and reap every one.
 */
static void reap_kids(bool all)
{
	long long now = now_ms();
	int i, st;

	pthread_mutex_lock(&P.kids_lock);
	for (i = 0; i < P.nkids; i++) {
		struct fz_kid *k = &P.kid[i];
		pid_t ret;

		if (all)
			kill(k->pid, SIGKILL);
		ret = waitpid(k->pid, &st, all ? 0 : WNOHANG);
		if (ret == k->pid || ret < 0) {
			if (ret == k->pid && WIFEXITED(st) && WEXITSTATUS(st))
				fz_fail(NULL, "%s child %d exited %d",
					kind_name[k->kind], k->pid,
					WEXITSTATUS(st));
			else if (ret == k->pid && WIFSIGNALED(st) &&
				 WTERMSIG(st) != SIGKILL)
				fz_fail(NULL, "%s child %d killed by signal %d",
					kind_name[k->kind], k->pid,
					WTERMSIG(st));
			count(k->kind, 0);
			P.kid[i--] = P.kid[--P.nkids];
			continue;
		}
		if (k->kill_at && now >= k->kill_at) {
			kill(k->pid, SIGKILL);
			k->kill_at = 0;
			note(N_KILLED);
		} else if (now >= k->limit) {
			fz_fail(NULL, "%s child %d still running after %d ms",
				kind_name[k->kind], k->pid, FZ_KID_MS);
			kill(k->pid, SIGKILL);
			k->limit = now + 3600000;
		}
	}
	pthread_mutex_unlock(&P.kids_lock);
}

static void *watchdog(void *arg)
{
	int i;

	(void)arg;
	while (!__atomic_load_n(&P.quit, __ATOMIC_ACQUIRE)) {
		long long now = now_ms();

		for (i = 0; i < P.nth; i++) {
			struct fz_thread *th = &P.th[i];
			long long dl = __atomic_load_n(&th->deadline,
						       __ATOMIC_ACQUIRE);
			long long since;

			if (!dl || now < dl)
				continue;
			since = __atomic_load_n(&th->since, __ATOMIC_RELAXED);
			/* No SA_RESTART: the call returns EINTR. */
			syscall(SYS_tgkill, getpid(), th->tid, SIGUSR2);
			note(N_KICKS);
			__atomic_compare_exchange_n(&th->deadline, &dl,
						    now + 100, false,
						    __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
			if (now - since > FZ_STUCK_MS && !th->stuck) {
				th->stuck = 1;
				fz_fail(th, "stuck for %lld ms in a call despite signals",
					now - since);
				__atomic_store_n(&shm->stop, 1, __ATOMIC_RELAXED);
			}
		}
		reap_kids(false);
		usleep(5000);
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* SIGUSR1 of the fuzzer: with or without SA_RESTART, or ignored. */
static void set_sigusr1(int mode)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (mode == 2)
		sa.sa_handler = SIG_IGN;
	else if (mode)
		sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
}

/* ---- the operations ---- */

/* A slot: mostly one with an open file, so that most calls go somewhere. */
static int slot_pick(struct fz_thread *th)
{
	int open[FZ_SLOTS], n = 0, s;

	for (s = 0; s < FZ_SLOTS; s++)
		if (__atomic_load_n(&P.slot[s].fd, __ATOMIC_RELAXED) >= 0)
			open[n++] = s;
	if (n && pm(&th->r, 900))
		return open[below(&th->r, n)];
	return below(&th->r, FZ_SLOTS);
}

/* A slot to open a file in: mostly a free one. */
static int slot_pick_free(struct fz_thread *th)
{
	int free[FZ_SLOTS], n = 0, s;

	for (s = 0; s < FZ_SLOTS; s++)
		if (__atomic_load_n(&P.slot[s].fd, __ATOMIC_RELAXED) < 0)
			free[n++] = s;
	if (n && pm(&th->r, 850))
		return free[below(&th->r, n)];
	return below(&th->r, FZ_SLOTS);
}

/*
 * mmap() of @fd, slot @s's descriptor (-1: not a live one) and its
 * bookkeeping. Under the lock, as every change of the address space is, so
 * that what we know of the areas stays exact.
 */
static void do_mmap(struct fz_thread *th, int s, int fd, __u64 len, int prot,
		    int flags, __u64 off, __u8 *hint)
{
	struct eset ok = es_of(sys_mmap);
	struct fz_slot *sl = s >= 0 ? &P.slot[s] : NULL;
	bool fixed = flags & MAP_FIXED, sane;
	int err;
	__u8 *p;

	desc(th, "mmap(%p, %#llx, prot %#x, flags %#x, fd %d, off %#llx)",
	     hint, (unsigned long long)len, prot, flags, fd,
	     (unsigned long long)off);
	if (!sl)
		es_add(&ok, EBADF);
	arm(th, 5000);
	p = mmap(hint, len, prot, flags, fd, off);
	err = errno;
	disarm(th);
	if (!result(th, K_MMAP, p == MAP_FAILED, err, &ok, "mmap")) {
		if (fixed && hint)
			vm_gone(th, (uintptr_t)hint, len, false, "mmap");
		if (!sl)
			return;
		sane = len && len <= 16 * AREA_MAX && !hint &&
		       (flags == MAP_SHARED || flags == MAP_PRIVATE) &&
		       sl->accmode != O_WRONLY;
		if (sane && !off && (prot & (PROT_WRITE | PROT_EXEC)) &&
		    sl->accmode == O_RDWR && flags == MAP_SHARED)
			want_err(th, true, err, EPERM, "writable mmap");
		else if (sane && off == PAGE && prot == PROT_READ)
			want_err(th, true, err, EINVAL, "mmap at an offset");
		else if (sane && !off && prot == PROT_READ && sl->ever_mapped)
			want_err(th, true, err, EBUSY, "second mmap");
		else if (sane && !off && prot == PROT_READ && err != ENOMEM)
			fz_fail(th, "first mmap: %s", ename(err));
		return;
	}
	if (!sl) {
		fz_fail(th, "mmap of a closed descriptor succeeded");
		munmap(p, len);
		return;
	}
	if (prot & (PROT_WRITE | PROT_EXEC))
		fz_fail(th, "mmap with prot %#x succeeded", prot);
	if (off)
		fz_fail(th, "mmap at offset %#llx succeeded",
			(unsigned long long)off);
	if (sl->ever_mapped)
		fz_fail(th, "second mmap of a file succeeded");
	if (fixed && p != hint)
		fz_fail(th, "MAP_FIXED mapped at %p", p);
	if (fixed)
		vm_gone(th, (uintptr_t)p, len, true, "mmap(MAP_FIXED)");
	if (sl->ever_mapped || off || (prot & (PROT_WRITE | PROT_EXEC))) {
		/* Already reported: keep the old bookkeeping. */
		munmap(p, len);
		return;
	}
	sl->ever_mapped = true;
	sl->mapped = true;
	sl->lost = false;
	sl->zapped = false;
	sl->noread = !(prot & PROT_READ);
	sl->prot = prot;
	sl->area = p;
	sl->maplen = (len + PAGE - 1) & ~(PAGE - 1);
	sl->area_size = sl->maplen < AREA_MAX ? sl->maplen : AREA_MAX;
	sl->epoch++;
}

/* A page-aligned address in the scratch region with room for @len. */
static __u8 *scratch_at(struct rng *r, __u64 len)
{
	__u64 pages = FZ_SCRATCH / PAGE, need = (len + PAGE - 1) / PAGE;

	if (need >= pages)
		return P.scratch;
	return P.scratch + below(r, pages - need) * PAGE;
}

/* An area size for a valid mapping. */
static __u64 pick_area_len(struct rng *r)
{
	static const __u64 lens[] = {
		PAGE, PAGE + 1, 16 << 10, 64 << 10, 256 << 10, 1 << 20,
		AREA_MAX, AREA_MAX + PAGE,
	};

	return lens[below(r, ARRAY_SIZE(lens))];
}

/* BIND on slot @s (or a descriptor that is not ours). Under the lock. */
static void do_bind(struct fz_thread *th, int s, int fd, __u32 id, int k)
{
	struct eset ok = es_of(doc_bind);
	struct fz_slot *sl = s >= 0 ? &P.slot[s] : NULL;
	bool failed;
	__u64 p;
	int err;

	if (k == P_RO)
		id = RO_BIND_ID;
	p = argp(k, &id, sizeof(id), RO_ID, sl ? sl->area : NULL);
	desc(th, "BIND fd %d id %u arg %s", fd, id, ptr_name[k]);
	if (!sl) {
		es_add(&ok, EBADF);
		es_add(&ok, ENOTTY);
	}
	if (!(id && id <= BPR_ID_RESERVED_MAX && P.unpriv))
		es_del(&ok, EPERM);
	arm(th, 5000);
	failed = ioctl(fd, BPR_IOC_BIND, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	result(th, K_BIND, failed, err, &ok, "BIND");
	if (!sl)
		return;
	if (k != P_VALID && k != P_RO) {
		want_err(th, failed, err, EFAULT, "BIND from a bad pointer");
		return;
	}
	if (!id)
		want_err(th, failed, err, EINVAL, "BIND of id 0");
	else if (id <= BPR_ID_RESERVED_MAX && P.unpriv)
		want_err(th, failed, err, EPERM, "unprivileged BIND of a reserved id");
	else if (sl->id)
		want_err(th, failed, err, EBUSY, "second BIND");
	else if (failed && err != EADDRINUSE && err != ENOMEM)
		fz_fail(th, "BIND of a free file: %s", ename(err));
	if (!failed && !sl->id)
		sl->id = id;
}

static void op_open(struct fz_thread *th)
{
	struct eset ok = es_of(sys_open);
	struct rng *r = &th->r;
	int s = slot_pick_free(th), flags = O_RDWR, fd, err;
	struct fz_slot *sl = &P.slot[s];

	if (pm(r, 40))
		flags = O_RDONLY;
	else if (pm(r, 20))
		flags = O_WRONLY;
	if (pm(r, 700))
		flags |= O_CLOEXEC;
	if (pm(r, 500))
		flags |= O_NONBLOCK;
	lock();
	fd_gc();
	desc(th, "open(flags %#x) for slot %d", flags, s);
	fd = open(BPR_DEVICE, flags);
	err = errno;
	if (!result(th, K_OPEN, fd < 0, err, &ok, "open")) {
		unlock();
		return;
	}
	fd = fd_fresh(fd, flags & O_CLOEXEC);
	if (sl->fd >= 0) {
		/* The slot is taken: a file that lives for a moment. */
		if (pm(r, 500))
			do_bind(th, -1, fd, pool_id(r), P_VALID);
		fd_close(fd);
		unlock();
		return;
	}
	slot_forget(sl);
	sl->fd = fd;
	sl->last_fd = fd;
	sl->nonblock = flags & O_NONBLOCK;
	sl->cloexec = flags & O_CLOEXEC;
	sl->accmode = flags & O_ACCMODE;
	if (sl->accmode != O_WRONLY && pm(r, 800))
		do_mmap(th, s, fd, pick_area_len(r), PROT_READ, MAP_SHARED, 0,
			pm(r, 150) ? scratch_at(r, 8 << 20) : NULL);
	if (pm(r, 650))
		do_bind(th, s, fd, pick_bind_id(r), P_VALID);
	unlock();
}

/* Unmap the area of a slot being closed, or keep it as an orphan. */
static void close_area(struct fz_thread *th, struct fz_slot *sl)
{
	struct eset ok = es_of(sys_munmap);
	__u8 *a = sl->area;
	__u64 len = sl->maplen;
	bool lost = sl->lost;
	int o, err;

	if (!a || !(sl->mapped || sl->lost))
		return;
	for (o = 0; o < FZ_ORPHANS && !pm(&th->r, 500); o++) {
		if (P.orphan[o].addr)
			continue;
		/* Its file lives on: released when this is unmapped. */
		P.orphan[o].addr = a;
		P.orphan[o].len = len;
		P.orphan[o].lost = lost;
		return;
	}
	sl->mapped = false;
	sl->lost = false;
	if (munmap(a, len)) {
		err = errno;
		result(th, K_MUNMAP, true, err, &ok, "munmap on close");
		if (!lost)
			fz_fail(th, "munmap of a whole area: %s", ename(err));
		return;
	}
	count(K_MUNMAP, 0);
	vm_gone(th, (uintptr_t)a, len, true, "munmap on close");
}

static void op_close(struct fz_thread *th)
{
	struct rng *r = &th->r;
	int s = slot_pick(th), a = below(r, FZ_ALIASES);
	struct fz_slot *sl = &P.slot[s];

	lock();
	fd_gc();
	if (sl->fd < 0) {
		unlock();
		return;
	}
	if (sl->alias[a] >= 0 && pm(r, 400)) {
		desc(th, "close of dup %d of fd %d", sl->alias[a], sl->fd);
		sl->fdgen++;
		if (fd_close(sl->alias[a]))
			fz_fail(th, "close: %s", ename(errno));
		sl->alias[a] = -1;
		unlock();
		return;
	}
	desc(th, "close of slot %d (fd %d, id %u)", s, sl->fd, sl->id);
	sl->gen++;
	sl->fdgen++;
	sl->epoch++;
	for (a = 0; a < FZ_ALIASES; a++)
		if (sl->alias[a] >= 0 && fd_close(sl->alias[a]))
			fz_fail(th, "close: %s", ename(errno));
	if (fd_close(sl->fd))
		fz_fail(th, "close: %s", ename(errno));
	if (sl->id)
		P.dead[P.ndead++ % FZ_RING] = sl->id;
	close_area(th, sl);
	slot_forget(sl);
	unlock();
}

static void op_dup(struct fz_thread *th)
{
	struct rng *r = &th->r;
	int s = slot_pick(th), a, fd;
	struct fz_slot *sl = &P.slot[s];
	bool cloexec;

	lock();
	if (sl->fd < 0) {
		unlock();
		return;
	}
	for (a = 0; a < FZ_ALIASES && sl->alias[a] >= 0; a++)
		;
	cloexec = pm(r, 500);
	fd = cloexec ? fcntl(sl->fd, F_DUPFD_CLOEXEC, 0) : dup(sl->fd);
	desc(th, "dup of fd %d: %d", sl->fd, fd);
	if (fd < 0) {
		fz_fail(th, "dup: %s", ename(errno));
	} else if (a < FZ_ALIASES && pm(r, 700)) {
		sl->alias[a] = fd_fresh(fd, cloexec);
	} else {
		/* A close by the owner: wakes its receivers with EBADF. */
		fd_close(fd_fresh(fd, cloexec));
	}
	unlock();
}

static void op_fcntl(struct fz_thread *th)
{
	int s = slot_pick(th), fl;
	struct fz_slot *sl = &P.slot[s];

	lock();
	if (sl->fd >= 0) {
		fl = fcntl(sl->fd, F_GETFL);
		desc(th, "fcntl(%d, F_SETFL, %#x)", sl->fd, fl ^ O_NONBLOCK);
		if (fl < 0 || fcntl(sl->fd, F_SETFL, fl ^ O_NONBLOCK))
			fz_fail(th, "fcntl: %s", ename(errno));
		sl->nonblock = !(fl & O_NONBLOCK);
		sl->nbgen++;
	}
	unlock();
}

static void op_mmap(struct fz_thread *th)
{
	static const __u64 lens[] = {
		0, 7, 8, PAGE - 1, PAGE, PAGE + 1, 64 << 10, 256 << 10,
		1 << 20, AREA_MAX, AREA_MAX + PAGE, 8 << 20, 1ULL << 63, ~0ULL,
	};
	static const int prots[] = {
		PROT_NONE, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
		PROT_WRITE, PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	struct rng *r = &th->r;
	int s = slot_pick(th), prot = PROT_READ, flags = MAP_SHARED;
	__u64 len = pm(r, 500) ? pick_area_len(r) :
		    lens[below(r, ARRAY_SIZE(lens))];
	__u64 off = 0;
	__u8 *hint = NULL;
	struct fz_snap sn;

	if (pm(r, 250))
		prot = prots[below(r, ARRAY_SIZE(prots))];
	switch (below(r, 40)) {
	case 0 ... 2:
		flags = MAP_PRIVATE;
		break;
	case 3:
		flags = MAP_SHARED_VALIDATE;
		break;
	case 4:
		flags = MAP_SHARED_VALIDATE | 0x40000000;
		break;
	case 5 ... 6:
		flags |= MAP_POPULATE;
		break;
	case 7 ... 9:
		flags |= MAP_FIXED;
		break;
	case 10:
		flags |= MAP_FIXED_NOREPLACE;
		break;
	case 11:
		flags |= MAP_NORESERVE | MAP_LOCKED;
		break;
	}
	switch (below(r, 30)) {
	case 0:
		off = PAGE;
		break;
	case 1:
		off = 1;
		break;
	case 2:
		off = (1ULL << 63) - PAGE;
		break;
	case 3:
		off = rnd(r) & ~(PAGE - 1);
		break;
	}
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) || pm(r, 150))
		hint = scratch_at(r, len <= 16 * AREA_MAX ? len : PAGE);
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) && len > 16 * AREA_MAX &&
	    pm(r, 500))
		hint = (__u8 *)(uintptr_t)(below(r, 2) ? KADDR1 : KADDR2);
	lock();
	snap_locked(th, s, &sn);
	do_mmap(th, sn.slot, sn.fd, len, prot, flags, off, hint);
	snap_put(&sn);
	unlock();
}

static void op_munmap(struct fz_thread *th)
{
	struct eset ok = es_of(sys_munmap);
	struct rng *r = &th->r;
	int s = slot_pick(th), o = below(r, FZ_ORPHANS), c = below(r, 20);
	struct fz_slot *sl = &P.slot[s];
	struct fz_orphan *op = &P.orphan[o];
	__u64 a = 0, len = 0;
	int want = -1, err;
	bool failed;

	lock();
	/* Not too often: a file maps once, and senders need areas. */
	if (c < 5 && sl->mapped) {
		a = (uintptr_t)sl->area;
		len = sl->maplen;
		want = 0;
	} else if (c < 12 && sl->mapped && sl->maplen >= 2 * PAGE) {
		a = (uintptr_t)sl->area + (pm(r, 500) ? PAGE : 0);
		len = PAGE;
		want = EINVAL;
	} else if (c < 14 && op->addr) {
		a = (uintptr_t)op->addr;
		len = op->len;
		want = op->lost ? -1 : 0;
	} else if (c < 17) {
		len = (1 + below(r, 64)) * PAGE;
		a = (uintptr_t)scratch_at(r, len);
	} else {
		switch (below(r, 4)) {
		case 0:
			a = 0;
			len = 0;
			break;
		case 1:
			a = (uintptr_t)P.scratch + 1;
			len = PAGE;
			break;
		case 2:
			a = KADDR1;
			len = PAGE;
			break;
		default:
			a = (uintptr_t)P.scratch;
			len = 1ULL << 63;
			break;
		}
		want = EINVAL;
	}
	desc(th, "munmap(%#llx, %#llx)", (unsigned long long)a,
	     (unsigned long long)len);
	if (want == 0)
		sl->epoch++;
	arm(th, 5000);
	failed = munmap((void *)(uintptr_t)a, len) != 0;
	err = errno;
	disarm(th);
	result(th, K_MUNMAP, failed, err, &ok, "munmap");
	if (want == 0 && failed)
		fz_fail(th, "munmap of a whole area: %s", ename(err));
	else if (want > 0)
		want_err(th, failed, err, want, "munmap");
	if (!failed)
		vm_gone(th, a, len, true, "munmap");
	else if (want == EINVAL && c < 12)
		probe_bufs(th, s, 2, "after a refused partial munmap");
	unlock();
}

static void op_mremap(struct fz_thread *th)
{
	struct eset ok = es_of(sys_mremap);
	struct rng *r = &th->r;
	int s = slot_pick(th), flags = 0, c = below(r, 9), err;
	struct fz_slot *sl = &P.slot[s];
	__u64 a, len, nlen;
	__u8 *dest = NULL, *p;
	bool noop = false;

	lock();
	if (!sl->mapped) {
		/* Bad addresses only: the scratch region stays where it is. */
		a = below(r, 2) ? KADDR1 : (uintptr_t)P.scratch + 1;
		desc(th, "mremap(%#llx)", (unsigned long long)a);
		arm(th, 5000);
		p = mremap((void *)(uintptr_t)a, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
		err = errno;
		disarm(th);
		if (result(th, K_MREMAP, p == MAP_FAILED, err, &ok, "mremap"))
			fz_fail(th, "mremap of a bad address succeeded");
		unlock();
		return;
	}
	a = (uintptr_t)sl->area;
	len = sl->maplen;
	nlen = len;
	switch (c) {
	case 0:
		nlen = len + PAGE;
		break;
	case 1:
		nlen = len + PAGE;
		flags = MREMAP_MAYMOVE;
		break;
	case 2:
		nlen = len > PAGE ? len - PAGE : len;
		noop = nlen == len;
		break;
	case 3:
	case 4:
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		dest = scratch_at(r, len);
		break;
	case 5:
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
		break;
	case 6:
		/* old_len 0: a duplicate of a shared mapping. */
		len = 0;
		nlen = PAGE;
		flags = MREMAP_MAYMOVE;
		break;
	case 7:
		noop = true;
		break;
	default:
		a += 1;
		break;
	}
	desc(th, "mremap(area %#llx, %#llx, %#llx, %#x, %p)",
	     (unsigned long long)a, (unsigned long long)len,
	     (unsigned long long)nlen, flags, dest);
	/* A move empties its destination first, even when it fails. */
	sl->epoch++;
	arm(th, 5000);
	p = mremap((void *)(uintptr_t)a, len, nlen, flags, dest);
	err = errno;
	disarm(th);
	if (result(th, K_MREMAP, p == MAP_FAILED, err, &ok, "mremap")) {
		if (!noop || (uintptr_t)p != a) {
			fz_fail(th, "mremap of an area succeeded: %p", p);
			sl->mapped = false;
			sl->lost = true;
			if (dest)
				vm_gone(th, (uintptr_t)dest, nlen, true, "mremap");
		}
	} else {
		if (noop && c == 7)
			fz_fail(th, "mremap to the same size: %s", ename(err));
		if (dest)
			vm_gone(th, (uintptr_t)dest, nlen, false, "mremap");
		probe_bufs(th, s, 2, "after a refused mremap");
	}
	unlock();
}

static void op_mprotect(struct fz_thread *th)
{
	static const int prots[] = {
		PROT_READ, PROT_NONE, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_WRITE, PROT_EXEC,
	};
	struct eset ok = es_of(sys_mprotect);
	struct rng *r = &th->r;
	int s = slot_pick(th), prot = prots[below(r, ARRAY_SIZE(prots))], err;
	struct fz_slot *sl = &P.slot[s];
	bool partial = pm(r, 250), failed;
	__u64 a, len;

	lock();
	if (!sl->mapped) {
		unlock();
		return;
	}
	a = (uintptr_t)sl->area;
	len = sl->maplen;
	if (partial && len >= 2 * PAGE) {
		a += PAGE;
		len = PAGE;
	} else {
		partial = false;
	}
	desc(th, "mprotect(area %#llx, %#llx, %#x)", (unsigned long long)a,
	     (unsigned long long)len, prot);
	sl->epoch++;
	arm(th, 5000);
	failed = mprotect((void *)(uintptr_t)a, len, prot) != 0;
	err = errno;
	disarm(th);
	result(th, K_MPROTECT, failed, err, &ok, "mprotect");
	if (prot & (PROT_WRITE | PROT_EXEC)) {
		want_err(th, failed, err, EACCES, "mprotect adding write or exec");
	} else if (!partial) {
		if (failed)
			fz_fail(th, "mprotect(%#x) of an area: %s", prot,
				ename(err));
		else
			sl->prot = prot;
	} else if (!failed && prot != sl->prot) {
		fz_fail(th, "mprotect of part of an area succeeded");
	}
	sl->noread = sl->zapped || !(sl->prot & PROT_READ);
	if (failed)
		probe_bufs(th, s, 2, "after a refused mprotect");
	unlock();
}

static void op_madvise(struct fz_thread *th)
{
	static const int advs[] = {
		MADV_DOFORK, MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED,
		MADV_WILLNEED, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
		MADV_COLD, MADV_PAGEOUT, MADV_FREE, MADV_REMOVE, MADV_DONTDUMP,
		MADV_DODUMP, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_MERGEABLE,
		MADV_UNMERGEABLE, MADV_WIPEONFORK, MADV_KEEPONFORK,
		MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_COLLAPSE, 77,
	};
	/* Advice that leaves the pages where they are. */
	static const int keep[] = {
		MADV_DOFORK, MADV_DONTFORK, MADV_WILLNEED, MADV_NORMAL,
		MADV_RANDOM, MADV_SEQUENTIAL, MADV_DONTDUMP, MADV_DODUMP,
		MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_MERGEABLE,
		MADV_UNMERGEABLE, MADV_WIPEONFORK, MADV_KEEPONFORK,
		MADV_POPULATE_READ, MADV_POPULATE_WRITE,
	};
	struct eset ok = es_of(sys_madvise);
	struct rng *r = &th->r;
	int s = slot_pick(th), adv = advs[below(r, ARRAY_SIZE(advs))];
	struct fz_slot *sl = &P.slot[s];
	bool whole = true, zaps = true, failed;
	__u64 a, len;
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(keep); i++)
		zaps &= adv != keep[i];
	lock();
	if (!sl->mapped || pm(r, 60)) {
		a = below(r, 2) ? KADDR1 : (uintptr_t)P.scratch + 1;
		desc(th, "madvise(%#llx, %d)", (unsigned long long)a, adv);
		arm(th, 5000);
		failed = madvise((void *)(uintptr_t)a, PAGE, adv) != 0;
		disarm(th);
		result(th, K_MADVISE, failed, errno, &ok, "madvise");
		unlock();
		return;
	}
	a = (uintptr_t)sl->area;
	len = sl->maplen;
	if (pm(r, 250) && len >= 2 * PAGE) {
		a += PAGE;
		len = PAGE;
		whole = false;
	}
	desc(th, "madvise(area %#llx, %#llx, %d)", (unsigned long long)a,
	     (unsigned long long)len, adv);
	if (zaps)
		sl->epoch++;
	arm(th, 5000);
	failed = madvise((void *)(uintptr_t)a, len, adv) != 0;
	err = errno;
	disarm(th);
	result(th, K_MADVISE, failed, err, &ok, "madvise");
	if (adv == MADV_DOFORK && whole)
		want_err(th, failed, err, EINVAL, "madvise(MADV_DOFORK) of an area");
	if (!failed && zaps) {
		/* Pages zapped from our own mapping do not come back. */
		sl->zapped = true;
		sl->noread = true;
	}
	if (failed || !zaps)
		probe_bufs(th, s, 2, "after madvise");
	unlock();
}

static void op_version(struct fz_thread *th)
{
	struct eset ok = es_of(doc_version);
	struct bpr_version v;
	struct fz_snap sn;
	int k = pick_argp(&th->r, false), err;
	bool failed;
	__u64 p;

	snap_take(th, slot_pick(th), &sn);
	memset(&v, 0x5a, sizeof(v));
	p = argp(k, &v, sizeof(v), RO_WR, sn.area);
	desc(th, "VERSION fd %d arg %s", sn.fd, ptr_name[k]);
	arm(th, 5000);
	failed = ioctl(sn.fd, BPR_IOC_VERSION, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	snap_put(&sn);
	allow_stale(&sn, &ok);
	result(th, K_VERSION, failed, err, &ok, "VERSION");
	if (missed(failed, err))
		return;
	if (k != P_VALID)
		want_err(th, failed, err, EFAULT, "VERSION to a bad pointer");
	else if (failed && err == EFAULT)
		note(N_NOWB);	/* see transact() */
	else if (failed || v.version != BPR_VERSION || v.area_max != BPR_AREA_MAX)
		fz_fail(th, "VERSION: %s, version %u, area_max %u",
			ename(failed ? err : 0), v.version, v.area_max);
}

static void op_bind(struct fz_thread *th)
{
	struct fz_snap sn;
	int s = slot_pick(th), k;
	__u32 id;

	lock();
	snap_locked(th, s, &sn);
	id = pick_bind_id(&th->r);
	k = pick_argp(&th->r, true);
	do_bind(th, sn.slot, sn.fd, id, k);
	snap_put(&sn);
	unlock();
}

/* An endpoint id to send to: the pool, ours, dead ones, nobody's. */
static __u32 pick_target(struct fz_thread *th, const struct fz_snap *sn)
{
	static const __u32 odd[] = { 1, BPR_ID_RESERVED_MAX, 1024, ~0U };
	struct rng *r = &th->r;

	switch (below(r, 20)) {
	case 0 ... 12:
		return pool_id(r);
	case 13:
	case 14:
		return sn->id ? sn->id : pool_id(r);
	case 15:
		return P.slot[below(r, FZ_SLOTS)].id;
	case 16:
		return P.ndead ? P.dead[below(r, P.ndead < FZ_RING ?
						 P.ndead : FZ_RING)] : 0;
	case 17:
		return 0;
	case 18:
		return odd[below(r, ARRAY_SIZE(odd))];
	default:
		return (__u32)rnd(r) | 0x10000;
	}
}

/* Unknown bits in flags, rarely. */
static __u32 bad_bits(struct rng *r, __u32 known)
{
	__u32 b;

	if (!pm(r, 25))
		return 0;
	b = 1U << below(r, 32);
	return b & ~known ? b : 0x80000000U;
}

/*
 * A message or reply just handed to us in slot @sn's area: check its
 * description and payload, and keep it to free later (and its transaction
 * to reply to). @sn was taken before the call.
 */
static void got_buffer(struct fz_thread *th, const struct fz_snap *sn,
		       const struct bpr_message *m, bool reply, const char *call)
{
	struct fz_slot *sl;
	struct fz_hdr h;
	char why[200];
	bool certain, readable, same;
	__u8 *area, *cell;
	int ret = 0;

	note(reply ? N_REPLIES : N_MSGS);
	if (m->reserved)
		fz_fail(th, "%s: reserved %#llx", call,
			(unsigned long long)m->reserved);
	if (reply && (!(m->flags & BPR_MSG_REPLY) || m->transaction ||
		      (m->flags & ~(BPR_MSG_REPLY | BPR_MSG_CLEAR_BUF))))
		fz_fail(th, "%s: a reply with flags %#x transaction %llu", call,
			m->flags, (unsigned long long)m->transaction);
	if (!reply && ((m->flags & ~(BPR_MSG_ONEWAY | BPR_MSG_CLEAR_BUF)) ||
		       !(m->flags & BPR_MSG_ONEWAY) != !!m->transaction))
		fz_fail(th, "%s: a message with flags %#x transaction %llu",
			call, m->flags, (unsigned long long)m->transaction);
	if (m->sender_euid && m->sender_euid != FZ_UID)
		fz_fail(th, "%s: sender_euid %u", call, m->sender_euid);
	if (m->sender_pid <= 0)
		fz_fail(th, "%s: sender_pid %d", call, m->sender_pid);
	if (sn->slot < 0)
		return;

	lock();
	sl = &P.slot[sn->slot];
	same = sl->gen == sn->gen;
	if (same && (!sl->ever_mapped || m->offset > sl->area_size ||
		     m->size > sl->area_size - m->offset)) {
		fz_fail(th, "%s: offset %llu size %llu in an area of %llu (mapped %d)",
			call, (unsigned long long)m->offset,
			(unsigned long long)m->size,
			(unsigned long long)sl->area_size, sl->ever_mapped);
		same = false;
	}
	if (same && !reply && m->transaction && pend_has(sl, m->transaction))
		fz_fail(th, "%s: transaction id %llu again", call,
			(unsigned long long)m->transaction);
	readable = same && sl->mapped && !sl->noread;
	area = sl->area;
	unlock();
	if (!same)
		return;

	if (readable)
		ret = verify_payload(area + m->offset, m, reply, &h, why,
				     sizeof(why));
	lock();
	/*
	 * A racing free of a stale or wild offset may have freed it, and a
	 * new message reused the space, before we read it: judge only what
	 * nothing could have touched.
	 */
	certain = snap_certain_locked(sn);
	if (ret > 0 && certain)
		fz_fail(th, "%s: signal %d reading a delivered buffer (offset %llu, %llu bytes)",
			call, ret, (unsigned long long)m->offset,
			(unsigned long long)m->size);
	else if (readable && !certain)
		note(N_FAULTS);
	if (sl->gen == sn->gen) {
		struct fz_buf b = {
			.off = m->offset, .size = m->size,
			.uncertain = !certain,
			.from = th->t << 24 | (__u32)th->nops,
			.opseed = th->opseed,
		};

		buf_add(th, sl, &b);
		if (m->transaction)
			pend_add(sl, m->transaction);
	}
	unlock();
	if (!certain)
		return;
	if (ret < 0) {
		fz_fail(th, "%s: %s", call, why);
	} else if (!ret && readable && m->size >= sizeof(h) &&
		   h.magic == FZ_MAGIC) {
		note(N_VERIFIED);
		cell = seen_cell(h.origin, h.seq);
		if (cell) {
			__u8 old = __atomic_fetch_or(cell, SEEN_RX,
						     __ATOMIC_RELAXED);

			if (old & SEEN_RX)
				fz_fail(th, "%s: payload %u/%u delivered twice",
					call, h.origin, h.seq);
			if (old & SEEN_LOST)
				fz_fail(th, "%s: payload %u/%u delivered although its send failed",
					call, h.origin, h.seq);
		}
	} else if (!ret && readable && m->size >= sizeof(h.magic)) {
		note(N_FOREIGN);
	}
}

/*
 * What this thread may have left waiting in the file of @sn (a two-way
 * call interrupted and not resumed), by the file's generation.
 */
static void wst_set(struct fz_thread *th, const struct fz_snap *sn, int state)
{
	if (sn->slot < 0)
		return;
	th->wst[sn->slot].gen = sn->gen;
	th->wst[sn->slot].state = state;
}

static int wst_get(struct fz_thread *th, const struct fz_snap *sn)
{
	if (sn->slot < 0)
		return WS_UNKNOWN;
	if (th->wst[sn->slot].gen != sn->gen)
		return WS_NONE;
	return th->wst[sn->slot].state;
}

/*
 * The end of a two-way call that reached the file of @sn: a new call gave
 * up the last one left there (@fresh), and this one is over or interrupted
 * (then saved in @call_struct to resume).
 */
static void twoway_done(struct fz_thread *th, const struct fz_snap *sn,
			bool fresh, bool interrupted, int kind,
			const void *call_struct)
{
	bool here = th->saved && th->saved_slot == sn->slot &&
		    th->saved_gen == sn->gen;

	if (sn->slot < 0)
		return;
	if (fresh && wst_get(th, sn) != WS_NONE)
		note(N_ABANDONED);
	if (here && (fresh || !interrupted))
		th->saved = 0;
	wst_set(th, sn, interrupted ? WS_PENDING : WS_NONE);
	if (!interrupted)
		return;
	th->saved = kind;
	th->saved_slot = sn->slot;
	th->saved_gen = sn->gen;
	if (kind == K_TWOWAY)
		memcpy(&th->saved_tr, call_struct, sizeof(th->saved_tr));
	else
		memcpy(&th->saved_wr, call_struct, sizeof(th->saved_wr));
}

/* Descriptor for a resume: the saved slot's, if it is still that file. */
static void snap_saved(struct fz_thread *th, struct fz_snap *sn)
{
	struct fz_slot *sl = &P.slot[th->saved_slot];

	lock();
	memset(sn, 0, sizeof(*sn));
	if (sl->gen == th->saved_gen && sl->fd >= 0) {
		sn->fd = sl->fd;
		snap_fill(sn, th->saved_slot);
	} else {
		sn->fd = FZ_MAXFD - 1;
		sn->slot = -1;
		sn->stale = true;
	}
	fd_hold(sn->fd);
	unlock();
}

/*
 * BPR_IOC_TRANSACT with @tr (at a pointer of kind @k) on @sn's file; @d
 * its payload if composed now. Checks the result, keeps the bookkeeping.
 */
static void transact(struct fz_thread *th, struct fz_snap *sn,
		     struct bpr_transaction *tr, int k, const struct fz_data *d,
		     int kind)
{
	struct eset ok = es_of(doc_transact);
	struct bpr_transaction in = *tr;
	__u32 done_in = tr->done;
	bool valid = !tr->reserved && !tr->send.reserved &&
		     !(tr->send.flags & ~(BPR_SEND_ONEWAY | BPR_SEND_CLEAR_BUF)) &&
		     !(tr->done & ~BPR_WR_SENT);
	bool twoway = !(tr->send.flags & BPR_SEND_ONEWAY), failed, certain;
	int err, ws = wst_get(th, sn);
	__u64 p = argp(k, tr, sizeof(*tr), twoway ? RO_TR2 : RO_TR1, sn->area);

	desc(th,
	     "TRANSACT fd %d target %u flags %#x data %s %#llx size %llu done %#x reserved %#x/%#llx arg %s",
	     sn->fd, tr->send.target, tr->send.flags,
	     d ? ptr_name[d->kind] : "-",
	     (unsigned long long)tr->send.data,
	     (unsigned long long)tr->send.size, tr->done, tr->reserved,
	     (unsigned long long)tr->send.reserved, ptr_name[k]);
	arm(th, twoway ? block_ms(th) : 5000);
	failed = ioctl(sn->fd, BPR_IOC_TRANSACT, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	snap_put(sn);
	es_del(&ok, EPERM);
	if (!twoway || (k != P_VALID && k != P_RO))
		es_del(&ok, EINTR);
	allow_stale(sn, &ok);
	result(th, kind, failed, err, &ok, "TRANSACT");
	if (missed(failed, err))
		return;
	certain = snap_certain(sn);
	if (k == P_RO && twoway)
		wst_set(th, sn, WS_UNKNOWN);
	if (k != P_VALID && k != P_RO) {
		want_err(th, failed, err, EFAULT, "TRANSACT from a bad pointer");
		return;
	}
	if (k == P_RO)
		return;
	if (valid && failed && err == EFAULT && !memcmp(tr, &in, sizeof(in))) {
		/*
		 * Nothing written back, from a valid pointer: the copy-out
		 * failed (a page of ours that needs copying on write, and no
		 * memory for it). What was sent stays sent: we cannot know.
		 */
		note(N_NOWB);
		if (twoway)
			wst_set(th, sn, WS_UNKNOWN);
		return;
	}
	if (!valid) {
		want_err(th, failed, err, EINVAL, "TRANSACT with bad flags or reserved");
		if (tr->done != done_in)
			fz_fail(th, "a refused TRANSACT changed done to %#x",
				tr->done);
		if (d && d->hdr)
			mark_lost(th, d->seq, "TRANSACT");
		return;
	}
	if (!twoway && done_in) {
		/*
		 * A oneway send ignores done: BPR_WR_SENT is neither refused
		 * nor cleared on error (uapi.rst reads as if it were EINVAL).
		 */
		note(N_ODD);
		if (d && d->hdr && failed)
			mark_lost(th, d->seq, "TRANSACT");
		return;
	}
	if (twoway && done_in == BPR_WR_SENT && certain && failed &&
	    err == EINVAL && ws == WS_PENDING)
		fz_fail(th, "TRANSACT resuming an interrupted transaction: EINVAL");
	if (twoway && done_in == BPR_WR_SENT && ws == WS_NONE && certain &&
	    (!failed || err != EINVAL))
		fz_fail(th, "TRANSACT resuming nothing: %s, expected EINVAL",
			ename(failed ? err : 0));
	if (twoway && !done_in && certain && !sn->mapped && !sn->lost)
		want_err(th, failed, err, ENOBUFS,
			 sn->ever_mapped ? "two-way TRANSACT after munmap" :
			 "two-way TRANSACT without an area");
	if (twoway)
		twoway_done(th, sn, !done_in, failed && err == EINTR, K_TWOWAY,
			    tr);
	if (failed && err == EINTR) {
		if (tr->done != BPR_WR_SENT)
			fz_fail(th, "TRANSACT interrupted with done %#x",
				tr->done);
		return;
	}
	if (tr->done && (!done_in || !failed || err != EINVAL))
		fz_fail(th, "TRANSACT left done %#x", tr->done);
	if (d && d->hdr && failed && !done_in &&
	    (!twoway || err == EFAULT || err == EMSGSIZE || err == ENOBUFS ||
	     err == ENXIO || err == ESRCH || err == EDQUOT))
		mark_lost(th, d->seq, "TRANSACT");
	if (!failed && twoway)
		got_buffer(th, sn, &tr->reply, true, "TRANSACT reply");
}

static void op_transact(struct fz_thread *th, bool oneway)
{
	struct rng *r = &th->r;
	struct bpr_transaction tr;
	struct fz_data d;
	struct fz_snap sn;
	__u32 hflags = 0;
	int k;

	snap_take(th, slot_pick(th), &sn);
	memset(&tr, 0, sizeof(tr));
	memset(&tr.reply, 0xa5, sizeof(tr.reply));
	tr.send.target = pick_target(th, &sn);
	if (oneway) {
		tr.send.flags |= BPR_SEND_ONEWAY;
		hflags |= FZ_H_ONEWAY;
	}
	if (pm(r, 200)) {
		tr.send.flags |= BPR_SEND_CLEAR_BUF;
		hflags |= FZ_H_CLEAR;
	}
	tr.send.flags |= bad_bits(r, BPR_SEND_ONEWAY | BPR_SEND_CLEAR_BUF);
	if (pm(r, 20))
		tr.send.reserved = rnd(r) | 1;
	if (pm(r, 20))
		tr.reserved = (__u32)rnd(r) | 1;
	/* SENT with nothing to resume; never over a real one. */
	if (pm(r, 30) && wst_get(th, &sn) == WS_NONE)
		tr.done = BPR_WR_SENT;
	else if (pm(r, 15))
		tr.done = (__u32)rnd(r) | 0x20;
	gen_data(th, sn.area, sn.area_size, &d, hflags);
	tr.send.data = d.data;
	tr.send.size = d.size;
	k = pick_argp(r, true);
	transact(th, &sn, &tr, k, &d, oneway ? K_ONEWAY : K_TWOWAY);
}

static void op_write_read(struct fz_thread *th, bool resume);
static void do_reply(struct fz_thread *th, int s, __u64 want);

static void op_resume(struct fz_thread *th)
{
	struct bpr_transaction tr;
	struct fz_snap sn;

	if (!th->saved) {
		/* Nothing to resume: only where this thread left nothing. */
		snap_take(th, slot_pick(th), &sn);
		if (wst_get(th, &sn) != WS_NONE) {
			snap_put(&sn);
			return;
		}
		memset(&tr, 0, sizeof(tr));
		tr.send.target = pool_id(&th->r);
		tr.done = BPR_WR_SENT;
		transact(th, &sn, &tr, P_VALID, NULL, K_RESUME);
		return;
	}
	note(N_RESUMED);
	if (th->saved == K_WRITE_READ) {
		op_write_read(th, true);
		return;
	}
	snap_saved(th, &sn);
	tr = th->saved_tr;
	transact(th, &sn, &tr, P_VALID, NULL, K_RESUME);
}

static void op_receive(struct fz_thread *th)
{
	struct eset ok = es_of(doc_receive);
	struct bpr_message m;
	struct fz_snap sn;
	int k = pick_argp(&th->r, false), err;
	bool failed, nb;
	__u64 p;

	snap_take(th, slot_pick(th), &sn);
	memset(&m, 0xa5, sizeof(m));
	p = argp(k, &m, sizeof(m), RO_WR, sn.area);
	desc(th, "RECEIVE fd %d nonblock %d arg %s", sn.fd, sn.nonblock,
	     ptr_name[k]);
	arm(th, sn.nonblock ? 5000 : block_ms(th));
	failed = ioctl(sn.fd, BPR_IOC_RECEIVE, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	snap_put(&sn);
	es_del(&ok, EPERM);
	lock();
	nb = sn.slot >= 0 && P.slot[sn.slot].nbgen == sn.nbgen;
	unlock();
	if (nb && sn.nonblock)
		es_del(&ok, EINTR);
	else if (nb)
		es_del(&ok, EAGAIN);
	allow_stale(&sn, &ok);
	result(th, K_RECEIVE, failed, err, &ok, "RECEIVE");
	if (failed)
		return;
	if (k != P_VALID) {
		fz_fail(th, "RECEIVE into a bad pointer succeeded");
		return;
	}
	got_buffer(th, &sn, &m, false, "RECEIVE");
	/* Mostly answered at once, as a server does: senders wait. */
	if (m.transaction && sn.slot >= 0 && pm(&th->r, 650))
		do_reply(th, sn.slot, m.transaction);
}

/*
 * A transaction id to reply to: a pending one (taken off the list: put it
 * back if the reply fails in a way that leaves it pending), or one that is
 * not pending. Under the lock.
 */
static __u64 pick_txn(struct fz_thread *th, struct fz_slot *sl, bool *right)
{
	struct rng *r = &th->r;
	__u64 txn;
	int i;

	*right = false;
	if (sl->npend && pm(r, 700)) {
		i = below(r, sl->npend);
		txn = sl->pend[i];
		sl->pend[i] = sl->pend[--sl->npend];
		*right = true;
		return txn;
	}
	if (sl->nreplied && pm(r, 500))
		return ring_pick(r, sl->replied, sl->nreplied);
	/* Ids start at 1 and count up: these never were, nor will be. */
	switch (below(r, 4)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return 1ULL << 63;
	default:
		return (1ULL << 40) + below(r, 1000);
	}
}

/* A reply to a pending transaction ended: remember it, or put it back. */
static void txn_back(const struct fz_snap *sn, __u64 txn, bool finished)
{
	struct fz_slot *sl = &P.slot[sn->slot];

	lock();
	if (sl->gen == sn->gen) {
		if (finished)
			ring_push(sl->replied, &sl->nreplied, txn);
		else
			pend_add(sl, txn);
	}
	unlock();
}

/* Take @txn off the pending list of @sl: whether it was there. */
static bool pend_take(struct fz_slot *sl, __u64 txn)
{
	int i;

	for (i = 0; i < sl->npend; i++) {
		if (sl->pend[i] != txn)
			continue;
		sl->pend[i] = sl->pend[--sl->npend];
		return true;
	}
	return false;
}

/*
 * BPR_IOC_REPLY in slot @s: to transaction @want if not 0 (a server's
 * answer to what it just received), else to a random one.
 */
static void do_reply(struct fz_thread *th, int s, __u64 want)
{
	struct eset ok = es_of(doc_reply);
	struct rng *r = &th->r;
	int k = want ? P_VALID : pick_argp(r, true), err;
	struct bpr_reply rp;
	struct fz_data d;
	struct fz_snap sn;
	bool right = false, valid, failed, certain;
	__u32 hflags = FZ_H_REPLY;
	__u64 p;

	lock();
	snap_locked(th, s, &sn);
	memset(&rp, 0, sizeof(rp));
	if (want) {
		right = sn.slot >= 0 && pend_take(&P.slot[sn.slot], want);
		if (!right) {
			unlock();
			snap_put(&sn);
			return;
		}
		rp.transaction = want;
	} else if (sn.slot >= 0 && k == P_VALID) {
		rp.transaction = pick_txn(th, &P.slot[sn.slot], &right);
	} else {
		rp.transaction = ~0ULL - 1;
	}
	unlock();
	if (pm(r, 200)) {
		rp.flags |= BPR_REPLY_CLEAR_BUF;
		hflags |= FZ_H_CLEAR;
	}
	rp.flags |= bad_bits(r, BPR_REPLY_CLEAR_BUF);
	if (pm(r, 20))
		rp.reserved = (__u32)rnd(r) | 1;
	gen_data(th, sn.area, sn.area_size, &d, hflags);
	rp.data = d.data;
	rp.size = d.size;
	valid = !rp.reserved && !(rp.flags & ~BPR_REPLY_CLEAR_BUF);
	p = argp(k, &rp, sizeof(rp), RO_RP, sn.area);
	desc(th, "%sREPLY fd %d txn %llu (%s) flags %#x data %s size %llu reserved %#x arg %s",
	     want ? "served: " : "", sn.fd, (unsigned long long)rp.transaction,
	     right ? "pending" : "not pending", rp.flags, ptr_name[d.kind],
	     (unsigned long long)rp.size, rp.reserved, ptr_name[k]);
	arm(th, 5000);
	failed = ioctl(sn.fd, BPR_IOC_REPLY, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	snap_put(&sn);
	es_del(&ok, EPERM);
	allow_stale(&sn, &ok);
	result(th, K_REPLY, failed, err, &ok, "REPLY");
	if (d.hdr && failed)
		mark_lost(th, d.seq, "REPLY");
	if (missed(failed, err)) {
		if (right)
			txn_back(&sn, rp.transaction, false);
		return;
	}
	certain = snap_certain(&sn);
	if (k != P_VALID && k != P_RO) {
		want_err(th, failed, err, EFAULT, "REPLY from a bad pointer");
		return;
	}
	if (!valid || !right) {
		if (sn.slot >= 0 || !valid)
			want_err(th, failed, err, EINVAL, !valid ?
				 "REPLY with bad flags or reserved" :
				 "REPLY to a transaction not pending");
		if (right)
			txn_back(&sn, rp.transaction, false);
		return;
	}
	if (failed && err == EINVAL && certain)
		fz_fail(th, "REPLY to pending transaction %llu: EINVAL",
			(unsigned long long)rp.transaction);
	txn_back(&sn, rp.transaction, !failed || err == ECONNRESET ||
		 err == ENOSPC || err == ENOMEM);
}

/* What a free is given: a delivered buffer's offset, or something else. */
enum { F_NONE, F_VALID, F_MID, F_STALE, F_WILD };

struct fz_free {
	int kind;
	bool wild;		/* counted in the slot's wild */
	__u64 off;
	struct fz_buf buf;	/* F_VALID, F_MID: taken off the list */
};

static const char * const free_name[] = {
	"-", "valid", "mid", "stale", "wild",
};

/*
 * Choose an offset to free in slot @sl (NULL: not a file of ours). A stale
 * or wild one may free a buffer another thread is just receiving, so it
 * counts in @sl->wild until free_end(), and bumps the epoch if it freed
 * anything. Under the lock.
 */
static void free_pick(struct fz_thread *th, struct fz_slot *sl,
		      struct fz_free *f)
{
	struct rng *r = &th->r;
	__u64 area = sl ? sl->area_size : 0;
	int c = below(r, 20), i;

	memset(f, 0, sizeof(*f));
	if (sl && sl->nbufs && c < 13) {
		i = below(r, sl->nbufs);
		f->buf = buf_take(sl, i);
		f->kind = F_VALID;
		f->off = f->buf.off;
		if (f->buf.uncertain) {
			/*
			 * It may be gone, and its offset another buffer's now,
			 * one being received: as wild as a wild free.
			 */
			f->wild = true;
			sl->wild++;
		} else if (c >= 11) {
			f->kind = F_MID;
			f->off += 1 + below(r, f->buf.size > 8 ?
					    f->buf.size - 1 : 7);
		}
		return;
	}
	if (sl && sl->nfreed && c < 16) {
		f->kind = F_STALE;
		f->off = ring_pick(r, sl->freed, sl->nfreed);
	} else {
		f->kind = F_WILD;
		switch (below(r, 6)) {
		case 0:
			f->off = area;
			break;
		case 1:
			f->off = 1ULL << 63;
			break;
		case 2:
			f->off = ~0ULL;
			break;
		case 3:
			f->off = area ? area - 8 : 0;
			break;
		default:
			f->off = below(r, area ? area : PAGE) & ~7ULL;
			break;
		}
	}
	if (sl && buf_find(sl, f->off) >= 0)
		f->off |= 4;	/* never a buffer we hold */
	if (sl) {
		f->wild = true;
		sl->wild++;
	}
}

/*
 * The free of @f (in @sn's slot) is over: @attempted if the call tried it,
 * @freed if it happened.
 */
static void free_end(struct fz_thread *th, const struct fz_snap *sn,
		     struct fz_free *f, bool attempted, bool freed, int err,
		     bool certain, const char *call)
{
	struct fz_slot *sl = sn->slot >= 0 ? &P.slot[sn->slot] : NULL;
	bool same;
	int i;

	if (f->kind == F_NONE)
		return;
	lock();
	/*
	 * Judged here, under the lock the buffer goes back under: a stale
	 * free picked while it was off the list shows in the epoch.
	 */
	certain = certain && snap_certain_locked(sn);
	same = sl && sl->gen == sn->gen;
	if (f->wild) {
		/* Only a free that happened can have hit someone's buffer. */
		sl->wild--;
		if (freed)
			sl->epoch++;
	}
	if (!same) {
		unlock();
		return;
	}
	switch (f->kind) {
	case F_VALID:
		if (freed) {
			ring_push(sl->freed, &sl->nfreed, f->off);
		} else {
			if (attempted && certain && !f->buf.uncertain) {
				fz_fail(th,
					"%s of delivered buffer at %llu (%llu bytes, from thread %u op %u, opseed %#llx): %s",
					call, (unsigned long long)f->off,
					(unsigned long long)f->buf.size,
					f->buf.from >> 24, f->buf.from & 0xffffff,
					(unsigned long long)f->buf.opseed,
					ename(err));
				break;
			}
			/* Refused: gone already, by a wild free. */
			if (attempted && f->buf.uncertain)
				break;
			f->buf.uncertain |= !certain;
			buf_add(th, sl, &f->buf);
		}
		break;
	case F_MID:
		if (freed || (attempted && certain && err != EINVAL))
			fz_fail(th, "%s in the middle of a buffer (%llu of %llu+%llu): %s",
				call, (unsigned long long)f->off,
				(unsigned long long)f->buf.off,
				(unsigned long long)f->buf.size,
				ename(freed ? 0 : err));
		f->buf.uncertain |= !certain;
		buf_add(th, sl, &f->buf);
		break;
	default:
		if (freed && f->off >= sl->area_size)
			fz_fail(th, "%s of offset %llu past the area succeeded",
				call, (unsigned long long)f->off);
		if (freed) {
			/* Some buffer in flight to another thread: its own. */
			i = buf_find(sl, f->off);
			if (i >= 0)
				buf_take(sl, i);
		}
		break;
	}
	unlock();
}

static void op_free(struct fz_thread *th)
{
	struct eset ok = es_of(doc_free);
	int s = slot_pick(th), k = pick_argp(&th->r, true), err;
	struct fz_free f;
	struct fz_snap sn;
	bool failed;
	__u64 off, p;

	lock();
	snap_locked(th, s, &sn);
	memset(&f, 0, sizeof(f));
	if (k == P_VALID)
		free_pick(th, sn.slot >= 0 ? &P.slot[sn.slot] : NULL, &f);
	unlock();
	off = k == P_RO ? ~0ULL - 7 : f.off;
	p = argp(k, &off, sizeof(off), RO_OFF, sn.area);
	desc(th, "FREE fd %d offset %llu (%s) arg %s", sn.fd,
	     (unsigned long long)off, free_name[f.kind], ptr_name[k]);
	arm(th, 5000);
	failed = ioctl(sn.fd, BPR_IOC_FREE, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	snap_put(&sn);
	es_del(&ok, EPERM);
	allow_stale(&sn, &ok);
	result(th, K_FREE, failed, err, &ok, "FREE");
	if (k == P_VALID) {
		free_end(th, &sn, &f, !missed(failed, err), !failed, err,
			 snap_certain(&sn), "FREE");
		return;
	}
	if (missed(failed, err))
		return;
	if (k == P_RO)
		want_err(th, failed, err, EINVAL, "FREE of offset 2^64-8");
	else
		want_err(th, failed, err, EFAULT, "FREE from a bad pointer");
}

/*
 * BPR_IOC_WRITE_READ: random steps, each with its bookkeeping, then every
 * documented rule on what the call returns and writes back. With @resume,
 * the call this thread left interrupted, again.
 */
static void op_write_read(struct fz_thread *th, bool resume)
{
	struct eset ok = es_of(doc_write_read), peer;
	struct rng *r = &th->r;
	struct bpr_write_read wr, in;
	struct fz_data d = { 0 };
	struct fz_free f = { 0 };
	struct fz_snap sn;
	int s = slot_pick(th), k = P_VALID, err, c, ws;
	bool right = false, failed, invalid, twoway = false, certain, same;
	bool reply_valid = true, reached, nbsame, rx_block, rx_nonblock;
	__u32 todo, exec, hflags = 0;
	__u64 p;

	memset(&wr, 0, sizeof(wr));
	if (resume) {
		snap_saved(th, &sn);
		wr = th->saved_wr;
		goto call;
	}
	lock();
	snap_locked(th, s, &sn);
	k = pick_argp(r, true);
	if (pm(r, 400))
		wr.flags |= BPR_WR_FREE;
	c = below(r, 100);
	if (c < 40)
		wr.flags |= BPR_WR_SEND;
	else if (c < 75)
		wr.flags |= BPR_WR_REPLY;
	if (pm(r, 600))
		wr.flags |= BPR_WR_RECEIVE;
	if (wr.flags & BPR_WR_SEND) {
		twoway = pm(r, 400);
		if (twoway && (wr.flags & BPR_WR_RECEIVE) && !pm(r, 30))
			wr.flags &= ~BPR_WR_RECEIVE;
	}
	wr.flags |= bad_bits(r, 0xf);
	if (pm(r, 10))
		wr.flags |= BPR_WR_SEND | BPR_WR_REPLY;
	if (pm(r, 70))
		wr.done = rnd(r) & 0xf;
	else if (pm(r, 30))
		wr.done = (__u32)rnd(r);
	if ((wr.done & BPR_WR_SENT) && wst_get(th, &sn) != WS_NONE)
		wr.done &= ~BPR_WR_SENT;
	if (pm(r, 20))
		wr.reserved = (__u32)rnd(r) | 1;
	wr.write_status = (__s32)rnd(r) | 1;	/* to see it written back */
	memset(&wr.message, 0xa5, sizeof(wr.message));
	wr.free_offset = rnd(r);
	if ((wr.flags & BPR_WR_FREE) && k == P_VALID)
		free_pick(th, sn.slot >= 0 ? &P.slot[sn.slot] : NULL, &f);
	if ((wr.flags & BPR_WR_REPLY) && k == P_VALID) {
		if (sn.slot >= 0)
			wr.reply.transaction = pick_txn(th, &P.slot[sn.slot],
							&right);
		else
			wr.reply.transaction = ~0ULL;
	}
	unlock();
	if (f.kind != F_NONE)
		wr.free_offset = f.off;
	if (wr.flags & BPR_WR_SEND) {
		wr.send.target = pick_target(th, &sn);
		if (!twoway) {
			wr.send.flags = BPR_SEND_ONEWAY;
			hflags |= FZ_H_ONEWAY;
		}
		if (pm(r, 200)) {
			wr.send.flags |= BPR_SEND_CLEAR_BUF;
			hflags |= FZ_H_CLEAR;
		}
		wr.send.flags |= bad_bits(r, BPR_SEND_ONEWAY | BPR_SEND_CLEAR_BUF);
		if (pm(r, 15))
			wr.send.reserved = rnd(r) | 1;
		gen_data(th, sn.area, sn.area_size, &d, hflags);
		wr.send.data = d.data;
		wr.send.size = d.size;
	} else if (wr.flags & BPR_WR_REPLY) {
		hflags = FZ_H_REPLY;
		if (pm(r, 200)) {
			wr.reply.flags = BPR_REPLY_CLEAR_BUF;
			hflags |= FZ_H_CLEAR;
		}
		wr.reply.flags |= bad_bits(r, BPR_REPLY_CLEAR_BUF);
		if (pm(r, 15))
			wr.reply.reserved = (__u32)rnd(r) | 1;
		reply_valid = !wr.reply.reserved &&
			      !(wr.reply.flags & ~BPR_REPLY_CLEAR_BUF);
		gen_data(th, sn.area, sn.area_size, &d, hflags);
		wr.reply.data = d.data;
		wr.reply.size = d.size;
	}
call:
	in = wr;
	ws = wst_get(th, &sn);
	todo = in.flags & ~in.done & 0xf;
	invalid = in.reserved || (in.flags & ~0xfU) ||
		  (in.done & ~0x1fU) ||
		  ((in.flags & BPR_WR_SEND) && (in.flags & BPR_WR_REPLY)) ||
		  ((in.flags & BPR_WR_SEND) &&
		   (in.send.reserved ||
		    (in.send.flags & ~(BPR_SEND_ONEWAY | BPR_SEND_CLEAR_BUF)) ||
		    (!(in.send.flags & BPR_SEND_ONEWAY) &&
		     (in.flags & BPR_WR_RECEIVE))));
	twoway = (todo & BPR_WR_SEND) && !(in.send.flags & BPR_SEND_ONEWAY);
	p = argp(k, &wr, sizeof(wr), RO_WR, sn.area);
	desc(th,
	     "WRITE_READ fd %d flags %#x done %#x free %llu (%s) target %u send flags %#x reply txn %llu (%s) flags %#x data %s size %llu reserved %#x arg %s%s",
	     sn.fd, in.flags, in.done, (unsigned long long)in.free_offset,
	     free_name[f.kind], in.send.target, in.send.flags,
	     (unsigned long long)in.reply.transaction,
	     right ? "pending" : "not pending", in.reply.flags,
	     ptr_name[d.kind], (unsigned long long)d.size, in.reserved,
	     ptr_name[k], resume ? " (resumed)" : "");
	arm(th, twoway || ((todo & BPR_WR_RECEIVE) && !sn.nonblock) ?
		block_ms(th) : 5000);
	failed = ioctl(sn.fd, BPR_IOC_WRITE_READ, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	snap_put(&sn);

	lock();
	nbsame = sn.slot >= 0 && P.slot[sn.slot].nbgen == sn.nbgen;
	unlock();
	rx_block = (todo & BPR_WR_RECEIVE) && !(nbsame && sn.nonblock);
	rx_nonblock = (todo & BPR_WR_RECEIVE) && !(nbsame && !sn.nonblock);
	es_del(&ok, EPERM);
	if (!rx_block && !twoway)
		es_del(&ok, EINTR);
	if (!rx_nonblock)
		es_del(&ok, EAGAIN);
	if (!(todo & BPR_WR_RECEIVE))
		es_del(&ok, EBADF);
	if (!twoway)
		es_del(&ok, ENOBUFS);
	if (!(todo & (BPR_WR_SEND | BPR_WR_REPLY)))
		es_del(&ok, EMSGSIZE);
	if (k != P_VALID && k != P_RO)
		es_del(&ok, EINTR);
	allow_stale(&sn, &ok);
	result(th, resume ? K_RESUME : K_WRITE_READ, failed, err, &ok,
	       "WRITE_READ");
	same = snap_same_file(&sn);
	/*
	 * EBADF or ENOTTY: the descriptor was closed, or was none of ours,
	 * before the call got the file (then nothing is written back), or
	 * the receive step was woken by a close (after the steps before).
	 */
	if (missed(failed, err)) {
		exec = same ? wr.done & ~in.done & 0xf : 0;
		free_end(th, &sn, &f, false, exec & BPR_WR_FREE, err, false,
			 "WRITE_READ free");
		if (right)
			txn_back(&sn, in.reply.transaction, exec & BPR_WR_REPLY);
		if ((exec & BPR_WR_SEND) && twoway)
			twoway_done(th, &sn, !(in.done & BPR_WR_SENT), false,
				    K_WRITE_READ, &wr);
		else if (twoway && same && (wr.done & BPR_WR_SENT))
			wst_set(th, &sn, WS_UNKNOWN);
		return;
	}
	certain = snap_certain(&sn);
	if (k == P_RO)
		wst_set(th, &sn, WS_UNKNOWN);
	if (k != P_VALID) {
		if (k != P_RO)
			want_err(th, failed, err, EFAULT,
				 "WRITE_READ from a bad pointer");
		return;
	}
	if (invalid) {
		want_err(th, failed, err, EINVAL, "WRITE_READ with bad flags, done or reserved");
		if (memcmp(&wr, &in, sizeof(wr)))
			fz_fail(th, "a refused WRITE_READ wrote back");
		free_end(th, &sn, &f, false, false, err, certain,
			 "WRITE_READ free");
		if (right)
			txn_back(&sn, in.reply.transaction, false);
		if (d.hdr)
			mark_lost(th, d.seq, "WRITE_READ");
		return;
	}
	if (failed && err == EFAULT && !memcmp(&wr, &in, sizeof(wr))) {
		/*
		 * Not written back (see transact()): the steps before the
		 * copy-out are done, which we cannot know. Forget what they
		 * may have changed.
		 */
		note(N_NOWB);
		lock();
		if (sn.slot >= 0 && P.slot[sn.slot].gen == sn.gen)
			P.slot[sn.slot].epoch++;
		unlock();
		/* A buffer we chose to free may be gone: drop it. */
		free_end(th, &sn, &f, false, f.kind == F_VALID, err, false,
			 "WRITE_READ free");
		if (twoway)
			wst_set(th, &sn, WS_UNKNOWN);
		return;
	}
	exec = wr.done & ~in.done & 0xf;
	if (!failed && exec != todo)
		fz_fail(th, "WRITE_READ returned 0 with done %#x for steps %#x",
			wr.done, todo);
	if (wr.done & ~(in.done | todo | BPR_WR_SENT))
		fz_fail(th, "WRITE_READ done %#x, steps %#x", wr.done, todo);
	if (!(in.done & 0xf) && !(exec & (BPR_WR_SEND | BPR_WR_REPLY)) &&
	    wr.write_status)
		fz_fail(th, "WRITE_READ (%s) write_status %d with no send or reply",
			ename(failed ? err : 0), wr.write_status);

	/* The free step runs first; the send or reply only after it. */
	free_end(th, &sn, &f, (todo & BPR_WR_FREE) && !(exec & BPR_WR_FREE),
		 exec & BPR_WR_FREE, err, certain, "WRITE_READ free");
	reached = !(todo & BPR_WR_FREE) || (exec & BPR_WR_FREE);
	if (exec & BPR_WR_REPLY) {
		peer = es_of(doc_peer_reply);
		if (wr.write_status && !es_has(&peer, -wr.write_status))
			fz_fail(th, "WRITE_READ reply write_status %d",
				wr.write_status);
		if (!right && certain && reply_valid)
			fz_fail(th, "WRITE_READ replied to a transaction not pending");
	} else if ((todo & BPR_WR_REPLY) && reached && failed && certain &&
		   right && reply_valid && err == EINVAL) {
		fz_fail(th, "WRITE_READ reply to pending transaction %llu: EINVAL",
			(unsigned long long)in.reply.transaction);
	}
	if (right)
		txn_back(&sn, in.reply.transaction, exec & BPR_WR_REPLY);
	if ((in.flags & BPR_WR_REPLY) && d.hdr &&
	    (!(exec & BPR_WR_REPLY) || wr.write_status))
		mark_lost(th, d.seq, "WRITE_READ reply");

	if (exec & BPR_WR_SEND) {
		peer = es_of(doc_peer_send);
		if (wr.write_status && !es_has(&peer, -wr.write_status))
			fz_fail(th, "WRITE_READ send write_status %d",
				wr.write_status);
		if (d.hdr && wr.write_status &&
		    (!twoway || wr.write_status == -ENXIO ||
		     wr.write_status == -ESRCH || wr.write_status == -EDQUOT))
			mark_lost(th, d.seq, "WRITE_READ send");
		if (twoway) {
			twoway_done(th, &sn, !(in.done & BPR_WR_SENT), false,
				    K_WRITE_READ, &wr);
			if (!wr.write_status)
				got_buffer(th, &sn, &wr.message, true,
					   "WRITE_READ reply");
		}
	} else if ((todo & BPR_WR_SEND) && reached) {
		bool eintr = failed && err == EINTR;

		if (twoway && eintr && !(wr.done & BPR_WR_SENT))
			fz_fail(th, "WRITE_READ interrupted with done %#x",
				wr.done);
		if (twoway && !eintr && (wr.done & BPR_WR_SENT) &&
		    !(in.done & BPR_WR_SENT))
			fz_fail(th, "WRITE_READ left BPR_WR_SENT after %s",
				ename(failed ? err : 0));
		if (twoway && failed && err == EINVAL &&
		    (in.done & BPR_WR_SENT) && certain) {
			if (ws == WS_PENDING)
				fz_fail(th,
					"WRITE_READ resuming an interrupted transaction: EINVAL");
		} else if (twoway && !failed && (in.done & BPR_WR_SENT) &&
			   ws == WS_NONE && certain) {
			fz_fail(th, "WRITE_READ resumed a transaction that was not there");
		}
		if (d.hdr && !(wr.done & BPR_WR_SENT))
			mark_lost(th, d.seq, "WRITE_READ send");
		if (twoway)
			twoway_done(th, &sn, !(in.done & BPR_WR_SENT), eintr,
				    K_WRITE_READ, &wr);
	}
	if (exec & BPR_WR_RECEIVE) {
		got_buffer(th, &sn, &wr.message, false, "WRITE_READ receive");
		if (wr.message.transaction && sn.slot >= 0 && pm(r, 500))
			do_reply(th, sn.slot, wr.message.transaction);
	}
}

static void op_stats(struct fz_thread *th)
{
	struct eset ok = es_of(doc_stats);
	struct bpr_stats st;
	struct fz_slot *sl;
	struct fz_snap sn;
	int k = pick_argp(&th->r, false), err, i, held = 0;
	bool failed;
	__u64 p;

	lock();
	snap_locked(th, slot_pick(th), &sn);
	memset(&st, 0xa5, sizeof(st));
	p = argp(k, &st, sizeof(st), RO_WR, sn.area);
	desc(th, "STATS fd %d arg %s", sn.fd, ptr_name[k]);
	arm(th, 5000);
	failed = ioctl(sn.fd, BPR_IOC_STATS, (void *)(uintptr_t)p) != 0;
	err = errno;
	disarm(th);
	snap_put(&sn);
	es_del(&ok, EPERM);
	if (sn.slot < 0) {
		es_add(&ok, EBADF);
		es_add(&ok, ENOTTY);
	}
	result(th, K_STATS, failed, err, &ok, "STATS");
	if (sn.slot < 0) {
		unlock();
		return;
	}
	sl = &P.slot[sn.slot];
	if (k != P_VALID) {
		want_err(th, failed, err, EFAULT, "STATS to a bad pointer");
	} else if (!failed) {
		for (i = 0; i < sl->nbufs; i++)
			held += !sl->bufs[i].uncertain;
		if (st.pages_used + st.pages_available + st.pages_free !=
		    st.pages_total || st.reserved[0] || st.reserved[1] ||
		    st.reserved[2] ||
		    st.pages_total != (sl->ever_mapped ? sl->area_size / PAGE : 0) ||
		    st.free_space > sl->area_size ||
		    st.free_async_space > sl->area_size / 2 ||
		    st.messages_queued + st.transactions_pending > 4096 ||
		    (!sl->wild && st.buffers_allocated < (__u64)held) ||
		    st.transactions_pending < (__u64)sl->npend)
			fz_fail(th,
				"STATS: pages %llu = %llu used + %llu available + %llu free, area %llu, buffers %llu (we hold %d), free %llu async %llu, queued %llu, pending %llu (we know %d), reserved %llx %llx %llx",
				(unsigned long long)st.pages_total,
				(unsigned long long)st.pages_used,
				(unsigned long long)st.pages_available,
				(unsigned long long)st.pages_free,
				(unsigned long long)sl->area_size,
				(unsigned long long)st.buffers_allocated, held,
				(unsigned long long)st.free_space,
				(unsigned long long)st.free_async_space,
				(unsigned long long)st.messages_queued,
				(unsigned long long)st.transactions_pending,
				sl->npend,
				(unsigned long long)st.reserved[0],
				(unsigned long long)st.reserved[1],
				(unsigned long long)st.reserved[2]);
	}
	/* Used pages are never reclaimed: every buffer we hold reads. */
	probe_bufs(th, sn.slot, 4, "delivered buffer");
	unlock();
}

static void op_poll(struct fz_thread *th)
{
	struct eset ok = es_of(sys_poll);
	struct rng *r = &th->r;
	struct pollfd pfd[3];
	struct fz_snap sn[3];
	int n = 1 + below(r, 3), i, ret, tmo = pm(r, 700) ? 0 : below(r, 20);

	for (i = 0; i < n; i++) {
		snap_take(th, slot_pick(th), &sn[i]);
		pfd[i].fd = pm(r, 50) ? -1 : sn[i].fd;
		pfd[i].events = pm(r, 800) ? POLLIN : POLLIN | POLLOUT | POLLPRI;
		pfd[i].revents = 0;
	}
	desc(th, "poll(%d fds, %d ms)", n, tmo);
	arm(th, tmo + 5000);
	ret = poll(pfd, n, tmo);
	disarm(th);
	for (i = 0; i < n; i++)
		snap_put(&sn[i]);
	if (!result(th, K_POLL, ret < 0, errno, &ok, "poll"))
		return;
	for (i = 0; i < n; i++)
		if (pfd[i].revents & ~(POLLIN | POLLRDNORM | POLLNVAL))
			fz_fail(th, "poll: revents %#x for fd %d",
				pfd[i].revents, pfd[i].fd);
}

static void op_badcmd(struct fz_thread *th)
{
	static const unsigned int good[] = {
		BPR_IOC_VERSION, BPR_IOC_BIND, BPR_IOC_TRANSACT,
		BPR_IOC_RECEIVE, BPR_IOC_REPLY, BPR_IOC_FREE,
		BPR_IOC_WRITE_READ, BPR_IOC_STATS,
	};
	struct eset ok = es_of(doc_unknown);
	struct rng *r = &th->r;
	__u8 arg[512] = { 0 };
	struct fz_snap sn;
	unsigned int cmd, g = good[below(r, ARRAY_SIZE(good))], i;
	bool failed;
	int err;

	switch (below(r, 5)) {
	case 0:
		cmd = _IOC(below(r, 4), BPR_IOC_MAGIC, 8 + below(r, 248),
			   below(r, 512));
		break;
	case 1:
		/* Version 1's magic. */
		cmd = (g & ~(_IOC_TYPEMASK << _IOC_TYPESHIFT)) |
		      (0xBA << _IOC_TYPESHIFT);
		break;
	case 2:
		cmd = g ^ (1U << (_IOC_SIZESHIFT + below(r, _IOC_SIZEBITS)));
		break;
	case 3:
		cmd = g ^ (1U << (_IOC_DIRSHIFT + below(r, _IOC_DIRBITS)));
		break;
	default:
		cmd = ((__u32)rnd(r) & ~(_IOC_TYPEMASK << _IOC_TYPESHIFT)) |
		      ((below(r, 2) ? 0xB9 : 0xBA) << _IOC_TYPESHIFT);
		break;
	}
	for (i = 0; i < ARRAY_SIZE(good); i++)
		if (cmd == good[i])
			return;
	snap_take(th, slot_pick(th), &sn);
	desc(th, "ioctl(%d, %#x)", sn.fd, cmd);
	arm(th, 5000);
	failed = ioctl(sn.fd, cmd, pm(r, 800) ? arg : NULL) != 0;
	err = errno;
	disarm(th);
	snap_put(&sn);
	allow_stale(&sn, &ok);
	result(th, K_BADCMD, failed, err, &ok, "unknown ioctl");
	if (!failed)
		fz_fail(th, "unknown ioctl %#x succeeded", cmd);
}

static void op_signal(struct fz_thread *th)
{
	struct fz_thread *to = &P.th[below(&th->r, P.nth)];
	int sig = pm(&th->r, 750) ? SIGUSR1 : SIGUSR2;

	/* Mostly at a thread that waits in a call. */
	if (to->tid <= 0 ||
	    (!__atomic_load_n(&to->deadline, __ATOMIC_ACQUIRE) && pm(&th->r, 700)))
		return;
	desc(th, "tgkill(thread %d, %d)", to->t, sig);
	if (syscall(SYS_tgkill, getpid(), to->tid, sig) && errno != ESRCH)
		fz_fail(th, "tgkill: %s", ename(errno));
	count(K_SIGNAL, 0);
}

static void op_stopcont(struct fz_thread *th)
{
	int w = below(&th->r, cfg.procs);
	pid_t pid = shm->workers[w];

	if (w == P.widx || pid <= 0)
		return;
	desc(th, "SIGSTOP, SIGCONT to worker %d", w);
	/* The master sends SIGCONT too, in case we are stopped meanwhile. */
	if (kill(pid, SIGSTOP)) {
		if (errno != ESRCH && !(errno == EPERM && P.unpriv))
			fz_fail(th, "kill: %s", ename(errno));
		return;
	}
	note(N_STOPS);
	usleep(below(&th->r, 5000));
	kill(pid, SIGCONT);
	count(K_STOPCONT, 0);
}

/* ---- children: fork, exec, a sender killed while it waits ---- */

/* What a child inherits: our descriptors and where our areas were. */
struct fz_inherit {
	int fds[FZ_SLOTS * (1 + FZ_ALIASES)];
	int nfds;
	__u8 *areas[FZ_SLOTS + FZ_ORPHANS];
	int nareas;
	__u32 ids[FZ_SLOTS];
	int nids;
};

static void inherit_snap(struct fz_inherit *in)
{
	int s, a, o;

	memset(in, 0, sizeof(*in));
	for (s = 0; s < FZ_SLOTS; s++) {
		struct fz_slot *sl = &P.slot[s];

		if (sl->fd >= 0)
			in->fds[in->nfds++] = sl->fd;
		for (a = 0; a < FZ_ALIASES; a++)
			if (sl->alias[a] >= 0)
				in->fds[in->nfds++] = sl->alias[a];
		if (sl->mapped)
			in->areas[in->nareas++] = sl->area;
		if (sl->id)
			in->ids[in->nids++] = sl->id;
	}
	for (o = 0; o < FZ_ORPHANS; o++)
		if (P.orphan[o].addr && !P.orphan[o].lost)
			in->areas[in->nareas++] = P.orphan[o].addr;
}

/* The checks of a child, reported by fz_fail(NULL) or by its exit code. */
static int kid_failures;

static void __printf(1, 2) kid_fail(const char *f, ...)
{
	char buf[600];
	va_list ap;
	int n;

	kid_failures++;
	n = fmt(buf, sizeof(buf), 0, "# FAIL seed=%llu child %d: ",
		(unsigned long long)cfg.seed, getpid());
	va_start(ap, f);
	n = vfmt(buf, sizeof(buf), n, f, ap);
	va_end(ap);
	n = fmt(buf, sizeof(buf), n, "\n");
	say(buf, n);
}

/* An ioctl by a child, and the errno it must end with (0: success). */
static void kid_ioctl(int fd, unsigned long cmd, void *arg, int want,
		      const char *call)
{
	int ret = ioctl(fd, cmd, arg), err = errno;

	/* EFAULT: see kid_sequence(). */
	if (want ? !ret || err != want : ret && err != EFAULT)
		kid_fail("%s by another process: %s, expected %s", call,
			 ename(ret ? err : 0), ename(want));
}

/*
 * A descriptor of a file another process opened: only VERSION works, the
 * rest is EPERM, mmap() EINVAL, an unknown command ENOTTY.
 */
static void kid_not_owner(int fd)
{
	struct bpr_transaction tr = { .send = { .target = FZ_ID_BASE,
						.flags = BPR_SEND_ONEWAY } };
	struct bpr_write_read wr = { .flags = BPR_WR_RECEIVE };
	struct bpr_version v = { 0 };
	struct bpr_reply rp = { .transaction = 1 };
	struct bpr_stats st;
	struct bpr_message m;
	__u32 id = FZ_ID_BASE + 9;
	__u64 off = 0;
	struct stat a, b;
	int want;
	void *p;

	if (fstat(fd, &a) || stat(BPR_DEVICE, &b) || a.st_rdev != b.st_rdev)
		return;
	kid_ioctl(fd, BPR_IOC_VERSION, &v, 0, "VERSION");
	if (v.version != BPR_VERSION && v.version)
		kid_fail("VERSION by another process: %u", v.version);
	kid_ioctl(fd, BPR_IOC_STATS, &st, EPERM, "STATS");
	kid_ioctl(fd, BPR_IOC_RECEIVE, &m, EPERM, "RECEIVE");
	kid_ioctl(fd, BPR_IOC_BIND, &id, EPERM, "BIND");
	kid_ioctl(fd, BPR_IOC_FREE, &off, EPERM, "FREE");
	kid_ioctl(fd, BPR_IOC_TRANSACT, &tr, EPERM, "TRANSACT");
	kid_ioctl(fd, BPR_IOC_REPLY, &rp, EPERM, "REPLY");
	kid_ioctl(fd, BPR_IOC_WRITE_READ, &wr, EPERM, "WRITE_READ");
	kid_ioctl(fd, _IO(BPR_IOC_MAGIC, 0x0f), NULL, ENOTTY, "unknown ioctl");
	/* A write-only descriptor is refused before the driver sees it. */
	want = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY ? EACCES : EINVAL;
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		kid_fail("mmap by another process succeeded");
		munmap(p, PAGE);
	} else if (errno != want) {
		kid_fail("mmap by another process: %s, expected %s",
			 ename(errno), ename(want));
	}
}

static void kid_alarm(int sig)
{
	(void)sig;
}

/*
 * A short life of a child's own: open, map, bind, a oneway and a two-way
 * send to @target (with a composed payload), a receive, then exit with
 * the file still open or not.
 */
static void kid_check(const __u8 *area, const struct bpr_message *m,
		      bool reply, const char *call)
{
	struct fz_hdr h;
	char why[200];
	int ret;

	if (m->offset > (64 << 10) || m->size > (64 << 10) - m->offset ||
	    !(m->flags & BPR_MSG_REPLY) != !reply) {
		kid_fail("%s: offset %llu, %llu bytes, flags %#x", call,
			 (unsigned long long)m->offset,
			 (unsigned long long)m->size, m->flags);
		return;
	}
	ret = verify_payload(area + m->offset, m, reply, &h, why, sizeof(why));
	if (ret > 0)
		kid_fail("%s: signal %d reading it", call, ret);
	else if (ret < 0)
		kid_fail("%s: %s", call, why);
}

static void kid_sequence(struct rng *r, __u32 target)
{
	/* EFAULT: a copy-out into a page to copy on write, without memory. */
	static const int peer[] = {
		ENXIO, ESRCH, ENOSPC, EDQUOT, ECONNRESET, ENOMEM, EFAULT, 0
	};
	struct sigaction sa = { .sa_handler = kid_alarm };
	struct bpr_transaction tr = { 0 };
	struct eset ok = es_of(peer);
	__u8 buf[256], *area;
	struct bpr_message m;
	__u32 id = pool_id(r);
	int fd, ret, err, flags = O_RDWR | O_CLOEXEC;

	memset(buf, 0x3c, sizeof(buf));
	if (pm(r, 500))
		flags |= O_NONBLOCK;
	fd = open(BPR_DEVICE, flags);
	if (fd < 0) {
		if (errno != ENOMEM)
			kid_fail("open: %s", ename(errno));
		return;
	}
	area = mmap(NULL, 64 << 10, PROT_READ, MAP_SHARED, fd, 0);
	if (area == MAP_FAILED) {
		if (errno != ENOMEM)
			kid_fail("mmap: %s", ename(errno));
		return;
	}
	if (pm(r, 600) && ioctl(fd, BPR_IOC_BIND, &id) &&
	    errno != EADDRINUSE && errno != ENOMEM)
		kid_fail("BIND %u: %s", id, ename(errno));
	tr.send.target = target;
	tr.send.flags = BPR_SEND_ONEWAY;
	tr.send.data = (uintptr_t)buf;
	tr.send.size = 64 + below(r, sizeof(buf) - 64);
	compose(buf, tr.send.size, FZ_ORIGIN_KID, 0, FZ_H_ONEWAY);
	if (ioctl(fd, BPR_IOC_TRANSACT, &tr) && !es_has(&ok, errno))
		kid_fail("oneway TRANSACT: %s", ename(errno));

	/* Two-way, bounded by an alarm without SA_RESTART. */
	sigaction(SIGALRM, &sa, NULL);
	memset(&tr, 0, sizeof(tr));
	tr.send.target = target;
	tr.send.data = (uintptr_t)buf;
	tr.send.size = 64;
	compose(buf, tr.send.size, FZ_ORIGIN_KID, 1, 0);
	alarm(1);
	ret = ioctl(fd, BPR_IOC_TRANSACT, &tr);
	err = errno;
	alarm(0);
	es_add(&ok, EINTR);
	if (ret && !es_has(&ok, err))
		kid_fail("two-way TRANSACT: %s", ename(err));
	if (!ret)
		kid_check(area, &tr.reply, true, "TRANSACT reply");
	alarm(1);
	ret = ioctl(fd, BPR_IOC_RECEIVE, &m);
	err = errno;
	alarm(0);
	if (ret && err != EAGAIN && err != EINTR && err != EFAULT)
		kid_fail("RECEIVE: %s", ename(err));
	if (!ret)
		kid_check(area, &m, false, "RECEIVE");
	if (pm(r, 500)) {
		munmap(area, 64 << 10);
		close(fd);
	}
}

/* The fork child: not the owner of what it inherited, then its own life. */
static void fork_child(struct rng *r, const struct fz_inherit *in,
		       __u32 target)
{
	unsigned char vec;
	int i;

	if (in->nfds)
		kid_not_owner(in->fds[below(r, in->nfds)]);
	/* VM_DONTCOPY: nothing at the areas' addresses, whatever madvise did. */
	for (i = 0; i < in->nareas; i++)
		if (!mincore(in->areas[i], PAGE, &vec) || errno != ENOMEM)
			kid_fail("the area at %p is mapped in a child",
				 in->areas[i]);
	kid_sequence(r, target);
}

static __u32 kid_target(struct rng *r, const struct fz_inherit *in)
{
	if (in->nids && pm(r, 500))
		return in->ids[below(r, in->nids)];
	return pool_id(r);
}

static void op_fork(struct fz_thread *th, int kind)
{
	struct rng *r = &th->r;
	struct fz_inherit in;
	char seed[24], kseed[24], fdarg[16], tgt[16];
	__u32 target;
	pid_t pid;
	int fd = -1, s;

	if (!kid_room())
		return;
	lock();
	inherit_snap(&in);
	target = kid_target(r, &in);
	for (s = 0; s < FZ_SLOTS; s++)
		if (P.slot[s].fd >= 0 && !P.slot[s].cloexec && pm(r, 700))
			fd = P.slot[s].fd;
	desc(th, "%s child, target %u, fd %d", kind_name[kind], target, fd);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)cfg.seed);
	snprintf(kseed, sizeof(kseed), "%llu", (unsigned long long)rnd(r));
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	snprintf(tgt, sizeof(tgt), "%u", target);
	pid = fork();
	if (!pid) {
		/* No lock, no allocation from here: we are a copy of one thread. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (kind == K_EXEC) {
			char *argv[7];

			argv[0] = "bpr_fuzz";
			argv[1] = FZ_CHILD_ARG;
			argv[2] = seed;
			argv[3] = kseed;
			argv[4] = fdarg;
			argv[5] = tgt;
			argv[6] = NULL;
			execv("/proc/self/exe", argv);
			kid_fail("exec: %s", ename(errno));
			_exit(1);
		}
		if (kind == K_KILLSEND) {
			struct bpr_transaction tr = { 0 };
			struct ep ep;

			/* Waits for a reply until killed. */
			if (ep_open(&ep, 0, 64 << 10))
				_exit(0);
			tr.send.target = target;
			tr.send.data = (uintptr_t)&tr;
			tr.send.size = 8;
			ioctl(ep.fd, BPR_IOC_TRANSACT, &tr);
			pause();
			_exit(0);
		}
		fork_child(r, &in, target);
		_exit(kid_failures ? 1 : 0);
	}
	unlock();
	if (pid < 0) {
		fz_fail(th, "fork: %s", ename(errno));
		return;
	}
	note(N_KIDS);
	kid_add(pid, kind, kind == K_KILLSEND ? now_ms() + 1 + below(r, 60) : 0);
}

/* main() of the exec child: FZ_CHILD_ARG seed child-seed fd target. */
static int exec_child(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_fault, .sa_flags = SA_NODEFER };
	struct rng r;
	int fd;

	if (argc < 6)
		return 2;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	cfg.seed = strtoull(argv[2], NULL, 0);
	r.s = strtoull(argv[3], NULL, 0);
	fd = atoi(argv[4]);
	/* Inherited without O_CLOEXEC: the file of another process. */
	if (fd >= 0)
		kid_not_owner(fd);
	kid_sequence(&r, strtoul(argv[5], NULL, 0));
	return kid_failures ? 1 : 0;
}

/* ---- a worker process ---- */

static void one_op(struct fz_thread *th)
{
	unsigned int w = 0, x;
	int kind;

	for (kind = 0; kind < NKIND; kind++)
		w += kind_weight[kind];
	th->opseed = rnd(&th->rng);
	th->r.s = th->opseed;
	x = below(&th->r, w);
	w = 0;
	for (kind = 0; kind < NKIND - 1; kind++) {
		w += kind_weight[kind];
		if (x < w)
			break;
	}
	th->kind = kind;
	th->desc[0] = 0;
	__atomic_add_fetch(&shm->ops[kind], 1, __ATOMIC_RELAXED);
	switch (kind) {
	case K_OPEN:
		op_open(th);
		break;
	case K_CLOSE:
		op_close(th);
		break;
	case K_DUP:
		op_dup(th);
		break;
	case K_FCNTL:
		op_fcntl(th);
		break;
	case K_MMAP:
		op_mmap(th);
		break;
	case K_MUNMAP:
		op_munmap(th);
		break;
	case K_MREMAP:
		op_mremap(th);
		break;
	case K_MPROTECT:
		op_mprotect(th);
		break;
	case K_MADVISE:
		op_madvise(th);
		break;
	case K_VERSION:
		op_version(th);
		break;
	case K_BIND:
		op_bind(th);
		break;
	case K_ONEWAY:
	case K_TWOWAY:
		op_transact(th, kind == K_ONEWAY);
		break;
	case K_RESUME:
		op_resume(th);
		break;
	case K_RECEIVE:
		op_receive(th);
		break;
	case K_REPLY:
		do_reply(th, slot_pick(th), 0);
		break;
	case K_FREE:
		op_free(th);
		break;
	case K_WRITE_READ:
		op_write_read(th, false);
		break;
	case K_STATS:
		op_stats(th);
		break;
	case K_POLL:
		op_poll(th);
		break;
	case K_BADCMD:
		op_badcmd(th);
		break;
	case K_SIGNAL:
		op_signal(th);
		break;
	case K_SIGACTION:
		set_sigusr1(below(&th->r, 3));
		count(K_SIGACTION, 0);
		break;
	case K_STOPCONT:
		op_stopcont(th);
		break;
	default:
		op_fork(th, kind);
		break;
	}
}

static void *fuzz_thread(void *arg)
{
	struct fz_thread *th = arg;

	th->tid = gettid();
	while (th->nops < th->quota &&
	       !__atomic_load_n(&shm->stop, __ATOMIC_RELAXED) &&
	       now_ms() < shm->end_ms) {
		one_op(th);
		th->nops++;
		__atomic_add_fetch(&shm->ops_done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *map_or_die(__u64 len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		fz_fail(NULL, "mmap of %llu bytes: %s",
			(unsigned long long)len, ename(errno));
		_exit(3);
	}
	return p;
}

/* The read-only page: prepared structures, then zeroes to send. */
static void prepare_probe(void)
{
	__u8 *ro;
	struct bpr_write_read *wr;
	struct bpr_transaction *tr;
	struct bpr_reply *rp;

	P.probe = map_or_die(4 * PAGE, PROT_READ | PROT_WRITE);
	ro = P.probe + 2 * PAGE;
	wr = (void *)(ro + RO_WR);
	wr->flags = BPR_WR_RECEIVE;
	tr = (void *)(ro + RO_TR1);
	tr->send.target = FZ_ID_BASE;
	tr->send.flags = BPR_SEND_ONEWAY;
	tr->send.data = (uintptr_t)(ro + RO_DATA);
	tr->send.size = 64;
	tr = (void *)(ro + RO_TR2);
	tr->send.target = FZ_ID_BASE + 1;
	tr->send.data = (uintptr_t)(ro + RO_DATA);
	tr->send.size = 32;
	*(__u32 *)(ro + RO_ID) = RO_BIND_ID;
	*(__u64 *)(ro + RO_OFF) = ~0ULL - 7;
	rp = (void *)(ro + RO_RP);
	rp->transaction = ~0ULL - 1;
	rp->data = (uintptr_t)(ro + RO_DATA);
	rp->size = 16;
	if (mprotect(P.probe + PAGE, PAGE, PROT_NONE) ||
	    mprotect(ro, PAGE, PROT_READ) ||
	    mprotect(ro + PAGE, PAGE, PROT_NONE))
		fz_fail(NULL, "mprotect: %s", ename(errno));
}

static void worker(int w)
{
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_t wd;
	struct timespec ts;
	int t, s, a, n = cfg.threads, pipefd[2];
	__u64 i;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		_exit(3);
	P.widx = w;
	P.unpriv = cfg.procs > 1 && w == cfg.procs - 1;
	if (P.unpriv && (setgroups(0, NULL) || setgid(FZ_UID) ||
			 setuid(FZ_UID) || prctl(PR_SET_PDEATHSIG, SIGKILL))) {
		fz_fail(NULL, "setuid: %s", ename(errno));
		_exit(3);
	}
	sigaction(SIGUSR2, &sa, NULL);
	set_sigusr1(1);
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pipe2(pipefd, O_CLOEXEC)) {
		fz_fail(NULL, "pipe: %s", ename(errno));
		_exit(3);
	}
	/* The write end stays open: no POLLHUP on the placeholders. */
	P.placeholder = pipefd[0];
	for (s = 0; s < FZ_SLOTS; s++) {
		P.slot[s].fd = -1;
		P.slot[s].last_fd = -1;
		for (a = 0; a < FZ_ALIASES; a++)
			P.slot[s].alias[a] = -1;
	}
	P.scratch = map_or_die(FZ_SCRATCH, PROT_NONE);
	prepare_probe();
	P.nth = n;
	P.th = map_or_die(n * sizeof(*P.th), PROT_READ | PROT_WRITE);
	for (t = 0; t < n; t++) {
		struct fz_thread *th = &P.th[t];

		th->t = t;
		th->origin = w * n + t;
		th->rng.s = cfg.seed ^ (0x9e3779b97f4a7c15ULL * (th->origin + 1));
		rnd(&th->rng);
		th->quota = cfg.ops / (cfg.procs * n) +
			    ((__u64)th->origin < cfg.ops % (cfg.procs * n));
		th->sendbuf = map_or_die(FZ_SENDBUF + PAGE, PROT_READ | PROT_WRITE);
		mprotect(th->sendbuf + FZ_SENDBUF, PAGE, PROT_NONE);
		for (i = 0; i < FZ_SENDBUF / 8; i++) {
			__u64 v = rnd(&th->rng);

			memcpy(th->sendbuf + 8 * i, &v, 8);
		}
		/* Until the thread runs: the watchdog and signal senders wait. */
		th->tid = -1;
	}
	for (t = 0; t < n; t++)
		if (pthread_create(&P.th[t].pt, NULL, fuzz_thread, &P.th[t]))
			_exit(3);
	for (t = 0; t < n; t++)
		while (__atomic_load_n(&P.th[t].tid, __ATOMIC_RELAXED) < 0)
			usleep(1000);
	if (pthread_create(&wd, NULL, watchdog, NULL))
		_exit(3);

	for (t = 0; t < n; t++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (shm->end_ms - now_ms()) / 1000 + 25;
		if (pthread_timedjoin_np(P.th[t].pt, NULL, &ts)) {
			fz_fail(&P.th[t], "thread did not finish");
			_exit(4);
		}
	}
	__atomic_store_n(&P.quit, 1, __ATOMIC_RELEASE);
	pthread_join(wd, NULL);
	reap_kids(true);
	/* Exit closes and unmaps the rest. */
	_exit(0);
}

/* ---- the campaign ---- */

static void hard_timeout(int sig)
{
	static const char msg[] = "# FAIL bpr_fuzz: hard timeout, killing the run\n";

	(void)sig;
	say(msg, sizeof(msg) - 1);
	kill(0, SIGKILL);
}

/* Leave out operations by name, to narrow down what a failure needs. */
static void skip_kinds(const char *list)
{
	size_t len;
	int k;

	while (list && *list) {
		len = strcspn(list, ",");
		for (k = 0; k < NKIND; k++)
			if (strlen(kind_name[k]) == len &&
			    !strncmp(kind_name[k], list, len))
				kind_weight[k] = 0;
		list += len + (list[len] == ',');
	}
}

static __u64 env_u64(const char *name, __u64 def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static void read_cfg(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	cfg.seed = env_u64("BPR_FUZZ_SEED",
			   (ts.tv_sec * 1000000000ULL + ts.tv_nsec) ^ getpid());
	cfg.ops = env_u64("BPR_FUZZ_OPS", 100000);
	cfg.seconds = env_u64("BPR_FUZZ_SECONDS", 120);
	cfg.procs = env_u64("BPR_FUZZ_PROCS", 3);
	cfg.threads = env_u64("BPR_FUZZ_THREADS", 3);
	if (cfg.seconds < 1 || cfg.seconds > 3000)
		cfg.seconds = 120;
	if (cfg.procs < 1 || cfg.procs > FZ_MAXPROCS)
		cfg.procs = 3;
	if (cfg.threads < 1 || cfg.threads > FZ_MAXTHREADS)
		cfg.threads = 3;
	skip_kinds(getenv("BPR_FUZZ_SKIP"));
}

static void print_stats(double secs)
{
	char line[1600];
	int k, e, n;

	printf("# %llu operations in %.1f s (seed %llu)\n",
	       (unsigned long long)shm->ops_done, secs,
	       (unsigned long long)cfg.seed);
	for (k = 0; k < NKIND; k++) {
		n = fmt(line, sizeof(line), 0, "#   %-16s %7llu:", kind_name[k],
			(unsigned long long)shm->ops[k]);
		for (e = 0; e < FZ_NERR; e++)
			if (shm->errs[k][e])
				n = fmt(line, sizeof(line), n, " %s %llu",
					e == FZ_NERR - 1 ? "other" : ename(e),
					(unsigned long long)shm->errs[k][e]);
		printf("%s\n", line);
	}
	n = fmt(line, sizeof(line), 0, "#  ");
	for (k = 0; k < NNOTE; k++)
		n = fmt(line, sizeof(line), n, " %s %llu%s", note_name[k],
			(unsigned long long)shm->notes[k],
			k < NNOTE - 1 ? "," : "");
	printf("%s\n", line);
	fflush(stdout);
}

static void print_live(const struct bpr_live *l)
{
	printf("#   procs %lld areas %lld transactions %lld messages %lld\n",
	       l->procs, l->areas, l->transactions, l->messages);
	printf("#   buffers %lld pages %lld\n", l->buffers, l->pages);
	fflush(stdout);
}

/* Every payload delivered after its send failed, found at the end. */
static int scan_seen(void)
{
	__u64 i, n = (__u64)cfg.procs * cfg.threads * FZ_SEQS;
	int bad = 0;

	for (i = 0; i < n; i++) {
		if ((seen[i] & (SEEN_RX | SEEN_LOST)) != (SEEN_RX | SEEN_LOST))
			continue;
		if (bad++ < 10)
			printf("# FAIL seed=%llu: payload %llu/%llu delivered, its send failed\n",
			       (unsigned long long)cfg.seed, i / FZ_SEQS,
			       i % FZ_SEQS);
	}
	return bad;
}

/* SIGKILL and reap whatever children we still have (we are a subreaper). */
static void kill_children(void)
{
	char path[300], buf[512], *p;
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int ppid, i;
	FILE *f;

	while (proc && (de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p && sscanf(p, ") %*c %d", &ppid) == 1 && ppid == getpid())
			kill(atoi(de->d_name), SIGKILL);
	}
	if (proc)
		closedir(proc);
	for (i = 0; i < 1000 && waitpid(-1, NULL, WNOHANG) >= 0; i++)
		usleep(10000);
}

/*
 * The master: start the workers, stop and continue them now and then,
 * stop them in time, reap everything, then check what is left.
 */
static int campaign(void)
{
	struct sigaction sa = { .sa_handler = hard_timeout };
	long long start = now_ms(), last_print = start, stop_at = 0;
	struct rng r = { cfg.seed ^ 0x6d6173746572ULL };
	int w, st, alive, failures;
	struct bpr_live live;
	bool killed = false;
	pid_t pid;

	P.widx = -1;
	printf("# bpr_fuzz: seed %llu (replay: BPR_FUZZ_SEED=%llu)\n",
	       (unsigned long long)cfg.seed, (unsigned long long)cfg.seed);
	printf("# %llu operations, %d s, %d processes x %d threads\n",
	       (unsigned long long)cfg.ops, cfg.seconds, cfg.procs,
	       cfg.threads);
	fflush(stdout);
	if (access(BPR_DEVICE, R_OK | W_OK)) {
		printf("# %s: %s\n", BPR_DEVICE, strerror(errno));
		return 1;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	seen = mmap(NULL, (size_t)cfg.procs * cfg.threads * FZ_SEQS,
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED || seen == MAP_FAILED)
		return 1;
	shm->end_ms = start + cfg.seconds * 1000LL;
	/* Orphaned grandchildren come to us, to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigaction(SIGALRM, &sa, NULL);
	alarm(cfg.seconds + 60);

	for (w = 0; w < cfg.procs; w++) {
		pid = fork();
		if (!pid)
			worker(w);
		if (pid < 0)
			return 1;
		shm->workers[w] = pid;
	}
	for (alive = cfg.procs; alive;) {
		long long now = now_ms();

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (w = 0; w < cfg.procs; w++) {
				if (shm->workers[w] != pid)
					continue;
				shm->workers[w] = 0;
				alive--;
				if (!WIFEXITED(st) || WEXITSTATUS(st))
					fz_fail(NULL, "worker %d ended with status %#x",
						w, st);
			}
		}
		if (!stop_at && (now >= shm->end_ms || shm->stop)) {
			__atomic_store_n(&shm->stop, 1, __ATOMIC_RELAXED);
			stop_at = now;
		}
		if (stop_at && now - stop_at > 30000 && !killed) {
			fz_fail(NULL, "workers did not stop within 30 s");
			killed = true;
		}
		for (w = 0; killed && w < cfg.procs; w++)
			if (shm->workers[w] > 0)
				kill(shm->workers[w], SIGKILL);
		if (pm(&r, 40)) {
			w = below(&r, cfg.procs);
			if (shm->workers[w] > 0 && !kill(shm->workers[w], SIGSTOP)) {
				note(N_STOPS);
				count(K_STOPCONT, 0);
				usleep(below(&r, 3000));
			}
		}
		/* Whoever stopped a worker, it goes on. */
		for (w = 0; w < cfg.procs; w++)
			if (shm->workers[w] > 0)
				kill(shm->workers[w], SIGCONT);
		if (now - last_print >= 10000) {
			last_print = now;
			printf("# progress: %llu operations, %lld s\n",
			       (unsigned long long)shm->ops_done,
			       (now - start) / 1000);
			fflush(stdout);
		}
		usleep(10000);
	}
	/* Children of workers that died first: they die with their parent. */
	for (w = 0; w < 500 && waitpid(-1, &st, WNOHANG) >= 0; w++)
		usleep(10000);
	if (waitpid(-1, &st, WNOHANG) >= 0) {
		fz_fail(NULL, "children left behind");
		kill_children();
	}
	alarm(0);

	failures = shm->failures + scan_seen();
	print_stats((now_ms() - start) / 1000.0);
	if (wait_live_zero(&live, 10000)) {
		printf("# FAIL seed=%llu: debugfs counters not back to 0:\n",
		       (unsigned long long)cfg.seed);
		print_live(&live);
		failures++;
	}
	if (failures)
		printf("# %d failure(s); replay with BPR_FUZZ_SEED=%llu\n",
		       failures, (unsigned long long)cfg.seed);
	fflush(stdout);
	return failures;
}

FIXTURE(fz) {
	int unused;
};

FIXTURE_SETUP(fz)
{
}

FIXTURE_TEARDOWN(fz)
{
}

/* The bounded campaign, with every oracle. */
TEST_F_TIMEOUT(fz, fuzz_default, 3700)
{
	ASSERT_EQ(0, campaign());
}

/* Whatever the campaign did, nothing of it outlives its files. */
TEST_F(fz, counters_zero_after_close)
{
	struct bpr_live l;

	if (wait_live_zero(&l, 10000))
		print_live(&l);
	ASSERT_EQ(0, l.procs + l.areas + l.transactions + l.messages +
		  l.buffers + l.pages);
}

int main(int argc, char **argv)
{
	read_cfg();
	if (argc > 1 && !strcmp(argv[1], FZ_CHILD_ARG))
		return exec_child(argc, argv);
	printf("# bpr_fuzz seed %llu\n", (unsigned long long)cfg.seed);
	fflush(stdout);
	return test_harness_run(argc, argv);
}
