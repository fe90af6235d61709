// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/binder_page_range: binder-like IPC over the page range allocator.
 *
 * Each open file is an endpoint owner (struct bpr_proc) with an allocator
 * bound to the opener's mm. Its owner maps a read-only receive area; a
 * sender's bytes are copied once, from the sender's memory straight into a
 * buffer carved out of the receiver's area. The receiver frees the buffer
 * by its offset when done; pages no buffer needs go to the shrinker.
 *
 * Lock order: bpr_ids_lock (mutex), then proc->lock, then txn->lock, then
 * the allocator's lock. Nothing sleeps under a spinlock: buffers are
 * allocated and filled before a message is queued, and freed after it is
 * taken off a queue.
 */

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "binder_alloc_glue.h"
#include "uapi/binder_page_range.h"

/*
 * Messages one endpoint may have queued or received and not yet answered:
 * bounds the kernel memory its peers can make it hold.
 */
#define BPR_MAX_QUEUED	4096

/**
 * struct bpr_proc - one open file: an endpoint owner and its area
 * @ref: held by the file, by senders while they deliver, by transactions
 * @alloc: the receive area's allocator
 * @lock: protects the fields below
 * @wait: receivers and poll wait here
 * @queue: messages delivered but not yet received
 * @pending: two-way transactions received and not yet replied to
 * @queued: length of @queue
 * @npending: length of @pending
 * @id: the bound endpoint id, 0 if none
 * @dead: the file was released; nothing more is queued
 * @flushes: counts close() calls on the file, to wake blocked receivers
 * @release_work: the deferred release of the area
 * @rcu: frees the structure after lockless lookups are done with it
 */
struct bpr_proc {
	struct kref ref;
	struct pr_alloc alloc;
	spinlock_t lock;	/* see kernel-doc above */
	wait_queue_head_t wait;
	struct list_head queue;
	struct list_head pending;
	unsigned int queued;
	unsigned int npending;
	u32 id;
	bool dead;
	unsigned int flushes;
	struct work_struct release_work;
	struct rcu_head rcu;
};

/**
 * struct bpr_txn - a two-way transaction
 * @ref: held by the waiting sender and by the receiver's queue or list
 * @id: transaction id given to the receiver
 * @sender: the sender, for the reply's buffer; holds a reference
 * @entry: in the receiver's &bpr_proc.pending once received
 * @lock: protects the fields below
 * @done: set when @status and @reply are final
 * @abandoned: the sender stopped waiting (signal)
 * @status: 0 with a reply, or why there is none
 * @reply: the reply buffer, in the sender's area
 * @reply_size: bytes in the reply
 * @completion: the sender waits here
 */
struct bpr_txn {
	struct kref ref;
	u64 id;
	struct bpr_proc *sender;
	struct list_head entry;
	spinlock_t lock;	/* see kernel-doc above */
	bool done;
	bool abandoned;
	int status;
	struct pr_buffer *reply;
	u64 reply_size;
	struct completion completion;
};

/**
 * struct bpr_msg - a message queued for a receiver
 * @entry: in &bpr_proc.queue
 * @buffer: its bytes, in the receiver's area
 * @size: number of bytes
 * @sender: endpoint id of the sender
 * @flags: BPR_MSG_*
 * @txn: for a two-way message, the transaction (a reference)
 */
struct bpr_msg {
	struct list_head entry;
	struct pr_buffer *buffer;
	u64 size;
	u32 sender;
	u32 flags;
	struct bpr_txn *txn;
};

static struct page_range_shrinker bpr_shrinker;
static struct workqueue_struct *bpr_wq;
/*
 * Endpoint id -> struct bpr_proc. Writers hold bpr_ids_lock; senders look
 * up under RCU, which is why a proc is freed with kfree_rcu().
 */
static DEFINE_MUTEX(bpr_ids_lock);
static DEFINE_XARRAY(bpr_ids);
static atomic64_t bpr_txn_ids = ATOMIC64_INIT(0);

