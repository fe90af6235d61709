#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Place this driver in a kernel source tree and hook it into the parent
# directory's Kconfig and Makefile. Idempotent: a rerun only refreshes the
# files that changed.
#
# usage: place-in-tree.sh [KERNEL_SOURCE [SUBDIR]]
#        default SUBDIR: drivers/android/page_range
set -euo pipefail
. "$(dirname "$0")/common.sh"

ksrc=${1:-$BPR_KSRC}
subdir=${2:-$BPR_SUBDIR}
[ -f "$ksrc/Makefile" ] || die "$ksrc is not a kernel source tree"
# make in-tree installs nothing (scripts/deps.sh would install the whole
# test setup), and rsync is not in a minimal Debian.
command -v rsync > /dev/null || die "rsync is needed: apt-get install rsync"

dest=$ksrc/$subdir
parent=$(dirname "$dest")
leaf=$(basename "$dest")
[ -f "$parent/Kconfig" ] && [ -f "$parent/Makefile" ] ||
	die "$parent has no Kconfig and Makefile to hook into"

mkdir -p "$dest"
# By content, and without the source's modification times: a file whose
# content changed gets the time of the copy, so make rebuilds it even when
# it was edited before an object that a running build made from its old
# content; an unchanged file keeps its time, so rebuilds stay incremental.
sync=(rsync -rlpD --checksum)
"${sync[@]}" --delete --exclude=/build/ --exclude=/.git/ --exclude='*.o' \
	--exclude='*.ko' --exclude='.*.cmd' --exclude=/Documentation/ \
	--exclude=/include/ "$BPR_ROOT/" "$dest/"

# The uapi header goes where the kernel's are; the driver includes it as
# <uapi/linux/android/binder_page_range.h>.
"${sync[@]}" "$BPR_ROOT/include/uapi/linux/android/binder_page_range.h" \
	"$ksrc/include/uapi/linux/android/"

kline="source \"$subdir/Kconfig\""
if ! grep -qxF "$kline" "$parent/Kconfig"; then
	if grep -qx 'endmenu' "$parent/Kconfig"; then
		# Inside the parent's menu, so the option shows up there.
		tac "$parent/Kconfig" |
			awk -v l="$kline" '!done && /^endmenu$/ { print; print ""; print l; done=1; next } { print }' |
			tac > "$parent/Kconfig.new"
		mv "$parent/Kconfig.new" "$parent/Kconfig"
	else
		printf '\n%s\n' "$kline" >> "$parent/Kconfig"
	fi
fi

mline="obj-\$(CONFIG_BINDER_PAGE_RANGE)	+= $leaf/"
grep -qxF "$mline" "$parent/Makefile" || printf '%s\n' "$mline" >> "$parent/Makefile"

# Trees placed before binder_alloc.c's patch replaced the -include adapter
# have binder.c's flags changed: put drivers/android/Makefile back.
if grep -qx 'ifdef CONFIG_ANDROID_BINDER_ALLOC_PAGE_RANGE' "$parent/Makefile"; then
	awk '
	$0 == "binder_linux-y := binder.o" { skip = 1; next }
	skip && $0 == "endif" { print "binder_linux-y := binder.o binder_alloc.o"; skip = 0; next }
	!skip { print }' "$parent/Makefile" > "$parent/Makefile.new"
	mv "$parent/Makefile.new" "$parent/Makefile"
fi

# The benchmarks' binder_alloc half (CONFIG_BINDER_PAGE_RANGE_BENCH) goes
# next to binder_alloc.c, whose functions are not exported.
if [ -f "$parent/binder_alloc.h" ]; then
	"${sync[@]}" "$BPR_ROOT/bench/binder_alloc_bench.c" "$BPR_ROOT/bench/page_range_bench.h" "$parent/"
	bline='obj-$(CONFIG_BINDER_PAGE_RANGE_BENCH)	+= binder_alloc_bench.o'
	grep -qxF "$bline" "$parent/Makefile" || printf '%s\n' "$bline" >> "$parent/Makefile"
fi

# The documentation goes where the kernel's driver API documentation is,
# in the toctree of Documentation/driver-api/index.rst, so that
# "make htmldocs" builds it. Its kernel-doc directives name the sources
# relative to the tree, as the kernel's do, under the default SUBDIR.
docs=$ksrc/Documentation/driver-api/page_range
if [ -d "$ksrc/Documentation/driver-api" ]; then
	# Trees placed before the documentation moved hold a copy here.
	rm -rf "$dest/Documentation"
	mkdir -p "$docs"
	"${sync[@]}" --delete "$BPR_ROOT/Documentation/" "$docs/"
	if [ "$subdir" != drivers/android/page_range ]; then
		sed -i "s|^\(\.\. kernel-doc:: \)drivers/android/page_range/|\1$subdir/|" \
			"$docs"/*.rst
	fi
	dindex=$ksrc/Documentation/driver-api/index.rst
	if ! grep -qx '   page_range/index' "$dindex"; then
		# In "Subsystem-specific APIs", in the order of the names.
		awk '!done && /^   parport-lowlevel$/ { print "   page_range/index"; done=1 }
		     { print }' "$dindex" > "$dindex.new"
		grep -qx '   page_range/index' "$dindex.new" ||
			die "$dindex has no toctree entry to put page_range/index before"
		mv "$dindex.new" "$dindex"
	fi
fi
