/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the buffer allocator: a buffer's allocation and release
 * (events bpa_alloc:*); the page range's events (page_range:*) show what
 * happens to the pages under it.
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM bpa_alloc

#if !defined(_BPA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _BPA_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(bpa_buffer_event,
		    TP_PROTO(pid_t pid, unsigned int debug_id,
			     unsigned long offset, size_t size, bool async),
		    TP_ARGS(pid, debug_id, offset, size, async),
		    TP_STRUCT__entry(__field(pid_t, pid)
				     __field(unsigned int, debug_id)
				     __field(unsigned long, offset)
				     __field(size_t, size)
				     __field(bool, async)),
		    TP_fast_assign(__entry->pid = pid;
				   __entry->debug_id = debug_id;
				   __entry->offset = offset;
				   __entry->size = size;
				   __entry->async = async;),
		    TP_printk("pid=%d buffer=%u offset=%lu size=%zu async=%d",
			      __entry->pid, __entry->debug_id, __entry->offset,
			      __entry->size, __entry->async));

/* A buffer was allocated; its pages are made present next. */
DEFINE_EVENT(bpa_buffer_event, bpa_alloc_buf,
	     TP_PROTO(pid_t pid, unsigned int debug_id, unsigned long offset,
		      size_t size, bool async),
	     TP_ARGS(pid, debug_id, offset, size, async));

/*
 * A buffer is freed (or an allocation undone); pages no other buffer
 * touches become available.
 */
DEFINE_EVENT(bpa_buffer_event, bpa_free_buf,
	     TP_PROTO(pid_t pid, unsigned int debug_id, unsigned long offset,
		      size_t size, bool async),
	     TP_ARGS(pid, debug_id, offset, size, async));

#endif /* _BPA_TRACE_H */

#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE bpa_trace
#include <trace/define_trace.h>