static void bpr_proc_release_work(struct work_struct *work)
{
	struct bpr_proc *proc = container_of(work, struct bpr_proc,
					     release_work);

	pr_alloc_release(&proc->alloc);
	kfree_rcu(proc, rcu);
}

/*
 * The last reference may be dropped by a sender in another process, and
 * the release unmaps nothing but frees up to 4 MiB of pages: a worker does
 * it, as binder defers its release.
 */
static void bpr_proc_free(struct kref *ref)
{
	struct bpr_proc *proc = container_of(ref, struct bpr_proc, ref);

	queue_work(bpr_wq, &proc->release_work);
}

static void bpr_proc_put(struct bpr_proc *proc)
{
	kref_put(&proc->ref, bpr_proc_free);
}

static void bpr_txn_free(struct kref *ref)
{
	struct bpr_txn *txn = container_of(ref, struct bpr_txn, ref);

	bpr_proc_put(txn->sender);
	kfree(txn);
}

static void bpr_txn_put(struct bpr_txn *txn)
{
	kref_put(&txn->ref, bpr_txn_free);
}

/*
 * Finish @txn with @status and, if the sender still waits, @reply; else
 * free @reply. Returns 0, or -ECONNRESET if the sender stopped waiting.
 */
static int bpr_txn_finish(struct bpr_txn *txn, int status,
			  struct pr_buffer *reply, u64 size)
{
	bool abandoned;

	spin_lock(&txn->lock);
	abandoned = txn->abandoned;
	if (!abandoned) {
		txn->status = status;
		txn->reply = reply;
		txn->reply_size = size;
	}
	txn->done = true;
	spin_unlock(&txn->lock);
	if (abandoned) {
		if (reply)
			pr_alloc_free_buf(&txn->sender->alloc, reply);
		return -ECONNRESET;
	}
	complete(&txn->completion);
	return 0;
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

/* Bind @proc to @id: -EBUSY if it has an id, -EADDRINUSE if @id is taken. */
static int bpr_bind(struct bpr_proc *proc, u32 id)
{
	int ret;

	if (!id)
		return -EINVAL;
	/* proc->id changes only under bpr_ids_lock: read it there. */
	mutex_lock(&bpr_ids_lock);
	if (proc->id) {
		ret = -EBUSY;
	} else {
		ret = xa_insert(&bpr_ids, id, proc, GFP_KERNEL);
		if (ret == -EBUSY)
			ret = -EADDRINUSE;
	}
	if (!ret) {
		spin_lock(&proc->lock);
		proc->id = id;
		spin_unlock(&proc->lock);
	}
	mutex_unlock(&bpr_ids_lock);
	return ret;
}

/*
 * Allocate a buffer of @size in @to's area and copy @size bytes from the
 * user address @data into it: the one copy of a message.
 */
static struct pr_buffer *bpr_copy_in(struct bpr_proc *to, u64 data, u64 size,
				     bool async)
{
	struct pr_buffer *buffer;
	int ret;

	if (size > BPR_AREA_MAX)
		return ERR_PTR(-ENOSPC);
	buffer = pr_alloc_new_buf(&to->alloc, size, 0, 0, async);
	if (IS_ERR(buffer))
		return buffer;
	ret = pr_alloc_copy_user_to_buffer(&to->alloc, buffer, 0,
					   u64_to_user_ptr(data), size);
	if (ret) {
		pr_alloc_free_buf(&to->alloc, buffer);
		return ERR_PTR(ret);
	}
	return buffer;
}

/* Fill @out for a message in @proc's area. */
static void bpr_fill_message(struct bpr_proc *proc, struct pr_buffer *buffer,
			     u64 size, u32 sender, u32 flags, u64 txn,
			     struct bpr_message *out)
{
	memset(out, 0, sizeof(*out));
	out->offset = buffer->user_data - proc->alloc.buffer;
	out->size = size;
	out->transaction = txn;
	out->sender = sender;
	out->flags = flags;
}

/* Wait for the reply to @txn; fill @reply with it. */
static int bpr_wait_reply(struct bpr_proc *proc, struct bpr_txn *txn,
			  struct bpr_message *reply)
{
	int ret = wait_for_completion_interruptible(&txn->completion);

