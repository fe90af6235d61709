#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak DURATION=seconds: the fuzzer and the memory-pressure test in a
# loop in the x86_64 VM for DURATION seconds (default 600), then the usual
# checks (kernel log, kmemleak, rmmod). Not part of make check.
set -euo pipefail
. "$(dirname "$0")/common.sh"

duration=${DURATION:-600}
[[ $duration =~ ^[0-9]+$ ]] || die "DURATION must be a number of seconds"
dir=$BPR_BUILD/soak-tests
rm -rf "$dir"
mkdir -p "$dir/bin"
cp "$BPR_ROOT/tests/soak/soak.sh" "$dir/"
cp "$BPR_BUILD/user/bpr_fuzz" "$BPR_BUILD/user/bpr_test" "$dir/bin/"

BPR_VM_SUITE=soak BPR_VM_USER_SUITE=soak BPR_VM_TESTS=$dir BPR_VM_KUNIT_MODULE= \
BPR_VM_APPEND="SOAK_SECONDS=$duration" BPR_VM_TIMEOUT=$((duration + 900)) \
BPR_RESULTS=$BPR_BUILD/soak-results BPR_VM_LIVE=1 \
	exec "$BPR_ROOT/scripts/vm-run.sh"
