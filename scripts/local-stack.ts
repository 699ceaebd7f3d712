import path from 'node:path'
import { importDevUsers } from './keycloak-dev-users.ts'
import { startKeycloak } from './keycloak.ts'
import type { LocalSecrets } from './secrets.ts'

/**
 * The parts `npm run dev` and `npm test` both need: PostgreSQL (embedded,
 * unless DATABASE_URL is set) with the migrations applied, and Keycloak with
 * the realm and the demo people. Each started part adds its stop to `stops`.
 */
export async function startDatabaseAndKeycloak(opts: {
  dataDir: string
  keycloakPort: number
  portalUrl: string
  secrets: LocalSecrets
  stops: (() => Promise<void>)[]
  log?: (line: string) => void
}) {
  const { openDatabase } = await import('../portal/server/database.ts')
  const { applyMigrations } = await import('../portal/server/migrate.ts')
  opts.log?.('Starting PostgreSQL (embedded) …')
  const database = await openDatabase()
  opts.stops.push(database.close)
  await applyMigrations(database.url)

  opts.log?.('Starting Keycloak (the first start on a machine takes a minute) …')
  const { secrets } = opts
  const keycloak = await startKeycloak({
    port: opts.keycloakPort,
    dataDir: path.join(opts.dataDir, 'keycloak'),
    portalUrl: opts.portalUrl,
    secrets: { portal: secrets.portal, portalAdmin: secrets.portalAdmin, provisioner: secrets.provisioner },
    adminUser: 'admin',
    adminPassword: secrets.keycloakAdminPassword,
    logFile: path.join(opts.dataDir, 'keycloak.log'),
  })
  opts.stops.push(keycloak.stop)
  const userIds = await importDevUsers(keycloak.url, { username: 'admin', password: secrets.keycloakAdminPassword }).catch((error: unknown) => {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n` +
        `The Keycloak data in ${path.join(opts.dataDir, 'keycloak')} was made with another admin password than the secrets file holds. ` +
        'Delete that folder (local data only) and start again.',
    )
  })
  return { database, keycloak, userIds }
}
