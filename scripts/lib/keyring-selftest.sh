#!/usr/bin/env bash
# Checks, inside scripts/with-keyring, that the test keyring survives a crash of its daemon:
# an item stored before the crash is still readable afterwards and new items can be stored.
# gnome-keyring-daemon 42.x aborts when a client dies while opening a session, which the
# sync-kill tests provoke; without the session service of scripts/with-keyring the daemon
# came back locked and every later test failed.
set -euo pipefail

fail() {
  echo "keyring self-test: $*" >&2
  exit 1
}

printf %s before | secret-tool store --label="tandem self-test" service tandem-selftest username before ||
  fail "could not store an item in the fresh test keyring"

# The daemon of this D-Bus session only: other sessions (parallel test runs) keep theirs.
pid="$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets | awk '{print $2}')"
[ -n "$pid" ] || fail "no process owns org.freedesktop.secrets"
kill -ABRT "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done

[ "$(secret-tool lookup service tandem-selftest username before)" = before ] ||
  fail "an item stored before the daemon crashed cannot be read after it restarted"
printf %s after | secret-tool store --label="tandem self-test" service tandem-selftest username after ||
  fail "the keyring came back locked after its daemon crashed"
echo "keyring self-test: the test keyring survives a crash of its daemon"
