#!/usr/bin/env bash
# Installs the desktop .deb into a fresh Debian 12 root, as IT would on a laptop, and checks
# install, upgrade and removal with the installed app itself:
#
#   1. debootstrap a minimal bookworm root; install the .deb with apt (which pulls its
#      dependencies from Debian) plus what the test needs inside (D-Bus, gnome-keyring,
#      WebKitWebDriver; tauri-driver is copied in);
#   2. provision it (/etc/tandem/config.toml naming a tandem-server that runs on the host, an
#      organisation CA, and [updates] from an HTTPS update endpoint on the host whose
#      certificate that CA signed, with the public key of an update key made here);
#   3. start the installed /usr/bin/tandem-desktop under Xvfb through WebDriver: it shows the
#      provisioned server read-only; a coach signs in and registers a client, which syncs;
#   4. update it through the app: the endpoint offers a newer package (the same build, the
#      next patch version, signed with the update key); the app shows it, the coach clicks
#      "Install and restart", the app verifies the signature, installs the package with the
#      package manager (sudo here) and restarts; then stop the server and start the app
#      again: it unlocks offline and the client is still there;
#   5. remove the package: the user's data stays (docs/it-guide.md says how to purge it);
#   6. with SERVER_DEB, in the same root: install the tandem-server package (system user,
#      state directory, conffile, enabled unit), check the unit with systemd-analyze, run
#      the server as the unit's ExecStart would (there is no systemd in a chroot) and ask
#      /health and /metrics, write data as the service user; upgrade it (data, edited
#      settings and their modes stay); back up and restore as the guide says; remove it
#      (data and settings stay, a reinstall finds the data); purge it (both go).
#
#   xvfb-run -a scripts/lib/package-test.sh DEB TANDEM_SERVER_BIN [SERVER_DEB]
#
# Needs root (debootstrap, chroot, mounts), network access to the Debian mirror, Xvfb
# (DISPLAY set), node with ui/node_modules installed. Takes a few minutes, most of it apt.
set -euo pipefail

deb="$(realpath "$1")"
server_bin="$(realpath "$2")"
server_deb="${3:+$(realpath "$3")}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
mirror="${TANDEM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
: "${DISPLAY:?run under xvfb-run (or with DISPLAY set)}"

say() { echo "package test: $*"; }
fail() { say "$*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http_get() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"; }

scratch="$(mktemp -d /var/tmp/tandem-package-test.XXXXXX)"
root="$scratch/root"
server_pid=""
updates_pid=""
# The pids of every process running inside the root (tauri-driver, D-Bus, the keyring, the
# app, WebKit).
root_processes() {
  local pid
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" != "$root" ] || echo "$pid"
  done
}
stop_root_processes() {
  local pid
  for _ in 1 2 3; do
    for pid in $(root_processes); do kill -9 "$pid" 2>/dev/null || true; done
    sleep 0.5
  done
}
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$updates_pid" ] || kill "$updates_pid" 2>/dev/null || true
  stop_root_processes
  for mount in tmp/.X11-unix dev/pts dev sys proc; do
    umount -l "$root/$mount" 2>/dev/null || true
  done
  # Never delete through a mount that is still there: it leads to the host's /dev and /tmp.
  if grep -q " $root/" /proc/mounts; then
    echo "package test: $root still has mounts; left in place" >&2
  else
    rm -rf --one-file-system "$scratch"
  fi
}
trap cleanup EXIT

in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

say "debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$scratch/debootstrap.log" 2>&1 || {
  tail -20 "$scratch/debootstrap.log"
  exit 1
}
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mkdir -p "$root/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
cp /etc/resolv.conf "$root/etc/resolv.conf"

package_version="$(dpkg-deb -f "$deb" Version)"
say "install $(basename "$deb") (version $package_version) and the test's tools"
cp "$deb" "$root/tmp/tandem.deb"
in_root apt-get update -q >"$scratch/apt.log" 2>&1
in_root apt-get install -y -q --no-install-recommends /tmp/tandem.deb \
  dbus dbus-bin gnome-keyring webkit2gtk-driver sudo >>"$scratch/apt.log" 2>&1 || {
  tail -30 "$scratch/apt.log"
  exit 1
}
[ -x "$root/usr/bin/tandem-desktop" ] || { say "the package did not install /usr/bin/tandem-desktop"; exit 1; }
[ -f "$root/usr/share/applications/Tandem.desktop" ] || { say "no desktop entry"; exit 1; }
cp "$(command -v tauri-driver)" "$root/usr/local/bin/"
cp "$repo/scripts/with-keyring" "$root/usr/local/bin/"
# WebKitWebDriver starts the installed app through this wrapper, which says how the app ended
# (its exit status; 128 + N for signal N) and lets it dump core in the root's /tmp: in a few
# CI runs the app vanished during the install phase without a word in its log.
cat >"$root/usr/local/bin/tandem-desktop-traced" <<'SH'
#!/bin/sh
ulimit -c unlimited
cd /tmp || exit 1
/usr/bin/tandem-desktop "$@"
status=$?
echo "tandem-desktop ended with status $status at $(date +%T)" >&2
exit "$status"
SH
chmod +x "$root/usr/local/bin/tandem-desktop-traced"
if [ -n "${XAUTHORITY:-}" ]; then cp "$XAUTHORITY" "$root/tmp/xauthority"; fi

