#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the test VM (scripts/fault-run.sh), the driver loaded: the KUnit
# cases that are not races, the fuzzer and a stress pass of the userspace
# tests, with slab and page allocations failing at random, at 1%, 10% and
# 50%. Faults hit only the tasks marked make-it-fail (the test's processes,
# each KUnit case's thread) and only where the driver's code is on the
# stack, so that what fails is the driver's own allocations.
#
# The tests themselves are expected to fail; the oracles are elsewhere:
# the fuzzer's (every call ends in 0 or a documented errno), the host's
# scan of the kernel log (no report of any kind), the driver's counters
# back to zero after every step, and faults really injected (each step
# prints how many). Prints TAP, one line per step and probability.

dbg=/sys/kernel/debug
stats=$dbg/binder_page_range/stats
# Large enough never to run out: what is left tells how many were used.
times=100000000
n=0

ok() {
	n=$((n + 1))
	echo "ok $n $*"
}

not_ok() {
	n=$((n + 1))
	echo "not ok $n $*"
}

# The driver's text: the lowest and highest text symbols of its three
# modules (library, allocator, device; loaded one after the other, with no
# other module loaded between them), widened to whole pages (module text is
# page-aligned and holds nothing else). Addresses all have 16 hex digits,
# so a text sort orders them.
text_range() {
	set -- $(awk '$4 ~ /^\[(binder_page_range|bpa_alloc|binder_page_range_ipc)\]$/ &&
		      $2 ~ /^[tT]$/ { print $1 }' \
		/proc/kallsyms | sort | sed -n '1p;$p')
	[ $# -eq 2 ] || return 1
	start=$(printf '0x%x' $((0x$1 & ~0xfff)))
	end=$(printf '0x%x' $(((0x$2 & ~0xfff) + 0x1000)))
}

inject() {
	for f in failslab fail_page_alloc; do
		d=$dbg/$f
		echo Y > $d/task-filter
		echo N > $d/ignore-gfp-wait
		echo 1 > $d/interval
		echo 0 > $d/space
		echo 0 > $d/verbose
		echo $times > $d/times
		echo "$start" > $d/require-start
		echo "$end" > $d/require-end
		echo 32 > $d/stacktrace-depth
		echo "$1" > $d/probability
	done
	# The range's pages are user pages: highmem and order 0.
	echo N > $dbg/fail_page_alloc/ignore-gfp-highmem
	echo 0 > $dbg/fail_page_alloc/min-order
}

# Turn injection off; prints "SLAB PAGES", the faults injected since inject.
stop_injecting() {
	echo 0 > $dbg/failslab/probability
	echo 0 > $dbg/fail_page_alloc/probability
	echo "$((times - $(cat $dbg/failslab/times))) $((times - $(cat $dbg/fail_page_alloc/times)))"
}

# Every object of the driver gone; releases are deferred to a workqueue,
# so wait up to 30 s.
counters_zero() {
	i=0
	while [ $i -lt 300 ]; do
		awk '$2 != 0 { bad = 1 } END { exit bad }' $stats && return 0
		usleep 100000
		i=$((i + 1))
	done
	tr '\n' ' ' < $stats
	return 1
}

# The processes that still hold the device open, with their kernel stacks.
holders() {
	for d in /proc/[0-9]*; do
		{ ls -l "$d/fd"; cat "$d/maps"; } 2> /dev/null |
			grep -q binder_page_range || continue
		echo "# ${d#/proc/} $(tr '\0' ' ' < "$d/cmdline") holds the device:"
		sed 's/^/#   /' "$d/stack" 2> /dev/null
	done
}

# The processes of session $1 (the harness puts each test in a process
# group of its own, so a group is not enough).
session() {
	for d in /proc/[0-9]*; do
		# After "(comm) ": state ppid pgrp session.
		sid=$(sed 's/.*) //' "$d/stat" 2> /dev/null | cut -d' ' -f4)
		[ "$sid" = "$1" ] && echo "${d#/proc/}"
	done
}

# step NAME PROBABILITY COMMAND...: run COMMAND with faults, in a task
# marked make-it-fail (its children inherit the mark), in a session of its
# own: a test that failed may leave processes behind, blocked on a peer
# that gave up. Those are shown, with where they wait, then killed: their
# files' release must then bring the counters back to zero.
step() {
	name=$1 p=$2 why=
	shift 2
	inject "$p"
	setsid sh -c 'echo 1 > /proc/self/make-it-fail && exec "$@"' step "$@" \
		> /tmp/step.log 2>&1 &
	pid=$!
	wait $pid
	rc=$?
	set -- $(stop_injecting)
	left=$(session $pid)
	if [ -n "$left" ]; then
		echo "# $name at $p%: processes left behind:" $left
		holders
		kill -KILL $left 2> /dev/null
	fi
	echo "# $name at $p%: exit $rc, faults injected: $1 slab, $2 page"
	[ $(($1 + $2)) -gt 0 ] || why="no fault injected"
	if ! left=$(counters_zero); then
		why="${why:+$why, }counters not zero: $left"
		holders
		ps -o pid,ppid,stat,comm 2> /dev/null | sed 's/^/# /'
	fi
	if [ "$name" = fuzz ] && [ $rc -ne 0 ]; then
		why="${why:+$why, }the fuzzer failed"
		grep -a 'FAIL' /tmp/step.log | head -n 20 | sed 's/^/# /'
		sed 's/^/# /' /tmp/step.log | tail -n 40
	fi
	if [ -z "$why" ]; then
		ok "$name under ${p}% allocation failures"
	else
		not_ok "$name under ${p}% allocation failures: $why"
	fi
}


if ! text_range; then
	echo "1..1"
	not_ok "no text symbols of binder_page_range in /proc/kallsyms"
	exit 1
fi
echo "# faults only with the driver's text ($start-$end) on the stack"
# The KUnit cases that are not races: those take their time, and their
# threads (not the case's) would not be marked anyway.
printf 'speed>slow' > /sys/module/kunit/parameters/filter

# FAULT_PROBS and FAULT_STEPS (on the kernel command line) narrow a run
# down, to chase one failure.
probs=${FAULT_PROBS:-1 10 50}
steps=${FAULT_STEPS:-kunit fuzz stress}
set -- $probs
np=$#
set -- $steps
echo "1..$((np * $#))"
for p in $probs; do
	for s in $steps; do
		case $s in
		kunit)
			step kunit $p sh -c 'insmod /lib/modules/binder_page_range_kunit.ko \
				fail_tasks=1 && rmmod binder_page_range_kunit' ;;
		fuzz)
			step fuzz $p env BPR_FUZZ_OPS=${BPR_FAULT_FUZZ_OPS:-5000} \
				BPR_FUZZ_SECONDS=60 /tests/bin/bpr_fuzz ;;
		stress)
			step stress $p /tests/bin/bpr_test -t stress -t oneway \
				-t two_way -t receiver_exits -t sender_killed ;;
		esac
	done
done
