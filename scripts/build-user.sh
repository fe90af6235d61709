#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the userspace tests (tests/user/*.c) statically, with the kernel's
# kselftest harness, into $PR_BUILD/user for the VM's /tests.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$PR_ROOT/scripts/kernel-src.sh"
out=$PR_BUILD/user
mkdir -p "$out"
for src in "$PR_ROOT"/tests/user/*.c; do
	bin=$out/$(basename "$src" .c)
	gcc -static -O2 -g -Wall -Werror \
		-I"$PR_KSRC/tools/testing/selftests" -I"$PR_ROOT" \
		-o "$bin" "$src" -lpthread
done
