import { defineConfig } from '@playwright/test';

// e2e tests drive the real renderer in Debian's Chromium through `vireo serve` against the
// real engine (see test/e2e/serve.ts). Playwright's bundled browsers cannot be downloaded here.
export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/playwright',
  // Two workers, each with its own vireo serve and library (serve.ts): a spec file runs in one
  // worker, in order; the guests' waits leave room for a second file on the two cores.
  workers: 2,
  fullyParallel: false,
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
