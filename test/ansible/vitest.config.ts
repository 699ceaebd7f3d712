import path from 'node:path'
import { defineConfig } from 'vitest/config'

// The Ansible playbooks, run for real against a Debian container: slow (minutes), so long timeouts.
// Rooted at the repository, so `tsx test/run.ts unit ansible` finds test/ansible/playbooks.test.ts by its path.
export default defineConfig({
  test: {
    name: 'ansible',
    root: path.resolve(import.meta.dirname, '..', '..'),
    include: ['test/ansible/*.test.ts'],
    environment: 'node',
    testTimeout: 10 * 60_000,
    hookTimeout: 20 * 60_000,
  },
})
