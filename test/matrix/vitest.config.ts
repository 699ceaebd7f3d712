import { defineConfig } from 'vitest/config'

// The Matrix recipe against a real Synapse (PyPI matrix-synapse), Keycloak and
// Postgres of the test harness: `TEST_PORT_OFFSET=30 npx tsx test/run.ts unit test/matrix`.
export default defineConfig({
  test: {
    name: 'matrix',
    root: import.meta.dirname,
    include: ['*.test.ts'],
    environment: 'node',
    // The first run on a machine makes Synapse's virtualenv (pip, about half a minute to a few minutes).
    hookTimeout: 10 * 60_000,
    testTimeout: 120_000,
  },
})
