/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace interface of /dev/binder_page_range: binder-like messages copied
 * once, from the sender's memory straight into the receiver's read-only
 * mmap'd area. Names start with bpr_ (BPR_ for constants), for binder page
 * range.
 *
 * Every structure is made of fixed-size fields with no implicit padding, so
 * 32-bit processes on a 64-bit kernel share the layout. Flags not defined
 * here and reserved fields must be zero (EINVAL otherwise): they are room
 * for later versions.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#ifndef _UAPI_LINUX_BINDER_PAGE_RANGE_H
#define _UAPI_LINUX_BINDER_PAGE_RANGE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define BPR_DEVICE		"/dev/binder_page_range"
#define BPR_VERSION		2
/* Largest receive area: a larger mapping uses only this much. */
#define BPR_AREA_MAX		(4 << 20)
/*
 * Endpoint ids 1 to BPR_ID_RESERVED_MAX are for services: binding one needs
 * CAP_IPC_OWNER (in the initial user namespace), as a port below 1024 needs
 * CAP_NET_BIND_SERVICE. Higher ids are first come, first served.
 */
#define BPR_ID_RESERVED_MAX	1023

/* struct bpr_send.flags */
#define BPR_SEND_ONEWAY		0x1	/* do not wait for a reply */
#define BPR_SEND_CLEAR_BUF	0x2	/* zero the bytes when the receiver frees them */

/* struct bpr_reply.flags */
#define BPR_REPLY_CLEAR_BUF	0x2	/* zero the bytes when the sender frees them */

/* struct bpr_message.flags */
#define BPR_MSG_ONEWAY		0x1	/* no reply is expected */
#define BPR_MSG_REPLY		0x2	/* the reply to our own transaction */
#define BPR_MSG_CLEAR_BUF	0x4	/* the bytes are zeroed when freed */

/*
 * struct bpr_write_read.flags: the steps, done in this order. In .done, the
 * steps already carried out, and BPR_WR_SENT.
 */
#define BPR_WR_FREE		0x1	/* free the buffer at free_offset */
#define BPR_WR_SEND		0x2	/* send (a two-way send then waits) */
#define BPR_WR_REPLY		0x4	/* reply to a transaction */
#define BPR_WR_RECEIVE		0x8	/* wait for the next message */
/* .done only: a two-way send was delivered and its reply is awaited */
#define BPR_WR_SENT		0x10

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
 * @size: number of bytes, at most the receiver's area (else EMSGSIZE)
 * @reserved: must be 0
 */
struct bpr_send {
	__u32 target;
	__u32 flags;
	__u64 data;
	__u64 size;
	__u64 reserved;
};

/**
 * struct bpr_message - a message delivered into the caller's area
 * @offset: where its bytes start, from the start of the area
 * @size: number of bytes
 * @transaction: id to pass to BPR_IOC_REPLY, 0 if no reply is expected;
 *	unique among the caller's transactions, never reused
 * @sender: endpoint id of the sender, 0 if it had none
 * @flags: BPR_MSG_*
 * @sender_pid: the sending process (thread group id) in the caller's pid
 *	namespace, 0 if it is not visible there
 * @sender_euid: the sender's effective uid when it sent, in the caller's
 *	user namespace (the overflow uid if unmapped there)
 * @reserved: 0
 *
 * The buffer stays the caller's until it passes @offset to BPR_IOC_FREE.
 */
struct bpr_message {
	__u64 offset;
	__u64 size;
	__u64 transaction;
	__u32 sender;
	__u32 flags;
	__s32 sender_pid;
	__u32 sender_euid;
	__u64 reserved;
};

/**
 * struct bpr_transaction - BPR_IOC_TRANSACT
 * @send: the message
 * @done: in and out: 0 for a new transaction. A call interrupted by a
 *	signal after a two-way send was delivered leaves BPR_WR_SENT here, so
 *	that the call repeated with the same structure waits for the same
 *	reply instead of sending again; a call that completes leaves 0.
 * @reserved: must be 0
 * @reply: for a two-way send, the reply, in the caller's own area
 */
struct bpr_transaction {
	struct bpr_send send;
	__u32 done;
	__u32 reserved;
	struct bpr_message reply;
};

/**
 * struct bpr_reply - BPR_IOC_REPLY
 * @transaction: bpr_message.transaction of the message answered
 * @data: user address of the reply's bytes
 * @size: number of bytes
 * @flags: BPR_REPLY_*
 * @reserved: must be 0
 */
struct bpr_reply {
	__u64 transaction;
	__u64 data;
	__u64 size;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct bpr_write_read - BPR_IOC_WRITE_READ: a round trip in one call
 * @flags: BPR_WR_FREE, BPR_WR_SEND or BPR_WR_REPLY, BPR_WR_RECEIVE; the
 *	steps run in the order free, send or reply, receive
 * @done: in and out: the steps carried out, plus BPR_WR_SENT; 0 for a new
 *	call. Steps already in @done are skipped, so a call interrupted by a
 *	signal can be repeated with the same structure.
 * @free_offset: for BPR_WR_FREE, the buffer to free
 * @send: for BPR_WR_SEND
 * @reply: for BPR_WR_REPLY
 * @write_status: out: 0, or the negative errno of a send or reply step
 *	that was carried out but could not be delivered for a reason of the
 *	peer's (it died, its area is full, ...); the receive step still runs
 * @reserved: must be 0
 * @message: out: the reply of a two-way BPR_WR_SEND, or else the message
 *	BPR_WR_RECEIVE got
 *
 * A step that fails for a reason of the caller's (a bad argument, a bad
 * pointer, a signal) ends the call with that error; @done tells which
 * steps were carried out.
 */
struct bpr_write_read {
	__u32 flags;
	__u32 done;
	__u64 free_offset;
	struct bpr_send send;
	struct bpr_reply reply;
	__s32 write_status;
	__u32 reserved;
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
 * @transactions_pending: two-way messages received and not yet answered
 * @reserved: 0
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
	__u64 transactions_pending;
	__u64 reserved[3];
};

/* 0xB9 00-0F: see Documentation/uapi.rst, "ioctl numbers". */
#define BPR_IOC_MAGIC		0xB9

#define BPR_IOC_VERSION		_IOR(BPR_IOC_MAGIC, 0x00, struct bpr_version)
#define BPR_IOC_BIND		_IOW(BPR_IOC_MAGIC, 0x01, __u32)
#define BPR_IOC_TRANSACT	_IOWR(BPR_IOC_MAGIC, 0x02, struct bpr_transaction)
#define BPR_IOC_RECEIVE		_IOR(BPR_IOC_MAGIC, 0x03, struct bpr_message)
#define BPR_IOC_REPLY		_IOW(BPR_IOC_MAGIC, 0x04, struct bpr_reply)
#define BPR_IOC_FREE		_IOW(BPR_IOC_MAGIC, 0x05, __u64)
#define BPR_IOC_WRITE_READ	_IOWR(BPR_IOC_MAGIC, 0x06, struct bpr_write_read)
#define BPR_IOC_STATS		_IOR(BPR_IOC_MAGIC, 0x07, struct bpr_stats)

#endif /* _UAPI_LINUX_BINDER_PAGE_RANGE_H */
