#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the x86_64 kernel (bzImage) and modules for the QEMU VM in
# $BPR_BUILD/x86_64 (BPR_VM_KBUILD), from configs/vm.config, then
# configs/debug.config and configs/x86_64.config (BPR_VM_CONFIG names
# others, such as bench.config),
# plus any EXTRA_FRAGMENT files (e.g. one that adds
# CONFIG_KUNIT_EXAMPLE_TEST=m for a trial run).
#
# Built with clang (LLVM=1): the same build is the project's clang check.
# BPR_VM_GCC=1 builds with gcc instead (the benchmark kernel).
# Reruns are incremental: the kernel is only reconfigured when the fragments
# change. A compile error in the driver fails the script with make's error,
# but the kernel image is built first and kept for the next run.
#
# usage: vm-kernel.sh [EXTRA_FRAGMENT...]
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

# All in a function, called on the last line together with "exit": bash
# reads a script as it runs, and an edit to this file during a 15-minute
# build would otherwise make the running copy misparse.
main() {
	out=${BPR_VM_KBUILD:-$BPR_BUILD/x86_64}
	logdir=$BPR_BUILD/logs
	# One log per tree: vm-kernel-x86_64.log, vm-kernel-x86_64-kcsan.log.
	buildlog=$logdir/vm-kernel-$(basename "$out").log
	cc=("${BPR_X86_CC[@]}")
	[ -n "${BPR_VM_GCC:-}" ] && cc=("${BPR_X86_GCC[@]}")
	makeargs=(-C "$BPR_KSRC" O="$out" ARCH=x86_64 "${cc[@]}")

	fragments=("$BPR_ROOT/configs/vm.config")
	for f in ${BPR_VM_CONFIG:-debug.config x86_64.config}; do
		fragments+=("$BPR_ROOT/configs/$f")
	done
	fragments+=("$@")
	for f in "${fragments[@]}"; do
		[ -f "$f" ] || die "config fragment $f not found"
	done

	"$BPR_ROOT/scripts/kernel-src.sh"
	mkdir -p "$out" "$logdir"

	# One kernel build at a time on this machine: the UML (kunit.py) builds take
	# the same lock. Held from the source refresh on, so a build running under
	# the lock never sees the driver's files change under it.
	exec 9>"$BPR_BUILD/.build.lock"
	if ! flock -n 9; then
		log "waiting for $BPR_BUILD/.build.lock (another kernel build is running)"
		flock 9
	fi

	start=$(now)
	"$BPR_ROOT/scripts/place-in-tree.sh"

	# The concatenated fragments; a copy of what the current .config was made
	# from sits next to it, so an unchanged fragment means no reconfiguration
	# (olddefconfig would rewrite .config and could trigger a wide rebuild).
	want=$out/.pr-fragment.new
	stamp=$out/.pr-fragment
	cat "${fragments[@]}" > "$want"
	if [ ! -f "$out/.config" ] || ! cmp -s "$want" "$stamp"; then
		log "configuring $out"
		rm -f "$stamp"
		cp "$want" "$out/.config"
		make "${makeargs[@]}" olddefconfig > "${buildlog%.log}-config.log" 2>&1 ||
			{ cat "${buildlog%.log}-config.log" >&2; die "olddefconfig failed"; }
	fi

	# Every fragment line must have survived olddefconfig: an option that does
	# not exist, or whose dependencies are missing, is dropped without a word.
	# A later fragment may override an earlier one: only an option's last
	# line counts.
	missing=()
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= ]]; then
			grep -qxF -- "$line" "$out/.config" || missing+=("$line")
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			! grep -q "^${BASH_REMATCH[1]}=" "$out/.config" || missing+=("$line")
		fi
	done < <(awk '
		match($0, /^CONFIG_[A-Za-z0-9_]+=/) { k = substr($0, 1, RLENGTH - 1) }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { k = $2 }
		k != "" { last[k] = $0; order[++n] = k; k = "" }
		END { for (i = 1; i <= n; i++) if (!seen[order[i]]++) print last[order[i]] }
	' "$want")
	if [ ${#missing[@]} -gt 0 ]; then
		for line in "${missing[@]}"; do
			opt=$(sed -E 's/^# //; s/[= ].*//' <<< "$line")
			printf 'config: wanted "%s", .config has "%s"\n' "$line" \
				"$(grep -E "^$opt=|^# $opt is not set" "$out/.config" || echo "nothing")" >&2
		done
		die "${#missing[@]} fragment line(s) did not make it into $out/.config"
	fi
	mv "$want" "$stamp"

	# Two steps: "make bzImage" alone does not compile modules, so the kernel
	# image is built (and reused next time) even while the driver does not
	# compile; in one "make bzImage modules" a driver error stops the link.
	log "building bzImage and modules in $out (log: $buildlog)"
	rc=0
	make "${makeargs[@]}" -j"$BPR_JOBS" bzImage > "$buildlog" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		make "${makeargs[@]}" -k -j"$BPR_JOBS" modules >> "$buildlog" 2>&1 || rc=$?
	fi

	# Compiler warnings in the driver are worth seeing even when the build passes.
	grep -E "^[^ ]*$BPR_SUBDIR/[^ ]*: (warning|error):|^(WARNING|ERROR): modpost: .*$BPR_SUBDIR/" \
		"$buildlog" >&2 || true

	elapsed=$(($(now) - start))
	if [ "$rc" -ne 0 ]; then
		# Never let vm-run.sh test a stale module left over from an older build.
		find "$out/$BPR_SUBDIR" -name '*.ko' -delete 2>/dev/null || true
		grep -E -B2 -A6 'error:|Error [0-9]+|ERROR:' "$buildlog" | tail -n 80 >&2 || tail -n 40 "$buildlog" >&2
		die "kernel build failed (make exit $rc) after ${elapsed}s; full log: $buildlog"
	fi
	log "x86_64 kernel built in ${elapsed}s: $out/arch/x86/boot/bzImage"
}

main "$@"; exit
