#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs as /tests/run in the benchmark VM (scripts/bench.sh): the in-kernel
# benchmarks, then the userspace ones. BENCH_ROUNDS comes from the kernel
# command line. Every result is a line "prb: ..." (kernel log) or
# "bpr: ..." (this script's output), which the host collects.
rounds=${BENCH_ROUNDS:-5}

echo "all $rounds" > /sys/kernel/debug/binder_page_range_bench/run ||
	echo "bpr: FAIL in-kernel benchmarks: write returned an error"
chmod 755 /tests/bpr_bench.bin
/tests/bpr_bench.bin "$rounds" || echo "bpr: FAIL bpr_bench exited $?"
