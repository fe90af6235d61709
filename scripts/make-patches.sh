#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The driver as a patch series against the pristine kernel tree (Debian's
# linux-source-6.12, $BPR_TARBALL), as it would be sent upstream:
# $BPR_BUILD/patches/0000-cover-letter.patch, 0001-*.patch and on.
#
# The pristine tree is committed once, with a fixed author and date, into
# a bare repository, $BPR_BUILD/patches-base (branch "pristine"), reused
# while the tarball is the same. A clone of it, $BPR_BUILD/patches-work,
# gets one commit per patch: this repository's files at their kernel
# paths, changed only by the transforms below, each with its message from
# kernel-patches/series/ and a Signed-off-by: of git config's user; patch
# 4 is the hand-written kernel-patches/binder_alloc-use-the-page-range.patch.
# Every commit has a fixed date, that of this repository's HEAD, so the
# same state of the repository gives the same patches.
#
# usage: make-patches.sh              write the series
#        make-patches.sh ident        print the author of its Signed-off-by
#        make-patches.sh check-am     git am it on a fresh clone of the
#                                     pristine tree
#        make-patches.sh checkpatch PATCH
#                                     checkpatch.pl --strict on one patch
#        make-patches.sh check-build  build a small kernel after each patch,
#                                     incrementally ($BPR_BUILD/patches-obj)
# The checks need the series (the first form) and are run by
# scripts/static-checks.sh, each as one test.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

base=$BPR_BUILD/patches-base
work=$BPR_BUILD/patches-work
out=$BPR_BUILD/patches
series=$BPR_ROOT/kernel-patches/series
# Patch 4, binder_alloc.c on the page range, written by hand against the
# pristine tree ($BPR_BINDER_PATCH); BPR_PATCHES_BINDER names another file
# in its place, for a trial of this script.
binder_patch=${BPR_PATCHES_BINDER:-$BPR_BINDER_PATCH}
sub=$BPR_SUBDIR
selftests=tools/testing/selftests/binder_page_range
samples=samples/binder_page_range
docs=Documentation/driver-api/page_range

# The Kconfig symbols of the series and the patch that adds each.
declare -A sym_patch=(
	[BINDER_PAGE_RANGE]=1
	[BINDER_PAGE_RANGE_ALLOC]=2
	[BINDER_PAGE_RANGE_IPC]=3
	[BINDER_PAGE_RANGE_KUNIT_TEST]=5
)
# Symbols of this repository that a kernel tree does not get: the
# benchmarks need binder_alloc's internals.
sym_left_out=(BINDER_PAGE_RANGE_BENCH)

# The userspace tests that stay here: bpr_modules_test loads the modules
# from the flat /lib/modules of the project's VM.
selftests_left_out=(bpr_modules_test)
# The documents of the series. The others describe this repository's
# tooling (testing.rst, performance.rst) or how it runs binder
# (binder.rst), not the driver.
docs_in_series=(page_range allocator uapi)

