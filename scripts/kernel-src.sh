#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack Debian's linux-source tarball into $BPR_KSRC once.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ -f "$BPR_KSRC/Makefile" ] && exit 0
[ -f "$BPR_TARBALL" ] || "$BPR_ROOT/scripts/deps.sh"
[ -f "$BPR_TARBALL" ] || die "$BPR_TARBALL not found"

log "unpacking $BPR_TARBALL into $BPR_BUILD"
mkdir -p "$BPR_BUILD"
tmp=$(mktemp -d "$BPR_BUILD/unpack.XXXXXX")
tar -C "$tmp" -xf "$BPR_TARBALL"
mv "$tmp/linux-source-$BPR_KVER" "$BPR_KSRC"
rmdir "$tmp"
