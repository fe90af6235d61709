#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test scripts' own decisions that a run cannot show: which boots
# panic on what (panic_args() in scripts/common.sh), which kernel
# reports fail a run (scripts/log-scan.sh), and that the scripts get going
# on a fresh Debian machine, where scripts/deps.sh has yet to install
# their tools; and that README.md's Layout table names every source file.
# scripts/static-checks.sh runs each case as one test.
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
[   16.200000] BPR-VM-END failures=0
END
}

# scan EXPECTED LOG: log-scan.sh with the KCSAN run's scope exits EXPECTED.
scan() {
	local rc=0

	LOG_SCAN_KCSAN_SCOPE=$BPR_KCSAN_SCOPE "$BPR_ROOT/scripts/log-scan.sh" \
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

	args=$(panic_args "$BPR_ROOT/configs/kcsan.config")
	[[ " $args " != *" panic_on_warn=1 "* ]] ||
		{ echo "KCSAN boot args: $args"; return 1; }
	[[ " $args " == *" oops=panic "* ]] ||
		{ echo "KCSAN boot args: $args"; return 1; }
}

# Every other test kernel panics on a warning, and the KASAN ones on a
# KASAN report.
case_kasan_boot_panics() {
	local args

	args=$(panic_args "$BPR_ROOT/configs/x86_64.config")
	[[ " $args " == *" panic_on_warn=1 "* && " $args " == *" kasan.fault=panic "* ]] ||
		{ echo "KASAN boot args: $args"; return 1; }
}

# kunit-min runs kunit.py as the README tells users, with only the
# kernel arguments of every test boot added: a warning panics there too.
case_kunit_min_boot_panics() {
	local p=$tmp/proj a want

	mkdir -p "$p/scripts" "$p/tests"
	cp "$BPR_ROOT/scripts/common.sh" "$BPR_ROOT/scripts/kunit-min.sh" \
		"$p/scripts/"
	cp "$BPR_ROOT/tests/.kunitconfig" "$p/tests/"
	# kunit-run.sh's arguments are kunit.py's, after the suite's name.
	printf '#!/bin/bash\nprintf "%%s\\n" "$@"\n' > "$p/scripts/kunit-run.sh"
	chmod +x "$p/scripts/kunit-run.sh"
	bash "$p/scripts/kunit-min.sh" > "$tmp/out" 2>&1 ||
		{ cat "$tmp/out"; echo "kunit-min.sh failed"; return 1; }
	want=(kunit-min --arch=x86_64)
	# shellcheck disable=SC2086 # a list of kernel arguments
	for a in $BPR_PANIC_ARGS; do
		want+=("--kernel_args=$a")
	done
	for a in "${want[@]}"; do
		grep -qxF -- "$a" "$tmp/out" ||
			{ cat "$tmp/out"; echo "kunit-min: no $a"; return 1; }
	done
	if grep -E -- '^--(kconfig_add|kunitconfig|qemu_args)' "$tmp/out"; then
		echo "kunit-min: more than kernel arguments added"
		return 1
	fi
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
[    5.100000] BPR-VM-END failures=0
END
	scan 1 "$tmp/log"
}

# kmemleak's own count covers the whole kernel; /init keeps, and copies
# to the log, the reports through the driver, which alone fail the run.
case_scan_ignores_leaks_outside_driver() {
	cat > "$tmp/log" <<END
[  116.988389] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
[  117.101681]   kmemleak after rmmod: 2 suspect(s), 0 through the driver
[  117.115243] BPR-VM-END failures=0
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
[  117.115243] BPR-VM-END failures=0
END
	scan 1 "$tmp/log"
}