say "a tandem-server with the demo team on the host"
"$server_bin" seed-demo --clients 5 --data-dir "$scratch/server" >"$scratch/seed.log" 2>&1
port="$(free_port)"
server_url="http://127.0.0.1:$port"
"$server_bin" serve --listen "127.0.0.1:$port" --data-dir "$scratch/server" >"$scratch/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$scratch/server.log" && break; sleep 0.1; done
grep -q 'listening on' "$scratch/server.log" || { cat "$scratch/server.log"; exit 1; }

say "an update endpoint on the host: HTTPS with an organisation CA, a newer package signed with an update key"
updates="$scratch/updates"
mkdir -p "$updates/www"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Package test city CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$updates/ca.key" -out "$updates/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$updates/server.key" -out "$updates/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$updates/server.ext"
openssl x509 -req -days 2 -in "$updates/server.csr" -CA "$updates/ca.pem" -CAkey "$updates/ca.key" \
  -CAcreateserial -extfile "$updates/server.ext" -out "$updates/server.pem" 2>/dev/null
newer_version="$(python3 -c 'import sys; v = sys.argv[1].split("+")[0].split("-")[0].split("."); v[2] = str(int(v[2]) + 1); print(".".join(v))' "$package_version")"
newer="$updates/www/tandem_${newer_version}_amd64.deb"
dpkg-deb -R "$deb" "$scratch/newer"
sed -i "s/^Version: .*/Version: $newer_version/" "$scratch/newer/DEBIAN/control"
dpkg-deb -b --root-owner-group "$scratch/newer" "$newer" >/dev/null
tauri_cli="$repo/ui/node_modules/.bin/tauri"
"$tauri_cli" signer generate --ci -p "" -w "$updates/update.key" >/dev/null
"$tauri_cli" signer sign -f "$updates/update.key" -p "" --app-version "$newer_version" "$newer" >/dev/null
updates_port="$(free_port)"
cat >"$updates/www/latest.json" <<JSON
{
  "version": "$newer_version",
  "notes": "The package test's update.",
  "pub_date": "2026-11-27T12:00:00Z",
  "platforms": {
    "linux-x86_64-deb": {
      "signature": "$(cat "$newer.sig")",
      "url": "https://127.0.0.1:$updates_port/$(basename "$newer")"
    }
  }
}
JSON
python3 - "$updates/www" "$updates_port" "$updates/server.pem" "$updates/server.key" >"$scratch/updates.log" 2>&1 <<'PYTHON' &
import functools, http.server, ssl, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[3], sys.argv[4])
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PYTHON
updates_pid=$!

say "provision the laptop: /etc/tandem/config.toml -> $server_url, updates from https://127.0.0.1:$updates_port"
mkdir -p "$root/etc/tandem"
cp "$updates/ca.pem" "$root/etc/tandem/city-ca.pem"
cat >"$root/etc/tandem/config.toml" <<EOF
server_url = "$server_url"
organisation = "Package test city"
lock_after_minutes = 10
ca_cert = "/etc/tandem/city-ca.pem"

[updates]
enabled = true
endpoint = "https://127.0.0.1:$updates_port/latest.json"
pubkey = "$(cat "$updates/update.key.pub")"
EOF

