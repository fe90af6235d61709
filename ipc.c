// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/binder_page_range: binder-like IPC over the page range allocator.
 * Names start with bpr_, for binder page range, as in the uapi header.
 *
 * Each open file is an endpoint owner (struct bpr_proc) with an allocator
 * bound to the opener's mm. Its owner maps a read-only receive area; a
 * sender's bytes are copied once, from the sender's memory straight into a
 * buffer carved out of the receiver's area. The receiver frees the buffer
 * by its offset when done; pages no buffer needs go to the shrinker.
 *
 * Any local user may open the device, so every peer is untrusted: the
 * area goes away with its owner's file whatever its peers still hold,
 * memory is charged to whoever causes it, one user can fill at most a
 * quarter of another's area, waits on a peer are killable or restartable,
 * and a buffer is handed to userspace only once the kernel is done with
 * it. Documentation/uapi.rst states the model.
 *
 * Lock order: bpr_ids_lock (mutex), then proc->lock, then txn->lock, then
 * the allocator's lock. Nothing sleeps under a spinlock: buffers are
 * allocated and filled before a message is queued, and freed after it is
 * taken off a queue.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/cleanup.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/freezer.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "bpa_alloc.h"
#include <uapi/linux/android/binder_page_range.h>

/*
 * Messages one endpoint may have queued or received and not yet answered:
 * bounds the kernel memory its peers can make it hold.
 */
#define BPR_MAX_QUEUED		4096
/*
 * What one user may hold in another user's area, in messages and in
 * bytes (a fraction of the area): binder's oneway-spam heuristic made a
 * limit, per sending user rather than per process, so that forking does
 * not buy more.
 */
#define BPR_USER_MAX_MSGS	(BPR_MAX_QUEUED / 4)
#define BPR_USER_AREA_SHIFT	2

#define BPR_SEND_FLAGS		(BPR_SEND_ONEWAY | BPR_SEND_CLEAR_BUF)
#define BPR_WR_STEPS		(BPR_WR_FREE | BPR_WR_SEND | BPR_WR_REPLY | \
				 BPR_WR_RECEIVE)

/**
 * struct bpr_proc - one open file: an endpoint owner and its area
 * @ref: keeps the structure: held by the file until its area is torn
 *	down, by senders while they deliver, by transactions it sent
 * @active: users of the area: the file (one), and senders or repliers
 *	copying into it; the last one out tears the area down
 * @alloc: the receive area's allocator
 * @euid: the owner's effective uid when it opened the file
 * @lock: protects the fields below
 * @wait: receivers and poll wait here
 * @queue: messages delivered but not yet received
 * @pending: two-way transactions received and not yet replied to, by id
 * @waiting: per thread (by global tid), the two-way transaction that
 *	thread sent and waits for, or waited for until a signal came
 * @quotas: per sending euid other than @euid, a struct bpr_quota
 * @queued: length of @queue
 * @npending: size of @pending
 * @next_txn_id: the last transaction id given out by this receiver
 * @id: the bound endpoint id, 0 if none
 * @dead: the file was released; nothing more is queued
 * @flushes: counts close() calls on the file, to wake blocked receivers
 * @release_work: tears the area down once @active is zero
 * @rcu: frees the structure after lockless lookups are done with it
 */
struct bpr_proc {
	struct kref ref;
	atomic_t active;
	struct bpa_alloc alloc;
	kuid_t euid;
	spinlock_t lock;	/* see kernel-doc above */
	wait_queue_head_t wait;
	struct list_head queue;
	struct rb_root pending;
	struct xarray waiting;
	struct xarray quotas;
	unsigned int queued;
	unsigned int npending;
	u64 next_txn_id;
	u32 id;
	bool dead;
	unsigned int flushes;
	struct work_struct release_work;
	struct rcu_head rcu;
};

/**
 * struct bpr_quota - what one user holds in one receiver's area
 * @msgs: buffers of its messages, not yet freed by the receiver
 * @bytes: their sizes
 *
 * Under the receiver's &bpr_proc.lock. Lives until the receiver's area is
 * torn down, so buffers may point at it.
 */
struct bpr_quota {
	unsigned int msgs;
	u64 bytes;
};

/**
 * struct bpr_txn - a two-way transaction
 * @ref: held by the sender's &bpr_proc.waiting and by the receiver's
 *	queue or pending tree
 * @id: transaction id, unique in the receiver
 * @sender: the sender, for the reply's buffer; holds a reference
 * @waiter: the sender's thread; holds a reference
 * @node: in the receiver's &bpr_proc.pending once received
 * @wait: the sender waits here
 * @lock: protects the fields below
 * @done: set when @status and the reply are final
 * @abandoned: the sender no longer wants the reply
 * @status: 0 with a reply, or why there is none
 * @reply: the reply buffer, in the sender's area
 * @reply_size: bytes in the reply
 * @reply_from: endpoint id of the replier
 * @reply_pid: the replying process; a reference
 * @reply_euid: the replier's effective uid
 */
struct bpr_txn {
	struct kref ref;
	u64 id;
	struct bpr_proc *sender;
	struct pid *waiter;
	struct rb_node node;
	wait_queue_head_t wait;
	spinlock_t lock;	/* see kernel-doc above */
	bool done;
	bool abandoned;
	int status;
	struct bpa_buffer *reply;
	u64 reply_size;
	u32 reply_from;
	struct pid *reply_pid;
	kuid_t reply_euid;
};

/**
 * struct bpr_msg - a message queued for a receiver
 * @entry: in &bpr_proc.queue
 * @buffer: its bytes, in the receiver's area
 * @size: number of bytes
 * @sender: endpoint id of the sender
 * @flags: BPR_MSG_*
 * @pid: the sending process; a reference
 * @euid: the sender's effective uid
 * @txn: for a two-way message, the transaction (a reference)
 */
struct bpr_msg {
	struct list_head entry;
	struct bpa_buffer *buffer;
	u64 size;
	u32 sender;
	u32 flags;
	struct pid *pid;
	kuid_t euid;
	struct bpr_txn *txn;
};

/**
 * struct bpr_out - what one call hands to userspace
 * @reply: a reply buffer described in the call's message
 * @msg: a received message described in the call's message
 *
 * Handed over only after the description reached userspace: until then
 * userspace cannot free the buffer, and if the copy fails the kernel still
 * owns it.
 */
struct bpr_out {
	struct bpa_buffer *reply;
	struct bpr_msg *msg;
};

static struct dentry *bpr_debugfs_root;
static struct kmem_cache *bpr_msg_cache;
static struct kmem_cache *bpr_txn_cache;
static struct workqueue_struct *bpr_wq;
/*
 * Endpoint id -> struct bpr_proc. Writers hold bpr_ids_lock; senders look
 * up under RCU, which is why a proc is freed with kfree_rcu().
 */
