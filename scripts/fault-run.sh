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

dir=$PR_BUILD/fault-tests
rm -rf "$dir"
mkdir -p "$dir/bin"
cp "$PR_ROOT/tests/fault/fault-inject.sh" "$dir/"
cp "$PR_BUILD/user/bpr_fuzz" "$PR_BUILD/user/bpr_test" "$dir/bin/"

PR_VM_SUITE=fault-x86_64 PR_VM_USER_SUITE=fault PR_VM_TESTS=$dir \
PR_VM_KUNIT_MODULE= PR_VM_FILES=$PR_SUBDIR/tests/binder_page_range_kunit.ko \
	exec "$PR_ROOT/scripts/vm-run.sh"