# A fresh Debian 12 machine, simulated in $tmp/fresh/bin, the only
# directory on PATH: the commands of a minimal Debian system (the
# Priority: required packages that debootstrap --variant=minbase
# installs), a dpkg-query that knows no package, an apt-get that records
# what it is asked, and a sudo that runs its command. No ccache, gcc,
# clang, make, git, qemu, sparse or python3.
fresh_machine() {
	local bin=$tmp/fresh/bin c p

	mkdir -p "$bin"
	for c in bash sh cat cp mv rm rmdir mkdir mktemp ls ln chmod dirname \
		 basename readlink realpath env id sed grep head tail tr cut \
		 sort uniq wc tee touch date nproc sleep stat find xargs gzip \
		 tar uname flock cmp diff perl mawk awk dpkg; do
		p=$(PATH=/usr/bin:/bin:/usr/sbin:/sbin type -P "$c") ||
			{ echo "no $c on this machine"; return 1; }
		ln -sf "$p" "$bin/$c"
	done
	cat > "$bin/dpkg-query" <<END
#!/bin/bash
printf '%s\\n' "\$*" >> "$tmp/fresh/dpkg-query.log"
exit 1
END
	cat > "$bin/apt-get" <<END
#!/bin/bash
printf '%s\\n' "\$*" >> "$tmp/fresh/apt-get.log"
END
	printf '#!/bin/bash\nexec "$@"\n' > "$bin/sudo"
	chmod +x "$bin/dpkg-query" "$bin/apt-get" "$bin/sudo"
	: > "$tmp/fresh/dpkg-query.log"
	: > "$tmp/fresh/apt-get.log"
}

# fresh_env COMMAND...: COMMAND in the fresh machine's environment, with
# none of this one's variables (BPR_CCACHE among them).
fresh_env() {
	env -i HOME="$tmp/fresh" PATH="$tmp/fresh/bin" BPR_BUILD="$tmp/build" "$@"
}

# Every script that sources common.sh gets past it on a fresh machine,
# under its own "set" options: a probe for a tool that is not installed
# yet (ccache) must not end it.
case_fresh_machine_sources_common() {
	local f n bad=0

	fresh_machine || return 1
	for f in $(grep -l '^\. .*common\.sh' "$BPR_ROOT"/scripts/*.sh \
		   "$BPR_ROOT"/tests/*/*.sh); do
		n=$(grep -n '^\. .*common\.sh' "$f" | head -n 1 | cut -d: -f1)
		# bash -c sets $0 to the script, from which it finds common.sh.
		fresh_env bash -c \
			"$(head -n "$n" "$f"); echo PR-SOURCED" "$f" \
			> "$tmp/out" 2>&1 || true
		if ! grep -qx PR-SOURCED "$tmp/out"; then
			echo "${f#"$BPR_ROOT"/}: stops while sourcing common.sh"
			bad=1
		fi
	done
	return $bad
}

# On a fresh machine, deps.sh installs every package it checks for, in
# one apt-get install, and exits 0.
case_fresh_machine_deps_installs_all() {
	local p rc=0

	fresh_machine || return 1
	fresh_env bash "$BPR_ROOT/scripts/deps.sh" \
		> "$tmp/out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$tmp/out"
		echo "deps.sh exited $rc"
		return 1
	fi
	grep -qx 'update.*' "$tmp/fresh/apt-get.log" ||
		{ echo "no apt-get update"; cat "$tmp/fresh/apt-get.log"; return 1; }
	[ "$(grep -c '^install ' "$tmp/fresh/apt-get.log")" -eq 1 ] ||
		{ echo "not one apt-get install"; cat "$tmp/fresh/apt-get.log"; return 1; }
	for p in $(awk '{ print $NF }' "$tmp/fresh/dpkg-query.log") ccache \
		 clang make qemu-system-x86 linux-source-6.12; do
		grep -q "^install .* $p\( \|$\)" "$tmp/fresh/apt-get.log" ||
			{ echo "$p not installed"; cat "$tmp/fresh/apt-get.log"; return 1; }
	done
}

# make in-tree installs nothing: on a fresh machine it names what it
# lacks (rsync) before it changes the tree.
case_fresh_machine_in_tree_names_rsync() {
	local k=$tmp/linux rc=0

	fresh_machine || return 1
	mkdir -p "$k/drivers/android"
	touch "$k/Makefile" "$k/drivers/android/Kconfig" "$k/drivers/android/Makefile"
	fresh_env bash "$BPR_ROOT/scripts/place-in-tree.sh" "$k" > "$tmp/out" 2>&1 ||
		rc=$?
	if [ "$rc" -eq 0 ] || ! grep -q 'rsync is needed' "$tmp/out"; then
		cat "$tmp/out"
		echo "place-in-tree.sh exited $rc"
		return 1
	fi
	[ ! -e "$k/drivers/android/page_range" ] ||
		{ echo "place-in-tree.sh changed the tree first"; return 1; }
}

