#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything "make check" does: install what is missing, build the x86_64
# kernel (clang, module =m, KASAN), run the KUnit module, the userspace
# tests and the fuzzer in its VM and the fault injection run; run the
# userspace suites and binder_test on Debian's own 6.12 kernel image with
# the module built against its headers; run the KUnit suites with kunit.py
# on UML (gcc, built in), on kunit.py's minimal x86_64 config, on the
# x86_64 KCSAN kernel (and the userspace stress tests there) and on the
# binder kernel (and binder traffic there); the static checks. Prints a
# table of the suites and the kernels they ran on, and the totals as one
# line "N passed, N failed". Exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/common.sh"

main() {
	start=$(now)
	rm -rf "$BPR_RESULTS"
	mkdir -p "$BPR_RESULTS" "$BPR_BUILD/logs"
	status=0

	step() {
		local name=$1 t0
		shift
		t0=$(now)
		log "$name"
		if ! "$@"; then
			status=1
			log "$name: FAILED"
		fi
		printf '%-14s %4d s\n' "$name" $(($(now) - t0)) >> "$BPR_BUILD/logs/timings"
	}

	: > "$BPR_BUILD/logs/timings"
	"$BPR_ROOT/scripts/deps.sh" || die "could not install the packages"
	# deps.sh may just have installed ccache: decide again, as each script
	# below does when it sources common.sh. Count this run's hits only (the
	# statistics, not the cache).
	BPR_CCACHE=$(bash -c '. "$1"; printf %s "$BPR_CCACHE"' _ "$BPR_ROOT/scripts/common.sh")
	[ -n "$BPR_CCACHE" ] && ccache -z > /dev/null 2>&1
	"$BPR_ROOT/scripts/kernel-src.sh" || die "could not unpack the kernel"

	step "x86_64 kernel" "$BPR_ROOT/scripts/vm-kernel.sh"
	step "user tests" "$BPR_ROOT/scripts/build-user.sh"
	step "x86_64 VM" env BPR_VM_TESTS="$BPR_BUILD/user" "$BPR_ROOT/scripts/vm-run.sh"
	step "fault VM" "$BPR_ROOT/scripts/fault-run.sh"
	step "distro-6.12" "$BPR_ROOT/scripts/distro-run.sh"
	step "kunit-uml" "$BPR_ROOT/scripts/kunit-uml.sh"
	step "kunit-min" "$BPR_ROOT/scripts/kunit-min.sh"
	step "KCSAN" "$BPR_ROOT/scripts/kcsan-run.sh"
	step "binder" "$BPR_ROOT/scripts/binder-run.sh"
	step "static" "$BPR_ROOT/scripts/static-checks.sh"

	passed=0
	failed=0
	for f in "$BPR_RESULTS"/*; do
		[ -f "$f" ] || continue
		read -r _ p n _ < "$f"
		passed=$((passed + p))
		failed=$((failed + n))
	done
	# A step that died before recording a result still counts as a failure.
	if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
		failed=1
	fi

	# The suites, each with the kernel it ran on and the cases its log shows
	# results for; then, per kind of case, the unique cases beside their
	# executions (the same KUnit case on five kernels is one case, five
	# executions).
	echo
	echo "Suites:"
	printf '  %-14s %6s %6s %6s  %s\n' suite passed failed cases kernel
	for f in "$BPR_RESULTS"/*; do
		[ -f "$f" ] || continue
		read -r s p n _ < "$f"
		c=-
		[ -f "$BPR_RESULTS/cases/$s" ] && c=$(wc -l < "$BPR_RESULTS/cases/$s")
		k=$(cat "$BPR_RESULTS/kernel/$s" 2> /dev/null || echo -)
		printf '  %-14s %6d %6d %6s  %s\n' "$s" "$p" "$n" "$c" "$k"
	done
	echo "Unique cases:"
	for f in "$BPR_RESULTS"/cases/*; do
		[ -f "$f" ] || continue
		k=$(cat "$BPR_RESULTS/kernel/${f##*/}" 2> /dev/null || echo -)
		awk -v k="$k" '{ print k "\t" $0 }' "$f"
	done | awk -F'\t' '
		{ split($2, w, " "); kind = w[1]; name = substr($2, length(kind) + 2)
		  runs[kind]++
		  if (!((kind, name) in seen)) { seen[kind, name] = 1; uniq[kind]++ }
		  if ($1 != "-" && !((kind, $1) in kern)) { kern[kind, $1] = 1; kernels[kind]++ } }
		END { for (kind in runs)
			printf "  %-8s %4d unique, %5d executions%s\n", kind, uniq[kind],
			       runs[kind], kernels[kind] ? " on " kernels[kind] " kernel(s)" : ", no kernel" }' | sort
	echo "Timings:"
	sed 's/^/  /' "$BPR_BUILD/logs/timings"
	echo "  total          $(($(now) - start)) s"
	if [ -n "$BPR_CCACHE" ]; then
		ccache --print-stats 2> /dev/null | awk -F'\t' '
			$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { h += $2 }
			$1 == "cache_miss" { m += $2 }
			END { if (h + m) printf "ccache: %d hits, %d misses (%d%%)\n", h, m, 100 * h / (h + m) }'
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# main and exit on one line: bash reads a script as it runs, and an edit
# to this file during a run would otherwise make the running copy misparse.
main "$@"; exit
