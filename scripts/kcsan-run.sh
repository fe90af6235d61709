#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KCSAN: kunit.py configures and builds the x86_64 KCSAN kernel
# (configs/vm.config, debug.config and kcsan.config, the driver and its
# tests built in) in $PR_BUILD/x86_64-kcsan and runs the KUnit suites on
# two CPUs (suite kunit-kcsan); the same kernel then boots the busybox VM
# of scripts/vm-run.sh for the userspace stress tests and the fuzzer
# (suite user-kcsan). A data race report that involves the driver or its
# tests fails the run; races between other parts of the kernel are listed
# and left alone.
set -uo pipefail
. "$(dirname "$0")/common.sh"

# A stack frame in the driver or its tests ("bpa_alloc_new_buf+0x1f/0x3c0").
export LOG_SCAN_KCSAN_SCOPE='[ 	](page_range|bpa|bpr|prt|at)_[A-Za-z0-9_]+\+0x'
status=0

args=(--arch=x86_64 --qemu_args="-smp 2")
for f in vm debug kcsan; do
	args+=(--kunitconfig="$PR_ROOT/configs/$f.config")
done
for a in "${PR_X86_CC[@]}"; do
	args+=(--make_options="$a")
done
for a in $PR_PANIC_ARGS; do
	args+=(--kernel_args="$a")
done
PR_KUNIT_BUILD=$PR_BUILD/x86_64-kcsan \
	"$PR_ROOT/scripts/kunit-run.sh" kunit-kcsan "${args[@]}" || status=1

dir=$PR_BUILD/kcsan-tests
rm -rf "$dir"
mkdir -p "$dir/bin"
cp "$PR_ROOT/tests/kcsan/stress.sh" "$PR_BUILD/user/bpr_fuzz" "$dir/"
cp "$PR_BUILD/user/bpr_test" "$dir/bin/"
# The driver is built in; kunit.enable=0 keeps the suites from running
# again at boot.
PR_VM_KBUILD=$PR_BUILD/x86_64-kcsan PR_VM_SUITE=kcsan-vm \
PR_VM_USER_SUITE=user-kcsan PR_VM_TESTS=$dir PR_VM_MODULES= \
PR_VM_KUNIT_MODULE= PR_VM_APPEND=kunit.enable=0 \
	"$PR_ROOT/scripts/vm-run.sh" || status=1
exit $status