# left_out FILE: FILE (relative to the repository) is not in the series,
# or is only read by the transforms. Every other file must be in a patch.
left_out() {
	case $1 in
	# Read by the transforms; the series has their kernel versions.
	Kbuild | Kconfig | tests/Kbuild | tests/user/Makefile | \
	tests/binder/Makefile | Documentation/index.rst) ;;
	# The out-of-tree build's kernel version check.
	page_range_compat.h) ;;
	# This repository's tooling, benchmarks and test runs.
	bench/* | scripts/* | configs/* | .ci/* | kernel-patches/* | \
	tests/fault/* | tests/kcsan/* | tests/soak/* | tests/scripts/* | \
	tests/mutants/* | \
	README.md | Makefile | .gitignore) ;;
	Documentation/testing.rst | Documentation/performance.* | \
	Documentation/binder.rst) ;;
	tests/user/*.c)
		[[ " ${selftests_left_out[*]} " == *" $(basename "$1" .c) "* ]] ;;
	# Starts binder_alloc_selftest for the project's binder run, which
	# reads the verdict from the kernel log: no result of its own.
	tests/binder/binder_selftest_trigger.c) ;;
	*) return 1 ;;
	esac
}

# sym_pairs: SYMBOL=PATCH ..., for awk.
sym_pairs() {
	local s

	for s in "${!sym_patch[@]}"; do
		printf '%s=%s ' "$s" "${sym_patch[$s]}"
	done
}

# sym_awk N PROGRAM FILE: run the awk PROGRAM on FILE with upto=N,
# patch[SYMBOL] the patch that adds SYMBOL and leftout[SYMBOL] set for the
# symbols the series leaves out.
sym_awk() {
	awk -v upto="$1" -v syms="$(sym_pairs)" -v gone="${sym_left_out[*]}" '
	BEGIN {
		n = split(syms, a, " ")
		for (i = 1; i <= n; i++) { split(a[i], kv, "="); patch[kv[1]] = kv[2] }
		n = split(gone, a, " ")
		for (i = 1; i <= n; i++) leftout[a[i]] = 1
	}
'"$2" "$3"
}

# ---- The transforms, all of them --------------------------------------
#
# Files are copied unchanged but for these. Each undoes something that
# only the out-of-tree layout of this repository needs.

# in_tree_text: every copied text file. The repository's
# Documentation/X.rst is Documentation/driver-api/page_range/X.rst in a
# kernel tree (scripts/place-in-tree.sh puts it there too).
in_tree_text() {
	sed -E "s#Documentation/([A-Za-z0-9_-]+\\.rst)#$docs/\\1#g"
}

# in_tree_kbuild: Kbuild becomes the directory's Makefile, without the
# out-of-tree block (ifneq ($(KBUILD_EXTMOD),) ... endif, with the comment
# above it): Kconfig defaults, the -include of page_range_compat.h and
# -I$(src)/include for the uapi header, which a kernel tree has in
# include/uapi. Lines that name a left-out symbol go too, and a paragraph
# left with only comments. What remains is given paragraph by paragraph
# to the patch of the latest symbol it names (none: patch 1); prints the
# paragraphs of patches up to $1.
in_tree_kbuild() {
	sym_awk "$1" '
	# The out-of-tree block, nested conditionals included, and the
	# comment right above it.
	depth == 0 && /^ifn?eq.*KBUILD_EXTMOD/ {
		while (np > 0 && para[np] ~ /^#/) np--
		depth = 1
		removed = 1
		next
	}
	depth > 0 {
		if ($0 ~ /^if/)
			depth++
		else if ($0 ~ /^endif/)
			depth--
		next
	}
	/^$/ { flush(); next }
	/^#/ { para[++np] = $0; next }
	{
		line = $0
		while (match(line, /CONFIG_[A-Z0-9_]+/)) {
			s = substr(line, RSTART + 7, RLENGTH - 7)
			line = substr(line, RSTART + RLENGTH)
			if (s in leftout) { removed = 1; next }
			if (!(s in patch)) {
				print "Kbuild: CONFIG_" s " is in no patch" > "/dev/stderr"
				exit 1
			}
			if (patch[s] > level)
				level = patch[s]
		}
		para[++np] = $0
		code++
	}
	function flush(   i) {
		# A paragraph left with comments only goes with what it was about.
		if (np && (code || !removed) && (level ? level : 1) <= upto) {
			if (printed++)
				print ""
			for (i = 1; i <= np; i++)
				print para[i]
		}
		np = 0; code = 0; level = 0; removed = 0
	}
	END { flush() }' "$BPR_ROOT/Kbuild"
}

# in_tree_kconfig N: the Kconfig entries of the series' symbols of patches
# up to N, in the repository's order; the left-out ones are dropped.
in_tree_kconfig() {
	sym_awk "$1" '
	/^(menu|if|endif|endmenu|choice|endchoice|source|comment)/ {
		print "Kconfig: cannot split \"" $0 "\"" > "/dev/stderr"; exit 1
	}
	/^(menu)?config / {
		flush()
		sym = $2
		if (!(sym in patch) && !(sym in leftout)) {
			print "Kconfig: symbol " sym " is in no patch" > "/dev/stderr"; exit 1
		}
		entry = 1
	}
	!entry { if (!nheader || $0 != "") header[++nheader] = $0; next }
	{ lines[++nl] = $0 }
	function flush(   i) {
		while (nl > 0 && lines[nl] == "") nl--
		if (nl && (sym in patch) && patch[sym] <= upto) {
			if (!printed++) {
				while (nheader > 0 && header[nheader] == "") nheader--
				for (i = 1; i <= nheader; i++) print header[i]
			}
			print ""
			for (i = 1; i <= nl; i++) print lines[i]
		}
		nl = 0
	}
	END { flush() }' "$BPR_ROOT/Kconfig"
}

# selftests_makefile: the userspace tests' Makefile in
# tools/testing/selftests: the uapi header from $(KHDR_INCLUDES), the
# harness from the selftests directory, and neither -static nor -Werror
# (USERCFLAGS and USERLDFLAGS add them); the programs of tests/user's
# Makefile, but for the left-out ones, and binder_test.
selftests_makefile() {
	local progs hdrs p

	progs=$(sed -n 's/^TEST_GEN_PROGS *:= *//p' "$BPR_ROOT/tests/user/Makefile")
	hdrs=$(sed -n 's/^LOCAL_HDRS *:= *//p' "$BPR_ROOT/tests/user/Makefile")
	[ -n "$progs" ] || die "tests/user/Makefile: no TEST_GEN_PROGS := line"
	for p in "${selftests_left_out[@]}"; do
		progs=$(tr ' ' '\n' <<< "$progs" | grep -vx "$p" | paste -sd' ')
	done
	cat <<EOF
