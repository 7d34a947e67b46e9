#!/usr/bin/env bash
# tauri.conf.json's beforeBundleCommand: what the .deb and .rpm carry besides the app, put
# into packaging/build/ (ignored by git) where tauri.conf.json's bundle.linux files take them:
# the `tandem` command (for `tandem config show` and `tandem status` on support calls, and the
# Ansible validate step of docs/it-guide.md), and Debian's gzipped changelog. Packages carry
# stripped binaries (Debian policy 10.1; lintian fails the package otherwise): a release build
# is stripped by its profile, a debug one (scripts/test packs debug builds) here.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p packaging/build
# `tauri build --debug` bundles debug binaries: the command then matches the app.
if [ "${TAURI_ENV_DEBUG:-false}" = true ]; then profile=dev dir=debug; else profile=release dir=release; fi
cargo build -q --profile "$profile" -p tandem-cli
install -s -m 0755 "${CARGO_TARGET_DIR:-target}/$dir/tandem" packaging/build/tandem
# The bundler packs the app's binary from where cargo put it: strip a debug one there.
if [ "$dir" = debug ]; then strip "${CARGO_TARGET_DIR:-target}/debug/tandem-desktop"; fi
gzip -9nc packaging/deb/changelog >packaging/build/changelog.gz
