#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the userspace tests with their kselftest Makefile (tests/user,
# static, the kernel's kselftest harness) into $BPR_BUILD/user for the VM's
# /tests, and the demo (demo/*.c) into $BPR_BUILD/demo.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$BPR_ROOT/scripts/kernel-src.sh"
# No binary of a test that no longer exists.
rm -rf "$BPR_BUILD/user" "$BPR_BUILD/demo"
mkdir -p "$BPR_BUILD/user" "$BPR_BUILD/demo"
make -s -C "$BPR_ROOT/tests/user" KSFT="$BPR_KSRC/tools/testing/selftests" \
	OUTPUT="$BPR_BUILD/user"
for src in "$BPR_ROOT"/demo/*.c; do
	gcc -static -O2 -g -Wall -Werror -I"$BPR_ROOT" -I"$BPR_ROOT/include/uapi" \
		-o "$BPR_BUILD/demo/$(basename "$src" .c)" "$src" -lpthread
done