# SPDX-License-Identifier: GPL-2.0
CFLAGS += -Wall -O2 -g \$(KHDR_INCLUDES) -I\$(top_srcdir)/tools/testing/selftests/
LDLIBS += -lpthread

TEST_GEN_PROGS := $progs binder_test
LOCAL_HDRS := $hdrs

include ../lib.mk
EOF
}

# The sample includes the tests' helpers from where they are in a kernel
# tree: its Makefile puts the selftests' directory on the include path.
# shellcheck disable=SC2317 # called through put()
in_tree_demo() {
	sed 's|^#include "tests/user/bpr_util.h"$|#include "bpr_util.h"|'
}

# The documentation's table of contents, without the left-out documents.
in_tree_doc_index() {
	awk -v keep="${docs_in_series[*]}" '
	BEGIN { n = split(keep, a, " "); for (i = 1; i <= n; i++) k[a[i]] = 1 }
	/^   [a-z_]+$/ { name = $1; if (!(name in k)) next }
	{ print }' "$BPR_ROOT/Documentation/index.rst"
}

# ---- Helpers -------------------------------------------------------------

declare -A used=()

# put FILE DEST [FILTER]: the repository's FILE at DEST in the work tree,
# through in_tree_text and FILTER.
put() {
	local src=$1 dest=$2 filter=${3:-cat}

	[ -f "$BPR_ROOT/$src" ] || die "$src: not in $BPR_ROOT"
	mkdir -p "$(dirname "$work/$dest")"
	in_tree_text < "$BPR_ROOT/$src" | "$filter" > "$work/$dest"
	used[$src]=1
}

# write DEST: standard input at DEST in the work tree.
write() {
	mkdir -p "$(dirname "$work/$1")"
	cat > "$work/$1"
}

# edit FILE AWK-PROGRAM [AWK-OPTIONS...]: FILE of the work tree through
# the awk program, which must change it.
edit() {
	local f=$work/$1 prog=$2

	shift 2
	awk "$@" "$prog" "$f" > "$f.new"
	cmp -s "$f" "$f.new" && { rm -f "$f.new"; die "$1: could not be edited"; }
	mv "$f.new" "$f"
}

# The page range's Kconfig and Makefile as of patch N.
layer_build_files() {
	in_tree_kconfig "$1" | write "$sub/Kconfig"
	in_tree_kbuild "$1" | write "$sub/Makefile"
}

# maintainers N: MAINTAINERS with the driver's section as of patch N,
# before ANDROID DRIVERS, in the order of the names. Every patch that adds
# files updates the section, as checkpatch asks (FILE_PATH_CHANGES): the
# first names the library's files, the second, which puts another layer
# in the directory, widens it to the whole directory.
maintainers() {
	local n=$1 f=()

	[ "$n" -ge 7 ] && f+=("$docs/")
	if [ "$n" -ge 2 ]; then
		f+=("$sub/")
	else
		f+=("$sub/Kconfig" "$sub/Makefile" "$sub/page_range*" "$sub/shrinker.c")
	fi
	[ "$n" -ge 3 ] && f+=(include/uapi/linux/android/binder_page_range.h)
	[ "$n" -ge 6 ] && f+=("$samples/")
	[ "$n" -ge 5 ] && f+=("$selftests/")
	git -C "$work" show pristine:MAINTAINERS |
		awk -v m="$BPR_NAME <$BPR_EMAIL>" -v files="${f[*]}" '
		!done && /^ANDROID DRIVERS$/ {
			print "ANDROID BINDER PAGE RANGE"
			print "M:\t" m
			print "L:\tlinux-kernel@vger.kernel.org"
			print "S:\tMaintained"
			n = split(files, a, " ")
			for (i = 1; i <= n; i++) print "F:\t" a[i]
			print ""
			done = 1
		}
		{ print }
		END { if (!done) exit 1 }' > "$work/MAINTAINERS" ||
		die "MAINTAINERS has no ANDROID DRIVERS section to go before"
}

# ---- The patches -----------------------------------------------------------

patch_library() {
	local f

	for f in page_range.c page_range.h page_range_internal.h shrinker.c \
		 page_range_trace.h; do
		put "$f" "$sub/$f"
	done
	layer_build_files 1
	# Inside the Android menu, as its last entry.
	# shellcheck disable=SC2016 # an awk program
	edit drivers/android/Kconfig '
		{ line[NR] = $0 }
		/^endmenu$/ { last = NR }
		END {
			for (i = 1; i <= NR; i++) {
				if (i == last) { print "source \"" dir "/Kconfig\""; print "" }
				print line[i]
			}
		}' -v dir="$sub"
	# shellcheck disable=SC2016 # a make variable
	printf 'obj-$(CONFIG_BINDER_PAGE_RANGE)\t\t+= %s/\n' "${sub##*/}" \
		>> "$work/drivers/android/Makefile"
	maintainers 1
}

