#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack Debian's linux-source tarball into $PR_KSRC once.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ -f "$PR_KSRC/Makefile" ] && exit 0
[ -f "$PR_TARBALL" ] || "$PR_ROOT/scripts/deps.sh"
[ -f "$PR_TARBALL" ] || pr_die "$PR_TARBALL not found"

pr_log "unpacking $PR_TARBALL into $PR_BUILD"
mkdir -p "$PR_BUILD"
tmp=$(mktemp -d "$PR_BUILD/unpack.XXXXXX")
tar -C "$tmp" -xf "$PR_TARBALL"
mv "$tmp/linux-source-$PR_KVER" "$PR_KSRC"
rmdir "$tmp"
