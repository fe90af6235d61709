#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs as /tests/run in the benchmark VM (scripts/bench.sh): the in-kernel
# benchmarks, then the userspace ones. BENCH_ROUNDS comes from the kernel
# command line. Every result is a line "prb: ..." (kernel log) or
# "bpr: ..." (this script's output), which the host collects.
rounds=${BENCH_ROUNDS:-5}

run=/sys/kernel/debug/binder_page_range_bench/run
# The kernel with binder_alloc.c on the page range has no in-kernel half
# (it measures stock binder_alloc.c). BPR_BENCH_ONLY (one userspace
# workload, see bench/bpr_bench.c) skips it.
if [ -e $run ] && [ -z "${BPR_BENCH_ONLY:-}" ]; then
	echo "all $rounds" > $run ||
		echo "bpr: FAIL in-kernel benchmarks: write returned an error"
fi
chmod 755 /tests/bpr_bench.bin
/tests/bpr_bench.bin "$rounds" || echo "bpr: FAIL bpr_bench exited $?"