patch_alloc() {
	local f

	for f in bpa_alloc.c bpa_alloc.h bpa_trace.h; do
		put "$f" "$sub/$f"
	done
	layer_build_files 2
	maintainers 2
}

patch_ipc() {
	local uapi=include/uapi/linux/android/binder_page_range.h magic

	put ipc.c "$sub/ipc.c"
	put "$uapi" "$uapi"
	layer_build_files 3
	maintainers 3
	magic=$(sed -nE 's/^#define BPR_IOC_MAGIC[[:space:]]+(0x[0-9A-Fa-f]+).*/\1/p' "$work/$uapi")
	[ "$magic" = 0xB9 ] || die "$uapi: BPR_IOC_MAGIC is '$magic', the series registers 0xB9"
	# The table of ioctl codes, in the order of the codes.
	# shellcheck disable=SC2016 # an awk program
	edit Documentation/userspace-api/ioctl/ioctl-number.rst '
		/^0xB9 / { print "0xB9 is taken: " $0 > "/dev/stderr"; exit 1 }
		/^0xB8 / { last = NR }
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++) {
				print line[i]
				if (i == last)
					printf "%-4s  %-5s  %-57s %s\n", "0xB9", "00-0F",
						"uapi/linux/android/binder_page_range.h",
						"binder page range IPC device"
			}
		}'
}

patch_tests() {
	local f

	for f in page_range_kunit.c alloc_kunit.c page_range_kunit_util.h \
		 .kunitconfig; do
		put "tests/$f" "$sub/tests/$f"
	done
	# A kernel tree names it Makefile.
	put tests/Kbuild "$sub/tests/Makefile"
	layer_build_files 5

	for f in "$BPR_ROOT"/tests/user/*.[ch]; do
		f=${f#"$BPR_ROOT"/}
		left_out "$f" || put "$f" "$selftests/${f##*/}"
	done
	put tests/binder/binder_test.c "$selftests/binder_test.c"
	selftests_makefile | write "$selftests/Makefile"
	# What the tests need of the kernel (make kselftest-merge). The
	# library is built in whenever binder is, which selects it.
	write "$selftests/config" <<-EOF
	CONFIG_ANDROID_BINDER_IPC=y
	CONFIG_ANDROID_BINDERFS=y
	CONFIG_BINDER_PAGE_RANGE=y
	CONFIG_BINDER_PAGE_RANGE_ALLOC=y
	CONFIG_BINDER_PAGE_RANGE_IPC=y
	CONFIG_CGROUPS=y
	CONFIG_DEBUG_FS=y
	CONFIG_MEMCG=y
	CONFIG_USERFAULTFD=y
	EOF
	# The runner's default of 45 s per program is too short for the
	# fuzzer (two minutes by default).
	echo timeout=300 | write "$selftests/settings"
	# In the order of the names.
	# shellcheck disable=SC2016 # an awk program
	edit tools/testing/selftests/Makefile '
		!done && /^TARGETS \+= / && $3 > t { print "TARGETS += " t; done = 1 }
		{ print }' -v t="${selftests#tools/testing/selftests/}"
	maintainers 5
}

patch_samples() {
	put demo/bpr_demo.c "$samples/bpr_demo.c" in_tree_demo
	write "$samples/Makefile" <<-'EOF'
	# SPDX-License-Identifier: GPL-2.0
	userprogs-always-y += bpr_demo

	userccflags += -I usr/include -I $(srctree)/tools/testing/selftests/binder_page_range
	userldlibs := -lpthread
	EOF
	# After the binderfs sample, in both files.
	# shellcheck disable=SC2016 # an awk program
	edit samples/Kconfig '
		{ print }
		/^config SAMPLE_ANDROID_BINDERFS$/ { on = 1 }
		on && /^$/ {
			print "config SAMPLE_BINDER_PAGE_RANGE"
			print "\tbool \"Build the binder page range IPC device example\""
			print "\tdepends on CC_CAN_LINK && HEADERS_INSTALL"
			print "\thelp"
			print "\t  Builds bpr_demo, a client and a server that exchange messages"
			print "\t  of several sizes through /dev/binder_page_range"
			print "\t  (BINDER_PAGE_RANGE_IPC), showing the server'"'"'s page statistics"
			print "\t  as its idle pages are reclaimed under memory pressure and"
			print "\t  come back with new traffic."
			print ""
			on = 0
		}'
	# shellcheck disable=SC2016 # an awk program
	edit samples/Makefile '
		{ print }
		/^subdir-\$\(CONFIG_SAMPLE_ANDROID_BINDERFS\)/ {
			print "subdir-$(CONFIG_SAMPLE_BINDER_PAGE_RANGE) += binder_page_range"
		}'
	maintainers 6
}

