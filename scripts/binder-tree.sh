#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel tree of binder on the page range: Debian's linux-source with
# kernel-patches/binder_alloc-use-the-page-range.patch applied, in
# $BPR_BINDER_KSRC. A tree of its own, since every other kernel builds
# stock binder from $BPR_KSRC. Unpacked again when the patch changes; the
# files it does not touch keep the tarball's times, so the kernels built
# from it rebuild incrementally.
set -euo pipefail
. "$(dirname "$0")/common.sh"

stamp=$BPR_BINDER_KSRC/.binder-alloc-patch
want=$(sha256sum < "$BPR_BINDER_PATCH")
want=${want%% *}
if [ -f "$BPR_BINDER_KSRC/Makefile" ] && [ "$(cat "$stamp" 2> /dev/null)" = "$want" ]; then
	exit 0
fi

log "unpacking $BPR_BINDER_KSRC and applying ${BPR_BINDER_PATCH##*/}"
rm -rf --one-file-system "$BPR_BINDER_KSRC"
BPR_KSRC=$BPR_BINDER_KSRC "$BPR_ROOT/scripts/kernel-src.sh"
patch -d "$BPR_BINDER_KSRC" -p1 -s --no-backup-if-mismatch < "$BPR_BINDER_PATCH" ||
	die "${BPR_BINDER_PATCH##*/} does not apply to linux-source-$BPR_KVER"
echo "$want" > "$stamp"
