# SPDX-License-Identifier: GPL-2.0
#
# Shared settings for the build and test scripts. Sourced, not executed.
#
# Every build tree lives under $PR_BUILD (default: build/ in the project,
# ignored by git), so reruns are incremental and "rm -rf build" starts over.

PR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PR_BUILD=${PR_BUILD:-$PR_ROOT/build}
PR_KVER=6.12
PR_KSRC=${PR_KSRC:-$PR_BUILD/linux-source-$PR_KVER}
PR_TARBALL=/usr/src/linux-source-$PR_KVER.tar.xz
PR_SUBDIR=${PR_SUBDIR:-drivers/android/page_range}
PR_RESULTS=${PR_RESULTS:-$PR_BUILD/results}
PR_JOBS=${PR_JOBS:-$(nproc)}

pr_log() {
	printf '==> %s\n' "$*" >&2
}

pr_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# pr_result SUITE PASSED FAILED: record one suite's totals for check.sh.
pr_result() {
	mkdir -p "$PR_RESULTS"
	printf '%s %d %d\n' "$1" "$2" "$3" > "$PR_RESULTS/$1"
	printf '%s: %d passed, %d failed\n' "$1" "$2" "$3" >&2
}

# Seconds since the epoch, for the timings the scripts print.
pr_now() {
	date +%s
}
