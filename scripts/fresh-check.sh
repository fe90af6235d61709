#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check" on a fresh Debian 12 machine, as a new user runs it: a
# minimal Debian 12 root made with debootstrap under $PR_BUILD/fresh,
# with the package sources a Debian 12 installation has (bookworm,
# bookworm-updates, bookworm-security), a clean clone of HEAD in it, and
# there, as root in a chroot with an empty environment, the lines of
# README's "Two commands" block exactly as written: the apt-get line,
# make check and make demo. Nothing of this machine's is used but its
# kernel, /proc, /sys and /dev: no installed package, no ccache, no
# kernel tree. Prints the totals of make check and the cold time of each
# line. Not part of make check: it is a cold build of everything.
#
# PR_FRESH_MIRROR names the Debian mirror (http://deb.debian.org/debian).
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ "$(id -u)" -eq 0 ] || pr_die "fresh-check needs root (debootstrap, chroot, mounts)"
"$PR_ROOT/scripts/deps.sh" debootstrap

fresh=$PR_BUILD/fresh
root=$fresh/root
mirror=${PR_FRESH_MIRROR:-http://deb.debian.org/debian}
clone=/root/binder-page-range
logs=$PR_BUILD/logs
mkdir -p "$logs"

mounts=()
umount_all() {
	local i

	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${mounts[i]}" 2> /dev/null || true
	done
}
trap umount_all EXIT

# A root of an earlier run may still have file systems mounted in it.
for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
	umount -l "$m"
done
rm -rf "$fresh"
mkdir -p "$fresh"

start=$(pr_now)
pr_log "debootstrap: a minimal Debian 12 in $root (log: $logs/fresh-debootstrap.log)"
debootstrap --variant=minbase bookworm "$root" "$mirror" \
	> "$logs/fresh-debootstrap.log" 2>&1 ||
	{ tail -n 20 "$logs/fresh-debootstrap.log" >&2; pr_die "debootstrap failed"; }
t_root=$(($(pr_now) - start))

# The sources of a Debian 12 installation, and the host's name servers.
rm -f "$root/etc/apt/sources.list"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<END
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
END
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The clone, as a user makes it, from HEAD; git is not in the root yet.
git clone -q --no-hardlinks "$PR_ROOT" "$root$clone"
git -C "$root$clone" remote remove origin

for m in proc sys dev dev/pts; do
	mount --bind "/$m" "$root/$m"
	mounts+=("$root/$m")
done
# QEMU and kunit.py's UML kernel want a tmpfs /dev/shm and /tmp.
mount -t tmpfs tmpfs "$root/tmp"
mounts+=("$root/tmp")

# README's "Two commands" block: its lines, run one by one.
awk '/^## / { on = ($0 == "## Two commands") } on && /^```/ { n++; next } on && n == 1' \
	"$PR_ROOT/README.md" > "$fresh/readme-lines"
[ -s "$fresh/readme-lines" ] || pr_die "README.md has no \"Two commands\" block"
grep -q '^make check' "$fresh/readme-lines" || pr_die "README's block has no make check"

status=0
: > "$fresh/times"
: > "$logs/fresh-check.log"
while IFS= read -r line; do
	pr_log "fresh root: $line"
	t0=$(pr_now)
	rc=0
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd $clone && $line" < /dev/null 2>&1 |
		tee -a "$logs/fresh-check.log" || rc=$?
	printf '%6d s  %s (exit %d)\n' $(($(pr_now) - t0)) "$line" "$rc" >> "$fresh/times"
	if [ "$rc" -ne 0 ]; then
		status=1
		pr_log "fresh root: \"$line\" exited $rc"
		break
	fi
done < "$fresh/readme-lines"

echo
echo "fresh-check: a Debian 12 root (debootstrap, $t_root s), then README's lines:"
sed 's/^/  /' "$fresh/times"
echo "  total $(($(pr_now) - start)) s"
totals=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logs/fresh-check.log" | tail -n 1 || true)
echo "make check in the fresh root: ${totals:-no totals}"
exit $status
