#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's own 6.12 kernel, as a Debian 12 user who runs insmod has it.
# The newest linux-headers-6.12.*+deb12-amd64 that apt offers is
# fetched and the module built against it as README's "Using the module
# in your own kernel" says; the same version's unsigned image is fetched
# with apt-get download and unpacked, not installed, and its vmlinuz
# boots in the VM of scripts/vm-run.sh. There the module is loaded and
# every userspace suite runs; binder_test runs on Debian's own
# binder_linux.ko through /dev/binder, as that kernel has no binderfs.
# The kernel is Debian's: its hardening, an unsigned module that only
# taints, PER_VMA_LOCK and memcg, no KASAN or lockdep (suite distro-6.12).
#
# BPR_DISTRO_VERSION names another version (6.12.111+deb12-amd64, say).
# Downloads stay in $BPR_BUILD/distro/cache: a second run fetches nothing.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# The selftests harness, for the userspace tests.
"$BPR_ROOT/scripts/kernel-src.sh"

dir=$BPR_BUILD/distro
cache=$dir/cache
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

newest() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		sed -nE 's/^linux-headers-([^ ]+) .*/\1/p' | sort -V | tail -n 1
}

ver=${BPR_DISTRO_VERSION:-$(newest || true)}
if [ -z "$ver" ]; then
	# Package lists older than the security archive's kernels.
	$SUDO apt-get update -q
	ver=$(newest || true)
fi
[ -n "$ver" ] ||
	die "apt offers no linux-headers-6.12.*+deb12-amd64 (is bookworm-security in the sources?)"
log "Debian kernel $ver"

# The headers' tree needs gcc-12 (build-essential's gcc) and, for the
# modules' BTF, pahole.
"$BPR_ROOT/scripts/deps.sh" gcc-12 pahole

# download PACKAGE: its .deb into $cache. A .deb that a cut-off download
# left behind does not count.
download() {
	local deb

	mkdir -p "$cache"
	# apt's _apt user cannot write to $cache: apt says so and downloads
	# as root instead.
	(cd "$cache" && apt-get download -q "$1" 2>&1 |
		grep -v 'unsandboxed as root' >&2 || true)
	for deb in "$cache/$1"_*.deb; do
		[ -f "$deb" ] || continue
		dpkg-deb --info "$deb" > /dev/null 2>&1 || rm -f "$deb"
	done
}

# fetch PACKAGE: the path of its .deb in $cache, downloaded once. Package
# lists older than the archive name a version it no longer has: apt's
# lists are updated once before giving up.
fetch() {
	if ! ls "$cache/$1"_*.deb > /dev/null 2>&1; then
		log "downloading $1"
		download "$1"
		if ! ls "$cache/$1"_*.deb > /dev/null 2>&1; then
			$SUDO apt-get update -q >&2
			download "$1"
		fi
	fi
	ls "$cache/$1"_*.deb 2> /dev/null | tail -n 1 | grep . ||
		die "could not download $1"
}

# unpack DIR PACKAGE...: the packages' files under DIR, once.
unpack() {
	local root=$1 p deb

	shift
	[ -f "$root/.unpacked" ] && return 0
	rm -rf "$root"
	for p in "$@"; do
		deb=$(fetch "$p")
		dpkg-deb -x "$deb" "$root"
	done
	touch "$root/.unpacked"
}

# The headers are unpacked, not installed: linux-headers-VERSION depends
# on Debian's kernel image of that version, and installing it would make
# that kernel the host's. Under $hdr they are what the packages install
# under /, with the two absolute paths they hold (the common tree, which
# the arch tree's Makefile includes, and /lib/modules/VERSION/build) made
# to point inside $hdr.
hdr=$dir/headers-$ver
kbuild_ver=${ver%-amd64}
unpack "$hdr" "linux-headers-$ver" "linux-headers-$kbuild_ver-common" \
	"linux-kbuild-$kbuild_ver"
sed -i "s|^include /usr/src/|include $hdr/usr/src/|" \
	"$hdr/usr/src/linux-headers-$ver/Makefile"
ln -sfn "../../../usr/src/linux-headers-$ver" "$hdr/lib/modules/$ver/build"
kdir=$hdr/lib/modules/$ver/build
[ -f "$kdir/Makefile" ] || die "linux-headers-$ver has no $kdir"

img=$dir/image-$ver
unpack "$img" "linux-image-$ver-unsigned"
binder_xz=$img/lib/modules/$ver/kernel/drivers/android/binder_linux.ko.xz
[ -f "$binder_xz" ] || die "no binder_linux.ko.xz in linux-image-$ver-unsigned"

# The module, built from a clean copy of the sources exactly as README
# says, with KDIR the headers' tree.
src=$dir/src
rm -rf "$src"
mkdir -p "$src"
rsync -a --exclude=/build/ --exclude=/.git/ --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude=Module.symvers --exclude=modules.order "$BPR_ROOT/" "$src/"
log "building the module against $kdir"
make -C "$src" KDIR="$kdir" > "$dir/module.log" 2>&1 ||
	{ cat "$dir/module.log" >&2; die "the module did not build against $kdir"; }
for m in binder_page_range bpa_alloc binder_page_range_ipc; do
	[ -f "$src/$m.ko" ] || die "no $m.ko in $src"
done

# The userspace suites, and the binder test for Debian's binder.
tests=$dir/tests
rm -rf "$tests"
mkdir -p "$tests"
for t in user binder; do
	make -s -C "$BPR_ROOT/tests/$t" KSFT="$BPR_KSRC/tools/testing/selftests" \
		OUTPUT="$tests"
done
# busybox insmod reads no .ko.xz.
xz -dc "$binder_xz" > "$dir/binder_linux.ko"

# binder_linux.ko has no exit function, so it stays loaded to the end.
BPR_VM_KBUILD=$dir BPR_VM_BZIMAGE=$img/boot/vmlinuz-$ver \
BPR_VM_KCONFIG=$img/boot/config-$ver BPR_VM_SUITE=distro-6.12-vm \
BPR_VM_USER_SUITE=distro-6.12 BPR_VM_TESTS=$tests \
BPR_VM_MODULES="$dir/binder_linux.ko:devices=binder $src/binder_page_range.ko $src/bpa_alloc.ko $src/binder_page_range_ipc.ko" \
BPR_VM_KUNIT_MODULE= BPR_VM_APPEND=BINDER_TEST_DEVICE=/dev/binder \
BPR_VM_KEEP=binder_linux.ko \
	exec "$BPR_ROOT/scripts/vm-run.sh"
