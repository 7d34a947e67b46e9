# shellcheck shell=bash
# The demo of scripts/run, inside a private keyring session (see scripts/with-keyring):
# a local server with the demo team, a `tandem` laptop that syncs with it, and the desktop
# app pointed at the server.
set -euo pipefail

export PATH="$TANDEM_BIN_DIR:$PATH"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_url="http://127.0.0.1:$port"
server_dir="$HOME/server"

tandem-server --data-dir "$server_dir" seed-demo --clients 60
tandem-server --data-dir "$server_dir" --listen "127.0.0.1:$port" serve >"$HOME/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('$server_url/v1/openapi.json', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
echo "tandem-server is listening on $server_url (database in $server_dir, log in $HOME/server.log)."

# A second laptop, as the `tandem` command: sign in, sync, log a contact, sync it back.
export TANDEM_DATA_DIR="$HOME/laptop-coach2"
printf 'demo-password\n' | say tandem login --server "$server_url" --username coach2 --password-stdin
say tandem sync
client=$(tandem client list --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
say tandem contact add --client "$client" --topic employment --topic housing \
  --summary "Came by with questions about a rental contract."
say tandem sync
say tandem status

cat >"$HOME/provisioning.toml" <<TOML
# What IT would put in /etc/tandem/config.toml on a laptop.
server_url = "$server_url"
organisation = "Demo team (local)"
TOML

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat <<TEXT

There is no display here, so the desktop app cannot open. Run scripts/run from a desktop
session to see it. The server keeps running while you try the \`tandem\` command in this
shell (exit or Ctrl-D stops everything).
TEXT
else
  cat <<TEXT

Opening the desktop app. Sign in as coach1 (or lead1, the team lead) with the password
demo-password; it syncs the demo team's clients, among them the contact just logged by
coach2's laptop. Closing the app stops the server and removes the demo.
TEXT
  TANDEM_PROVISIONING_FILE="$HOME/provisioning.toml" TANDEM_DATA_DIR="$HOME/laptop-coach1" \
    tandem-desktop
  exit 0
fi

if [ -t 0 ] && [ -t 1 ]; then
  PS1='tandem-demo$ ' bash --norc -i || true
fi