patch_docs() {
	local d

	for d in "${docs_in_series[@]}"; do
		put "Documentation/$d.rst" "$docs/$d.rst"
	done
	in_tree_doc_index | write "$docs/index.rst"
	used[Documentation/index.rst]=1
	# In "Subsystem-specific APIs", in the order of the names, as
	# scripts/place-in-tree.sh does.
	edit Documentation/driver-api/index.rst '
		!done && /^   parport-lowlevel$/ { print "   page_range/index"; done = 1 }
		{ print }'
	maintainers 7
}

# patch_binder: the hand-written patch, with its own author, date and
# message, applied with some tolerance: exactly, else with a three-way
# merge from the blobs it names, else with patch(1)'s fuzz.
patch_binder() {
	local p=$binder_patch tmp info

	[ -f "$p" ] || die "patch 4 is missing: $p (the binder_alloc.c conversion, written by hand in git format-patch form) does not exist"
	[ "$(grep -c '^From [0-9a-f]\{40\} ' "$p")" -le 1 ] ||
		die "$p: holds more than one patch"
	tmp=$(mktemp -d)
	info=$(git mailinfo "$tmp/msg" "$tmp/diff" < "$p") ||
		{ rm -rf "$tmp"; die "$p: not a patch in mail form"; }
	BPR_BINDER_AUTHOR=$(sed -n 's/^Author: //p' <<< "$info")
	BPR_BINDER_EMAIL=$(sed -n 's/^Email: //p' <<< "$info")
	BPR_BINDER_DATE=$(sed -n 's/^Date: //p' <<< "$info")
	BPR_BINDER_SUBJECT=$(sed -n 's/^Subject: //p' <<< "$info")
	if [ -z "$BPR_BINDER_AUTHOR" ] || [ -z "$BPR_BINDER_SUBJECT" ] || [ ! -s "$tmp/diff" ]; then
		rm -rf "$tmp"
		die "$p: no author, subject or diff"
	fi
	{ printf '%s\n\n' "$BPR_BINDER_SUBJECT"; cat "$tmp/msg"; } > "$work/.git/bpr-binder-msg"
	if git -C "$work" apply --index "$tmp/diff" 2> "$tmp/err" ||
	   git -C "$work" apply --index --3way "$tmp/diff" 2>> "$tmp/err"; then
		:
	else
		git -C "$work" reset -q --hard
		git -C "$work" clean -qfd
		if ! (cd "$work" && patch -p1 -s -F3 --no-backup-if-mismatch) \
			< "$tmp/diff" >> "$tmp/err" 2>&1; then
			cat "$tmp/err" >&2
			rm -rf "$tmp"
			die "$p does not apply after patch 3, even with fuzz"
		fi
	fi
	rm -rf "$tmp"
}

# commit N NAME: commit the work tree as patch N, with the message
# kernel-patches/series/NN-NAME.msg and a Signed-off-by of the author.
commit() {
	local msg

	msg=$(printf '%s/%02d-%s.msg' "$series" "$1" "$2")
	[ -f "$msg" ] || die "$msg: no message for patch $1"
	# -f: Debian's .gitignore ignores every new top-level entry.
	git -C "$work" add -A -f
	git -C "$work" diff --cached --quiet && die "patch $1 ($2) changes nothing"
	git -C "$work" commit -q -s --cleanup=whitespace -F "$msg"
}

commit_binder() {
	git -C "$work" add -A -f
	git -C "$work" diff --cached --quiet && die "$binder_patch changes nothing"
	GIT_AUTHOR_NAME=$BPR_BINDER_AUTHOR GIT_AUTHOR_EMAIL=$BPR_BINDER_EMAIL \
	GIT_AUTHOR_DATE=$BPR_BINDER_DATE \
		git -C "$work" commit -q -s --cleanup=whitespace \
			-F "$work/.git/bpr-binder-msg"
}

# ---- The trees -------------------------------------------------------------