	spin_lock(&txn->lock);
	if (ret && !txn->done) {
		/* The reply, if it comes, is freed by the replier. */
		txn->abandoned = true;
		spin_unlock(&txn->lock);
		return -EINTR;
	}
	/*
	 * Done: bpr_txn_finish() wrote status and reply before setting it,
	 * under txn->lock, and never writes them again.
	 */
	spin_unlock(&txn->lock);
	if (txn->status)
		return txn->status;
	pr_alloc_release_to_user(&proc->alloc, txn->reply);
	bpr_fill_message(proc, txn->reply, txn->reply_size, 0, BPR_MSG_REPLY,
			 0, reply);
	return 0;
}

/*
 * Send @send from @proc. A two-way send waits for the reply, which lands
 * in @proc's own area and is described in @reply.
 */
static int bpr_send(struct bpr_proc *proc, const struct bpr_send *send,
		    struct bpr_message *reply)
{
	bool oneway = send->flags & BPR_SEND_ONEWAY;
	struct bpr_txn *txn = NULL;
	struct pr_buffer *buffer;
	struct bpr_proc *target;
	struct bpr_msg *msg;
	int ret;

	if (send->flags & ~BPR_SEND_ONEWAY)
		return -EINVAL;
	target = bpr_lookup(send->target);
	if (!target)
		return -ENXIO;

	ret = -ENOMEM;
	msg = kzalloc(sizeof(*msg), GFP_KERNEL_ACCOUNT);
	if (!msg)
		goto err_put_target;
	if (!oneway) {
		txn = kzalloc(sizeof(*txn), GFP_KERNEL_ACCOUNT);
		if (!txn)
			goto err_free_msg;
		kref_init(&txn->ref);
		spin_lock_init(&txn->lock);
		init_completion(&txn->completion);
		txn->id = atomic64_inc_return(&bpr_txn_ids);
		kref_get(&proc->ref);
		txn->sender = proc;
	}

	buffer = bpr_copy_in(target, send->data, send->size, oneway);
	if (IS_ERR(buffer)) {
		ret = PTR_ERR(buffer);
		goto err_free_txn;
	}
	msg->buffer = buffer;
	msg->size = send->size;
	msg->flags = oneway ? BPR_MSG_ONEWAY : 0;
	if (txn) {
		/* The queue's reference; the sender keeps the first. */
		kref_get(&txn->ref);
		msg->txn = txn;
	}

	spin_lock(&proc->lock);
	msg->sender = proc->id;
	spin_unlock(&proc->lock);

	spin_lock(&target->lock);
	if (target->dead ||
	    target->queued + target->npending >= BPR_MAX_QUEUED) {
		ret = target->dead ? -ECONNRESET : -ENOSPC;
		spin_unlock(&target->lock);
		if (txn)
			bpr_txn_put(txn);
		goto err_free_buffer;
	}
	list_add_tail(&msg->entry, &target->queue);
	target->queued++;
	spin_unlock(&target->lock);
	wake_up_interruptible(&target->wait);
	bpr_proc_put(target);

	if (!txn)
		return 0;
	ret = bpr_wait_reply(proc, txn, reply);
	bpr_txn_put(txn);
	return ret;

err_free_buffer:
	pr_alloc_free_buf(&target->alloc, buffer);
err_free_txn:
	if (txn)
		bpr_txn_put(txn);
err_free_msg:
	kfree(msg);
err_put_target:
	bpr_proc_put(target);
	return ret;
}

static bool bpr_can_receive(struct bpr_proc *proc, unsigned int flushes)
{
	bool ret;

	spin_lock(&proc->lock);
	ret = !list_empty(&proc->queue) || proc->flushes != flushes;
	spin_unlock(&proc->lock);
	return ret;
}

/*
 * Take the next message off @proc's queue, waiting for one unless
 * @nonblock. -EBADF if the file was closed meanwhile.
 */
static int bpr_receive(struct bpr_proc *proc, struct bpr_message __user *out,
		       struct bpr_message *kout, bool nonblock)
{
	unsigned int flushes;
	struct bpr_msg *msg;
	int ret;

