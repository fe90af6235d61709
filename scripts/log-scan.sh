#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a kernel log (kunit.py's UML log, the x86_64 VM console log) for
# reports from the kernel's checkers: lockdep, KASAN, UBSAN, KFENCE, DEBUG_LIST,
# DEBUG_VM, the hung-task and soft-lockup detectors, kmemleak, WARN/BUG,
# oopses and panics. A test run can pass every KUnit case and still have hit
# one of these, so callers treat any hit as a failure.
#
# Prints every offending line (marked ">") with some context and exits 1;
# exits 0 when the log is clean, 2 on usage errors.
#
# Lines matching LOG_SCAN_ALLOW (an extended regex) are ignored. The default
# only allows the UML warning that 6.12 prints at every boot when kunit.py
# enables CONFIG_UML_PCI_OVER_VIRTIO (virt-pci.c, um_pci_init): it says
# nothing about this project. Set LOG_SCAN_ALLOW= (empty) to allow nothing.
#
# KCSAN reports (a block from "BUG: KCSAN:" to its closing "====" line) are
# hits like any other, unless LOG_SCAN_KCSAN_SCOPE (an extended regex, e.g.
# a module's name) is set: then a report none of whose lines matches it, a
# race between two other parts of the kernel, is listed but ignored.
#
# usage: log-scan.sh LOGFILE
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 LOGFILE" >&2; exit 2; }
log=$1
[ -f "$log" ] || { echo "log-scan: $log: no such file" >&2; exit 2; }

allow=${LOG_SCAN_ALLOW-'WARNING: CPU: [0-9]+ PID: [0-9]+ at arch/um/drivers/virt-pci\.c:[0-9]+ um_pci_init'}
context_before=${LOG_SCAN_BEFORE:-3}
context_after=${LOG_SCAN_AFTER:-12}
max_reports=${LOG_SCAN_MAX:-20}

# Not preceded by a letter, digit or "_": mawk has no \b.
b='(^|[^A-Za-z0-9_])'
patterns=(
	# Generic headers (not "cut here": it comes before the WARNING line
	# and so could not be told apart for an allowed warning): WARN*(),
	# BUG*(), lockdep ("WARNING: possible
	# circular locking dependency detected", "WARNING: inconsistent lock
	# state", "WARNING: suspicious RCU usage", "BUG: held lock freed!"),
	# KASAN/KFENCE ("BUG: KASAN: slab-use-after-free in ..."), "BUG:
	# sleeping function called from invalid context", "BUG: soft lockup",
	# "BUG: Bad page state", "BUG: scheduling while atomic", ...
	"${b}WARNING: "
	"${b}BUG: "
	"${b}kernel BUG at "
	# Lockdep lines that do not start with WARNING:/BUG:.
	'DEBUG_LOCKS_WARN_ON'
	'possible (circular|recursive) locking'
	'inconsistent lock state'
	'possible irq lock inversion'
	'bad unlock balance'
	'suspicious RCU usage'
	'lock held when returning to user space'
	'held lock freed'
	'trying to register non-static key'
	'turning off the locking correctness validator'
	'detected stalls? on CPU'
	# Sanitizers and DEBUG_LIST / DEBUG_VM.
	"${b}UBSAN: "
	'list_(add|del) corruption'
	'list_add double add'
	'page dumped because'
	# Crashes.
	"${b}Oops: "
	"${b}Oops.*\\[#[0-9]+\\]"
	'general protection fault'
	'Unable to handle kernel'
	'Kernel panic'
	'sleeping function called from invalid context'
	# Hang and leak detectors.
	'blocked for more than [0-9]+ seconds'
	'unreferenced object 0x'
	'suspected memory leak'
)
pattern=$(IFS='|'; printf '%s' "${patterns[*]}")

# Regexes go through the environment: awk -v would eat their backslashes.
LS_PAT=$pattern LS_ALLOW=$allow LS_KCSAN=${LOG_SCAN_KCSAN_SCOPE:-} \
awk -v before="$context_before" -v after="$context_after" \
    -v max="$max_reports" -v name="$log" '
BEGIN {
	pat = ENVIRON["LS_PAT"]
	allow = ENVIRON["LS_ALLOW"]
	kscope = ENVIRON["LS_KCSAN"]
}
{
	sub(/\r+$/, "")
	line[NR] = $0
	if (kscope != "" && $0 ~ /BUG: KCSAN: /) {
		kstart = NR
		kin = 0
	}
	if (kstart && $0 ~ kscope)
		kin = 1
	if (kstart && NR > kstart && $0 ~ /^(\[ *[0-9]+\.[0-9]+\] )?=+$/) {
		if (!kin)
			kout[kstart] = 1
		kstart = 0
	}
	if ($0 ~ pat) {
		if (allow != "" && $0 ~ allow)
			allowed[++nallowed] = NR
		else
			hit[++nhits] = NR
	}
}
END {
	# A KCSAN report still open at the end of the log is kept.
	n = 0
	for (i = 1; i <= nhits; i++) {
		if (hit[i] in kout)
			printf("log-scan: ignoring KCSAN report outside the scope at line %d: %s\n", hit[i], line[hit[i]]) > "/dev/stderr"
		else
			hit[++n] = hit[i]
	}
	nhits = n
	for (i = 1; i <= nallowed; i++)
		printf("log-scan: ignoring allowed line %d: %s\n", allowed[i], line[allowed[i]]) > "/dev/stderr"
	if (nhits == 0)
		exit 0
	printf("log-scan: %s: %d kernel report line(s):\n", name, nhits)
	last = 0
	shown = 0
	for (i = 1; i <= nhits && shown < max; i++) {
		n = hit[i]
		if (n <= last)
			continue
		from = n - before
		if (from <= last + 1)
			from = last + 1
		else if (last > 0)
			print "--"
		if (from < 1)
			from = 1
		to = n + after
		# Stretch the window over hits that follow closely.
		for (j = i + 1; j <= nhits && hit[j] <= to; j++)
			to = hit[j] + after
		if (to > NR)
			to = NR
		for (k = from; k <= to; k++) {
			mark = " "
			for (j = i; j <= nhits && hit[j] <= k; j++)
				if (hit[j] == k)
					mark = ">"
			printf("%s%6d: %s\n", mark, k, line[k])
		}
		last = to
		shown++
	}
	if (shown >= max && last < hit[nhits])
		printf("log-scan: ... more reports after line %d, see %s\n", last, name)
	exit 1
}' "$log"
