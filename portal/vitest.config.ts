import path from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { alias: { '~': path.resolve(import.meta.dirname, 'app') } },
  test: {
    name: 'portal',
    root: import.meta.dirname,
    include: ['app/**/*.test.{ts,tsx}', 'server/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['./test-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // The integration tests share one Postgres and one Keycloak.
    fileParallelism: false,
  },
})
