# shellcheck shell=bash
# What the build and the tests need besides the Rust toolchain, in one place, and the
# functions that install what is missing. Sourced by scripts/test.

# Debian 12 packages. gnome-keyring, dbus-x11, libsecret-tools: the OS keyring in tests
# (Secret Service in a private D-Bus session, secret-tool to read a key back);
# libdbus-1-dev, libsecret-1-dev, pkg-config: the keyring crate's D-Bus backend;
# build-essential, perl: the bundled SQLCipher and OpenSSL; python3-pip: the PyPI packages.
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
)

# PyPI packages: sqlcipher3-binary bundles SQLCipher 4, an implementation independent of
# ours, used by the tests to open a store from outside.
TANDEM_PIP_PACKAGES=(sqlcipher3-binary)

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

# Installs sqlcipher3-binary for python3 unless `import sqlcipher3` already works.
ensure_python_packages() {
  if python3 -c 'import sqlcipher3' 2>/dev/null; then
    echo "python3 can import sqlcipher3"
    return 0
  fi
  echo "Installing for python3: ${TANDEM_PIP_PACKAGES[*]}"
  # Debian's own python3 refuses system-wide pip installs (PEP 668) unless told otherwise;
  # these packages are only used by the tests.
  python3 -m pip install --quiet --disable-pip-version-check "${TANDEM_PIP_PACKAGES[@]}" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
      "${TANDEM_PIP_PACKAGES[@]}"
  if ! python3 -c 'import sqlcipher3'; then
    echo "python3 still cannot import sqlcipher3: install it with: python3 -m pip install ${TANDEM_PIP_PACKAGES[*]}" >&2
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