static DEFINE_MUTEX(bpr_ids_lock);
static DEFINE_XARRAY(bpr_ids);

/* Live objects, for debugfs: all zero once every file is gone. */
static atomic_long_t bpr_nr_procs;
static atomic_long_t bpr_nr_areas;
static atomic_long_t bpr_nr_txns;
static atomic_long_t bpr_nr_msgs;

static void bpr_proc_free(struct kref *ref)
{
	struct bpr_proc *proc = container_of(ref, struct bpr_proc, ref);

	atomic_long_dec(&bpr_nr_procs);
	kfree_rcu(proc, rcu);
}

static void bpr_proc_put(struct bpr_proc *proc)
{
	kref_put(&proc->ref, bpr_proc_free);
}

/*
 * The area's last user is gone: free its pages, buffers and quotas. A
 * worker does it, as the last user may be a sender in another process,
 * which should not pay for freeing up to 4 MiB of somebody else's pages.
 */
static void bpr_proc_release_work(struct work_struct *work)
{
	struct bpr_proc *proc = container_of(work, struct bpr_proc,
					     release_work);
	struct bpr_quota *quota;
	unsigned long uid;

	bpa_alloc_release(&proc->alloc);
	xa_for_each(&proc->quotas, uid, quota)
		kfree(quota);
	xa_destroy(&proc->quotas);
	xa_destroy(&proc->waiting);
	atomic_long_dec(&bpr_nr_areas);
	/* The reference the file held. */
	bpr_proc_put(proc);
}

/* Pin @proc's area for a copy into it; false once it is being torn down. */
static bool bpr_area_get(struct bpr_proc *proc)
{
	return atomic_inc_not_zero(&proc->active);
}

static void bpr_area_put(struct bpr_proc *proc)
{
	if (atomic_dec_and_test(&proc->active))
		queue_work(bpr_wq, &proc->release_work);
}

/* Let go of a peer found and pinned by bpr_target_get(). */
static void bpr_target_put(struct bpr_proc *target)
{
	bpr_area_put(target);
	bpr_proc_put(target);
}

static void bpr_txn_free(struct kref *ref)
{
	struct bpr_txn *txn = container_of(ref, struct bpr_txn, ref);

	put_pid(txn->waiter);
	put_pid(txn->reply_pid);
	bpr_proc_put(txn->sender);
	atomic_long_dec(&bpr_nr_txns);
	kmem_cache_free(bpr_txn_cache, txn);
}

static void bpr_txn_put(struct bpr_txn *txn)
{
	kref_put(&txn->ref, bpr_txn_free);
}

/* Free a buffer whose bytes nobody was meant to see: zero them first. */
static void bpr_free_unseen(struct bpa_alloc *alloc, struct bpa_buffer *buffer)
{
	buffer->clear_on_free = true;
	bpa_alloc_free_buf(alloc, buffer);
}

/*
 * Finish @txn with @status and, if the sender still wants it, @reply; else
 * free @reply. The caller pins the sender's area if @reply is set.
 * Returns 0, or -ECONNRESET if the sender stopped waiting.
 */
static int bpr_txn_finish(struct bpr_txn *txn, int status,
			  struct bpa_buffer *reply, u64 size)
{
	bool abandoned;

	spin_lock(&txn->lock);
	abandoned = txn->abandoned;
	if (!abandoned) {
		txn->status = status;
		txn->reply = reply;
		txn->reply_size = size;
	}
	/* Read without the lock by the waiter's wait condition. */
	WRITE_ONCE(txn->done, true);
	spin_unlock(&txn->lock);
	if (abandoned) {
		if (reply)
			bpr_free_unseen(&txn->sender->alloc, reply);
		return -ECONNRESET;
	}
	/*
	 * Our reference (queue or pending) keeps @txn alive across this.
	 * A sync wakeup, as binder's for a reply: the replier usually goes
	 * on to wait for its next message, so the sender may as well run on
	 * this CPU, where the reply's pages are warm in the cache.
	 */
	wake_up_sync(&txn->wait);
	return 0;
}

/*
 * The sender gives @txn up (it started another transaction, or its file
 * is released): a reply that came is freed unseen, one still to come will
 * be dropped by the replier. Takes the waiting slot's reference. The
 * sender's area is alive: we run in its owner's ioctl or release.
 */
static void bpr_txn_abandon(struct bpr_proc *proc, struct bpr_txn *txn)
{
	struct bpa_buffer *reply;

	spin_lock(&txn->lock);
	txn->abandoned = true;
	reply = txn->reply;
	txn->reply = NULL;
	spin_unlock(&txn->lock);
	if (reply)
		bpr_free_unseen(&proc->alloc, reply);
	bpr_txn_put(txn);
}

static void bpr_msg_free(struct bpr_msg *msg)
{
	put_pid(msg->pid);
	atomic_long_dec(&bpr_nr_msgs);
	kmem_cache_free(bpr_msg_cache, msg);
}

/* The endpoint bound to @id, with a reference, or NULL. */
static struct bpr_proc *bpr_lookup(u32 id)
{
	struct bpr_proc *proc;

	/*
	 * No lock: a proc found here may be past its release (then its last
	 * reference is gone and the get fails, or it is marked dead and the
	 * send fails), but its memory stays until an RCU grace period after
	 * the last put.
	 */
	rcu_read_lock();
	proc = xa_load(&bpr_ids, id);
	if (proc && !kref_get_unless_zero(&proc->ref))
		proc = NULL;
	rcu_read_unlock();
	return proc;
}

/*
 * Bind @proc to @id: -EPERM for a reserved id without CAP_IPC_OWNER,
 * -EBUSY if @proc has an id, -EADDRINUSE if @id is taken.
 */
