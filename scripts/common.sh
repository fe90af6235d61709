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

# Every kernel build goes through ccache, whose cache lives outside the
# clone (~/.cache/ccache), so that a fresh clone, as CI makes, compiles
# little. For the same source to give the same hash in any clone, paths
# are made relative to the project (the kernel tree is under $PR_BUILD),
# the working directory is left out of the hash (no debug info is built)
# and the build stamp is fixed. PR_CCACHE= turns it off. This file is
# sourced under "set -e" before scripts/deps.sh has installed anything, so
# no probe here may fail: a failing command substitution in an assignment
# would end the script that sources it.
if [ -z "${PR_CCACHE+set}" ]; then
	PR_CCACHE=
	if command -v ccache > /dev/null; then
		PR_CCACHE='ccache '
	fi
fi
export CCACHE_BASEDIR=$PR_ROOT CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=include_file_mtime,include_file_ctime,time_macros
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2025'
export KBUILD_BUILD_USER=pr KBUILD_BUILD_HOST=pr KBUILD_BUILD_VERSION=1
# make arguments of the clang x86_64 trees and of the gcc UML tree: the
# same compiler string for every build of one tree, or kbuild rebuilds it.
PR_X86_CC=(LLVM=1 "CC=${PR_CCACHE}clang" "HOSTCC=${PR_CCACHE}clang")
PR_UML_CC=("CC=${PR_CCACHE}gcc")
# The benchmark kernel is built with gcc, as distributions build theirs.
PR_X86_GCC=("CC=${PR_CCACHE}gcc" "HOSTCC=${PR_CCACHE}gcc")

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

# pr_kernel_desc CONFIG: a kernel in a few words, from its .config: the
# architecture, the version (a distribution's release, from the name of
# its /boot/config-RELEASE), the compiler, the debugging options the tests
# rely on, and how the driver is in it.
pr_kernel_desc() {
	local c=$1 d o

	if [ ! -f "$c" ]; then
		echo '-'
		return 0
	fi
	if grep -qx 'CONFIG_UML=y' "$c"; then d=UML; else d=x86_64; fi
	# A distribution's kernel: /boot/config-RELEASE.
	if [[ ${c##*/} == config-?* ]]; then
		d+=" ${c##*/config-}"
	else
		d+=" $(sed -nE 's/^# Linux\/[^ ]+ ([^ ]+) Kernel Configuration$/\1/p' "$c")"
	fi
	if grep -qx 'CONFIG_CC_IS_CLANG=y' "$c"; then d+=" clang"; else d+=" gcc"; fi
	for o in KASAN:KASAN KCSAN:KCSAN PROVE_LOCKING:lockdep \
		 DEBUG_KMEMLEAK:kmemleak FAULT_INJECTION:failslab \
		 ANDROID_BINDER_ALLOC_PAGE_RANGE:binder-on-adapter; do
		if grep -qx "CONFIG_${o%%:*}=y" "$c"; then
			d+=" ${o#*:}"
		fi
	done
	if grep -qx 'CONFIG_BINDER_PAGE_RANGE=y' "$c"; then
		d+=", driver built in"
	elif grep -qx 'CONFIG_BINDER_PAGE_RANGE=m' "$c"; then
		d+=", driver as a module"
	else
		d+=", driver built out of tree"
	fi
	printf '%s\n' "$d"
}

# pr_result_about SUITE CONFIG [ktap|tap LOG]: what the closing table of
# check.sh says of SUITE beside its totals: the kernel it ran on (CONFIG,
# its .config; none for no kernel) and the cases LOG shows results for
# (scripts/cases.py).
pr_result_about() {
	mkdir -p "$PR_RESULTS/kernel" "$PR_RESULTS/cases"
	pr_kernel_desc "$2" > "$PR_RESULTS/kernel/$1"
	if [ $# -ge 4 ]; then
		if python3 "$PR_ROOT/scripts/cases.py" "$3" "$4" > "$PR_RESULTS/cases/$1.tmp"; then
			mv "$PR_RESULTS/cases/$1.tmp" "$PR_RESULTS/cases/$1"
		else
			rm -f "$PR_RESULTS/cases/$1.tmp"
			pr_log "$1: could not list the cases of $4"
		fi
	fi
}

# pr_kunit_count NAME SUMMARY: the NAME count of kunit.py's "Testing
# complete. Ran 5 tests: passed: 3, failed: 1, skipped: 1" line, which
# leaves out the counts that are zero.
pr_kunit_count() {
	sed -nE "s/.*[ ,]$1: ([0-9]+).*/\\1/p" <<< "$2" | grep . || echo 0
}

# Seconds since the epoch, for the timings the scripts print.
pr_now() {
	date +%s
}

# Kernel arguments of every test boot: a warning, an oops, a hung task, a
# soft lockup or an RCU stall panics the kernel, and a panic ends the VM at
# once. The test runs then see a crash; scripts/log-scan.sh is left with
# the reports that do not panic (lockdep, KCSAN, "BUG: sleeping function
# called ...", kmemleak). Boots add them through pr_panic_args().
PR_PANIC_ARGS="panic=-1 panic_on_warn=1 oops=panic hung_task_panic=1 softlockup_panic=1 sysctl.kernel.panic_on_rcu_stall=1"

# The KCSAN reports that fail a run: those with a stack frame in the driver
# or its tests ("bpa_alloc_new_buf+0x1f/0x3c0"; scripts/log-scan.sh).
PR_KCSAN_SCOPE='[ 	](page_range|bpa|bpr|prt|at)_[A-Za-z0-9_]+\+0x'

# pr_panic_args CONFIG: the arguments above for a boot of the kernel that
# CONFIG (a .config or a fragment) configures. With KASAN, a KASAN report
# panics too. With KCSAN, a warning does not: KCSAN reports every data race
# through panic_on_warn, those between two other parts of the kernel
# included (the TLB flush IPI's races are common), and those must not end
# the run; scripts/log-scan.sh fails it on a warning there instead.
pr_panic_args() {
	local args=$PR_PANIC_ARGS

	if grep -qx 'CONFIG_KCSAN=y' "$1"; then
		args=${args/ panic_on_warn=1/}
	fi
	if grep -qx 'CONFIG_KASAN=y' "$1"; then
		args+=" kasan.fault=panic"
	fi
	printf '%s\n' "$args"
}
