#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection: boot the x86_64 VM kernel (which has failslab and
# fail_page_alloc) with the driver loaded and run tests/fault/fault-inject.sh,
# which runs the KUnit cases, the fuzzer and a stress pass of the userspace
# tests with allocations failing. Its TAP lines are the suite "fault";
# kernel reports in the log fail it too.
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir=$BPR_BUILD/fault-tests
rm -rf "$dir"
mkdir -p "$dir/bin"
cp "$BPR_ROOT/tests/fault/fault-inject.sh" "$dir/"
cp "$BPR_BUILD/user/bpr_fuzz" "$BPR_BUILD/user/bpr_test" "$dir/bin/"

BPR_VM_SUITE=fault-x86_64 BPR_VM_USER_SUITE=fault BPR_VM_TESTS=$dir \
BPR_VM_KUNIT_MODULE= BPR_VM_FILES=$BPR_SUBDIR/tests/binder_page_range_kunit.ko \
	exec "$BPR_ROOT/scripts/vm-run.sh"