# Runs the installed app once through tauri-driver inside the root, as the same laptop user
# each time (HOME /home/coach, its login keyring kept between runs), and checks PHASE.
run_app() {
  local phase=$1 driver_port driver_pid
  driver_port="$(free_port)"
  in_root DISPLAY="$DISPLAY" XAUTHORITY=/tmp/xauthority TANDEM_KEYRING_HOME=/home/coach \
    with-keyring tauri-driver --port "$driver_port" >"$scratch/driver-$phase.log" 2>&1 &
  driver_pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$driver_port") 2>/dev/null && break
    sleep 0.2
  done
  APP_BIN=/usr/local/bin/tandem-desktop-traced WEBDRIVER_PORT="$driver_port" SERVER_URL="$server_url" PHASE="$phase" UPDATE_VERSION="$newer_version" \
    node "$repo/ui/e2e/installed-app.mjs" || {
    say "the installed app failed the $phase check; tauri-driver and app said:"
    tail -60 "$scratch/driver-$phase.log"
    say "processes in the root:"
    root_processes | while read -r pid; do
      echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
    done
    say "installed: $(in_root dpkg-query -W -f '${Version}' tandem 2>&1); the update endpoint served:"
    tail -20 "$scratch/updates.log"
    say "core dumps: $(ls "$root"/tmp/core* 2>/dev/null || echo none)"
    say "the kernel's last messages:"
    dmesg 2>/dev/null | tail -20 || true
    exit 1
  }
  # Everything of this run goes, so the next one starts the app anew (the single-instance
  # plugin would hand a second start to a running app); the keyring stays on disk.
  stop_root_processes
  wait "$driver_pid" 2>/dev/null || true
}

say "start the installed app: provisioned server, sign in, register a client"
run_app install

say "update through the app: it offers $newer_version, verifies the signature, installs it and restarts"
run_app update
[ "$(in_root dpkg-query -W -f '${Version}' tandem)" = "$newer_version" ] || {
  say "the app's update did not install $newer_version; the update endpoint said:"
  tail -20 "$scratch/updates.log"
  exit 1
}

say "stop the servers; start the updated app offline: the client is still in its store"
kill "$server_pid" "$updates_pid"
wait "$server_pid" "$updates_pid" 2>/dev/null || true
server_pid=""
updates_pid=""
run_app upgrade

say "remove the package: the user's data stays"
in_root apt-get remove -y -q tandem >>"$scratch/apt.log" 2>&1
[ ! -e "$root/usr/bin/tandem-desktop" ] || { say "the app is still installed after removal"; exit 1; }
[ -s "$root/home/coach/.local/share/tandem/tandem.db" ] ||
  { say "removing the package removed the user's store"; exit 1; }
say "install, provisioning, upgrade and removal passed"
[ -n "$server_deb" ] || exit 0

say "server package: install $(basename "$server_deb")"
cp "$server_deb" "$root/tmp/tandem-server.deb"
apt_server() {
  in_root apt-get "$@" -y -q --no-install-recommends >>"$scratch/apt.log" 2>&1 || { tail -30 "$scratch/apt.log"; exit 1; }
}
apt_server install /tmp/tandem-server.deb
unit=/lib/systemd/system/tandem-server.service
[ -f "$root$unit" ] || fail "the server package did not install $unit"
[ "$(in_root tandem-server --version)" = "tandem-server $(dpkg-deb -f "$server_deb" Version)" ] ||
  fail "the installed tandem-server is not the packaged version"
in_root getent passwd tandem-server >/dev/null || fail "no system user tandem-server"
[ "$(in_root stat -c '%U %a' /var/lib/tandem-server)" = "tandem-server 700" ] ||
  fail "/var/lib/tandem-server is not the service user's: $(in_root stat -c '%U %a' /var/lib/tandem-server)"
[ "$(in_root stat -c '%U:%G %a' /etc/tandem-server/server.toml)" = "root:tandem-server 640" ] ||
  fail "the settings file is not root:tandem-server 0640"
in_root dpkg-query -W -f '${Conffiles}' tandem-server | grep -q ' /etc/tandem-server/server.toml ' ||
  fail "/etc/tandem-server/server.toml is not a conffile"
[ -L "$root/etc/systemd/system/multi-user.target.wants/tandem-server.service" ] ||
  fail "the unit is not enabled"

# systemd-analyze on the host checks the installed unit's every directive; only the path of
# ExecStart points into the root, where the binary is.
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$scratch/unit"
  sed "s|^ExecStart=/|ExecStart=$root/|" "$root$unit" >"$scratch/unit/tandem-server.service"
  if ! verified="$(systemd-analyze verify "$scratch/unit/tandem-server.service" 2>&1)" ||
    [ -n "$verified" ]; then
    fail "systemd-analyze verify: $verified"
  fi
else
  say "no systemd-analyze on this machine: the unit's directives are not verified"
fi

# As the unit runs it: its User=, its Environment= lines (the packaged settings file, the state
# directory) and its ExecStart. The settings file's ports may be taken on this machine, so
# the listen addresses come from the environment, which wins over the file.
service_user="$(sed -n 's/^User=//p' "$root$unit")"
exec_start="$(sed -n 's/^ExecStart=//p' "$root$unit")"
mapfile -t unit_environment < <(sed -n 's/^Environment=//p' "$root$unit")
as_service() { in_root runuser -u "$service_user" -- env "${unit_environment[@]}" "$@"; }
api_port="$(free_port)"
metrics_port="$(free_port)"
say "run $exec_start as $service_user with ${unit_environment[*]}"
# shellcheck disable=SC2086 # ExecStart is a command line
as_service TANDEM_LISTEN="127.0.0.1:$api_port" TANDEM_METRICS_LISTEN="127.0.0.1:$metrics_port" \
  $exec_start >"$scratch/server-unit.log" 2>&1 &