static int bpr_bind(struct bpr_proc *proc, u32 id)
{
	int ret;

	if (!id)
		return -EINVAL;
	/* Like a port below 1024: services' ids are not for anyone to take. */
	if (id <= BPR_ID_RESERVED_MAX && !capable(CAP_IPC_OWNER))
		return -EPERM;
	/* proc->id changes only under bpr_ids_lock: read it there. */
	guard(mutex)(&bpr_ids_lock);
	if (proc->id)
		return -EBUSY;
	ret = xa_insert(&bpr_ids, id, proc, GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret == -EBUSY ? -EADDRINUSE : ret;
	spin_lock(&proc->lock);
	proc->id = id;
	spin_unlock(&proc->lock);
	return 0;
}

/*
 * The quota of the current user in @to, created on first use; NULL for
 * the receiver's own user, who is not limited. Entries stay until @to's
 * area is torn down, so the pointer stays valid while the area is pinned.
 */
static struct bpr_quota *bpr_quota_get(struct bpr_proc *to)
{
	kuid_t euid = current_euid();
	struct bpr_quota *quota;
	int ret;

	if (uid_eq(euid, to->euid))
		return NULL;
	quota = xa_load(&to->quotas, __kuid_val(euid));
	if (quota)
		return quota;
	/* Charged to the sender, who asks for it; freed unless inserted. */
	struct bpr_quota *new __free(kfree) =
		kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return ERR_PTR(-ENOMEM);
	ret = xa_insert(&to->quotas, __kuid_val(euid), new,
			GFP_KERNEL_ACCOUNT);
	if (!ret)
		return_ptr(new);
	if (ret != -EBUSY)
		return ERR_PTR(ret);
	/* Another thread of the same user was first. */
	return xa_load(&to->quotas, __kuid_val(euid));
}

/* Reserve one message of @size in @to for @quota: -EDQUOT if over. */
static int bpr_quota_charge(struct bpr_proc *to, struct bpr_quota *quota,
			    u64 size)
{
	u64 limit = bpa_alloc_area_size(&to->alloc) >> BPR_USER_AREA_SHIFT;
	int ret = 0;

	if (!quota)
		return 0;
	spin_lock(&to->lock);
	if (quota->msgs >= BPR_USER_MAX_MSGS || size > limit ||
	    quota->bytes > limit - size) {
		ret = -EDQUOT;
	} else {
		quota->msgs++;
		quota->bytes += size;
	}
	spin_unlock(&to->lock);
	return ret;
}

static void bpr_quota_uncharge(struct bpr_proc *to, struct bpr_quota *quota,
			       u64 size)
{
	if (!quota)
		return;
	spin_lock(&to->lock);
	quota->msgs--;
	quota->bytes -= size;
	spin_unlock(&to->lock);
}

/*
 * Allocate a buffer of @size in @to's area and copy @size bytes from the
 * user address @data into it: the one copy of a message. The caller pins
 * @to's area. Bytes of a failed copy are zeroed before the space is reused.
 */
static struct bpa_buffer *bpr_copy_in(struct bpr_proc *to, u64 data, u64 size,
				      bool async)
{
	struct bpa_buffer *buffer;
	size_t area = bpa_alloc_area_size(&to->alloc);
	int ret;

	if (!area)
		return ERR_PTR(-ESRCH);
	if (size > area)
		return ERR_PTR(-EMSGSIZE);
	buffer = bpa_alloc_new_buf(&to->alloc, size, 0, 0, async);
	if (IS_ERR(buffer))
		return buffer;
	ret = bpa_alloc_copy_user_to_buffer(&to->alloc, buffer, 0,
					    u64_to_user_ptr(data), size);
	if (ret) {
		bpr_free_unseen(&to->alloc, buffer);
		return ERR_PTR(ret);
	}
	return buffer;
}

/*
 * The receiver @send goes to, with a reference and its area pinned, if
 * that area could hold @send; let go of it with bpr_target_put().
 */
static struct bpr_proc *bpr_target_get(const struct bpr_send *send)
{
	struct bpr_proc *target;
	size_t area;
	int ret;

	target = bpr_lookup(send->target);
	if (!target)
		return ERR_PTR(-ENXIO);
	if (!bpr_area_get(target)) {
		bpr_proc_put(target);
		return ERR_PTR(-ECONNRESET);
	}
	/* Unmapped, or a message that could never fit. */
	area = bpa_alloc_area_size(&target->alloc);
	ret = !area ? -ESRCH : send->size > area ? -EMSGSIZE : 0;
	if (ret) {
		bpr_target_put(target);
		return ERR_PTR(ret);
	}
	return target;
}

/*
 * A message of @send from @proc, its bytes copied into @target's area and
 * counted in @quota there. The caller pins @target's area.
 */
static struct bpr_msg *bpr_msg_new(struct bpr_proc *proc,
				   struct bpr_proc *target,
				   const struct bpr_send *send,
				   struct bpr_quota *quota)
{
	bool oneway = send->flags & BPR_SEND_ONEWAY;
	struct bpa_buffer *buffer;
	struct bpr_msg *msg;

	/* Per-message objects are charged to the sender. */
	msg = kmem_cache_zalloc(bpr_msg_cache, GFP_KERNEL_ACCOUNT);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	atomic_long_inc(&bpr_nr_msgs);

	buffer = bpr_copy_in(target, send->data, send->size, oneway);
	if (IS_ERR(buffer)) {
		bpr_msg_free(msg);
		return ERR_CAST(buffer);
	}
	buffer->private = quota;
	if (send->flags & BPR_SEND_CLEAR_BUF)
		buffer->clear_on_free = true;
	msg->buffer = buffer;
	msg->size = send->size;
	msg->flags = oneway ? BPR_MSG_ONEWAY : 0;
	if (send->flags & BPR_SEND_CLEAR_BUF)
		msg->flags |= BPR_MSG_CLEAR_BUF;
	msg->pid = get_pid(task_tgid(current));
	msg->euid = current_euid();
	msg->sender = READ_ONCE(proc->id);
	return msg;
}

/*
 * Queue @msg on @target, with @txn for a two-way send (the queue takes a
 * reference): -ECONNRESET if @target's file is released, -ENOSPC if full.
 */
static int bpr_enqueue_locked(struct bpr_proc *target, struct bpr_msg *msg,
			      struct bpr_txn *txn)
	__must_hold(&target->lock)
{
	lockdep_assert_held(&target->lock);
	if (target->dead)
		return -ECONNRESET;
	if (target->queued + target->npending >= BPR_MAX_QUEUED)
		return -ENOSPC;
	if (txn) {
		txn->id = ++target->next_txn_id;
		kref_get(&txn->ref);
		msg->txn = txn;
	}
	list_add_tail(&msg->entry, &target->queue);
	target->queued++;
	return 0;
}

/*
 * Copy @send from @proc into @target's area, counted in @quota, queue it
 * with @txn and wake a receiver. The caller pins @target's area.
 */
static int bpr_post(struct bpr_proc *proc, struct bpr_proc *target,
		    const struct bpr_send *send, struct bpr_quota *quota,
		    struct bpr_txn *txn)
{
	struct bpr_msg *msg;
	int ret;

	msg = bpr_msg_new(proc, target, send, quota);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	spin_lock(&target->lock);
	ret = bpr_enqueue_locked(target, msg, txn);
	spin_unlock(&target->lock);
	if (ret) {
		/* Refused: the receiver must not find these bytes later. */
		bpr_free_unseen(&target->alloc, msg->buffer);
		bpr_msg_free(msg);
		return ret;
	}
	/*
	 * A two-way sender goes to sleep next, waiting for the reply: a sync
	 * wakeup lets the receiver take over this CPU rather than wake on
	 * another one, as binder does for its transactions.
	 */
	if (txn)
		wake_up_interruptible_sync(&target->wait);
	else
		wake_up_interruptible(&target->wait);
	return 0;
}

/*
 * Deliver @send from @proc: copy it into the target's area and queue it,
 * with @txn for a two-way send (the queue takes a reference).
 */
static int bpr_deliver(struct bpr_proc *proc, const struct bpr_send *send,
		       struct bpr_txn *txn)
{
	struct bpr_quota *quota;
	struct bpr_proc *target;
	int ret;

	target = bpr_target_get(send);
	if (IS_ERR(target))
		return PTR_ERR(target);
	quota = bpr_quota_get(target);
	if (IS_ERR(quota)) {
		ret = PTR_ERR(quota);
		goto out;
	}
	ret = bpr_quota_charge(target, quota, send->size);
	if (ret)
		goto out;
	ret = bpr_post(proc, target, send, quota, txn);
	if (ret)
		bpr_quota_uncharge(target, quota, send->size);
out:
	bpr_target_put(target);
	return ret;
}

/* Describe a buffer of @proc's area for userspace, as @proc sees things. */
static void bpr_describe(struct bpr_proc *proc, struct bpa_buffer *buffer,
			 u64 size, u32 sender, u32 flags, u64 txn,
			 struct pid *pid, kuid_t euid,
			 struct bpr_message *out)
{
	memset(out, 0, sizeof(*out));
	out->offset = bpa_buffer_user_offset(&proc->alloc, buffer);
	out->size = size;
	out->transaction = txn;
	out->sender = sender;
	out->flags = flags;
	/* In the receiver's namespaces, as binder's sender_pid/sender_euid. */
	out->sender_pid = pid_nr_ns(pid, task_active_pid_ns(current));
	out->sender_euid = from_kuid_munged(current_user_ns(), euid);
}

/* Key of the calling thread in &bpr_proc.waiting: its global tid. */
static unsigned long bpr_tid(void)
{
	return pid_nr(task_pid(current));
}

/* A transaction from @proc, for the calling thread to wait on. */
static struct bpr_txn *bpr_txn_new(struct bpr_proc *proc)
{
	struct bpr_txn *txn;

	txn = kmem_cache_zalloc(bpr_txn_cache, GFP_KERNEL_ACCOUNT);
	if (!txn)
		return NULL;
	atomic_long_inc(&bpr_nr_txns);
	kref_init(&txn->ref);
	spin_lock_init(&txn->lock);
	init_waitqueue_head(&txn->wait);
	kref_get(&proc->ref);
	txn->sender = proc;
	txn->waiter = get_pid(task_pid(current));
	return txn;
}

/*
 * Start the two-way send of @wr: the new transaction goes into the calling
 * thread's waiting slot, which holds it, and is delivered; %BPR_WR_SENT is
 * set in @wr->done. Returns the transaction, or an error.
 */
static struct bpr_txn *bpr_txn_send(struct bpr_proc *proc,
				    struct bpr_write_read *wr)
{
	unsigned long tid = bpr_tid();
	struct bpr_txn *txn;
	int ret;

	/* A new transaction: whatever this thread waited for is given up. */
	txn = xa_erase(&proc->waiting, tid);
	if (txn)
		bpr_txn_abandon(proc, txn);
	/* The reply would have nowhere to go. */
	if (!bpa_alloc_has_area(&proc->alloc))
		return ERR_PTR(-ENOBUFS);

	txn = bpr_txn_new(proc);
	if (!txn)
		return ERR_PTR(-ENOMEM);
	ret = xa_insert(&proc->waiting, tid, txn, GFP_KERNEL_ACCOUNT);
	if (ret) {
		bpr_txn_put(txn);
		return ERR_PTR(ret);
	}
	ret = bpr_deliver(proc, &wr->send, txn);
	if (ret) {
		xa_erase(&proc->waiting, tid);
		bpr_txn_put(txn);
		return ERR_PTR(ret);
	}
	wr->done |= BPR_WR_SENT;
	return txn;
}

/* The transaction an interrupted call of this thread sent, to wait again. */
static struct bpr_txn *bpr_txn_resume(struct bpr_proc *proc)
{
	struct bpr_txn *txn;

	/*
	 * Only this thread and the file's release remove this slot,
	 * and no release runs during an ioctl: the slot's reference
	 * keeps @txn while we use it.
	 */
	txn = xa_load(&proc->waiting, bpr_tid());
	if (!txn || txn->waiter != task_pid(current))
		return ERR_PTR(-EINVAL);
	return txn;
}

/*
 * @txn is done: take it out of the calling thread's waiting slot and, if a
 * reply came, describe it in @kout for bpr_out_commit(). Returns the
 * transaction's status.
 */
static int bpr_txn_collect(struct bpr_proc *proc, struct bpr_txn *txn,
			   struct bpr_message *kout, struct bpr_out *out)
{
	struct bpa_buffer *reply;
	int status;

	xa_erase(&proc->waiting, bpr_tid());
	/* bpr_txn_finish() wrote the result under the lock, then done. */
	spin_lock(&txn->lock);
	status = txn->status;
	reply = txn->reply;
	txn->reply = NULL;
	spin_unlock(&txn->lock);
	if (!status) {
		bpr_describe(proc, reply, txn->reply_size, txn->reply_from,
			     BPR_MSG_REPLY |
			     (reply->clear_on_free ? BPR_MSG_CLEAR_BUF : 0),
			     0, txn->reply_pid, txn->reply_euid, kout);
		out->reply = reply;
	}
	/* The waiting slot's reference. */
	bpr_txn_put(txn);
	return status;
}

/*
 * A two-way send: deliver, then wait for the reply, which lands in the
 * caller's own area and is described in @wr->message. The wait is
 * interruptible and freezable, and the transaction outlives it: a signal
 * returns -ERESTARTSYS with %BPR_WR_SENT in @wr->done, and the restarted
 * call (the same structure, so the same @done) waits for the same reply.
 * Returns 0, a caller's error, or the peer's error for the write status.
 */
static int bpr_transact(struct bpr_proc *proc, struct bpr_write_read *wr,
			struct bpr_out *out)
{
	struct bpr_txn *txn;
	int ret;

	if (!(wr->done & BPR_WR_SENT))
		txn = bpr_txn_send(proc, wr);
	else
		txn = bpr_txn_resume(proc);
	if (IS_ERR(txn))
		return PTR_ERR(txn);

	ret = wait_event_freezable(txn->wait, READ_ONCE(txn->done));
	if (ret)
		return ret;
	return bpr_txn_collect(proc, txn, &wr->message, out);
}

/* A receiver's wait is over: a message is queued, or the file was closed. */
static bool bpr_receivable(struct bpr_proc *proc, unsigned int flushes)
{
	return !list_empty_careful(&proc->queue) ||
	       READ_ONCE(proc->flushes) != flushes;
}

/*
 * Take the first message off @proc's queue. With none: ERR_PTR(-EBADF) if
 * the file was closed since @flushes, else ERR_PTR(-EAGAIN).
 */
static struct bpr_msg *bpr_dequeue(struct bpr_proc *proc,
				   unsigned int flushes)
{
	struct bpr_msg *msg;

	spin_lock(&proc->lock);
	msg = list_first_entry_or_null(&proc->queue, struct bpr_msg, entry);
	if (msg) {
		list_del(&msg->entry);
		proc->queued--;
	} else {
		msg = ERR_PTR(proc->flushes != flushes ? -EBADF : -EAGAIN);
	}
	spin_unlock(&proc->lock);
	return msg;
}

/*
 * Take the next message off @proc's queue, waiting for one unless
 * @nonblock; -EBADF if the file was closed meanwhile.
 */
static struct bpr_msg *bpr_wait_msg(struct bpr_proc *proc, bool nonblock)
{
	unsigned int flushes;
	struct bpr_msg *msg;
	int ret;

	spin_lock(&proc->lock);
	flushes = proc->flushes;
	spin_unlock(&proc->lock);

	for (;;) {
		msg = bpr_dequeue(proc, flushes);
		if (msg != ERR_PTR(-EAGAIN) || nonblock)
			return msg;
		/*
		 * Nothing is taken before a message is there, so a signal
		 * loses nothing and the call can restart as it is. Exclusive:
		 * a new message wakes one receiver, not every thread waiting
		 * on the endpoint. The woken waiter checks the condition before
		 * any pending signal, so it takes the message rather than drop
		 * the wakeup; if a receiver that was not asleep took it first,
		 * that receiver consumed the message the wakeup was for. A
		 * flush wakes them all.
		 */
		ret = wait_event_freezable_exclusive(proc->wait,
						     bpr_receivable(proc, flushes));
		if (ret)
			return ERR_PTR(ret);
	}
}

/*
 * Take the next message off @proc's queue, waiting for one unless
 * @nonblock; describe it in @kout. The caller hands it to userspace with
 * bpr_out_commit(), or puts it back with bpr_out_abort().
 * -EBADF if the file was closed meanwhile.
 */
static int bpr_receive(struct bpr_proc *proc, bool nonblock,
		       struct bpr_message *kout, struct bpr_out *out)
{
	struct bpr_msg *msg;

	msg = bpr_wait_msg(proc, nonblock);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	/*
	 * Off the queue and not yet on the pending tree, the message and its
	 * transaction are ours alone: a reply needs the pending tree.
	 */
	bpr_describe(proc, msg->buffer, msg->size, msg->sender, msg->flags,
		     msg->txn ? msg->txn->id : 0, msg->pid, msg->euid, kout);
	out->msg = msg;
	return 0;
}

static bool bpr_txn_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct bpr_txn, node)->id <
	       rb_entry(b, struct bpr_txn, node)->id;
}

