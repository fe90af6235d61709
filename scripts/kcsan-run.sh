#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KCSAN: boot the second x86_64 kernel (configs/kcsan.config, built by
# "scripts/vm-kernel.sh configs/kcsan.config" into $PR_BUILD/x86_64-kcsan)
# on two CPUs and run every KUnit case, races included, the userspace
# stress tests and the fuzzer. A data race report that involves the
# driver or its tests fails the run; races between other parts of the
# kernel are listed and left alone.
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir=$PR_BUILD/kcsan-tests
rm -rf "$dir"
mkdir -p "$dir/bin"
cp "$PR_ROOT/tests/kcsan/stress.sh" "$PR_BUILD/user/bpr_fuzz" "$dir/"
cp "$PR_BUILD/user/bpr_test" "$dir/bin/"

# A stack frame in the driver or its tests, "func+0x1/0x2 [binder_page_range]"
# (not the "Workqueue: ... [binder_page_range]" line: a race in the
# workqueue code itself may run our work item).
export LOG_SCAN_KCSAN_SCOPE='\+0x[0-9a-f]+/0x[0-9a-f]+ \[binder_page_range'
PR_VM_KBUILD=$PR_BUILD/x86_64-kcsan PR_VM_SUITE=kunit-kcsan \
PR_VM_USER_SUITE=user-kcsan PR_VM_TESTS=$dir \
	exec "$PR_ROOT/scripts/vm-run.sh"
