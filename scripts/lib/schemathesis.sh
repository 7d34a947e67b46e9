#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a real `tandem-server serve` on a free port over a
# seeded temporary data directory: it reads GET /v1/openapi.json and sends generated
# requests to every operation, failing on any 5xx and on any status, content type or body
# that the document does not allow. Run by scripts/test after `cargo test`; runs alone too:
#
#   scripts/lib/schemathesis.sh
#
# Builds tandem-server into CARGO_TARGET_DIR (default target/), the same binary cargo test
# built. Bounded and reproducible: a fixed hypothesis seed and
# TANDEM_SCHEMATHESIS_MAX_EXAMPLES (default 25) cases per operation and phase.
# The server is always stopped, and its log is printed when something fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD
max_examples=${TANDEM_SCHEMATHESIS_MAX_EXAMPLES:-25}
seed=20261127

fail() {
  printf 'schemathesis.sh: %s\n' "$*" >&2
  exit 1
}

if ! python3 -c 'import schemathesis' 2>/dev/null; then
  fail "python3 cannot import schemathesis; install it with: python3 -m pip install 'schemathesis>=4,<5' (scripts/lib/deps.sh does)"
fi

echo "Building tandem-server"
cargo build --quiet -p tandem-server --bin tandem-server
server_bin="${CARGO_TARGET_DIR:-$repo/target}/debug/tandem-server"
[ -x "$server_bin" ] || fail "no binary at $server_bin after the build"

work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-schemathesis.XXXXXX")
server_pid=''
stop_server() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -s "$work/server.log" ]; then
    echo "--- last lines of the server log ($work/server.log is removed now) ---" >&2
    tail -n 40 "$work/server.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

echo "Seeding a demo data directory"
"$server_bin" --data-dir "$work/data" seed-demo --clients 40 >/dev/null </dev/null
# seed-demo makes coaches and a team lead; an admin is made the way an operator would.
printf '%s\n' demo-password \
  | "$server_bin" --data-dir "$work/data" admin user add admin --role admin --password-stdin >/dev/null

# The server prints `listening on http://ADDRESS` once it listens on the port the kernel
# chose: read that line instead of guessing a port or sleeping.
exec {server_out}< <(exec env RUST_LOG=warn "$server_bin" --data-dir "$work/data" \
  --listen 127.0.0.1:0 serve </dev/null 2>"$work/server.log")
server_pid=$!
line=''
read -r -t 60 line <&"$server_out" || fail "the server did not start within 60 s"
base=${line#listening on }
[[ "$base" == http://* ]] || fail "unexpected first line from the server: $line"
echo "Server at $base"

# A device token for a user of the demo team (password from `seed-demo`).
login() {
  python3 - "$base" "$1" <<'PY'
import json, sys, urllib.request
base, username = sys.argv[1], sys.argv[2]
body = json.dumps({"username": username, "password": "demo-password",
                   "device_name": "schemathesis"}).encode()
request = urllib.request.Request(base + "/v1/auth/login", data=body,
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:
    print(json.load(response)["device_token"])
PY
}

run_schemathesis() {
  local who=$1 token=$2
  shift 2
  echo
  echo "schemathesis as $who ($max_examples examples per operation and phase, seed $seed)"
  # From the work directory, so that nothing (.hypothesis/, reports) lands in the repo.
  (cd "$work" && python3 -m schemathesis.cli --config-file "$work/schemathesis.toml" \
    run "$base/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers 1 \
    --request-timeout 30 \
    --no-color \
    "$@" </dev/null)
}

# The team lead reaches every client-data and review endpoint; the admin covers the
# devices, revocation included (a team lead may not revoke). The admin runs second because
# it may revoke devices, the lead's among them.
# Both tokens first: the fuzzed failed logins of the first run put this address over the
# login rate limit (429 is a documented answer), after which nobody could log in.
lead_token=$(login lead1)
admin_token=$(login admin)
# A run that never got past authentication, or that skipped part of the document, tested
# less than it claims: those warnings fail it too.
cat >"$work/schemathesis.toml" <<'TOML'
[warnings]
fail-on = ["missing_auth", "unresolvable_reference", "base_url_mismatch"]
TOML
run_schemathesis "team lead lead1" "$lead_token" --exclude-path-regex '/revoke$'
run_schemathesis "admin" "$admin_token" --include-path-regex '^/v1/devices'

kill -0 "$server_pid" 2>/dev/null || fail "the server died during the run"
echo
echo "schemathesis: no server errors and no answers that contradict /v1/openapi.json"