# The tracked source files (git ls-files, or find outside a git
# checkout): C sources and headers, scripts (by name or by a "#!" line),
# Kbuild, Kconfig and Makefiles, config fragments and .kunitconfig.
# On a fresh machine git knows no user: make-patches.sh refuses to sign a
# series for nobody, and signs with the stand-in that the static checks
# give it, while a user git knows still comes first.
case_fresh_machine_series_identity() {
	local sc=$BPR_ROOT/scripts/static-checks.sh name email got

	name=$(sed -n 's/.*BPR_PATCHES_NAME="\([^"]*\)".*/\1/p' "$sc")
	email=$(sed -n 's/.*BPR_PATCHES_EMAIL=\([^ ]*\)$/\1/p' "$sc")
	[ -n "$name" ] && [ -n "$email" ] ||
		{ echo "static-checks.sh gives no stand-in"; return 1; }
	# ident: make-patches.sh's author, on a machine whose git knows nobody.
	ident() {
		env HOME="$tmp" GIT_CONFIG_NOSYSTEM=1 "$@" \
			"$BPR_ROOT/scripts/make-patches.sh" ident
	}
	if got=$(ident 2>&1); then
		echo "signed for nobody: $got"
		return 1
	fi
	got=$(ident BPR_PATCHES_NAME="$name" BPR_PATCHES_EMAIL="$email")
	[ "$got" = "$name <$email>" ] || { echo "stand-in: $got"; return 1; }
	got=$(ident BPR_PATCHES_NAME="$name" BPR_PATCHES_EMAIL="$email" \
		GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=user.name GIT_CONFIG_VALUE_0=A \
		GIT_CONFIG_KEY_1=user.email GIT_CONFIG_VALUE_1=a@example.org)
	[ "$got" = "A <a@example.org>" ] || { echo "git's user: $got"; return 1; }
}

source_files() {
	local files f

	files=$(git -C "$BPR_ROOT" ls-files 2> /dev/null || true)
	if [ -z "$files" ]; then
		files=$(cd "$BPR_ROOT" && find . \( -path ./build -o -path ./.git \) \
			-prune -o -type f -print | sed 's|^\./||')
	fi
	for f in $files; do
		# Deleted from the work tree, not yet from the index.
		[ -e "$BPR_ROOT/$f" ] || continue
		case ${f##*/} in
		*.c | *.h | *.sh | *.py | *.config | .kunitconfig | Kbuild | \
		Kconfig | Makefile)
			echo "$f"
			;;
		*)
			if [ "$(head -c 2 "$BPR_ROOT/$f" 2> /dev/null)" = '#!' ]; then
				echo "$f"
			fi
			;;
		esac
	done
}

# README.md's Layout table names every source file: each is, or lies under
# a directory that is, a path in backquotes in a row's first column; and
# every such path exists.
case_readme_layout_lists_every_file() {
	local f p ok bad=0

	# shellcheck disable=SC2016 # backquotes, not an expansion
	awk '/^## / { on = ($0 == "## Layout") } on && /^\| *`/' \
		"$BPR_ROOT/README.md" | cut -d'|' -f2 | grep -o '`[^`]*`' |
		tr -d '`' > "$tmp/rows" || true
	[ -s "$tmp/rows" ] || { echo "README.md: no Layout table"; return 1; }
	while read -r p; do
		[ -e "$BPR_ROOT/$p" ] ||
			{ echo "README.md Layout: $p does not exist"; bad=1; }
	done < "$tmp/rows"
	for f in $(source_files); do
		ok=
		while read -r p; do
			p=${p%/}
			if [ "$f" = "$p" ] || [[ $f == "$p"/* ]]; then
				ok=1
				break
			fi
		done < "$tmp/rows"
		[ -n "$ok" ] || { echo "README.md Layout: no row for $f"; bad=1; }
	done
	return $bad
}

case_scan_passes_clean_log() {
	printf '[    1.000000] BPR-VM: init started\n[    2.000000] BPR-VM-END failures=0\n' > "$tmp/log"
	scan 0 "$tmp/log"
}

[ $# -eq 1 ] || { echo "usage: $0 list | CASE" >&2; exit 2; }
if [ "$1" = list ]; then
	declare -F | sed -n 's/^declare -f case_//p'
	exit 0
fi
"case_$1"
