import { readFileSync, existsSync } from 'node:fs';

// Sums the JSON reports of every stage into one closing line, "N passed, N failed, N skipped",
// and exits non-zero when any stage failed (a stage can fail without a failing test: a type
// error, a lint error, a runner that could not start).

const failedStages = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

for (const name of ['unit', 'integration']) {
  const f = `test-results/${name}.json`;
  if (!existsSync(f)) continue;
  const r = JSON.parse(readFileSync(f, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
}
for (const name of ['e2e', 'e2e-solo', 'electron']) {
  const f = `test-results/${name}.json`;
  if (!existsSync(f)) continue;
  const r = JSON.parse(readFileSync(f, 'utf8')) as { stats: { expected: number; unexpected: number; skipped: number; flaky: number } };
  passed += r.stats.expected + r.stats.flaky;
  failed += r.stats.unexpected;
  skipped += r.stats.skipped;
}
const extra = failedStages.filter((s) => !['unit', 'integration', 'e2e', 'e2e-solo', 'electron'].includes(s) || failed === 0);
failed += extra.length;
if (failedStages.length) console.log(`\nfailed stages: ${failedStages.join(', ')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failedStages.length ? 1 : 0);
