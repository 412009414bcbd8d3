#!/usr/bin/env bash
# Assemble the aarch64 accelerator self-test guest (an ELF for `qemu-system-aarch64 -M virt
# -kernel`).
#   resources/probe-aarch64/build.sh [OUTPUT]     (default: resources/probe-aarch64/probe.elf)
# Needs the Debian package binutils-aarch64-linux-gnu. The output is byte-identical across runs
# (no timestamps, no paths; stripped); a unit test rebuilds it and compares with the committed one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/probe.elf}"
command -v aarch64-linux-gnu-as >/dev/null || {
  echo "build.sh: aarch64-linux-gnu-as is missing: apt-get install binutils-aarch64-linux-gnu" >&2
  exit 1
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
aarch64-linux-gnu-as -o "$work/probe.o" "$here/probe.S"
aarch64-linux-gnu-ld -n -T "$here/probe.ld" --build-id=none -o "$work/probe.elf" "$work/probe.o"
aarch64-linux-gnu-strip --strip-all "$work/probe.elf"
cp "$work/probe.elf" "$out"
chmod 644 "$out"
