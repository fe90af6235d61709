#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak DURATION=seconds: the fuzzer and the memory-pressure test in a
# loop in the x86_64 VM for DURATION seconds (default 600), then the usual
# checks (kernel log, kmemleak, rmmod). Not part of make check.
set -euo pipefail
. "$(dirname "$0")/common.sh"

duration=${DURATION:-600}
[[ $duration =~ ^[0-9]+$ ]] || pr_die "DURATION must be a number of seconds"
dir=$PR_BUILD/soak-tests
rm -rf "$dir"
mkdir -p "$dir/bin"
cp "$PR_ROOT/tests/soak/soak.sh" "$dir/"
cp "$PR_BUILD/user/bpr_fuzz" "$PR_BUILD/user/bpr_test" "$dir/bin/"

PR_VM_SUITE=soak PR_VM_USER_SUITE=soak PR_VM_TESTS=$dir PR_VM_KUNIT_MODULE= \
PR_VM_APPEND="SOAK_SECONDS=$duration" PR_VM_TIMEOUT=$((duration + 900)) \
PR_RESULTS=$PR_BUILD/soak-results PR_VM_LIVE=1 \
	exec "$PR_ROOT/scripts/vm-run.sh"
