/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace interface of /dev/binder_page_range: binder-like messages copied
 * once, from the sender's memory straight into the receiver's read-only
 * mmap'd area.
 */

#ifndef _UAPI_LINUX_BINDER_PAGE_RANGE_H
#define _UAPI_LINUX_BINDER_PAGE_RANGE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define BPR_DEVICE		"/dev/binder_page_range"
#define BPR_VERSION		1
/* Largest receive area: a larger mapping uses only this much. */
#define BPR_AREA_MAX		(4 << 20)

/* struct bpr_send.flags */
#define BPR_SEND_ONEWAY		0x1	/* do not wait for a reply */

/* struct bpr_message.flags */
#define BPR_MSG_ONEWAY		0x1	/* no reply is expected */
#define BPR_MSG_REPLY		0x2	/* the reply to our own transaction */

/* struct bpr_write_read.flags: the steps, done in this order */
#define BPR_WR_FREE		0x1	/* free the buffer at free_offset */
#define BPR_WR_SEND		0x2	/* send (a two-way send then waits) */
#define BPR_WR_REPLY		0x4	/* reply to a transaction */
#define BPR_WR_RECEIVE		0x8	/* wait for the next message */

/**
 * struct bpr_version - BPR_IOC_VERSION
 * @version: BPR_VERSION of the running module
 * @area_max: the largest receive area, BPR_AREA_MAX
 */
struct bpr_version {
	__u32 version;
	__u32 area_max;
};

/**
 * struct bpr_send - a message to send
 * @target: endpoint id of the receiver
 * @flags: BPR_SEND_*
 * @data: user address of the bytes to send
 * @size: number of bytes, up to the receiver's free space
 */
struct bpr_send {
	__u32 target;
	__u32 flags;
	__u64 data;
	__u64 size;
};

/**
 * struct bpr_message - a message delivered into the caller's area
 * @offset: where its bytes start, from the start of the area
 * @size: number of bytes
 * @transaction: id to pass to BPR_IOC_REPLY, 0 if no reply is expected
 * @sender: endpoint id of the sender, 0 if it had none
 * @flags: BPR_MSG_*
 *
 * The buffer stays the caller's until it passes @offset to BPR_IOC_FREE.
 */
struct bpr_message {
	__u64 offset;
	__u64 size;
	__u64 transaction;
	__u32 sender;
	__u32 flags;
};

/**
 * struct bpr_transaction - BPR_IOC_TRANSACT
 * @send: the message
 * @reply: for a two-way send, the reply, in the caller's own area
 */
struct bpr_transaction {
	struct bpr_send send;
	struct bpr_message reply;
};

/**
 * struct bpr_reply - BPR_IOC_REPLY
 * @transaction: bpr_message.transaction of the message answered
 * @data: user address of the reply's bytes
 * @size: number of bytes
 */
struct bpr_reply {
	__u64 transaction;
	__u64 data;
	__u64 size;
};

/**
 * struct bpr_write_read - BPR_IOC_WRITE_READ: a round trip in one call
 * @flags: BPR_WR_*; the steps run in the order free, send or reply, receive
 * @reserved: must be 0
 * @free_offset: for BPR_WR_FREE, the buffer to free
 * @send: for BPR_WR_SEND
 * @reply: for BPR_WR_REPLY
 * @message: out: the reply of a two-way BPR_WR_SEND, or else the message
 *	BPR_WR_RECEIVE got
 *
 * A step that fails ends the call with its error; the steps before it
 * stay done.
 */
struct bpr_write_read {
	__u32 flags;
	__u32 reserved;
	__u64 free_offset;
	struct bpr_send send;
	struct bpr_reply reply;
	struct bpr_message message;
};

/**
 * struct bpr_stats - BPR_IOC_STATS: the caller's area and queue
 * @pages_total: pages of the area
 * @pages_used: pages some buffer uses
 * @pages_available: pages kept for reuse, reclaimable under pressure
 * @pages_free: pages without memory behind them
 * @buffers_allocated: buffers holding messages, received or queued
 * @free_space: bytes free for new messages
 * @free_async_space: bytes free for oneway messages
 * @messages_queued: messages waiting to be received
 */
struct bpr_stats {
	__u64 pages_total;
	__u64 pages_used;
	__u64 pages_available;
	__u64 pages_free;
	__u64 buffers_allocated;
	__u64 free_space;
	__u64 free_async_space;
	__u64 messages_queued;
};

#define BPR_IOC_MAGIC		0xBA

#define BPR_IOC_VERSION		_IOR(BPR_IOC_MAGIC, 0x00, struct bpr_version)
#define BPR_IOC_BIND		_IOW(BPR_IOC_MAGIC, 0x01, __u32)
#define BPR_IOC_TRANSACT	_IOWR(BPR_IOC_MAGIC, 0x02, struct bpr_transaction)
#define BPR_IOC_RECEIVE		_IOR(BPR_IOC_MAGIC, 0x03, struct bpr_message)
#define BPR_IOC_REPLY		_IOW(BPR_IOC_MAGIC, 0x04, struct bpr_reply)
#define BPR_IOC_FREE		_IOW(BPR_IOC_MAGIC, 0x05, __u64)
#define BPR_IOC_WRITE_READ	_IOWR(BPR_IOC_MAGIC, 0x06, struct bpr_write_read)
#define BPR_IOC_STATS		_IOR(BPR_IOC_MAGIC, 0x07, struct bpr_stats)

#endif /* _UAPI_LINUX_BINDER_PAGE_RANGE_H */
