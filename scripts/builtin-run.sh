#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An x86_64 kernel with the driver built in: kunit.py configures and
# builds it in $BPR_BUILD/x86_64-NAME from tests/.kunitconfig,
# configs/vm.config, configs/debug.config and FRAGMENT, and runs the KUnit
# suites on two CPUs (suite kunit-NAME); then the same kernel boots the
# busybox VM of scripts/vm-run.sh, with kunit.enable=0 so that the suites
# do not run again, for the userspace tests in TESTDIR (suite USER_SUITE).
# BPR_BUILTIN_APPEND adds to that boot's command line.
#
# usage: builtin-run.sh NAME FRAGMENT TESTDIR USER_SUITE
set -uo pipefail
. "$(dirname "$0")/common.sh"

name=$1 fragment=$2 tests=$3 user_suite=$4
status=0

args=(--arch=x86_64 --qemu_args="-smp 2")
for f in "$BPR_ROOT/configs/vm.config" "$BPR_ROOT/configs/debug.config" "$fragment"; do
	args+=(--kunitconfig="$f")
done
for a in "${BPR_X86_CC[@]}"; do
	args+=(--make_options="$a")
done
for a in $(panic_args "$fragment"); do
	args+=(--kernel_args="$a")
done
BPR_KUNIT_BUILD=$BPR_BUILD/x86_64-$name \
	"$BPR_ROOT/scripts/kunit-run.sh" "kunit-$name" "${args[@]}" || status=1

BPR_VM_KBUILD=$BPR_BUILD/x86_64-$name BPR_VM_SUITE=$name-vm \
BPR_VM_USER_SUITE=$user_suite BPR_VM_TESTS=$tests BPR_VM_MODULES= \
BPR_VM_KUNIT_MODULE= BPR_VM_APPEND="kunit.enable=0 ${BPR_BUILTIN_APPEND:-}" \
	"$BPR_ROOT/scripts/vm-run.sh" || status=1
exit $status
