#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Upstream binder with binder_alloc.c on the page range
# (kernel-patches/binder_alloc-use-the-page-range.patch, in the tree of
# scripts/binder-tree.sh): the x86_64 kernel of configs/binder.config
# (KASAN, upstream's binder_alloc_selftest, the driver built in;
# scripts/builtin-run.sh) runs the KUnit suites (kunit-binder), then binder
# traffic from tests/binder (suite binder). The first mmap of a binder
# device runs binder_alloc_selftest, whose verdict is suite
# binder-selftest.
set -uo pipefail
. "$(dirname "$0")/common.sh"

flock "$BPR_BUILD/.build.lock" "$BPR_ROOT/scripts/binder-tree.sh" || exit 1
export BPR_KSRC=$BPR_BINDER_KSRC

dir=$BPR_BUILD/binder-tests
rm -rf "$dir"
mkdir -p "$dir"
make -s -C "$BPR_ROOT/tests/binder" KSFT="$BPR_KSRC/tools/testing/selftests" \
	OUTPUT="$dir" || exit 1
# The selftest allocates and frees buffers of every alignment in every
# order, and prints nothing until it is done: about 16 minutes under TCG
# with KASAN and lockdep, which the VM's time limits must allow. Its
# recursion gives each of those frees a call stack of its own, more than
# KASAN's stack depot holds (which warns, and a warning panics): that boot
# runs without the depot. KASAN still reports every bad access, without
# the stacks of the object's allocation and free.
BPR_BUILTIN_APPEND=stack_depot_disable=1 \
BPR_VM_TIMEOUT=${BPR_VM_TIMEOUT:-2700} BPR_VM_IDLE=${BPR_VM_IDLE:-1800} \
	"$BPR_ROOT/scripts/builtin-run.sh" binder "$BPR_ROOT/configs/binder.config" \
	"$dir" binder
status=$?

# binder_alloc_selftest prints STARTED, then PASSED or "N tests FAILED",
# prefixed with binder's module name.
log=$BPR_BUILD/logs/binder-vm.log
if grep -aqE '\] binder[a-z_]*: STARTED$' "$log" 2> /dev/null &&
   grep -aqE '\] binder[a-z_]*: PASSED$' "$log"; then
	result binder-selftest 1 0
else
	log "binder-selftest: no PASSED line in $log"
	grep -aE '\] binder[a-z_]*: (STARTED|.*FAILED)' "$log" 2> /dev/null >&2
	result binder-selftest 0 1
	status=1
fi
result_about binder-selftest "$BPR_BUILD/x86_64-binder/.config"
mkdir -p "$BPR_RESULTS/cases"
echo "selftest binder_alloc_selftest" > "$BPR_RESULTS/cases/binder-selftest"
exit $status