# The pristine tree, committed once. Its stamp names the tarball (size,
# time) and the commit; the commit is checked against both.
ensure_base() {
	local id stamp commit tmp tree version

	[ -f "$BPR_TARBALL" ] || "$BPR_ROOT/scripts/deps.sh"
	[ -f "$BPR_TARBALL" ] || die "$BPR_TARBALL not found"
	id="$(stat -c '%s %Y' "$BPR_TARBALL") $BPR_TARBALL"
	if [ -f "$base/bpr-stamp" ]; then
		stamp=$(head -n1 "$base/bpr-stamp")
		commit=$(sed -n 2p "$base/bpr-stamp")
		if [ "$stamp" = "$id" ] &&
		   [ "$(git -C "$base" rev-parse -q --verify pristine 2>/dev/null)" = "$commit" ] &&
		   [ "$(git -C "$base" rev-list --count pristine)" = 1 ] &&
		   [ -z "$(git -C "$base" for-each-ref --format=x | sed 1d)" ]; then
			return 0
		fi
		log "$base is not the pristine tree of $BPR_TARBALL: making it again"
	fi
	rm -rf "$base" "$work"
	version=$(dpkg-query -W -f='${Version}' "linux-source-$BPR_KVER" 2>/dev/null || true)
	log "committing the pristine tree of $BPR_TARBALL to $base (once)"
	mkdir -p "$BPR_BUILD"
	tmp=$(mktemp -d "$BPR_BUILD/patches-unpack.XXXXXX")
	tar -C "$tmp" -xf "$BPR_TARBALL"
	git init -q --bare -b pristine "$base"
	tree=(git --git-dir="$base" --work-tree="$tmp/linux-source-$BPR_KVER")
	# -f: the tree as unpacked, whatever its .gitignore files say.
	"${tree[@]}" -c core.looseCompression=1 add -A -f
	GIT_AUTHOR_NAME=Debian GIT_AUTHOR_EMAIL=debian-kernel@lists.debian.org \
	GIT_COMMITTER_NAME=Debian GIT_COMMITTER_EMAIL=debian-kernel@lists.debian.org \
	GIT_AUTHOR_DATE=2025-01-01T00:00:00Z GIT_COMMITTER_DATE=2025-01-01T00:00:00Z \
		"${tree[@]}" commit -q -m "$(basename "$BPR_TARBALL" .tar.xz) $version"
	rm -rf "$tmp"
	commit=$(git -C "$base" rev-parse pristine)
	printf '%s\n%s\n' "$id" "$commit" > "$base/bpr-stamp"
}

# clone_base DIR: DIR is a clone of the pristine tree, clean, its HEAD
# detached at the pristine commit, and its branch "pristine" there too.
# The objects stay in $base (--shared), so it costs one checkout, once.
clone_base() {
	local dir=$1

	if [ "$(git -C "$dir" rev-parse -q --verify origin/pristine 2>/dev/null)" != \
	     "$(git -C "$base" rev-parse pristine)" ]; then
		rm -rf "$dir"
		log "checking out the pristine tree in $dir"
		git clone -q --shared -b pristine "$base" "$dir"
	fi
	git -C "$dir" am --abort > /dev/null 2>&1 || true
	git -C "$dir" reset -q --hard
	git -C "$dir" clean -qfdx
	git -C "$dir" checkout -q --detach origin/pristine
	git -C "$dir" branch -q -f pristine origin/pristine
}

# ---- Subcommands -----------------------------------------------------------

