import { defineConfig } from '@playwright/test';

const SOLO = ['**/stats.spec.ts', '**/v86.spec.ts', '**/v86-create.spec.ts'];

// e2e tests drive the real renderer in Debian's Chromium through `vireo serve` against the
// real engine (see test/e2e/serve.ts). Playwright's bundled browsers cannot be downloaded here.
export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/playwright',
  // Two workers, each with its own vireo serve and library (serve.ts): a spec file runs in one
  // worker, in order; the guests' waits leave room for a second file on the two cores. The
  // specs that measure a guest's CPU share or boot an emulator in the page run afterwards, one
  // at a time (project e2e-solo, its own run in scripts/test.sh).
  workers: 2,
  fullyParallel: false,
  // The whole suite (scripts/test.sh, CI) runs a failed test once more: one that passes then is
  // reported as flaky, never hidden; two CPU-starved guests on two cores still have bad moments.
  retries: 0,
  projects: [
    { name: 'e2e', testIgnore: SOLO },
    { name: 'e2e-solo', testMatch: SOLO, workers: 1 },
  ],
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.VIREO_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
});
