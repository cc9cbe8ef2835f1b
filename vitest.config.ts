import { defineConfig } from 'vitest/config';

// Projects mirror test/: unit tests need nothing; contract-embedded runs the store contract on the
// embedded store; the "services" projects need the real servers deploy/dev/services-up.sh starts.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'contract-embedded', include: ['test/contract/**/embedded*.test.ts'] } },
      {
        test: {
          name: 'contract-services',
          include: ['test/contract/**/*.test.ts'],
          exclude: ['test/contract/**/embedded*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000, fileParallelism: false } },
    ],
  },
});
