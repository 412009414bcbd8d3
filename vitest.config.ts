import { defineConfig } from 'vitest/config';

// Three projects: `unit` is pure and fast; `integration` boots real QEMU guests under TCG, two
// files at a time (most of a file's time is spent waiting on a guest, a socket or qemu-img, so
// two share the machine's two cores well); `integration-solo` holds the files that measure a
// rate or a share of the CPU (limits, shaping, the accelerator self-test, stats) and
// runs them one at a time after the others, on a machine no other test file loads.
const SOLO = [
  'test/integration/accel.test.ts',
  'test/integration/accel-orphan.test.ts',
  'test/integration/netmode-bridge.test.ts',
  'test/integration/resources-limits.test.ts',
  'test/integration/stats.test.ts',
  'test/integration/switch-rate.test.ts',
];

const integration = {
  environment: 'node' as const,
  testTimeout: 180_000,
  hookTimeout: 180_000,
  globalSetup: ['test/integration/global-setup.ts'],
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          ...integration,
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: SOLO,
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...integration,
          name: 'integration-solo',
          include: SOLO,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
