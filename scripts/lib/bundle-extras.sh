#!/usr/bin/env bash
# tauri.conf.json's beforeBundleCommand: what the .deb and .rpm carry besides the app, put
# into packaging/build/ (ignored by git) where tauri.conf.json's bundle.linux files take them:
# the `tandem` command (for `tandem config show` and `tandem status` on support calls, and the
# Ansible validate step of docs/it-guide.md), and Debian's gzipped changelog.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p packaging/build
# `tauri build --debug` bundles debug binaries: the command then matches the app.
if [ "${TAURI_ENV_DEBUG:-false}" = true ]; then profile=dev dir=debug; else profile=release dir=release; fi
cargo build -q --profile "$profile" -p tandem-cli
install -m 0755 "${CARGO_TARGET_DIR:-target}/$dir/tandem" packaging/build/tandem
gzip -9nc packaging/deb/changelog >packaging/build/changelog.gz
