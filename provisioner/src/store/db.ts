import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')

/**
 * The provisioner's own tables live in the schema `provisioner` (by default of
 * the same database server as the portal's, but never touched by the portal).
 * Every connection gets it as its search path, so queries name bare tables.
 */
export function createPool(databaseUrl: string, schema = 'provisioner'): pg.Pool {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name "${schema}"`)
  return new pg.Pool({ connectionString: databaseUrl, max: 5, options: `-c search_path=${schema}` })
}

/** Applies the numbered SQL files in migrations/ that have not run yet, one transaction each. */
export async function migrate(pool: pg.Pool, schema = 'provisioner'): Promise<string[]> {
  const client = await pool.connect()
  const applied: string[] = []
  try {
    // Two provisioners starting at once must not both migrate.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`commons-provisioner-migrate-${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set((await client.query<{ name: string }>(`SELECT name FROM ${schema}.schema_migrations`)).rows.map((r) => r.name))
    const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).sort()
    for (const file of files) {
      if (done.has(file)) continue
      const sql = await readFile(path.join(migrationsDir, file), 'utf8')
      await client.query('BEGIN')
      try {
        await client.query(`SET LOCAL search_path = ${schema}`)
        await client.query(sql)
        await client.query(`INSERT INTO ${schema}.schema_migrations (name) VALUES ($1)`, [file])
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${file} failed: ${error instanceof Error ? error.message : String(error)}`)
      }
      applied.push(file)
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`commons-provisioner-migrate-${schema}`])
    client.release()
  }
  return applied
}