make_series() {
	local f p

	# No patches of an older state stay behind if this run fails.
	rm -rf "$out"
	ensure_base
	clone_base "$work"
	# The series' own branch, for the cover letter's text.
	git -C "$work" checkout -q -B series
	git -C "$work" config branch.series.description "$(cat "$series/00-cover-letter.msg")"

	patch_library;	commit 1 library
	patch_alloc;	commit 2 allocator
	patch_ipc;	commit 3 ipc
	patch_binder;	commit_binder
	patch_tests;	commit 5 tests
	patch_samples;	commit 6 samples
	patch_docs;	commit 7 docs

	# Every file of the repository is in a patch or left out on purpose.
	while IFS= read -r f; do
		[ -f "$BPR_ROOT/$f" ] || continue
		[ -n "${used[$f]:-}" ] || left_out "$f" ||
			die "$f is in no patch: add it to a patch, or to left_out(), in $0"
	done < <(git -C "$BPR_ROOT" ls-files --cached --others --exclude-standard)
	# Nothing of the out-of-tree build is left, and no document is named
	# that the series leaves out.
	p=$(git -C "$work" diff pristine series | grep '^+' |
		grep -E 'page_range_compat|KBUILD_EXTMOD|BINDER_PAGE_RANGE_BENCH|-I\$\(src\)/include' || true)
	[ -z "$p" ] || die "the series still has out-of-tree bits: $p"
	for f in $(git -C "$work" diff pristine series | grep '^+' |
		   grep -oE "$docs/[A-Za-z0-9_-]+\\.rst" | sort -u); do
		[ -f "$work/$f" ] || die "the series names $f, which it does not add"
	done

	mkdir -p "$out"
	git -C "$work" format-patch -q --cover-letter --cover-from-description=subject \
		-o "$out" pristine..series
	if grep -l '\*\*\* \(SUBJECT\|BLURB\) HERE \*\*\*' "$out"/*.patch; then
		die "the cover letter has git's placeholders"
	fi
	log "$(find "$out" -name '*.patch' | wc -l) files in $out:"
	find "$out" -name '*.patch' -printf '    %f\n' | sort >&2
}

check_am() {
	local am=$BPR_BUILD/patches-am patches

	ensure_base
	[ -d "$out" ] || die "no series in $out: run $0 first"
	rm -rf "$am"
	clone_base "$am"
	git -C "$am" checkout -q -b am
	mapfile -t patches < <(find "$out" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
	[ ${#patches[@]} -gt 0 ] || die "no patch in $out"
	git -C "$am" am -q "${patches[@]}"
	[ "$(git -C "$am" rev-list --count pristine..HEAD)" = "${#patches[@]}" ] ||
		die "git am made $(git -C "$am" rev-list --count pristine..HEAD) commits of ${#patches[@]} patches"
	# The same tree as the series was made from.
	[ "$(git -C "$am" rev-parse 'HEAD^{tree}')" = "$(git -C "$work" rev-parse 'series^{tree}')" ] ||
		die "the series applied gives another tree than $work's"
	echo "git am: ${#patches[@]} patches applied to a fresh clone of the pristine tree"
	rm -rf "$am"
}

run_checkpatch() {
	local p=$1 o rc=0

	[ -f "$p" ] || die "$p: no such patch"
	p=$(realpath "$p")
	[ -f "$work/scripts/checkpatch.pl" ] || die "no $work: run $0 first"
	# checkpatch checks SPDX identifiers with scripts/spdxcheck.py, which
	# needs ply and GitPython, and which it skips, saying nothing, when
	# they are missing. The distribution's python3 has what deps.sh
	# installs; another one earlier on PATH (pyenv's, a venv's) may not.
	"$BPR_ROOT/scripts/deps.sh" python3-ply python3-git
	export PATH=/usr/bin:$PATH
	python3 -c 'import ply, git' ||
		die "python3 lacks ply or git: checkpatch would not check licenses"
	# From the tree, which checkpatch checks the patch against.
	o=$(cd "$work" && perl scripts/checkpatch.pl --strict --color=never "$p" 2>&1) || rc=$?
	printf '%s\n' "$o"
	# Any ERROR, WARNING or CHECK fails, as in the file checks.
	if [ "$rc" -ne 0 ] || grep -qE '^(ERROR|WARNING|CHECK):' <<< "$o"; then
		return 1
	fi
}

# The kernel of the build check: allnoconfig with what binder, the driver,
# its tests and sample need, every part of the driver a module but where
# binder selects it, W=1. Small enough for a cold build in minutes.
build_config() {
	cat <<-EOF
	CONFIG_64BIT=y
	CONFIG_SMP=y
	CONFIG_PRINTK=y
	CONFIG_BUG=y
	CONFIG_MULTIUSER=y
	CONFIG_MODULES=y
	CONFIG_MODULE_UNLOAD=y
	CONFIG_CGROUPS=y
	CONFIG_MEMCG=y
	CONFIG_DEBUG_FS=y
	CONFIG_FTRACE=y
	CONFIG_ENABLE_DEFAULT_TRACERS=y
	CONFIG_KUNIT=m
	CONFIG_ANDROID_BINDER_IPC=m
	CONFIG_ANDROID_BINDERFS=y
	CONFIG_ANDROID_BINDER_IPC_SELFTEST=y
	CONFIG_HEADERS_INSTALL=y
	CONFIG_SAMPLES=y
	CONFIG_SAMPLE_BINDER_PAGE_RANGE=y
	CONFIG_BINDER_PAGE_RANGE=m
	CONFIG_BINDER_PAGE_RANGE_ALLOC=m
	CONFIG_BINDER_PAGE_RANGE_IPC=m
	CONFIG_BINDER_PAGE_RANGE_KUNIT_TEST=m
	EOF
}

check_build() {
	local src=$BPR_BUILD/patches-src obj=$BPR_BUILD/patches-obj
	local logs=$BPR_BUILD/logs/patches patches p n=0 t0 t files line sym bad
	local mk rc

	ensure_base
	[ -d "$out" ] || die "no series in $out: run $0 first"
	mapfile -t patches < <(find "$out" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
	[ ${#patches[@]} -gt 0 ] || die "no patch in $out"
	mkdir -p "$obj" "$logs"
	clone_base "$src"
	git -C "$src" checkout -q -B build
	build_config > "$obj/bpr.config"
	mk=(make -C "$src" O="$obj" ARCH=x86_64 "${BPR_X86_CC[@]}" -j"$BPR_JOBS")

	for p in "${patches[@]}"; do
		n=$((n + 1))
		t0=$(now)
		git -C "$src" am -q "$p" || die "$(basename "$p") does not apply"
		# The same configuration for every patch: what it does not know yet
		# is dropped, and an unchanged .config rebuilds nothing.
		flock "$BPR_BUILD/.build.lock" "${mk[@]}" \
			KCONFIG_ALLCONFIG="$obj/bpr.config" allnoconfig \
			> "$logs/$n-config.log" 2>&1 ||
			{ cat "$logs/$n-config.log"; die "$(basename "$p"): allnoconfig failed"; }
		if grep -i 'warning' "$logs/$n-config.log"; then
			die "$(basename "$p"): Kconfig warns"
		fi
		# Each of the driver's symbols that the tree knows has its value.
		while IFS= read -r line; do
			sym=${line%%=*}
			if grep -q "^$sym=\|^# $sym is not set" "$obj/.config" &&
			   ! grep -qxF "$line" "$obj/.config"; then
				die "$(basename "$p"): .config has $(grep "^$sym=\|^# $sym is not set" "$obj/.config"), not $line"
			fi
		done < "$obj/bpr.config"
		# W=1 warns about every file of the tree, which Debian's .gitignore
		# ignores (it ignores every top-level entry): not kept.
		rc=0
		flock "$BPR_BUILD/.build.lock" "${mk[@]}" W=1 2>&1 |
			grep -v 'warning: ignored by one of the .gitignore files$' \
			> "$logs/$n-build.log" || rc=$?
		if [ "$rc" -ne 0 ]; then
			grep -E -B2 -A6 'error:|Error [0-9]+|ERROR:' "$logs/$n-build.log" | tail -n 60
			die "$(basename "$p"): the build fails (log: $logs/$n-build.log)"
		fi
		# Any warning about a file of the series, or from modpost about
		# one of the series' modules.
		files=$(git -C "$src" diff --name-only pristine HEAD | grep -E '\.(c|h)$' |
			sed 's/[.[\*^$]/\\&/g' | paste -sd'|')
		bad=$(grep -E "(^|/)($files):[0-9]+(:[0-9]+)?: (warning|error)|^(WARNING|ERROR): modpost: .*($sub|$samples)/" \
			"$logs/$n-build.log" || true)
		[ -z "$bad" ] || { printf '%s\n' "$bad"; die "$(basename "$p"): warnings (log: $logs/$n-build.log)"; }
		# The userspace tests, once there are some, against the headers
		# the kernel build installed.
		if [ -d "$src/$selftests" ]; then
			make -C "$src/tools/testing/selftests" O="$obj" \
				TARGETS="${selftests#tools/testing/selftests/}" USERCFLAGS=-Werror \
				> "$logs/$n-selftests.log" 2>&1 ||
				{ tail -n 40 "$logs/$n-selftests.log"; die "$(basename "$p"): the selftests do not build"; }
			! grep -E 'warning:' "$logs/$n-selftests.log" ||
				die "$(basename "$p"): the selftests warn"
		fi
		t=$(($(now) - t0))
		echo "$(basename "$p"): builds, W=1 clean (${t}s)"
	done
	# After the last patch every symbol has its value.
	while IFS= read -r line; do
		grep -qxF "$line" "$obj/.config" || die ".config lacks $line after the series"
	done < "$obj/bpr.config"
}

main() {
	local cmd=${1:-series}

	# The series' author: whoever makes it, as git knows them here; where
	# git knows nobody, as on a fresh machine, BPR_PATCHES_NAME and
	# BPR_PATCHES_EMAIL (the static checks give a stand-in).
	BPR_NAME=$(git -C "$BPR_ROOT" config user.name || echo "${BPR_PATCHES_NAME:-}")
	BPR_EMAIL=$(git -C "$BPR_ROOT" config user.email || echo "${BPR_PATCHES_EMAIL:-}")
	if [ -z "$BPR_NAME" ] || [ -z "$BPR_EMAIL" ]; then
		die "no author for the series' Signed-off-by: set git config user.name and user.email in $BPR_ROOT"
	fi
	# The date of every commit: that of this repository's HEAD.
	BPR_DATE=$(git -C "$BPR_ROOT" log -1 --format=%cI 2>/dev/null || echo 2025-01-01T00:00:00+00:00)
	# Nobody's git configuration changes the commits or the patches.
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
	export GIT_AUTHOR_NAME=$BPR_NAME GIT_AUTHOR_EMAIL=$BPR_EMAIL \
	       GIT_COMMITTER_NAME=$BPR_NAME GIT_COMMITTER_EMAIL=$BPR_EMAIL \
	       GIT_AUTHOR_DATE=$BPR_DATE GIT_COMMITTER_DATE=$BPR_DATE

	case $cmd in
	ident) printf '%s <%s>\n' "$BPR_NAME" "$BPR_EMAIL" ;;
	series) make_series ;;
	check-am) check_am ;;
	checkpatch) [ $# -eq 2 ] || die "usage: $0 checkpatch PATCH"; run_checkpatch "$2" ;;
	check-build) check_build ;;
	*) die "usage: $0 [ident | check-am | checkpatch PATCH | check-build]" ;;
	esac
}

main "$@"; exit
