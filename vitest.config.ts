import { defineConfig } from 'vitest/config';

// Four tiers, one runner: unit (pure), app (the web app in process, on real PGlite/PostgreSQL and local disk),
// integration (what needs a process: the started server, kill -9, faults, scale-out; the SDKs against it),
// e2e (the app started like the README starts it, driven by a real browser and real SDKs).
// Fault and e2e files run one at a time (scripts/test.sh passes --no-file-parallelism); integration files in parallel.
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
        // The web app in process (apps/web/test/support/app.ts): its services on a temp PGlite (or PostgreSQL),
        // one node:http server on port 0 per file, no build and no spawned server: files run in parallel.
        test: {
          name: 'app',
          include: ['apps/*/test/app/**/*.test.ts'],
          globalSetup: ['test/support/pglite-template.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Files here start their own servers, clusters and emulators on port 0 in temp dirs: they run in parallel.
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts', 'apps/*/test/integration/**/*.test.ts'],
          exclude: ['apps/*/test/integration/faults-*.test.ts'],
          globalSetup: ['test/support/build-once.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Fault injection (kill -9, a stalled PostgreSQL, a full disk, overload, a hung server) measures deadlines and
        // recovery: one file at a time, so a neighbour's load never decides whether a deadline held.
        test: {
          name: 'faults',
          include: ['apps/*/test/integration/faults-*.test.ts'],
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
