#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Upstream binder on this driver's allocator: the x86_64 kernel of
# configs/binder.config (KASAN, binder.c over binder_alloc_page_range.c,
# the driver built in; scripts/builtin-run.sh) runs the KUnit suites
# (kunit-binder), then binder traffic from tests/binder (suite binder).
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir=$BPR_BUILD/binder-tests
rm -rf "$dir"
mkdir -p "$dir"
make -s -C "$BPR_ROOT/tests/binder" KSFT="$BPR_KSRC/tools/testing/selftests" \
	OUTPUT="$dir"
exec "$BPR_ROOT/scripts/builtin-run.sh" binder "$BPR_ROOT/configs/binder.config" \
	"$dir" binder
