#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test scripts' own decisions that a run cannot show: which boots
# panic on what (pr_panic_args() in scripts/common.sh) and which kernel
# reports fail a run (scripts/log-scan.sh). scripts/static-checks.sh runs
# each case as one test.
#
# usage: scripts_test.sh list | CASE
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/../../scripts/common.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A KCSAN report as the KCSAN kernel prints it; $1 is one frame of it.
kcsan_report() {
	cat <<END
[   16.121017] ==================================================================
[   16.126782] BUG: KCSAN: data-race in smp_call_function_many_cond+0x14e/0xa50
[   16.127869]
[   16.128265] race at unknown origin, with read to 0xffff94be4181bd00 of 8 bytes by task 67 on cpu 1:
[   16.128780]  smp_call_function_many_cond+0x14e/0xa50
[   16.129413]  on_each_cpu_cond_mask+0x1c/0x30
[   16.129683]  $1
[   16.130267]  wp_page_copy+0x78d/0xaf0
[   16.133017] value changed: 0x0000000000000003 -> 0x0000000000000002
[   16.135966] ==================================================================
[   16.200000] PR-VM-END failures=0
END
}

# scan EXPECTED LOG: log-scan.sh with the KCSAN run's scope exits EXPECTED.
scan() {
	local rc=0

	LOG_SCAN_KCSAN_SCOPE=$PR_KCSAN_SCOPE "$PR_ROOT/scripts/log-scan.sh" \
		"$2" > "$tmp/out" 2>&1 || rc=$?
	if [ "$rc" -ne "$1" ]; then
		cat "$tmp/out"
		echo "log-scan.sh exited $rc, expected $1"
		return 1
	fi
}

# A race between two other parts of the kernel must not end a KCSAN
# boot: KCSAN reports through panic_on_warn.
case_kcsan_boot_survives_races() {
	local args

	args=$(pr_panic_args "$PR_ROOT/configs/kcsan.config")
	[[ " $args " != *" panic_on_warn=1 "* ]] ||
		{ echo "KCSAN boot args: $args"; return 1; }
	[[ " $args " == *" oops=panic "* ]] ||
		{ echo "KCSAN boot args: $args"; return 1; }
}

# Every other test kernel panics on a warning, and the KASAN ones on a
# KASAN report.
case_kasan_boot_panics() {
	local args

	args=$(pr_panic_args "$PR_ROOT/configs/x86_64.config")
	[[ " $args " == *" panic_on_warn=1 "* && " $args " == *" kasan.fault=panic "* ]] ||
		{ echo "KASAN boot args: $args"; return 1; }
}

case_scan_ignores_kcsan_outside_scope() {
	kcsan_report 'flush_tlb_mm_range+0x121/0x1c0' > "$tmp/log"
	scan 0 "$tmp/log"
}

case_scan_fails_on_kcsan_in_driver() {
	kcsan_report 'bpa_alloc_new_buf+0x1f/0x3c0' > "$tmp/log"
	scan 1 "$tmp/log"
}

# Where a warning does not panic (the KCSAN kernel), the scan fails the run.
case_scan_fails_on_warning() {
	cat > "$tmp/log" <<END
[    5.000000] ------------[ cut here ]------------
[    5.000001] WARNING: CPU: 1 PID: 67 at drivers/android/page_range/page_range.c:420 page_range_use+0x10/0x20
[    5.100000] PR-VM-END failures=0
END
	scan 1 "$tmp/log"
}

# kmemleak's own count covers the whole kernel; /init keeps, and copies
# to the log, the reports through the driver, which alone fail the run.
case_scan_ignores_leaks_outside_driver() {
	cat > "$tmp/log" <<END
[  116.988389] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
[  117.101681]   kmemleak after rmmod: 2 suspect(s), 0 through the driver
[  117.115243] PR-VM-END failures=0
END
	scan 0 "$tmp/log"
}

case_scan_fails_on_leak_through_driver() {
	cat > "$tmp/log" <<END
[  116.988389] kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
[  117.000001]   unreferenced object 0xffff888004a1c000 (size 64):
[  117.000002]     backtrace (crc 0):
[  117.000003]       bpa_alloc_new_buf+0x1f/0x3c0 [binder_page_range]
[  117.101681]   kmemleak after rmmod: 1 suspect(s), 1 through the driver
[  117.115243] PR-VM-END failures=0
END
	scan 1 "$tmp/log"
}

case_scan_passes_clean_log() {
	printf '[    1.000000] PR-VM: init started\n[    2.000000] PR-VM-END failures=0\n' > "$tmp/log"
	scan 0 "$tmp/log"
}

[ $# -eq 1 ] || { echo "usage: $0 list | CASE" >&2; exit 2; }
if [ "$1" = list ]; then
	declare -F | sed -n 's/^declare -f case_//p'
	exit 0
fi
"case_$1"