/* Insert @txn into @proc's pending tree, by id. */
static void bpr_pending_insert(struct bpr_proc *proc, struct bpr_txn *txn)
	__must_hold(&proc->lock)
{
	lockdep_assert_held(&proc->lock);
	rb_add(&txn->node, &proc->pending, bpr_txn_less);
	proc->npending++;
}

static int bpr_txn_cmp(const void *key, const struct rb_node *n)
{
	u64 id = *(const u64 *)key, nid = rb_entry(n, struct bpr_txn, node)->id;

	return id < nid ? -1 : id > nid;
}

/* Take the pending transaction @id off @proc's tree, or NULL. */
static struct bpr_txn *bpr_pending_take(struct bpr_proc *proc, u64 id)
{
	struct rb_node *n;

	spin_lock(&proc->lock);
	n = rb_find(&id, &proc->pending, bpr_txn_cmp);
	if (n) {
		rb_erase(n, &proc->pending);
		proc->npending--;
	}
	spin_unlock(&proc->lock);
	return n ? rb_entry(n, struct bpr_txn, node) : NULL;
}

/* Insert @txn into @proc's pending tree, taking the lock. */
static void bpr_pending_add(struct bpr_proc *proc, struct bpr_txn *txn)
{
	spin_lock(&proc->lock);
	bpr_pending_insert(proc, txn);
	spin_unlock(&proc->lock);
}

