import { describe, expect, it } from 'vitest'
import { applyMigrations, pendingSchemaChange } from './migrate'

const url = process.env.DATABASE_URL

describe.runIf(url)('migrations', () => {
  it('match prisma/schema.prisma (run `npm run db:migration -w portal -- <name>` after a schema change)', async () => {
    expect(await pendingSchemaChange(url!)).toBeNull()
  })

  it('are all applied, and applying again does nothing', async () => {
    expect(await applyMigrations(url!)).toEqual([])
  })
})
