import { defineConfig } from 'vitest/config';

// Groups run one after another: fast pure tests first, then real processes, then each lab.
// e2e files run serially (2 cores, heavy daemons); each lab is brought up once by its globalSetup.
// Every test file: temp dirs made with test/tmp.ts are removed when it finishes.
const setupFiles = ['./test/setup-cleanup.ts'];

const e2e = (lab: string, order: number) => ({
  test: {
    name: `e2e-${lab}`,
    include: [`test/e2e/${lab}/**/*.test.ts`],
    globalSetup: [`test/e2e/${lab}/setup.ts`],
    setupFiles,
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
    sequence: { groupOrder: order },
  },
});

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        // On the packaged Node 24 (npm run test:node24) better-sqlite3 is the controller package's, built for it.
        resolve: { alias: process.env.NW_BETTER_SQLITE3 ? { 'better-sqlite3': process.env.NW_BETTER_SQLITE3 } : {} },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles, testTimeout: 120_000, sequence: { groupOrder: 0 } },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles,
          testTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      e2e('systemd', 2),
      e2e('ceph', 3),
      e2e('agent', 4),
      e2e('native', 5),
      e2e('controller', 6),
      e2e('nova', 7),
      e2e('ui', 8),
    ],
  },
});