/*
 * Errors of the send or reply step that come from the peer: the step is
 * carried out (the transaction, if any, is finished) and the call goes on.
 */
static bool bpr_peer_error(int err)
{
	switch (err) {
	case -ENXIO:
	case -ECONNRESET:
	case -ENOSPC:
	case -EDQUOT:
	case -ENOMEM:
	case -ESRCH:
		return true;
	default:
		return false;
	}
}

/* Whether the sender of @txn gave it up: bpr_txn_abandon(). */
static bool bpr_txn_abandoned(struct bpr_txn *txn)
{
	bool abandoned;

	spin_lock(&txn->lock);
	abandoned = txn->abandoned;
	spin_unlock(&txn->lock);
	return abandoned;
}

/*
 * Copy @rp from @proc into the sender's area and finish @txn with it, or
 * with why it cannot be. Returns a caller's error (@txn is left as it
 * was), or 0 with @status as for bpr_reply(). The caller pins the sender's
 * area.
 */
static int bpr_reply_copy(struct bpr_proc *proc, struct bpr_txn *txn,
			  const struct bpr_reply *rp, int *status)
{
	struct bpa_buffer *buffer;
	int ret;

	buffer = bpr_copy_in(txn->sender, rp->data, rp->size, false);
	ret = PTR_ERR_OR_ZERO(buffer);
	/*
	 * Our own bad pointer or size, or we are being killed: the
	 * transaction stays, to retry, or for our release to end.
	 */
	if (ret == -EFAULT || ret == -EMSGSIZE || ret == -EINTR)
		return ret;
	if (ret) {
		/*
		 * The sender learns why there is no reply; -ESRCH: unmapped.
		 * Whatever else went wrong in the sender's area is not ours to
		 * retry: the transaction is finished, as the status says.
		 */
		if (ret == -ESRCH || !bpr_peer_error(ret))
			ret = -ECONNRESET;
		*status = ret;
		bpr_txn_finish(txn, ret, NULL, 0);
		return 0;
	}
	if (rp->flags & BPR_REPLY_CLEAR_BUF)
		buffer->clear_on_free = true;
	txn->reply_from = READ_ONCE(proc->id);
	txn->reply_pid = get_pid(task_tgid(current));
	txn->reply_euid = current_euid();
	*status = bpr_txn_finish(txn, 0, buffer, rp->size);
	return 0;
}