	spin_lock(&proc->lock);
	flushes = proc->flushes;
	spin_unlock(&proc->lock);

	for (;;) {
		bool flushed;

		spin_lock(&proc->lock);
		msg = list_first_entry_or_null(&proc->queue, struct bpr_msg,
					       entry);
		if (msg) {
			list_del(&msg->entry);
			proc->queued--;
			/*
			 * Read under the lock: once on the pending list the
			 * transaction may be answered and freed by another
			 * thread. It goes there only after the copy out.
			 */
			bpr_fill_message(proc, msg->buffer, msg->size,
					 msg->sender, msg->flags,
					 msg->txn ? msg->txn->id : 0, kout);
		}
		flushed = proc->flushes != flushes;
		spin_unlock(&proc->lock);
		if (msg)
			break;
		if (flushed)
			return -EBADF;
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(proc->wait,
					       bpr_can_receive(proc, flushes));
		if (ret)
			return ret;
	}

	/*
	 * Off the queue and off the pending list, the message is ours alone:
	 * the copy out can fault with no lock held. A release meanwhile is
	 * impossible, as this ioctl holds the file.
	 */
	if (out && copy_to_user(out, kout, sizeof(*kout))) {
		/* Nothing is lost: the message goes back to the front. */
		spin_lock(&proc->lock);
		list_add(&msg->entry, &proc->queue);
		proc->queued++;
		spin_unlock(&proc->lock);
		return -EFAULT;
	}
	pr_alloc_release_to_user(&proc->alloc, msg->buffer);
	if (msg->txn) {
		/* The message's reference moves to the pending list. */
		spin_lock(&proc->lock);
		list_add_tail(&msg->txn->entry, &proc->pending);
		proc->npending++;
		spin_unlock(&proc->lock);
	}
	kfree(msg);
	return 0;
}

static int bpr_reply(struct bpr_proc *proc, const struct bpr_reply *rp)
{
	struct bpr_txn *txn = NULL, *t;
	struct pr_buffer *buffer;
	int ret;

	spin_lock(&proc->lock);
	list_for_each_entry(t, &proc->pending, entry) {
		if (t->id == rp->transaction) {
			list_del(&t->entry);
			proc->npending--;
			txn = t;
			break;
		}
	}
	spin_unlock(&proc->lock);
	if (!txn)
		return -EINVAL;

	buffer = bpr_copy_in(txn->sender, rp->data, rp->size, false);
	if (PTR_ERR_OR_ZERO(buffer) == -EFAULT) {
		/* Our own bad pointer: the transaction stays, to retry. */
		spin_lock(&proc->lock);
		list_add(&txn->entry, &proc->pending);
		proc->npending++;
		spin_unlock(&proc->lock);
		return -EFAULT;
	}
	if (IS_ERR(buffer)) {
		/* The sender learns why there is no reply; -ESRCH: it is gone. */
		ret = PTR_ERR(buffer);
		if (ret == -ESRCH)
			ret = -ECONNRESET;
		bpr_txn_finish(txn, ret, NULL, 0);
	} else {
		ret = bpr_txn_finish(txn, 0, buffer, rp->size);
	}
	bpr_txn_put(txn);
	return ret;
}

static int bpr_free(struct bpr_proc *proc, u64 offset)
{
	struct pr_buffer *buffer;

	if (offset >= READ_ONCE(proc->alloc.buffer_size))
		return -EINVAL;
	buffer = pr_alloc_prepare_to_free(&proc->alloc,
					  proc->alloc.buffer + offset);
	if (IS_ERR(buffer))
		return PTR_ERR(buffer);
	pr_alloc_free_buf(&proc->alloc, buffer);
	return 0;
}

/*
 * Tell userspace where its reply is. If that fails, nobody could ever free
 * the reply: free it now.
 */
static int bpr_put_reply(struct bpr_proc *proc, struct bpr_message __user *out,
			 const struct bpr_message *reply)
{
	if (!copy_to_user(out, reply, sizeof(*reply)))
		return 0;
	bpr_free(proc, reply->offset);
	return -EFAULT;
}

static int bpr_write_read(struct bpr_proc *proc, struct file *file,
			  struct bpr_write_read __user *uwr)
{
	struct bpr_write_read wr;
	int ret;

