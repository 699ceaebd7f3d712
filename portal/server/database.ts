import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmbeddedPostgres } from './embedded-postgres.ts'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface Database {
  url: string
  embedded: boolean
  close(): Promise<void>
}

/**
 * DATABASE_URL when it is set; otherwise an embedded PostgreSQL whose data
 * lives in the git-ignored `.data/` folder (EMBEDDED_POSTGRES_DIR, _PORT).
 */
export async function openDatabase(log?: (line: string) => void): Promise<Database> {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, embedded: false, close: async () => {} }
  }
  const db = await startEmbeddedPostgres({
    dataDir: process.env.EMBEDDED_POSTGRES_DIR ?? path.join(repoRoot, '.data', 'postgres'),
    port: Number(process.env.EMBEDDED_POSTGRES_PORT ?? 5433),
    database: 'commons',
    log,
  })
  return { url: db.url, embedded: true, close: db.stop }
}
