#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks, each counted as one test: checkpatch --strict on every
# source file, kernel-doc, the kernel's htmldocs build of the
# documentation, sparse (C=2) and W=1 with clang on the x86_64 tree and
# (for binder_alloc.c on the page range) on the binder tree, W=1 with gcc
# on the UML tree,
# an out-of-tree (M=) build, the cases of tests/scripts/scripts_test.sh,
# and the upstream patch series (scripts/make-patches.sh).
# Needs the trees that vm-kernel.sh, kunit-uml.sh and binder-run.sh build.
set -uo pipefail
. "$(dirname "$0")/common.sh"

x86=$BPR_BUILD/x86_64
uml=$BPR_BUILD/kunit-uml
logs=$BPR_BUILD/logs/static
mkdir -p "$logs"
passed=0
failed=0
names=()

# check NAME LOGFILE COMMAND...: run COMMAND, pass if it succeeds.
check() {
	local name=$1 log=$2
	shift 2
	names+=("$name")
	if "$@" > "$log" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		log "static check failed: $name"
		sed 's/^/    /' "$log" | head -40 >&2
	fi
}

# Warnings and errors that name one of our files, in a build log.
our_warnings() {
	grep -E "(page_range|binder_page_range|bpa_|ipc)[^ ]*:[0-9]+(:[0-9]+)?: (warning|error)" "$1"
}

# make_clean LOG MAKEARGS...: the build succeeds and warns about none of
# our files.
make_clean() {
	local log=$1
	shift
	flock "$BPR_BUILD/.build.lock" make -C "$BPR_KSRC" -j"$BPR_JOBS" "$@" \
		> "$log.make" 2>&1 || { cat "$log.make"; return 1; }
	if our_warnings "$log.make"; then
		return 1
	fi
}

sources=$(cd "$BPR_ROOT" && git ls-files '*.c' '*.h' 2>/dev/null ||
	  (cd "$BPR_ROOT" && find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print))

for f in $sources; do
	# Any ERROR, WARNING or CHECK line fails.
	check "checkpatch $f" "$logs/checkpatch-$(basename "$f").log" \
		perl "$BPR_KSRC/scripts/checkpatch.pl" --strict --no-tree \
			--terse --no-summary -f "$BPR_ROOT/$f"
done