	if (copy_from_user(&wr, uwr, sizeof(wr)))
		return -EFAULT;
	if (wr.reserved || (wr.flags & ~(BPR_WR_FREE | BPR_WR_SEND |
					 BPR_WR_REPLY | BPR_WR_RECEIVE)) ||
	    ((wr.flags & BPR_WR_SEND) && (wr.flags & BPR_WR_REPLY)))
		return -EINVAL;

	if (wr.flags & BPR_WR_FREE) {
		ret = bpr_free(proc, wr.free_offset);
		if (ret)
			return ret;
	}
	if (wr.flags & BPR_WR_REPLY) {
		ret = bpr_reply(proc, &wr.reply);
		if (ret)
			return ret;
	}
	if (wr.flags & BPR_WR_SEND) {
		ret = bpr_send(proc, &wr.send, &wr.message);
		if (ret)
			return ret;
		if (!(wr.send.flags & BPR_SEND_ONEWAY))
			return bpr_put_reply(proc, &uwr->message, &wr.message);
	}
	if (wr.flags & BPR_WR_RECEIVE)
		return bpr_receive(proc, &uwr->message, &wr.message,
				   file->f_flags & O_NONBLOCK);
	return 0;
}

static void bpr_get_stats(struct bpr_proc *proc, struct bpr_stats *st)
{
	struct pr_alloc_stats as;

	pr_alloc_get_stats(&proc->alloc, &as);
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
	spin_unlock(&proc->lock);
}

static long bpr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct bpr_proc *proc = file->private_data;
	void __user *uarg = (void __user *)arg;
	int ret;

	/*
	 * Offsets and buffers belong to the opener's mapping: another process
	 * holding the file (a child after fork, a receiver of the fd) may
	 * only ask for the version.
	 */
	if (cmd != BPR_IOC_VERSION && current->mm != proc->alloc.range.mm)
		return -EPERM;

