#!/usr/bin/env bash
# What keeping keys in a PKCS #11 module costs, each figure beside its software peer in the same
# run (docs/benchmarks.md, "PKCS #11"): cards manufactured per second with a SoftHSM2 token per
# card against software tokens, and signed OCSP answers per second with the responder key on a
# SoftHSM2 token against the same key in memory.
#
# Usage: Benchmarks/pkcs11/run.sh [opencps binary] [extra `opencps bench pkcs11` options]
# The binary defaults to the release build (swift build -c release). SoftHSM2's tokens go to a
# throw-away folder, never to the system's token directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-.build/release/opencps}"
shift || true
module="${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
[ -x "$binary" ] || { echo "no $binary: run swift build -c release first" >&2; exit 1; }
[ -f "$module" ] || { echo "no SoftHSM2 module $module: apt-get install softhsm2" >&2; exit 1; }

folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
mkdir -p "$folder/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$folder/tokens" > "$folder/softhsm2.conf"
echo "== $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), $binary"
SOFTHSM2_CONF="$folder/softhsm2.conf" "$binary" bench pkcs11 --module "$module" "$@"
