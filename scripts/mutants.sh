#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make mutants: plant each deliberate bug of tests/mutants/ in a copy of
# the repository and run the suites it names there; a mutant is killed
# when one of them fails (a test fails, or the kernel reports). Prints a
# table of the mutants, what killed each and how long it took, and the
# score; exits non-zero if one survived. Not part of make check: each
# mutant costs a build and a boot.
#
# A mutant is a patch (patch -p1, from the repository's top) whose
# header says, before its first "---" line:
#   Breaks: what the bug breaks, one line
#   Suites: the suites that must catch it, in the order to run them:
#     kunit   the KUnit suites on UML (scripts/kunit-uml.sh)
#     vm      the x86_64 VM: the KUnit module, the userspace tests and
#             the fuzzer (as make check's "x86_64 VM" step)
#
# The copy is $BPR_BUILD/mutants/src; the builds are make check's own
# (build/kunit-uml, build/x86_64), incremental and through ccache, and the
# kernel tree gets the repository's own files back at the end.
# MUTANTS="name ..." runs only those (file names without .patch). A hang
# is a kill too, found by the suite's time limit: BPR_MUTANT_TIMEOUT
# seconds for kunit.py (300) and for the VM (900).
# Results: $BPR_BUILD/mutants/results.txt; logs: $BPR_BUILD/logs/mutant-*.
set -uo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

# The copy's scripts build in this repository's build/, not in the copy.
export BPR_BUILD
dir=$BPR_BUILD/mutants
src=$dir/src

# header FIELD FILE: the value of a mutant's header field.
header() {
	sed -n "/^---\$/q; s/^$1: *//p" "$2"
}

# The copy: the repository as it is, build/ and .git aside, then the bug.
plant() {
	mkdir -p "$src"
	rsync -a --delete --exclude=/build --exclude=/.git "$BPR_ROOT/" "$src/" &&
		patch -s -p1 -d "$src" < "$1"
}

# What a failed suite's log says first: a kernel report, a failed KUnit
# expectation (with its file and line) or a failed userspace case.
why() {
	local log=$1 line

	line=$(grep -aoE '(BUG: [A-Za-z]+: [a-z-]+ in [A-Za-z0-9_.]+|BUG: [A-Za-z ]+|WARNING: CPU: [0-9]+ PID: [0-9]+ at [A-Za-z0-9_.]+|Kernel panic|INFO: task [^ ]+ blocked)' \
		"$log" 2> /dev/null | head -1)
	[ -n "$line" ] || line=$(grep -aoE '# [a-z0-9_]+: (EXPECTATION|ASSERTION) FAILED at [^ ]+' \
		"$log" 2> /dev/null | head -1 | sed -E 's|^# ||; s| (EXPECTATION\|ASSERTION) FAILED at .*/| failed at |')
	[ -n "$line" ] || line=$(grep -aoE 'not ok [0-9]+ [A-Za-z0-9_]+\.[A-Za-z0-9_.]+' \
		"$log" 2> /dev/null | head -1 | sed -E 's/^not ok [0-9]+ //')
	printf '%s' "${line:-the suite failed}"
}

# run_suite NAME SUITE: run SUITE in the copy; 0 if it passed.
run_suite() {
	local name=$1 suite=$2 tag=mutant-$1-$2

	case $suite in
	kunit)
		BPR_KUNIT_BUILD=$BPR_BUILD/kunit-uml BPR_KUNIT_SUITE=$tag \
			BPR_KUNIT_TIMEOUT=${BPR_MUTANT_TIMEOUT:-300} \
			"$src/scripts/kunit-uml.sh"
		;;
	vm)
		"$src/scripts/vm-kernel.sh" &&
			BPR_VM_SUITE=$tag BPR_VM_TESTS=$BPR_BUILD/user \
			BPR_VM_TIMEOUT=${BPR_MUTANT_TIMEOUT:-900} \
			"$src/scripts/vm-run.sh"
		;;
	*)
		die "tests/mutants/$name.patch: unknown suite $suite"
		;;
	esac
}

main() {
	local m name suites s t0 killed by n=0 k=0 start

	start=$(now)
	mkdir -p "$dir" "$BPR_BUILD/logs"
	# The userspace tests are not mutated: built once, for every vm run.
	"$BPR_ROOT/scripts/build-user.sh" > "$BPR_BUILD/logs/mutants-user.out" 2>&1 ||
		die "the userspace tests do not build: $BPR_BUILD/logs/mutants-user.out"
	: > "$dir/results.txt"
	for m in "$BPR_ROOT"/tests/mutants/*.patch; do
		name=$(basename "$m" .patch)
		if [ -n "${MUTANTS:-}" ] && [[ " $MUTANTS " != *" $name "* ]]; then
			continue
		fi
		n=$((n + 1))
		suites=$(header Suites "$m")
		t0=$(now)
		killed=0
		by="survived"
		if ! plant "$m"; then
			by="does not apply"
		else
			for s in $suites; do
				log "mutant $name: $(header Breaks "$m"); suite $s"
				if ! BPR_RESULTS=$dir/results/$name run_suite "$name" "$s" \
					> "$BPR_BUILD/logs/mutant-$name-$s.out" 2>&1; then
					killed=1
					by="$s: $(why "$BPR_BUILD/logs/mutant-$name-$s.log")"
					[ -s "$BPR_BUILD/logs/mutant-$name-$s.log" ] ||
						by="$s: $(why "$BPR_BUILD/logs/mutant-$name-$s.out")"
					break
				fi
			done
		fi
		k=$((k + killed))
		printf '%-28s %-52s %5d s\n' "$name" "$by" $(($(now) - t0)) |
			tee -a "$dir/results.txt"
	done
	# The kernel tree gets the repository's files back.
	flock "$BPR_BUILD/.build.lock" "$BPR_ROOT/scripts/place-in-tree.sh"
	echo "mutants: $k of $n killed in $(($(now) - start)) s" |
		tee -a "$dir/results.txt"
	[ "$k" -eq "$n" ]
}

main "$@"; exit
