#!/usr/bin/env bash
# Assemble the accelerator self-test boot sector.
#   resources/probe/build.sh [OUTPUT]     (default: resources/probe/probe.img)
# Needs binutils (as, ld). The output is byte-identical across runs: no timestamps,
# no build paths, only the sector. A unit test rebuilds it and compares with the committed image.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/probe.img}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
as --64 -o "$work/probe.o" "$here/probe.S"
ld -m elf_x86_64 -T "$here/probe.ld" -o "$work/probe.bin" "$work/probe.o"
size=$(stat -c %s "$work/probe.bin")
if [ "$size" -ne 512 ]; then
  echo "build.sh: expected a 512-byte boot sector, got $size bytes" >&2
  exit 1
fi
cp "$work/probe.bin" "$out"
chmod 644 "$out"
