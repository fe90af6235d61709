#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: build the benchmark kernel (configs/bench.config: gcc, no
# debugging options, upstream binder, binderfs and this driver built in,
# with the in-kernel benchmarks of bench/), boot it under QEMU with two
# CPUs, run the in-kernel and the userspace benchmarks in that one boot,
# and report medians over the rounds and the ratios against binder; then
# boot a second kernel, in which binder_alloc.c runs on the page range
# (kernel-patches/binder_alloc-use-the-page-range.patch, the tree of
# scripts/binder-tree.sh, configs/bench-binder.config), for the userspace
# half again; then
# BENCH_PAIRS (default 3) pairs of short boots, the first kernel and the
# second in turn, for binder's round trips alone, which the comparison of
# the two binders pools; and one boot of each under QEMU's instruction
# counting on one CPU, for the instructions of those round trips:
#
#   build/bench/results.txt   the table
#   build/bench/results.csv   every figure: median, min, max, rounds
#   build/bench/bench.png     round trips against message size, and the
#                             in-kernel ratios
#
# BENCH_ROUNDS (default 5) sets the rounds. A benchmark, not a test: it
# fails only if a run fails or a data check does, never on a figure.
# Absolute times under TCG mean little; the ratios are what to read, on a
# machine with nothing else running.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

# boot KBUILD SUITE APPEND: one benchmark boot of the userspace half in
# $guest (main's), its output in $out; BPR_VM_QEMU_ARGS passes through.
boot() {
	BPR_VM_KBUILD=$1 BPR_VM_SUITE=$2 BPR_VM_APPEND=$3 BPR_VM_DEMO=1 \
		BPR_VM_MODULES='' BPR_VM_KUNIT_MODULE='' BPR_VM_TESTS=$guest \
		BPR_VM_TIMEOUT=3600 BPR_VM_LIVE=1 \
		"$BPR_ROOT/scripts/vm-run.sh" > "$out/guest-output-$2.txt"
}

main() {
	local kbuild=$BPR_BUILD/x86_64-bench out=$BPR_BUILD/bench
	local kbuild2=$BPR_BUILD/x86_64-bench-binder
	local guest=$out/guest rounds=${BENCH_ROUNDS:-5} start
	local pairs=${BENCH_PAIRS:-3} kb k i suite extra=()

	start=$(now)
	"$BPR_ROOT/scripts/deps.sh" gnuplot-nox
	BPR_VM_KBUILD=$kbuild BPR_VM_CONFIG=bench.config BPR_VM_GCC=1 \
		"$BPR_ROOT/scripts/vm-kernel.sh"

	rm -rf "$out"
	mkdir -p "$guest"
	# Not executable in the image: the VM's /init runs only ./run, which
	# starts it after the in-kernel half.
	gcc -static -O2 -Wall -Werror -I"$BPR_ROOT" -I"$BPR_ROOT/include/uapi" \
		-I"$BPR_KSRC/tools/testing/selftests" \
		-o "$guest/bpr_bench.bin" "$BPR_ROOT/bench/bpr_bench.c" -lpthread
	chmod 644 "$guest/bpr_bench.bin"
	install -m 755 "$BPR_ROOT/bench/bench-guest.sh" "$guest/run"

	boot "$kbuild" bench "BENCH_ROUNDS=$rounds"

	# binder_alloc.c on the page range takes a second kernel, from a tree
	# of its own; the same userspace half runs there, and the report
	# compares its binder round trips with the first boot's, each against
	# the pipe round trips of its own boot.
	flock "$BPR_BUILD/.build.lock" "$BPR_ROOT/scripts/binder-tree.sh"
	BPR_KSRC=$BPR_BINDER_KSRC BPR_VM_KBUILD=$kbuild2 \
		BPR_VM_CONFIG="bench.config bench-binder.config" \
		BPR_VM_GCC=1 "$BPR_ROOT/scripts/vm-kernel.sh"
	boot "$kbuild2" bench-converted "BENCH_ROUNDS=$rounds"

	# Two boots of one kernel differ by up to a third in every round
	# trip, pipes included: the comparison of the two binders pools
	# short boots of both kernels, in turns, that run binder's round
	# trips only; and one boot of each under instruction counting (a
	# guest ns is an instruction, idle time is skipped) gives what each
	# binder executes per round trip, the same from boot to boot to a
	# few in a thousand.
	for i in $(seq 1 "$pairs") icount; do
		for k in stock converted; do
			kb=$kbuild
			[ "$k" = converted ] && kb=$kbuild2
			if [ "$i" = icount ]; then
				suite=bench-icount-$k
				BPR_VM_QEMU_ARGS="-icount shift=0,sleep=off -smp 1" boot "$kb" \
					"$suite" "BENCH_ROUNDS=3 BPR_BENCH_ONLY=rtt,rtt1"
			else
				suite=bench-ab$i-$k
				boot "$kb" "$suite" \
					"BENCH_ROUNDS=$rounds BPR_BENCH_ONLY=rtt,rtt1"
			fi
			extra+=("$BPR_BUILD/logs/$suite.log")
		done
	done

	python3 "$BPR_ROOT/scripts/bench-report.py" "$BPR_BUILD/logs/bench.log" "$out" \
		"$BPR_BUILD/logs/bench-converted.log" "${extra[@]}"
	(cd "$out" && gnuplot bench.gp) ||
		log "gnuplot failed: no bench.png"
	cat "$out/results.txt"
	log "bench done in $(($(now) - start)) s: $out/results.txt, results.csv, bench.png"
}

main "$@"; exit
