#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the driver into a UML kernel (=y) with lockdep and KASAN and run its
# KUnit suite with kunit.py. The kernel log must be free of reports too.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$PR_ROOT/scripts/kernel-src.sh"

out=$PR_BUILD/kunit-uml
log=$PR_BUILD/logs/kunit-uml.log
mkdir -p "$out" "$PR_BUILD/logs"
start=$(pr_now)

# One kernel build at a time, and the driver's files in the tree must not
# change under another build: refresh them under the lock too.
set +e
(
	exec 9>"$PR_BUILD/.build.lock"
	flock 9
	"$PR_ROOT/scripts/place-in-tree.sh" &&
	cd "$PR_KSRC" &&
	python3 tools/testing/kunit/kunit.py run \
		--kunitconfig="$PR_SUBDIR/tests/.kunitconfig" \
		--build_dir="$out" --jobs="$PR_JOBS" --timeout=900 \
		--make_options="${PR_UML_CC[0]}" \
		${PR_KUNIT_ARGS:-}
) > "$log.summary" 2>&1
rc=$?
set -e
cat "$log.summary"
cp "$out/test.log" "$log" 2>/dev/null || : > "$log"
pr_log "kunit-uml: $(($(pr_now) - start)) s"

# kunit.py prints "Testing complete. Ran N tests: passed: P, failed: F, ..."
line=$(grep -a 'Testing complete' "$log.summary" | tail -1 || true)
passed=$(sed -n 's/.*passed: \([0-9]*\).*/\1/p' <<< "$line")
failed=$(sed -n 's/.*failed: \([0-9]*\).*/\1/p' <<< "$line")
passed=${passed:-0}
failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
if ! "$PR_ROOT/scripts/log-scan.sh" "$log"; then
	pr_log "kunit-uml: the kernel log has reports (see $log)"
	failed=$((failed + 1))
fi
pr_result kunit-uml "$passed" "$failed"
[ "$failed" -eq 0 ]
