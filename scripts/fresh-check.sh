#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check" on a fresh Debian 12 machine, as a new user runs it: a
# minimal Debian 12 root made with debootstrap under $BPR_BUILD/fresh,
# with the package sources a Debian 12 installation has (bookworm,
# bookworm-updates, bookworm-security), a clean clone of HEAD in it, and
# there, as root in a chroot with an empty environment, the lines of
# README's "Two commands" block exactly as written: the apt-get line,
# make check and make demo. Nothing of this machine's is used but its
# kernel, /proc, /sys and /dev: no installed package, no ccache, no
# kernel tree. Prints the totals of make check and the cold time of each
# line. Not part of make check: it is a cold build of everything.
#
# BPR_FRESH_MIRROR names the Debian mirror (http://deb.debian.org/debian);
# BPR_FRESH_LINES=N runs only the block's first N lines (to try the root).
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ "$(id -u)" -eq 0 ] || die "fresh-check needs root (debootstrap, chroot, mounts)"
# In a mount namespace of its own: the root's mounts go with this
# process, however it ends, and never show on the host, so that no
# later rm -rf of build/ can reach the host's /dev through them.
if [ -z "${BPR_FRESH_NS:-}" ]; then
	BPR_FRESH_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

# The host needs debootstrap and git, nothing of the project's setup.
need=()
for p in debootstrap git; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'ok installed' ||
		need+=("$p")
done
if [ ${#need[@]} -ne 0 ]; then
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

fresh=$(realpath -m "$BPR_BUILD/fresh")
root=$fresh/root
mirror=${BPR_FRESH_MIRROR:-http://deb.debian.org/debian}
clone=/root/binder-page-range
logs=$BPR_BUILD/logs
mkdir -p "$logs"

# --one-file-system: nothing mounted under the old root, if anything is.
rm -rf --one-file-system "$fresh"
mkdir -p "$fresh"

# The clone, as a user makes it, from HEAD, before the slow part. Git
# refuses a repository of another owner unless its global config says
# it is safe; a file of its own says so for this one.
printf '[safe]\n\tdirectory = %s\n' "$BPR_ROOT" > "$fresh/gitconfig"
GIT_CONFIG_GLOBAL=$fresh/gitconfig git clone -q --no-hardlinks "$BPR_ROOT" "$fresh/clone"
git -C "$fresh/clone" remote remove origin

start=$(now)
log "debootstrap: a minimal Debian 12 in $root (log: $logs/fresh-debootstrap.log)"
debootstrap --variant=minbase bookworm "$root" "$mirror" \
	> "$logs/fresh-debootstrap.log" 2>&1 ||
	{ tail -n 20 "$logs/fresh-debootstrap.log" >&2; die "debootstrap failed"; }
t_root=$(($(now) - start))

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

mv "$fresh/clone" "$root$clone"

for m in proc sys dev dev/pts; do
	mount --bind "/$m" "$root/$m"
done
# As on a Debian system: tmpfs on /dev/shm (where kunit.py's UML kernel
# keeps its memory), /run and /tmp.
for m in dev/shm run tmp; do
	mkdir -p "$root/$m"
	mount -t tmpfs tmpfs "$root/$m"
done

# README's "Two commands" block: its lines, run one by one.
awk '/^## / { on = ($0 == "## Two commands") } on && /^```/ { n++; next } on && n == 1' \
	"$BPR_ROOT/README.md" > "$fresh/readme-lines"
[ -s "$fresh/readme-lines" ] || die "README.md has no \"Two commands\" block"
grep -q '^make check' "$fresh/readme-lines" || die "README's block has no make check"
if [ -n "${BPR_FRESH_LINES:-}" ]; then
	head -n "$BPR_FRESH_LINES" "$fresh/readme-lines" > "$fresh/readme-lines.n"
	mv "$fresh/readme-lines.n" "$fresh/readme-lines"
fi

status=0
: > "$fresh/times"
: > "$logs/fresh-check.log"
while IFS= read -r line; do
	log "fresh root: $line"
	t0=$(now)
	rc=0
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd $clone && $line" < /dev/null 2>&1 |
		tee -a "$logs/fresh-check.log" || rc=$?
	printf '%6d s  %s (exit %d)\n' $(($(now) - t0)) "$line" "$rc" >> "$fresh/times"
	if [ "$rc" -ne 0 ]; then
		status=1
		log "fresh root: \"$line\" exited $rc"
		break
	fi
done < "$fresh/readme-lines"

echo
echo "fresh-check: a Debian 12 root (debootstrap, $t_root s), then README's lines:"
sed 's/^/  /' "$fresh/times"
echo "  total $(($(now) - start)) s"
totals=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logs/fresh-check.log" | tail -n 1 || true)
echo "make check in the fresh root: ${totals:-no totals}"
exit $status
