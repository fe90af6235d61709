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

export LOG_SCAN_KCSAN_SCOPE='\[binder_page_range'
PR_VM_KBUILD=$PR_BUILD/x86_64-kcsan PR_VM_SUITE=kunit-kcsan \
PR_VM_USER_SUITE=user-kcsan PR_VM_TESTS=$dir \
	exec "$PR_ROOT/scripts/vm-run.sh"
