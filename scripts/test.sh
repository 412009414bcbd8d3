#!/usr/bin/env bash
# The whole test suite: static checks, unit, integration (real QEMU), e2e (Chromium), Electron
# (skipped with the reason where no Electron binary exists). Every stage runs even if an
# earlier one failed, so one run shows everything; the last line sums them up.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
rm -f test-results/*.json
failed=()

stage() {
  local name=$1; shift
  printf '\n\033[1m== %s ==\033[0m\n' "$name"
  local t0=$SECONDS
  if "$@"; then printf '== %s: ok (%ss)\n' "$name" $((SECONDS - t0)); else failed+=("$name"); printf '== %s: FAILED (%ss)\n' "$name" $((SECONDS - t0)); fi
}

stage typecheck npx tsc --noEmit -p tsconfig.json
stage lint npx eslint --max-warnings=0 .
stage unit npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=test-results/unit.json
stage integration npx vitest run --project integration --project integration-solo --reporter=default --reporter=json --outputFile.json=test-results/integration.json
stage e2e env PLAYWRIGHT_JSON_OUTPUT_NAME="$PWD/test-results/e2e.json" npx playwright test --project=e2e --retries=1 --reporter=list,json
stage e2e-solo env PLAYWRIGHT_JSON_OUTPUT_NAME="$PWD/test-results/e2e-solo.json" npx playwright test --project=e2e-solo --retries=1 --reporter=list,json
stage electron env PLAYWRIGHT_JSON_OUTPUT_NAME="$PWD/test-results/electron.json" npx playwright test -c test/electron/playwright.config.ts --reporter=list,json

node_modules/.bin/tsx scripts/summarize-tests.ts "${failed[@]}"