/*
 * Reply @rp from @proc. Returns a caller's error (the transaction then
 * stays pending, to retry), or 0 with @status: 0 if the sender got the
 * reply, else why not (the transaction is finished either way).
 */
static int bpr_reply(struct bpr_proc *proc, const struct bpr_reply *rp,
		     int *status)
{
	struct bpr_proc *sender;
	struct bpr_txn *txn;
	int ret;

	if (rp->reserved || (rp->flags & ~BPR_REPLY_CLEAR_BUF))
		return -EINVAL;
	txn = bpr_pending_take(proc, rp->transaction);
	if (!txn)
		return -EINVAL;
	sender = txn->sender;

	/* The sender's file is released: its area is gone or going. */
	if (bpr_txn_abandoned(txn) || !bpr_area_get(sender)) {
		*status = -ECONNRESET;
		bpr_txn_finish(txn, -ECONNRESET, NULL, 0);
		bpr_txn_put(txn);
		return 0;
	}
	ret = bpr_reply_copy(proc, txn, rp, status);
	bpr_area_put(sender);
	if (ret) {
		bpr_pending_add(proc, txn);
		return ret;
	}
	/* The pending tree's reference. */
	bpr_txn_put(txn);
	return 0;
}

static int bpr_free(struct bpr_proc *proc, u64 offset)
{
	struct bpa_buffer *buffer;

	if (offset >= bpa_alloc_area_size(&proc->alloc))
		return -EINVAL;
	/*
	 * A racing mmap() publishes the size before the start: with the old
	 * start (0), no buffer is found and the offset is refused.
	 */
	buffer = bpa_alloc_prepare_to_free(&proc->alloc,
					   bpa_alloc_area_start(&proc->alloc) +
					   offset);
	if (IS_ERR(buffer))
		return PTR_ERR(buffer);
	bpr_quota_uncharge(proc, buffer->private, buffer->data_size);
	bpa_alloc_free_buf(&proc->alloc, buffer);
	return 0;
}

/* The description reached userspace: the buffers are its own now. */
static void bpr_out_commit(struct bpr_proc *proc, struct bpr_out *out)
{
	struct bpr_msg *msg = out->msg;

	if (out->reply)
		bpa_alloc_release_to_user(&proc->alloc, out->reply);
	if (!msg)
		return;
	bpa_alloc_release_to_user(&proc->alloc, msg->buffer);
	/* The message's reference moves to the pending tree. */
	if (msg->txn)
		bpr_pending_add(proc, msg->txn);
	bpr_msg_free(msg);
}

/*
 * The description could not be written: nobody could ever free a reply,
 * so free it now, by pointer; a message goes back to the front of the
 * queue, so nothing is lost.
 */
static void bpr_out_abort(struct bpr_proc *proc, struct bpr_out *out)
{
	if (out->reply) {
		bpr_quota_uncharge(proc, out->reply->private,
				   out->reply->data_size);
		bpa_alloc_free_buf(&proc->alloc, out->reply);
	}
	if (out->msg) {
		spin_lock(&proc->lock);
		list_add(&out->msg->entry, &proc->queue);
		proc->queued++;
		spin_unlock(&proc->lock);
		/* Another receiver may have gone back to sleep meanwhile. */
		wake_up_interruptible(&proc->wait);
	}
}

static int bpr_check_send(const struct bpr_send *send)
{
	return send->reserved || (send->flags & ~BPR_SEND_FLAGS) ? -EINVAL : 0;
}

/*
 * Run the steps of @wr not yet in @wr->done, in order, recording each one
 * carried out there. A caller's error ends the call; a peer's error of the
 * send or reply step goes to @wr->write_status, and the call goes on.
 */
static int bpr_steps(struct bpr_proc *proc, struct bpr_write_read *wr,
		     bool nonblock, struct bpr_out *out)
{
	u32 todo = wr->flags & ~wr->done;
	int ret, status = 0;

	if (todo & BPR_WR_FREE) {
		ret = bpr_free(proc, wr->free_offset);
		if (ret)
			return ret;
		wr->done |= BPR_WR_FREE;
	}
	if (todo & BPR_WR_REPLY) {
		ret = bpr_reply(proc, &wr->reply, &status);
		if (ret)
			return ret;
		wr->done |= BPR_WR_REPLY;
		wr->write_status = status;
	}
	if (todo & BPR_WR_SEND) {
		if (wr->send.flags & BPR_SEND_ONEWAY)
			ret = bpr_deliver(proc, &wr->send, NULL);
		else
			ret = bpr_transact(proc, wr, out);
		if (ret && !bpr_peer_error(ret))
			return ret;
		wr->done |= BPR_WR_SEND;
		wr->write_status = ret;
	}
	if (todo & BPR_WR_RECEIVE) {
		ret = bpr_receive(proc, nonblock, &wr->message, out);
		if (ret)
			return ret;
		wr->done |= BPR_WR_RECEIVE;
	}
	return 0;
}

/*
 * Write @len bytes of the call's result back to @uptr, then hand the
 * buffers over; if userspace cannot take the result, undo. @ret is the
 * steps' result: a restart needs @done back in userspace too.
 */
static int bpr_finish_call(struct bpr_proc *proc, void __user *uptr,
			   const void *kres, size_t len, struct bpr_out *out,
			   int ret)
{
	if (copy_to_user(uptr, kres, len)) {
		bpr_out_abort(proc, out);
		return -EFAULT;
	}
	bpr_out_commit(proc, out);
	return ret;
}

/*
 * %BPR_WR_SENT in @done resumes a two-way send that is still to finish;
 * with anything else there is nothing to resume.
 */
static bool bpr_bad_resume(u32 flags, u32 done, const struct bpr_send *send)
{
	return (done & BPR_WR_SENT) &&
	       (!(flags & BPR_WR_SEND) || (done & BPR_WR_SEND) ||
		(send->flags & BPR_SEND_ONEWAY));
}

static int bpr_ioctl_write_read(struct bpr_proc *proc, struct file *file,
				struct bpr_write_read __user *uwr)
{
	struct bpr_out out = {};
	struct bpr_write_read wr;
	int ret;

