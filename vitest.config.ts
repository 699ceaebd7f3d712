import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: ['portal/vitest.config.ts', 'provisioner', 'catalog', 'academy', 'test/vitest.config.ts', 'test/matrix/vitest.config.ts', 'test/ansible/vitest.config.ts'],
  },
})
