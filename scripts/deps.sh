#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages the build and the tests need, if missing,
# and any named on the command line (make bench adds gnuplot). The
# kernel's htmldocs needs python3-yaml besides Sphinx: it generates the
# netlink specs' pages with a script that imports yaml, whatever
# SPHINXDIRS says.
set -euo pipefail
. "$(dirname "$0")/common.sh"

pkgs=(linux-source-$BPR_KVER build-essential make git flex bison bc libelf-dev
      libssl-dev cpio kmod python3 qemu-system-x86 busybox-static sparse
      rsync patch clang lld llvm perl gzip xz-utils ccache python3-sphinx
      python3-yaml "$@")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

log "installing: ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
	--no-install-recommends "${missing[@]}"
