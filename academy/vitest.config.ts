import { defineProject } from 'vitest/config'

// Its own config, so `npx vitest run` in this folder does not pick up the root's project list.
export default defineProject({
  test: {
    name: 'academy',
    root: import.meta.dirname,
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
