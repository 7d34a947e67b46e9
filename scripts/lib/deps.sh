# shellcheck shell=bash
# What the build and the tests need besides the Rust toolchain, in one place, and the
# functions that install what is missing. Sourced by scripts/test.

# Debian 12 packages. gnome-keyring, dbus-x11, libsecret-tools: the OS keyring in tests
# (Secret Service in a private D-Bus session, secret-tool to read a key back);
# libdbus-1-dev, libsecret-1-dev, pkg-config: the keyring crate's D-Bus backend;
# build-essential, perl: the bundled SQLCipher and OpenSSL; python3-pip: the PyPI packages;
# postgresql: the server's PostgreSQL conformance tests start a throw-away cluster with its
# initdb and pg_ctl (the package's own cluster is not used);
# libwebkit2gtk-4.1-dev, libgtk-3-dev, librsvg2-dev, libayatana-appindicator3-dev, libssl-dev,
# patchelf, file: the desktop app (Tauri 2 on WebKitGTK) and its bundler; xvfb,
# webkit2gtk-driver: its end-to-end tests (a virtual display and WebKitWebDriver);
# fonts-wqy-microhei: a small font with Chinese characters, so that the demo team's Chinese
# names show in the tests' screenshots (the package recommends fonts-noto-cjk); lintian,
# debootstrap: checking the .deb and installing it into a fresh Debian 12 root.
TANDEM_APT_PACKAGES=(
  build-essential
  perl
  pkg-config
  dbus-x11
  gnome-keyring
  libsecret-tools
  libsecret-1-dev
  libdbus-1-dev
  python3
  python3-pip
  postgresql
  libwebkit2gtk-4.1-dev
  libgtk-3-dev
  librsvg2-dev
  libayatana-appindicator3-dev
  libssl-dev
  patchelf
  file
  xvfb
  webkit2gtk-driver
  fonts-wqy-microhei
  lintian
  debootstrap
)

# PyPI packages: sqlcipher3-binary bundles SQLCipher 4, an implementation independent of
# ours, used by the tests to open a store from outside. schemathesis fuzzes the server
# against its OpenAPI document (scripts/lib/schemathesis.sh); 4.x is the major version
# its command line was written for. python-xlib: the desktop end-to-end tests ask the app's
# window to close as a window manager does (ui/e2e/close-window.py).
TANDEM_PIP_PACKAGES=(sqlcipher3-binary 'schemathesis>=4.32,<5' 'python-xlib>=0.33,<1')
# The modules that show the packages above are installed.
TANDEM_PIP_MODULES='import sqlcipher3, schemathesis, Xlib'

# Prints the Debian packages of TANDEM_APT_PACKAGES that are not installed.
missing_apt_packages() {
  local package
  for package in "${TANDEM_APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$package"
    fi
  done
}

# Installs the missing Debian packages; runs `apt-get update` only when something is missing.
ensure_apt_packages() {
  if ! command -v dpkg-query >/dev/null; then
    echo "Not a Debian-like system: install the equivalents of: ${TANDEM_APT_PACKAGES[*]}" >&2
    return 0
  fi
  local missing
  mapfile -t missing < <(missing_apt_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "All present: ${TANDEM_APT_PACKAGES[*]}"
    return 0
  fi
  echo "Missing: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "Run as root, or install them yourself: apt-get install -y ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Installs TANDEM_PIP_PACKAGES for python3 unless TANDEM_PIP_MODULES already import.
ensure_python_packages() {
  if python3 -c "$TANDEM_PIP_MODULES" 2>/dev/null; then
    echo "python3 can: $TANDEM_PIP_MODULES"
    return 0
  fi
  echo "Installing for python3: ${TANDEM_PIP_PACKAGES[*]}"
  # Debian's own python3 refuses system-wide pip installs (PEP 668) unless told otherwise;
  # these packages are only used by the tests.
  python3 -m pip install --quiet --disable-pip-version-check "${TANDEM_PIP_PACKAGES[@]}" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
      "${TANDEM_PIP_PACKAGES[@]}"
  if ! python3 -c "$TANDEM_PIP_MODULES"; then
    echo "python3 still cannot $TANDEM_PIP_MODULES: install it with: python3 -m pip install ${TANDEM_PIP_PACKAGES[*]@Q}" >&2
    return 1
  fi
}

# Checks that cargo (through rustup and rust-toolchain.toml) is usable.
ensure_rust_toolchain() {
  if ! command -v cargo >/dev/null; then
    echo "cargo not found. Install rustup (https://rustup.rs) and open a new shell;" >&2
    echo "rust-toolchain.toml then selects the pinned toolchain." >&2
    return 1
  fi
  cargo --version
  rustc --version
}

# The UI (Vite 8) needs Node.js 20.19 or newer with npm; Debian 12's own nodejs is 18.
ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Node.js and npm not found. Install Node.js 20.19+ (e.g. the nodejs package of" >&2
    echo "https://deb.nodesource.com, or bookworm-backports), then run this again." >&2
    return 1
  fi
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "Node.js $(node --version) is too old for the UI build (Vite 8): install 20.19 or newer." >&2
    return 1
  fi
  echo "node $(node --version), npm $(npm --version)"
}

# tauri-driver (the WebDriver bridge of the desktop E2E tests) into CARGO_HOME/bin.
ensure_tauri_driver() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
  if [ -x "$bin" ]; then
    echo "tauri-driver: $bin"
    return 0
  fi
  echo "Installing tauri-driver (about 30 s)"
  cargo install tauri-driver --version '^2' --locked --quiet
}

# cargo-deny (the licence, ban and source checks of deny.toml) into CARGO_HOME/bin, only when
# missing.
ensure_cargo_deny() {
  if ! cargo deny --version >/dev/null 2>&1; then
    echo "Installing cargo-deny (about four minutes)"
    cargo install cargo-deny --locked --quiet
  fi
  cargo deny --version
}

# cargo-fuzz (the libFuzzer targets in fuzz/) into CARGO_HOME/bin, only when missing. The
# targets build with the pinned stable toolchain: without a sanitizer (`--sanitizer none`)
# cargo-fuzz passes no unstable flag, so no nightly toolchain is needed.
ensure_cargo_fuzz() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "Installing cargo-fuzz (about two minutes)"
    cargo install cargo-fuzz --locked --quiet
  fi
  cargo fuzz --version
}
