#!/usr/bin/env bash
# Builds tandem-server_<version>_amd64.deb with dpkg-deb (no cargo-deb, nothing downloaded):
# the binary (stripped) in /usr/bin, the systemd unit in /lib/systemd/system, the settings file
# /etc/tandem-server/server.toml as a conffile, the maintainer scripts that make the system
# user `tandem-server` and /var/lib/tandem-server, and copyright, changelog and the IT guide
# in /usr/share/doc/tandem-server. Prints the path of the .deb (the only line on stdout).
#
#   scripts/lib/server-deb.sh                   # builds tandem-server (release) first and packs
#                                               # $CARGO_TARGET_DIR/release/tandem-server
#   scripts/lib/server-deb.sh --prebuilt BINARY # packs BINARY as it is: scripts/test packs the
#                                               # debug build its tests and the desktop's
#                                               # package build made (CI time, docs/it-guide.md)
#
# Honours CARGO_TARGET_DIR. The .deb goes into bundle/deb/ beside the binary's directory
# (release/bundle/deb/ or debug/bundle/deb/), where the desktop's packages are.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
files=packaging/server-deb

usage="usage: server-deb.sh [--prebuilt BINARY]"
case "${1:-}" in
  --prebuilt)
    binary="${2:?$usage}"
    [ -x "$binary" ] || { echo "server-deb: --prebuilt, but there is no $binary" >&2; exit 1; } ;;
  '')
    binary="$target_dir/release/tandem-server"
    cargo build -q --release -p tandem-server >&2 ;;
  *) echo "server-deb: unknown argument $1 ($usage)" >&2; exit 2 ;;
esac
version="$("$binary" --version | awk '{print $2}')"
changelog_version="$(sed -n '1s/^tandem-server (\([^)]*\)).*/\1/p' "$files/changelog")"
if [ "$version" != "$changelog_version" ]; then
  echo "server-deb: the binary is version $version but $files/changelog starts with $changelog_version; add an entry" >&2
  exit 1
fi

# Dependencies from what the binary links: every shared library must be known here, so that
# a new one fails the build instead of making a package that does not start.
glibc=2.17
depends=(adduser)
while read -r library; do
  case "$library" in
    libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux-x86-64.so.2) ;;
    libgcc_s.so.1) depends+=(libgcc-s1) ;;
    *) echo "server-deb: tandem-server links $library; add its Debian package to $0" >&2; exit 1 ;;
  esac
done < <(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}')
glibc="$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | { cat; echo "$glibc"; } | sort -V | tail -1)"
depends+=("libc6 (>= $glibc)")

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/tandem-server"
doc="$root/usr/share/doc/tandem-server"
# Stripped (Debian policy 10.1): a release build already is, a debug build is not.
install -D -s -m 0755 "$binary" "$root/usr/bin/tandem-server"
install -D -m 0644 packaging/tandem-server.service "$root/lib/systemd/system/tandem-server.service"
install -D -m 0644 "$files/server.toml" "$root/etc/tandem-server/server.toml"
install -D -m 0644 packaging/deb/copyright "$doc/copyright"
install -m 0644 docs/it-guide.md "$doc/it-guide.md"
gzip -9nc "$files/changelog" >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

install -d "$root/DEBIAN"
install -m 0755 "$files/postinst" "$files/prerm" "$files/postrm" "$root/DEBIAN/"
echo /etc/tandem-server/server.toml >"$root/DEBIAN/conffiles"
(cd "$root" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
dependencies="$(printf '%s, ' "${depends[@]}")"
cat >"$root/DEBIAN/control" <<EOF
Package: tandem-server
Version: $version
Architecture: amd64
Maintainer: Tandem developers <tandem-dev@example.org>
Installed-Size: $installed_size
Depends: ${dependencies%, }
Section: net
Priority: optional
Homepage: https://example.org/tandem
Description: Tandem sync server for coaching teams
 The central municipal server of Tandem, an offline-first app for coaches:
 the sync API, sign-in and roles, conflict review, the audit log and
 retention. It keeps its data in SQLite (/var/lib/tandem-server) for a
 pilot or in PostgreSQL for production, and serves Prometheus metrics.
 .
 The package runs it as the systemd service tandem-server under a system
 user of the same name.
EOF

out_dir="$(dirname "$binary")/bundle/deb"
mkdir -p "$out_dir"
deb="$out_dir/tandem-server_${version}_amd64.deb"
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >&2
echo "$deb"
