#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KCSAN: the KUnit suites (kunit-kcsan) and the userspace stress tests and
# the fuzzer (user-kcsan) on the x86_64 KCSAN kernel (configs/kcsan.config,
# the driver built in; scripts/builtin-run.sh). A data race report that
# involves the driver or its tests fails the run; races between other
# parts of the kernel are listed and left alone.
set -euo pipefail
. "$(dirname "$0")/common.sh"

export LOG_SCAN_KCSAN_SCOPE=$BPR_KCSAN_SCOPE

dir=$BPR_BUILD/kcsan-tests
rm -rf "$dir"
mkdir -p "$dir/bin"
cp "$BPR_ROOT/tests/kcsan/stress.sh" "$BPR_BUILD/user/bpr_fuzz" "$dir/"
cp "$BPR_BUILD/user/bpr_test" "$dir/bin/"
exec "$BPR_ROOT/scripts/builtin-run.sh" kcsan "$BPR_ROOT/configs/kcsan.config" \
	"$dir" user-kcsan
