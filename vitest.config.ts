import { defineConfig } from 'vitest/config';

// Three tiers, one runner: unit (pure), integration (real DBs, real storage, the started server),
// e2e (the app started like the README starts it, driven by a real browser and real SDKs).
// Integration and e2e files run one at a time (scripts/test.sh passes --no-file-parallelism): they start servers.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/*/test/unit/**/*.test.ts',
            'apps/*/test/unit/**/*.test.ts',
            'spec/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts', 'apps/*/test/integration/**/*.test.ts'],
          globalSetup: ['test/support/build-once.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          globalSetup: ['test/support/build-once.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
