#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the KUnit suites with the kernel's own tools/testing/kunit/kunit.py,
# which configures and builds the kernel in $BPR_BUILD/SUITE (the driver and
# its tests built in, from tests/.kunitconfig plus the KUNIT.PY_ARGS),
# boots it and parses the KTAP. Records the suite's totals with result;
# a kernel report in the log (scripts/log-scan.sh) counts as one failure.
#
# BPR_KUNIT_BUILD names the build tree ($BPR_BUILD/SUITE), BPR_KUNIT_TIMEOUT
# kunit.py's time limit in seconds (900).
#
# usage: kunit-run.sh SUITE [KUNIT.PY_ARGS...]
set -euo pipefail
. "$(dirname "$0")/common.sh"

suite=$1
shift
out=${BPR_KUNIT_BUILD:-$BPR_BUILD/$suite}
log=$BPR_BUILD/logs/$suite.log
mkdir -p "$out" "$BPR_BUILD/logs"
"$BPR_ROOT/scripts/kernel-src.sh"
start=$(now)

# One kernel build at a time, and the driver's files in the tree must not
# change under another build: refresh them under the lock too.
set +e
(
	exec 9>"$BPR_BUILD/.build.lock"
	flock 9
	"$BPR_ROOT/scripts/place-in-tree.sh" &&
	cd "$BPR_KSRC" &&
	python3 tools/testing/kunit/kunit.py run \
		--kunitconfig="$BPR_SUBDIR/tests" --build_dir="$out" \
		--jobs="$BPR_JOBS" --timeout="${BPR_KUNIT_TIMEOUT:-900}" "$@"
) > "$log.summary" 2>&1
rc=$?
set -e
cat "$log.summary"
cp "$out/test.log" "$log" 2>/dev/null || : > "$log"
log "$suite: $(($(now) - start)) s"

line=$(grep -a 'Testing complete' "$log.summary" | tail -1 || true)
passed=$(kunit_count passed "$line")
failed=$(($(kunit_count failed "$line") + $(kunit_count crashed "$line")))
# kunit.py exits non-zero on build errors and empty runs too.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] || [ "$passed" -eq 0 ]; then
	failed=$((failed + 1))
fi
if ! "$BPR_ROOT/scripts/log-scan.sh" "$log"; then
	log "$suite: the kernel log has reports (see $log)"
	failed=$((failed + 1))
fi
result "$suite" "$passed" "$failed"
result_about "$suite" "$out/.config" ktap "$log"
[ "$failed" -eq 0 ]
