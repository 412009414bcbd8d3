import { defineConfig } from '@playwright/test';

// Electron shell tests: `npx playwright test -c test/electron/playwright.config.ts` after
// `npm run build`. They skip (with the reason) when node_modules/electron has no binary.
export default defineConfig({
  testDir: '.',
  // Not the default (test-results/ at the package root): Playwright empties its output
  // folder, which would delete the other stages' reports.
  outputDir: '../../test-results/electron-playwright',
  testMatch: '*.spec.ts',
  timeout: 60_000,
  workers: 1,
  reporter: [['list']],
});
