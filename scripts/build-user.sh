#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the userspace tests with their kselftest Makefile (tests/user,
# static, the kernel's kselftest harness) into $PR_BUILD/user for the VM's
# /tests, and the demo (demo/*.c) into $PR_BUILD/demo.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$PR_ROOT/scripts/kernel-src.sh"
# No binary of a test that no longer exists.
rm -rf "$PR_BUILD/user" "$PR_BUILD/demo"
mkdir -p "$PR_BUILD/user" "$PR_BUILD/demo"
make -s -C "$PR_ROOT/tests/user" KSFT="$PR_KSRC/tools/testing/selftests" \
	OUTPUT="$PR_BUILD/user"
for src in "$PR_ROOT"/demo/*.c; do
	gcc -static -O2 -g -Wall -Werror -I"$PR_ROOT" \
		-o "$PR_BUILD/demo/$(basename "$src" .c)" "$src" -lpthread
done
