#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a kernel log (kunit.py's log, the x86_64 VM console log) for the
# reports that do not panic the kernel. Every test boot has
# panic_args() (scripts/common.sh): a WARN(), an oops, a KASAN or UBSAN
# report, a list corruption, a hung task, a soft lockup or an RCU stall
# panics it, and the run sees a crash. Left for this scan: lockdep's and
# KCSAN's reports, the "BUG: ..." reports printed without an oops (sleeping
# in atomic context, bad page state), kmemleak's, the panic itself, and on
# the KCSAN kernel, which does not panic on a warning, the warning.
# A test run can pass every KUnit case and still have hit one of these, so
# callers treat any hit as a failure.
#
# Prints every offending line (marked ">") with some context and exits 1;
# exits 0 when the log is clean, 2 on usage errors.
#
# KCSAN reports (a block from "BUG: KCSAN:" to its closing "====" line) are
# hits like any other, unless LOG_SCAN_KCSAN_SCOPE (an extended regex, e.g.
# the driver's function names) is set: then a report none of whose lines
# matches it, a race between two other parts of the kernel, is listed but
# ignored.
#
# usage: log-scan.sh LOGFILE
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 LOGFILE" >&2; exit 2; }
log=$1
[ -f "$log" ] || { echo "log-scan: $log: no such file" >&2; exit 2; }

context_before=${LOG_SCAN_BEFORE:-3}
context_after=${LOG_SCAN_AFTER:-12}
max_reports=${LOG_SCAN_MAX:-20}

# Not preceded by a letter, digit or "_": mawk has no \b.
b='(^|[^A-Za-z0-9_])'
patterns=(
	# Lockdep ("WARNING: possible circular locking dependency detected",
	# "WARNING: suspicious RCU usage", ...), KCSAN ("BUG: KCSAN: data-race
	# in ..."), "BUG: sleeping function called from invalid context",
	# "BUG: Bad page state"; a WARN() ("WARNING: CPU: 0 PID: 1 at ...")
	# where it does not panic.
	"${b}WARNING: "
	"${b}BUG: "
	# Lockdep lines without such a header.
	'INFO: trying to register non-static key'
	'turning off the locking correctness validator'
	'Kernel panic'
	# kmemleak's reports that the VM's /init kept: those whose
	# allocation went through the driver or its tests
	# (scripts/vm-run.sh). Not kmemleak's own "N new suspected memory
	# leaks" line, which counts leaks anywhere in the kernel: under
	# fault injection other code leaks too.
	'unreferenced object 0x'
)
pattern=$(IFS='|'; printf '%s' "${patterns[*]}")

# Regexes go through the environment: awk -v would eat their backslashes.
LS_PAT=$pattern LS_KCSAN=${LOG_SCAN_KCSAN_SCOPE:-} \
awk -v before="$context_before" -v after="$context_after" \
    -v max="$max_reports" -v name="$log" '
BEGIN {
	pat = ENVIRON["LS_PAT"]
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
	if ($0 ~ pat)
		hit[++nhits] = NR
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
