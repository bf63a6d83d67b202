#!/usr/bin/env bash
# Installs the system libraries Kestrel builds against, only those that are missing (Debian/Ubuntu).
# Used by `make demo` and `make test`; safe to run again. Never installs Swift itself.
set -euo pipefail

PACKAGES=(libpng-dev libjpeg-dev libopenblas-dev pkg-config)
MODULES=(libpng libjpeg openblas)

if ! command -v swift >/dev/null 2>&1; then
  echo "error: swift is not on PATH. Install Swift 6.1 or later from https://www.swift.org/install/linux/" >&2
  exit 1
fi

# Everything already there (whatever installed it)?
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "${MODULES[@]}"; then
  exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: Kestrel needs the pkg-config modules ${MODULES[*]} (libpng, libjpeg-turbo, OpenBLAS)." >&2
  echo "This is not a Debian/Ubuntu system; install them with your package manager (macOS: brew install libpng jpeg-turbo openblas pkg-config)." >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "error: ${PACKAGES[*]} are installed but pkg-config cannot find ${MODULES[*]}; check PKG_CONFIG_PATH." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "Kestrel needs these packages: ${missing[*]}" >&2
  echo "Run this, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists: update only when the first attempt cannot find a package.
if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/kestrel-apt.log 2>&1; then
  "${SUDO[@]}" apt-get update >>/tmp/kestrel-apt.log 2>&1
  if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/kestrel-apt.log 2>&1; then
    echo "error: apt-get could not install ${missing[*]}; see /tmp/kestrel-apt.log" >&2
    tail -5 /tmp/kestrel-apt.log >&2
    exit 1
  fi
fi
pkg-config --exists "${MODULES[@]}" || { echo "error: installed, but pkg-config still cannot find ${MODULES[*]}" >&2; exit 1; }
echo "Installed ${missing[*]}." >&2
