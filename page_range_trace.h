/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the page range: follow a range's pages through use,
 * release and reclaim with trace-cmd or perf (events page_range:*).
 *
 * Copyright (C) 2026 The binder_page_range authors.
 */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM page_range

#if !defined(_PAGE_RANGE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PAGE_RANGE_TRACE_H

#include <linux/tracepoint.h>

#include "page_range.h"

DECLARE_EVENT_CLASS(page_range_span,
		    TP_PROTO(struct page_range *range, size_t start,
			     size_t end),
		    TP_ARGS(range, start, end),
		    TP_STRUCT__entry(__field(pid_t, pid)
				     __field(size_t, start)
				     __field(size_t, end)),
		    TP_fast_assign(__entry->pid = range->pid;
				   __entry->start = start;
				   __entry->end = end;),
		    TP_printk("pid=%d pages=[%zu, %zu)",
			      __entry->pid, __entry->start, __entry->end));

/* page_range_use() was called for pages [start, end). */
DEFINE_EVENT(page_range_span, page_range_use,
	     TP_PROTO(struct page_range *range, size_t start, size_t end),
	     TP_ARGS(range, start, end));

/* page_range_stop_using() was called for pages [start, end). */
DEFINE_EVENT(page_range_span, page_range_stop_using,
	     TP_PROTO(struct page_range *range, size_t start, size_t end),
	     TP_ARGS(range, start, end));

/*
 * New pages were inserted for slots [@index, @index + @nr) with one page
 * table walk (or the insertion failed with @ret, after the first ones).
 */
TRACE_EVENT(page_range_insert,
	    TP_PROTO(struct page_range *range, size_t index, size_t nr,
		     int ret),
	    TP_ARGS(range, index, nr, ret),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(size_t, index)
			     __field(size_t, nr)
			     __field(int, ret)),
	    TP_fast_assign(__entry->pid = range->pid;
			   __entry->index = index;
			   __entry->nr = nr;
			   __entry->ret = ret;),
	    TP_printk("pid=%d page=%zu nr=%zu ret=%d",
		      __entry->pid, __entry->index, __entry->nr,
		      __entry->ret));

/* The shrinker freed the page of slot @index, zapping it if @zapped. */
TRACE_EVENT(page_range_reclaim,
	    TP_PROTO(pid_t pid, size_t index, bool zapped),
	    TP_ARGS(pid, index, zapped),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(size_t, index)
			     __field(bool, zapped)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->index = index;
			   __entry->zapped = zapped;),
	    TP_printk("pid=%d page=%zu zapped=%d",
		      __entry->pid, __entry->index, __entry->zapped));

#endif /* _PAGE_RANGE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE page_range_trace
#include <trace/define_trace.h>
