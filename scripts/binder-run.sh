#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Upstream binder on this driver's allocator: the x86_64 kernel of
# configs/binder.config (KASAN, binder.c over binder_alloc_page_range.c,
# the driver built in; scripts/builtin-run.sh) runs the KUnit suites
# (kunit-binder), then binder traffic from tests/binder (suite binder).
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir=$PR_BUILD/binder-tests
rm -rf "$dir"
mkdir -p "$dir"
make -s -C "$PR_ROOT/tests/binder" KSFT="$PR_KSRC/tools/testing/selftests" \
	OUTPUT="$dir"
exec "$PR_ROOT/scripts/builtin-run.sh" binder "$PR_ROOT/configs/binder.config" \
	"$dir" binder