	if (copy_from_user(&wr, uwr, sizeof(wr)))
		return -EFAULT;
	if (wr.reserved || (wr.flags & ~BPR_WR_STEPS) ||
	    (wr.done & ~(BPR_WR_STEPS | BPR_WR_SENT)) ||
	    ((wr.flags & BPR_WR_SEND) && (wr.flags & BPR_WR_REPLY)) ||
	    bpr_bad_resume(wr.flags, wr.done, &wr.send))
		return -EINVAL;
	if (wr.flags & BPR_WR_SEND) {
		if (bpr_check_send(&wr.send))
			return -EINVAL;
		/* A two-way send's reply and a receive share @message. */
		if (!(wr.send.flags & BPR_SEND_ONEWAY) &&
		    (wr.flags & BPR_WR_RECEIVE))
			return -EINVAL;
	}
	if (!(wr.done & BPR_WR_STEPS))
		wr.write_status = 0;

	ret = bpr_steps(proc, &wr, file->f_flags & O_NONBLOCK, &out);
	return bpr_finish_call(proc, uwr, &wr, sizeof(wr), &out, ret);
}

static int bpr_ioctl_transact(struct bpr_proc *proc,
			      struct bpr_transaction __user *utr)
{
	struct bpr_write_read wr = { .flags = BPR_WR_SEND };
	struct bpr_transaction tr;
	struct bpr_out out = {};
	int ret;

	if (copy_from_user(&tr, utr, sizeof(tr)))
		return -EFAULT;
	if (tr.reserved || (tr.done & ~BPR_WR_SENT) ||
	    bpr_check_send(&tr.send) ||
	    bpr_bad_resume(BPR_WR_SEND, tr.done, &tr.send))
		return -EINVAL;
	wr.send = tr.send;
	wr.done = tr.done;

	ret = bpr_steps(proc, &wr, false, &out);
	if (!ret)
		ret = wr.write_status;
	/*
	 * BPR_WR_SENT only while the transaction waits for a repeat of an
	 * interrupted call; otherwise 0, so the structure can be reused.
	 */
	tr.done = wr.done & BPR_WR_SEND ? 0 : wr.done & BPR_WR_SENT;
	tr.reply = wr.message;
	return bpr_finish_call(proc, utr, &tr, sizeof(tr), &out, ret);
}

static int bpr_ioctl_receive(struct bpr_proc *proc, struct file *file,
			     struct bpr_message __user *umsg)
{
	struct bpr_write_read wr = { .flags = BPR_WR_RECEIVE };
	struct bpr_out out = {};
	int ret;

	ret = bpr_steps(proc, &wr, file->f_flags & O_NONBLOCK, &out);
	if (ret)
		return ret;
	return bpr_finish_call(proc, umsg, &wr.message, sizeof(wr.message),
			       &out, 0);
}

static void bpr_get_stats(struct bpr_proc *proc, struct bpr_stats *st)
{
	struct bpa_alloc_stats as;

	bpa_alloc_get_stats(&proc->alloc, &as);
	memset(st, 0, sizeof(*st));
	st->pages_total = as.pages_total;
	st->pages_used = as.pages_used;
	st->pages_available = as.pages_available;
	st->pages_free = as.pages_free;
	st->buffers_allocated = as.buffers_allocated;
	st->free_space = as.free_space;
	st->free_async_space = as.free_async_space;
	spin_lock(&proc->lock);
	st->messages_queued = proc->queued;
	st->transactions_pending = proc->npending;
	spin_unlock(&proc->lock);
}

/* BPR_IOC_VERSION: the interface's version and the largest area. */
static int bpr_ioctl_version(struct bpr_version __user *uv)
{
	struct bpr_version v = {
		.version = BPR_VERSION,
		.area_max = BPR_AREA_MAX,
	};

	return copy_to_user(uv, &v, sizeof(v)) ? -EFAULT : 0;
}

/* BPR_IOC_BIND: bind the endpoint to an id. */
static int bpr_ioctl_bind(struct bpr_proc *proc, u32 __user *uid)
{
	u32 id;

	if (get_user(id, uid))
		return -EFAULT;
	return bpr_bind(proc, id);
}

/* BPR_IOC_REPLY: reply to a received transaction. */
static int bpr_ioctl_reply(struct bpr_proc *proc, struct bpr_reply __user *urp)
{
	struct bpr_reply rp;
	int ret, status = 0;

	if (copy_from_user(&rp, urp, sizeof(rp)))
		return -EFAULT;
	ret = bpr_reply(proc, &rp, &status);
	return ret ?: status;
}

/* BPR_IOC_FREE: free a received buffer by its offset. */
static int bpr_ioctl_free(struct bpr_proc *proc, u64 __user *uoffset)
{
	u64 offset;

	if (get_user(offset, uoffset))
		return -EFAULT;
	return bpr_free(proc, offset);
}

/* BPR_IOC_STATS: the endpoint's and its area's counters. */
static int bpr_ioctl_stats(struct bpr_proc *proc, struct bpr_stats __user *ust)
{
	struct bpr_stats st;

	bpr_get_stats(proc, &st);
	return copy_to_user(ust, &st, sizeof(st)) ? -EFAULT : 0;
}

/* The commands only the area's owner may use: one handler each. */
static long bpr_ioctl_owner(struct bpr_proc *proc, struct file *file,
			    unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case BPR_IOC_BIND:
		return bpr_ioctl_bind(proc, uarg);
	case BPR_IOC_TRANSACT:
		return bpr_ioctl_transact(proc, uarg);
	case BPR_IOC_RECEIVE:
		return bpr_ioctl_receive(proc, file, uarg);
	case BPR_IOC_REPLY:
		return bpr_ioctl_reply(proc, uarg);
	case BPR_IOC_FREE:
		return bpr_ioctl_free(proc, uarg);
	case BPR_IOC_WRITE_READ:
		return bpr_ioctl_write_read(proc, file, uarg);
	case BPR_IOC_STATS:
		return bpr_ioctl_stats(proc, uarg);
	default:
		return -ENOTTY;
	}
}

static long bpr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct bpr_proc *proc = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case BPR_IOC_VERSION:
		return bpr_ioctl_version(uarg);
	case BPR_IOC_BIND:
	case BPR_IOC_TRANSACT:
	case BPR_IOC_RECEIVE:
	case BPR_IOC_REPLY:
	case BPR_IOC_FREE:
	case BPR_IOC_WRITE_READ:
	case BPR_IOC_STATS:
		/*
		 * Offsets and buffers belong to the opener's mapping: another
		 * process holding the file (a child after fork, a receiver of
		 * the fd) may only ask for the version.
		 */
		if (!bpa_alloc_is_owner(&proc->alloc, current->mm))
			return -EPERM;
		return bpr_ioctl_owner(proc, file, cmd, uarg);
	default:
		return -ENOTTY;
	}
}

static int bpr_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct bpr_proc *proc = file->private_data;

	return bpa_alloc_mmap(&proc->alloc, vma);
}