	switch (cmd) {
	case BPR_IOC_VERSION: {
		struct bpr_version v = {
			.version = BPR_VERSION,
			.area_max = BPR_AREA_MAX,
		};

		return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
	}
	case BPR_IOC_BIND: {
		u32 id;

		if (get_user(id, (u32 __user *)uarg))
			return -EFAULT;
		return bpr_bind(proc, id);
	}
	case BPR_IOC_TRANSACT: {
		struct bpr_transaction tr;

		if (copy_from_user(&tr.send, uarg, sizeof(tr.send)))
			return -EFAULT;
		ret = bpr_send(proc, &tr.send, &tr.reply);
		if (ret || (tr.send.flags & BPR_SEND_ONEWAY))
			return ret;
		return bpr_put_reply(proc,
				     &((struct bpr_transaction __user *)uarg)->reply,
				     &tr.reply);
	}
	case BPR_IOC_RECEIVE: {
		struct bpr_message msg;

		return bpr_receive(proc, uarg, &msg,
				   file->f_flags & O_NONBLOCK);
	}
	case BPR_IOC_REPLY: {
		struct bpr_reply rp;

		if (copy_from_user(&rp, uarg, sizeof(rp)))
			return -EFAULT;
		return bpr_reply(proc, &rp);
	}
	case BPR_IOC_FREE: {
		u64 offset;

		if (get_user(offset, (u64 __user *)uarg))
			return -EFAULT;
		return bpr_free(proc, offset);
	}
	case BPR_IOC_WRITE_READ:
		return bpr_write_read(proc, file, uarg);
	case BPR_IOC_STATS: {
		struct bpr_stats st;

		bpr_get_stats(proc, &st);
		return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static int bpr_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct bpr_proc *proc = file->private_data;

	return pr_alloc_mmap(&proc->alloc, vma);
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
	struct bpr_proc *proc;
	int ret;

	proc = kzalloc(sizeof(*proc), GFP_KERNEL);
	if (!proc)
		return -ENOMEM;
	ret = pr_alloc_init(&proc->alloc, &bpr_shrinker);
	if (ret) {
		kfree(proc);
		return ret;
	}
	kref_init(&proc->ref);
	spin_lock_init(&proc->lock);
	init_waitqueue_head(&proc->wait);
	INIT_LIST_HEAD(&proc->queue);
	INIT_LIST_HEAD(&proc->pending);
	INIT_WORK(&proc->release_work, bpr_proc_release_work);
	file->private_data = proc;
	return 0;
}

/*
 * close() by the owner: wake receivers blocked in this file, which return
 * -EBADF. A child closing its inherited copy does not disturb the owner.
 */
static int bpr_flush(struct file *file, fl_owner_t id)
{
	struct bpr_proc *proc = file->private_data;

	if (current->mm != proc->alloc.range.mm)
		return 0;
	spin_lock(&proc->lock);
	proc->flushes++;
	spin_unlock(&proc->lock);
	wake_up_interruptible_all(&proc->wait);
	return 0;
}

/*
 * The owner is gone: unbind, fail every transaction that waits on us, free
 * every queued message. The area goes with the last reference.
 */
static int bpr_release(struct inode *inode, struct file *file)
{
	struct bpr_proc *proc = file->private_data;
	struct bpr_msg *msg, *mtmp;
	struct bpr_txn *txn, *ttmp;
	LIST_HEAD(queue);
	LIST_HEAD(pending);

	mutex_lock(&bpr_ids_lock);
	spin_lock(&proc->lock);
	if (proc->id)
		xa_erase(&bpr_ids, proc->id);
	proc->id = 0;
	proc->dead = true;
	list_splice_init(&proc->queue, &queue);
	list_splice_init(&proc->pending, &pending);
	proc->queued = 0;
	proc->npending = 0;
	spin_unlock(&proc->lock);
	mutex_unlock(&bpr_ids_lock);

	list_for_each_entry_safe(msg, mtmp, &queue, entry) {
		if (msg->txn) {
			bpr_txn_finish(msg->txn, -ECONNRESET, NULL, 0);
			bpr_txn_put(msg->txn);
		}
		pr_alloc_free_buf(&proc->alloc, msg->buffer);
		kfree(msg);
	}
	list_for_each_entry_safe(txn, ttmp, &pending, entry) {
		bpr_txn_finish(txn, -ECONNRESET, NULL, 0);
		bpr_txn_put(txn);
	}
	bpr_proc_put(proc);
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

static int __init bpr_init(void)
{
	int ret;

	ret = page_range_shrinker_register(&bpr_shrinker, "binder-page-range");
	if (ret)
		return ret;
	bpr_wq = alloc_workqueue("binder_page_range", WQ_UNBOUND, 0);
	if (!bpr_wq) {
		ret = -ENOMEM;
		goto err_shrinker;
	}
	pr_alloc_module_init();
	ret = misc_register(&bpr_miscdev);
	if (ret)
		goto err_wq;
	return 0;

err_wq:
	pr_alloc_module_exit();
	destroy_workqueue(bpr_wq);
err_shrinker:
	page_range_shrinker_unregister(&bpr_shrinker);
	return ret;
}
module_init(bpr_init);

/* No file is open (each holds a module reference); drain the releases. */
static void __exit bpr_exit(void)
{
	misc_deregister(&bpr_miscdev);
	destroy_workqueue(bpr_wq);
	pr_alloc_module_exit();
	page_range_shrinker_unregister(&bpr_shrinker);
}
module_exit(bpr_exit);
