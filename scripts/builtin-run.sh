#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An x86_64 kernel with the driver built in: kunit.py configures and
# builds it in $PR_BUILD/x86_64-NAME from tests/.kunitconfig,
# configs/vm.config, configs/debug.config and FRAGMENT, and runs the KUnit
# suites on two CPUs (suite kunit-NAME); then the same kernel boots the
# busybox VM of scripts/vm-run.sh, with kunit.enable=0 so that the suites
# do not run again, for the userspace tests in TESTDIR (suite USER_SUITE).
#
# usage: builtin-run.sh NAME FRAGMENT TESTDIR USER_SUITE
set -uo pipefail
. "$(dirname "$0")/common.sh"

name=$1 fragment=$2 tests=$3 user_suite=$4
status=0

args=(--arch=x86_64 --qemu_args="-smp 2")
for f in "$PR_ROOT/configs/vm.config" "$PR_ROOT/configs/debug.config" "$fragment"; do
	args+=(--kunitconfig="$f")
done
for a in "${PR_X86_CC[@]}"; do
	args+=(--make_options="$a")
done
for a in $(pr_panic_args "$fragment"); do
	args+=(--kernel_args="$a")
done
PR_KUNIT_BUILD=$PR_BUILD/x86_64-$name \
	"$PR_ROOT/scripts/kunit-run.sh" "kunit-$name" "${args[@]}" || status=1

PR_VM_KBUILD=$PR_BUILD/x86_64-$name PR_VM_SUITE=$name-vm \
PR_VM_USER_SUITE=$user_suite PR_VM_TESTS=$tests PR_VM_MODULES= \
PR_VM_KUNIT_MODULE= PR_VM_APPEND=kunit.enable=0 \
	"$PR_ROOT/scripts/vm-run.sh" || status=1
exit $status