static __poll_t bpr_poll(struct file *file, poll_table *wait)
{
	struct bpr_proc *proc = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &proc->wait, wait);
	spin_lock(&proc->lock);
	if (!list_empty(&proc->queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&proc->lock);
	return mask;
}

static int bpr_open(struct inode *inode, struct file *file)
{
	/* Freed here if the open fails, the file's once it succeeds. */
	struct bpr_proc *proc __free(kfree) =
		kzalloc(sizeof(*proc), GFP_KERNEL_ACCOUNT);
	int ret;

	if (!proc)
		return -ENOMEM;
	ret = bpa_alloc_init(&proc->alloc, &page_range_global_shrinker);
	if (ret)
		return ret;
	kref_init(&proc->ref);
	atomic_set(&proc->active, 1);
	proc->euid = current_euid();
	spin_lock_init(&proc->lock);
	init_waitqueue_head(&proc->wait);
	INIT_LIST_HEAD(&proc->queue);
	proc->pending = RB_ROOT;
	xa_init(&proc->waiting);
	xa_init(&proc->quotas);
	INIT_WORK(&proc->release_work, bpr_proc_release_work);
	atomic_long_inc(&bpr_nr_procs);
	atomic_long_inc(&bpr_nr_areas);
	file->private_data = no_free_ptr(proc);
	return 0;
}

/*
 * close() by the owner: wake receivers blocked in this file, which return
 * -EBADF. A child closing its inherited copy does not disturb the owner.
 */
static int bpr_flush(struct file *file, fl_owner_t id)
{
	struct bpr_proc *proc = file->private_data;

	if (!bpa_alloc_is_owner(&proc->alloc, current->mm))
		return 0;
	spin_lock(&proc->lock);
	/* Read without the lock by the receivers' wait condition. */
	WRITE_ONCE(proc->flushes, proc->flushes + 1);
	spin_unlock(&proc->lock);
	wake_up_interruptible_all(&proc->wait);
	return 0;
}

/*
 * The owner is gone (no descriptor and no mapping is left): unbind, fail
 * every transaction that waits on us, free every queued message, give up
 * the transactions we sent, and let the area go once no peer is copying
 * into it. Transactions we sent keep only this small structure.
 */
static int bpr_release(struct inode *inode, struct file *file)
{
	struct bpr_proc *proc = file->private_data;
	struct bpr_msg *msg, *mtmp;
	struct bpr_txn *txn;
	struct rb_node *n;
	unsigned long tid;
	LIST_HEAD(queue);

	mutex_lock(&bpr_ids_lock);
	spin_lock(&proc->lock);
	if (proc->id)
		xa_erase(&bpr_ids, proc->id);
	proc->dead = true;
	list_splice_init(&proc->queue, &queue);
	proc->queued = 0;
	spin_unlock(&proc->lock);
	mutex_unlock(&bpr_ids_lock);

	/*
	 * Unlocked: @dead keeps new messages out, and the pending tree only
	 * changes in our own ioctls, none of which runs any more.
	 */
	while ((n = rb_first(&proc->pending))) {
		txn = rb_entry(n, struct bpr_txn, node);
		rb_erase(n, &proc->pending);
		proc->npending--;
		bpr_txn_finish(txn, -ECONNRESET, NULL, 0);
		bpr_txn_put(txn);
	}
	/* Never delivered, and the mapping is gone: nobody can see them. */
	list_for_each_entry_safe(msg, mtmp, &queue, entry) {
		if (msg->txn) {
			bpr_txn_finish(msg->txn, -ECONNRESET, NULL, 0);
			bpr_txn_put(msg->txn);
		}
		bpa_alloc_free_buf(&proc->alloc, msg->buffer);
		bpr_msg_free(msg);
	}
	xa_for_each(&proc->waiting, tid, txn) {
		xa_erase(&proc->waiting, tid);
		bpr_txn_abandon(proc, txn);
	}
	bpr_area_put(proc);
	return 0;
}

static const struct file_operations bpr_fops = {
	.owner = THIS_MODULE,
	.open = bpr_open,
	.flush = bpr_flush,
	.release = bpr_release,
	.mmap = bpr_mmap,
	.poll = bpr_poll,
	.unlocked_ioctl = bpr_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice bpr_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "binder_page_range",
	.fops = &bpr_fops,
	.mode = 0666,
};

/* Live objects of the module, for leak checks: all 0 with no file open. */
static int bpr_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "procs %ld\n", atomic_long_read(&bpr_nr_procs));
	seq_printf(m, "areas %ld\n", atomic_long_read(&bpr_nr_areas));
	seq_printf(m, "transactions %ld\n", atomic_long_read(&bpr_nr_txns));
	seq_printf(m, "messages %ld\n", atomic_long_read(&bpr_nr_msgs));
	seq_printf(m, "buffers %lu\n", bpa_alloc_nr_buffers());
	seq_printf(m, "pages %lu\n",
		   page_range_shrinker_nr_pages(&page_range_global_shrinker));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bpr_stats);

static int __init bpr_init(void)
{
	int ret;

	/* One message and one transaction per call: slabs of their own. */
	bpr_msg_cache = KMEM_CACHE(bpr_msg, SLAB_ACCOUNT);
	bpr_txn_cache = KMEM_CACHE(bpr_txn, SLAB_ACCOUNT);
	if (!bpr_msg_cache || !bpr_txn_cache) {
		ret = -ENOMEM;
		goto err_cache;
	}
	bpr_wq = alloc_workqueue("binder_page_range",
				 WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!bpr_wq) {
		ret = -ENOMEM;
		goto err_cache;
	}
	bpr_debugfs_root = debugfs_create_dir("binder_page_range", NULL);
	debugfs_create_file("stats", 0444, bpr_debugfs_root, NULL,
			    &bpr_stats_fops);
	ret = misc_register(&bpr_miscdev);
	if (ret)
		goto err_wq;
	return 0;

err_wq:
	debugfs_remove_recursive(bpr_debugfs_root);
	destroy_workqueue(bpr_wq);
err_cache:
	kmem_cache_destroy(bpr_txn_cache);
	kmem_cache_destroy(bpr_msg_cache);
	return ret;
}
module_init(bpr_init);

/* No file is open (each holds a module reference); drain the teardowns. */
static void __exit bpr_exit(void)
{
	misc_deregister(&bpr_miscdev);
	destroy_workqueue(bpr_wq);
	debugfs_remove_recursive(bpr_debugfs_root);
	kmem_cache_destroy(bpr_txn_cache);
	kmem_cache_destroy(bpr_msg_cache);
}
module_exit(bpr_exit);

MODULE_DESCRIPTION("Binder-like IPC device over the shrinkable page range");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PAGE_RANGE_NS);
