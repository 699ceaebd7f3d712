import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: ['portal/vitest.config.ts', 'provisioner', 'test/vitest.config.ts'],
  },
})