# kernel-doc on every top-level source: any output is a warning.
kernel_doc_clean() {
	local out
	out=$(cd "$BPR_ROOT" && perl "$BPR_KSRC/scripts/kernel-doc" -none -Wall ./*.c ./*.h 2>&1)
	printf '%s' "$out"
	[ -z "$out" ]
}
check kernel-doc "$logs/kernel-doc.log" kernel_doc_clean

# The scripts' own decisions: which boots panic, which reports fail a run.
# A list that fails or is empty would run no case and fail none.
cases=$("$BPR_ROOT/tests/scripts/scripts_test.sh" list) || cases=
if [ -z "$cases" ]; then
	log "static check failed: scripts_test.sh lists no case"
	failed=$((failed + 1))
fi
for c in $cases; do
	check "scripts: $c" "$logs/scripts-$c.log" \
		"$BPR_ROOT/tests/scripts/scripts_test.sh" "$c"
done

flock "$BPR_BUILD/.build.lock" "$BPR_ROOT/scripts/place-in-tree.sh"

# The kernel's own documentation build of the placed documentation: it
# must be in driver-api's toctree, and Sphinx and kernel-doc must print
# no warning or error. SPHINXDIRS confines the build to the project's
# folder, so whatever they print is about its files; the one exception is
# Sphinx's hint that graphviz is not installed.
htmldocs_clean() {
	local out=$BPR_BUILD/htmldocs

	grep -qx '   page_range/index' "$BPR_KSRC/Documentation/driver-api/index.rst" ||
		{ echo "page_range/index is in no toctree of driver-api/index.rst"; return 1; }
	rm -rf "$out"
	make -C "$BPR_KSRC" O="$out" SPHINXDIRS=driver-api/page_range htmldocs \
		> "$logs/htmldocs.log.make" 2>&1 ||
		{ cat "$logs/htmldocs.log.make"; return 1; }
	if grep -E '(WARNING|ERROR|Error|warning|error):' "$logs/htmldocs.log.make" |
		grep -vF 'dot(1) not found'; then
		return 1
	fi
	test -s "$out/Documentation/output/driver-api/page_range/page_range.html"
}
check "htmldocs (Sphinx, kernel-doc)" "$logs/htmldocs.log" htmldocs_clean

# The upstream series, made again from this tree: git am on a fresh clone
# of the pristine tree, checkpatch --strict on every patch (its message
# included), and a small kernel built after every patch, incrementally.
series=$BPR_ROOT/scripts/make-patches.sh
# A fresh machine's git knows no user, and the series is only checked
# here: sign it as make check, where git has nobody of its own.
export BPR_PATCHES_NAME="make check" BPR_PATCHES_EMAIL=make-check@example.org
before=$failed
check "series: make-patches.sh" "$logs/series.log" "$series"
if [ "$failed" -eq "$before" ]; then
	check "series: git am on the pristine tree" "$logs/series-am.log" \
		"$series" check-am
	for p in "$BPR_BUILD"/patches/[0-9][0-9][0-9][0-9]-*.patch; do
		[ "${p##*/}" != 0000-cover-letter.patch ] || continue
		check "series: checkpatch ${p##*/}" "$logs/series-${p##*/}.log" \
			"$series" checkpatch "$p"
	done
	check "series: builds after every patch" "$logs/series-build.log" \
		"$series" check-build
else
	# No series: what would have been checked of it fails too.
	failed=$((failed + 3))
fi

if [ -f "$x86/.config" ]; then
	check "sparse C=2 + W=1 (clang, x86_64)" "$logs/sparse-clang.log" \
		make_clean "$logs/sparse-clang.log" O="$x86" ARCH=x86_64 \
			"${BPR_X86_CC[@]}" C=2 W=1 "$BPR_SUBDIR/"
	# Put the objects back to the normal flags for the next build.
	flock "$BPR_BUILD/.build.lock" make -C "$BPR_KSRC" -j"$BPR_JOBS" \
		O="$x86" ARCH=x86_64 "${BPR_X86_CC[@]}" "$BPR_SUBDIR/" > /dev/null 2>&1

	rm -rf "$BPR_BUILD/oot"
	mkdir -p "$BPR_BUILD/oot"
	rsync -a --exclude=/build/ --exclude=/.git/ "$BPR_ROOT/" "$BPR_BUILD/oot/"
	check "out-of-tree module build (M=, clang, W=1)" "$logs/oot.log" \
		bash -c "flock '$BPR_BUILD/.build.lock' make -C '$x86' M='$BPR_BUILD/oot' \
			LLVM=1 W=1 -j$BPR_JOBS > '$logs/oot.log.make' 2>&1 || \
			{ cat '$logs/oot.log.make'; exit 1; }
			test -f '$BPR_BUILD/oot/binder_page_range.ko' &&
			test -f '$BPR_BUILD/oot/bpa_alloc.ko' &&
			test -f '$BPR_BUILD/oot/binder_page_range_ipc.ko' &&
			test -f '$BPR_BUILD/oot/tests/binder_page_range_kunit.ko' &&
			! grep -E '(warning|error):' '$logs/oot.log.make'"
else
	log "no x86_64 tree: run scripts/vm-kernel.sh first"
	failed=$((failed + 2))
fi

if [ -f "$uml/.config" ]; then
	check "W=1 (gcc, UML, built-in)" "$logs/w1-gcc.log" \
		make_clean "$logs/w1-gcc.log" O="$uml" ARCH=um "${BPR_UML_CC[@]}" \
			W=1 "$BPR_SUBDIR/"
	flock "$BPR_BUILD/.build.lock" make -C "$BPR_KSRC" -j"$BPR_JOBS" \
		O="$uml" ARCH=um "${BPR_UML_CC[@]}" "$BPR_SUBDIR/" > /dev/null 2>&1
else
	log "no UML tree: run scripts/kunit-uml.sh first"
	failed=$((failed + 1))
fi

# binder_alloc.c on the page range is built only in the binder kernel,
# from its own tree: the warnings of the files the patch touches and of
# the driver (binder.c's own are upstream's).
binder=$BPR_BUILD/x86_64-binder
binder_clean() {
	local log=$1
	shift
	flock "$BPR_BUILD/.build.lock" make -C "$BPR_BINDER_KSRC" -j"$BPR_JOBS" "$@" \
		> "$log" 2>&1 || return 1
	! grep -E 'drivers/android/(binder_alloc[^ ]*|page_range/[^ ]*):[0-9]+(:[0-9]+)?: (warning|error)' "$log"
}
if [ -f "$binder/.config" ]; then
	check "sparse C=2 + W=1 (clang, binder_alloc.c on the page range)" \
		"$logs/sparse-binder.log" binder_clean "$logs/sparse-binder.log" \
		O="$binder" ARCH=x86_64 "${BPR_X86_CC[@]}" C=2 W=1 drivers/android/
	flock "$BPR_BUILD/.build.lock" make -C "$BPR_BINDER_KSRC" -j"$BPR_JOBS" \
		O="$binder" ARCH=x86_64 "${BPR_X86_CC[@]}" drivers/android/ > /dev/null 2>&1
else
	log "no binder tree: run scripts/binder-run.sh first"
	failed=$((failed + 1))
fi

result static "$passed" "$failed"
result_about static none
printf 'static %s\n' "${names[@]}" > "$BPR_RESULTS/cases/static"
[ "$failed" -eq 0 ]
