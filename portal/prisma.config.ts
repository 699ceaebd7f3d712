import { defineConfig } from 'prisma/config'

// The CLI (migrate, seed) reads the URL here; at run time the portal passes
// its own URL (embedded or DATABASE_URL) to the pg driver adapter.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
})