for _ in $(seq 100); do grep -q 'listening on' "$scratch/server-unit.log" && break; sleep 0.1; done
grep -q 'listening on' "$scratch/server-unit.log" || { cat "$scratch/server-unit.log"; fail "the packaged server did not start"; }
http_get "http://127.0.0.1:$api_port/health" >/dev/null || fail "no answer at /health"
metrics="$(http_get "http://127.0.0.1:$metrics_port/metrics")" || fail "no answer at /metrics"
grep -q '^tandem_http_requests_total{.*route="/health"' <<<"$metrics" ||
  fail "/metrics does not count the /health request: $metrics"
as_service tandem-server admin team add "Package test team" >/dev/null
[ "$(in_root stat -c %U /var/lib/tandem-server/tandem-server.db)" = "$service_user" ] ||
  fail "the database does not belong to the service user"
stop_root_processes
# The data made above is still there: adding the same team again is refused.
has_package_test_team() {
  local answer
  answer="$(as_service tandem-server admin team add "Package test team" 2>&1)" && return 1
  grep -q "exists already" <<<"$answer" || fail "unexpected answer from the server: $answer"
}
settings_modes() {
  in_root stat -c '%U:%G %a' /etc/tandem-server /etc/tandem-server/server.toml | tr '\n' ' '
}
modes_at_install="$(settings_modes)"

say "upgrade the server package: the database, the edited settings and their modes stay"
echo "# edited by the package test" >>"$root/etc/tandem-server/server.toml"
dpkg-deb -R "$server_deb" "$scratch/server-newer"
server_version="$(dpkg-deb -f "$server_deb" Version)"
sed -i "s/^Version: .*/Version: $server_version+upgrade/" "$scratch/server-newer/DEBIAN/control"
dpkg-deb -b --root-owner-group "$scratch/server-newer" "$root/tmp/tandem-server-newer.deb" >/dev/null
apt_server install /tmp/tandem-server-newer.deb
[ "$(in_root dpkg-query -W -f '${Version}' tandem-server)" = "$server_version+upgrade" ] ||
  fail "the newer server package did not replace the old one"
grep -q "edited by the package test" "$root/etc/tandem-server/server.toml" ||
  fail "the upgrade replaced the edited settings file"
[ "$(settings_modes)" = "$modes_at_install" ] ||
  fail "the upgrade changed the settings' owners or modes: $modes_at_install -> $(settings_modes)"
has_package_test_team || fail "the upgraded server lost the data made before the upgrade"

say "back up and restore as docs/it-guide.md says, as the service user"
in_root install -d -o tandem-server -g tandem-server -m 0700 /var/backups/tandem
as_service tandem-server backup --to /var/backups/tandem/tandem-package-test.db >/dev/null
as_service tandem-server admin team add "Team after the backup" >/dev/null
as_service tandem-server restore --from /var/backups/tandem/tandem-package-test.db --force >/dev/null
has_package_test_team || fail "the restored database lacks the data of the backup"
as_service tandem-server admin team add "Team after the backup" >/dev/null ||
  fail "the restored database has data made after the backup"
[ "$(in_root stat -c %U /var/lib/tandem-server/tandem-server.db)" = "$service_user" ] ||
  fail "the restored database does not belong to the service user"

say "remove the server package: the database and the settings stay, a reinstall finds them"
apt_server remove tandem-server
[ ! -e "$root/usr/bin/tandem-server" ] || fail "tandem-server is still installed after removal"
[ -s "$root/var/lib/tandem-server/tandem-server.db" ] || fail "removing the package removed the database"
[ -f "$root/etc/tandem-server/server.toml" ] || fail "removing the package removed the settings"
apt_server install /tmp/tandem-server-newer.deb
has_package_test_team || fail "the reinstalled server does not have the data made before the removal"

say "purge the server package: the database and the settings go"
apt_server purge tandem-server
[ ! -e "$root/var/lib/tandem-server" ] || fail "purge left /var/lib/tandem-server"
[ ! -e "$root/etc/tandem-server" ] || fail "purge left /etc/tandem-server"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/tandem-server.service" ] ||
  fail "purge left the unit enabled"
say "server package: install, run as its unit, upgrade, removal and purge passed"
