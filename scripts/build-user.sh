#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the userspace tests (tests/user/*.c) statically, with the kernel's
# kselftest harness, into $PR_BUILD/user for the VM's /tests, and the demo
# (demo/*.c) into $PR_BUILD/demo.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$PR_ROOT/scripts/kernel-src.sh"
for dir in tests/user:user demo:demo; do
	out=$PR_BUILD/${dir#*:}
	# No binary of a test that no longer exists.
	rm -rf "$out"
	mkdir -p "$out"
	for src in "$PR_ROOT/${dir%:*}"/*.c; do
		gcc -static -O2 -g -Wall -Werror \
			-I"$PR_KSRC/tools/testing/selftests" -I"$PR_ROOT" \
			-o "$out/$(basename "$src" .c)" "$src" -lpthread
	done
done
