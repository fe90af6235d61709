# SPDX-License-Identifier: GPL-2.0
#
# Shared settings for the build and test scripts. Sourced, not executed.
# Their variables are named BPR_* (binder page range), so that settings
# given in the environment are told apart from everything else there.
#
# Every build tree lives under $BPR_BUILD (default: build/ in the project,
# ignored by git), so reruns are incremental and "rm -rf build" starts over.

BPR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BPR_BUILD=${BPR_BUILD:-$BPR_ROOT/build}
BPR_KVER=6.12
BPR_KSRC=${BPR_KSRC:-$BPR_BUILD/linux-source-$BPR_KVER}
BPR_TARBALL=/usr/src/linux-source-$BPR_KVER.tar.xz
# The tree whose binder_alloc.c runs on the page range (scripts/binder-tree.sh).
BPR_BINDER_KSRC=${BPR_BINDER_KSRC:-$BPR_BUILD/linux-binder-$BPR_KVER}
BPR_BINDER_PATCH=$BPR_ROOT/kernel-patches/binder_alloc-use-the-page-range.patch
BPR_SUBDIR=${BPR_SUBDIR:-drivers/android/page_range}
BPR_RESULTS=${BPR_RESULTS:-$BPR_BUILD/results}
BPR_JOBS=${BPR_JOBS:-$(nproc)}

# Every kernel build goes through ccache, whose cache lives outside the
# clone (~/.cache/ccache), so that a fresh clone, as CI makes, compiles
# little. For the same source to give the same hash in any clone, paths
# are made relative to the project (the kernel tree is under $BPR_BUILD),
# the working directory is left out of the hash (no debug info is built)
# and the build stamp is fixed. BPR_CCACHE= turns it off. This file is
# sourced under "set -e" before scripts/deps.sh has installed anything, so
# no probe here may fail: a failing command substitution in an assignment
# would end the script that sources it.
if [ -z "${BPR_CCACHE+set}" ]; then
	BPR_CCACHE=
	if command -v ccache > /dev/null; then
		BPR_CCACHE='ccache '
	fi
fi
export CCACHE_BASEDIR=$BPR_ROOT CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=include_file_mtime,include_file_ctime,time_macros
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2025'
export KBUILD_BUILD_USER=pr KBUILD_BUILD_HOST=pr KBUILD_BUILD_VERSION=1
# make arguments of the clang x86_64 trees and of the gcc UML tree: the
# same compiler string for every build of one tree, or kbuild rebuilds it.
BPR_X86_CC=(LLVM=1 "CC=${BPR_CCACHE}clang" "HOSTCC=${BPR_CCACHE}clang")
BPR_UML_CC=("CC=${BPR_CCACHE}gcc")
# The benchmark kernel is built with gcc, as distributions build theirs.
BPR_X86_GCC=("CC=${BPR_CCACHE}gcc" "HOSTCC=${BPR_CCACHE}gcc")

log() {
	printf '==> %s\n' "$*" >&2
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# result SUITE PASSED FAILED: record one suite's totals for check.sh.
result() {
	mkdir -p "$BPR_RESULTS"
	printf '%s %d %d\n' "$1" "$2" "$3" > "$BPR_RESULTS/$1"
	printf '%s: %d passed, %d failed\n' "$1" "$2" "$3" >&2
}

# kernel_desc CONFIG: a kernel in a few words, from its .config: the
# architecture, the version (a distribution's release, from the name of
# its /boot/config-RELEASE), the compiler, the debugging options the tests
# rely on, and how the driver is in it.
kernel_desc() {
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
		 DEBUG_KMEMLEAK:kmemleak FAULT_INJECTION:failslab; do
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
	# A build tree's "source" link names the tree it was built from.
	if [ "$(readlink -f "$(dirname "$c")/source" 2> /dev/null)" = \
	     "$(readlink -f "$BPR_BINDER_KSRC")" ]; then
		d+=", binder_alloc.c on the page range"
	fi
	printf '%s\n' "$d"
}

# result_about SUITE CONFIG [ktap|tap LOG]: what the closing table of
# check.sh says of SUITE beside its totals: the kernel it ran on (CONFIG,
# its .config; none for no kernel) and the cases LOG shows results for
# (scripts/cases.py).
result_about() {
	mkdir -p "$BPR_RESULTS/kernel" "$BPR_RESULTS/cases"
	kernel_desc "$2" > "$BPR_RESULTS/kernel/$1"
	if [ $# -ge 4 ]; then
		if python3 "$BPR_ROOT/scripts/cases.py" "$3" "$4" > "$BPR_RESULTS/cases/$1.tmp"; then
			mv "$BPR_RESULTS/cases/$1.tmp" "$BPR_RESULTS/cases/$1"
		else
			rm -f "$BPR_RESULTS/cases/$1.tmp"
			log "$1: could not list the cases of $4"
		fi
	fi
}

# kunit_count NAME SUMMARY: the NAME count of kunit.py's "Testing
# complete. Ran 5 tests: passed: 3, failed: 1, skipped: 1" line, which
# leaves out the counts that are zero.
kunit_count() {
	sed -nE "s/.*[ ,]$1: ([0-9]+).*/\\1/p" <<< "$2" | grep . || echo 0
}

# Seconds since the epoch, for the timings the scripts print.
now() {
	date +%s
}

# Kernel arguments of every test boot: a warning, an oops, a hung task, a
# soft lockup or an RCU stall panics the kernel, and a panic ends the VM at
# once. The test runs then see a crash; scripts/log-scan.sh is left with
# the reports that do not panic (lockdep, KCSAN, "BUG: sleeping function
# called ...", kmemleak). Boots add them through panic_args().
BPR_PANIC_ARGS="panic=-1 panic_on_warn=1 oops=panic hung_task_panic=1 softlockup_panic=1 sysctl.kernel.panic_on_rcu_stall=1"

# The KCSAN reports that fail a run: those with a stack frame in the driver
# or its tests ("bpa_alloc_new_buf+0x1f/0x3c0"; scripts/log-scan.sh).
BPR_KCSAN_SCOPE='[ 	](page_range|bpa|bpr|prt|at)_[A-Za-z0-9_]+\+0x'

# panic_args CONFIG: the arguments above for a boot of the kernel that
# CONFIG (a .config or a fragment) configures. With KASAN, a KASAN report
# panics too. With KCSAN, a warning does not: KCSAN reports every data race
# through panic_on_warn, those between two other parts of the kernel
# included (the TLB flush IPI's races are common), and those must not end
# the run; scripts/log-scan.sh fails it on a warning there instead.
panic_args() {
	local args=$BPR_PANIC_ARGS

	if grep -qx 'CONFIG_KCSAN=y' "$1"; then
		args=${args/ panic_on_warn=1/}
	fi
	if grep -qx 'CONFIG_KASAN=y' "$1"; then
		args+=" kasan.fault=panic"
	fi
	printf '%s\n' "$args"
}
