/**
 * `npm run dev`: the whole portal on embedded defaults, on this machine only.
 * Embedded PostgreSQL, a local Keycloak with the realm and demo users, the
 * maildev mail catcher, the provisioner with the Docker engine and the proxy
 * (when this machine can run Docker), and the portal in development mode.
 * Ctrl-C stops all.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaPg } from '@prisma/adapter-pg'
import { DEV_USERS_FILE } from './keycloak.ts'
import { startDatabaseAndKeycloak } from './local-stack.ts'
import { startProvisionerStack } from './provisioner-stack.ts'
import { localSecrets } from './secrets.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dataDir = path.join(root, '.data')
const PORTAL_PORT = Number(process.env.PORT ?? 3000)
const KEYCLOAK_PORT = Number(process.env.KEYCLOAK_PORT ?? 8180)
const MAIL_WEB_PORT = 1080
const MAIL_SMTP_PORT = 1025
// The portal's own listener for mail to the support address.
const HELPDESK_SMTP_PORT = 2526
const PROVISIONER_PORT = 3001
const TOOLS_PORT = 8088
// One host name for the portal and Keycloak, so the session-check frame is same-site.
const portalUrl = `http://127.0.0.1:${PORTAL_PORT}`

const secrets = localSecrets(path.join(dataDir, 'dev-secrets.json'))
const stops: (() => Promise<void>)[] = []
let stopping: Promise<void> | undefined
/** Stops everything once, last started first (Ctrl-C and the portal's exit may both ask). */
function stopAll(code: number): Promise<void> {
  stopping ??= (async () => {
    for (const stop of [...stops].reverse()) {
      await stop().catch((error: unknown) => console.error(`stopping failed: ${error instanceof Error ? error.message : String(error)}`))
    }
    process.exit(code)
  })()
  return stopping
}
process.on('SIGINT', () => void stopAll(0))
process.on('SIGTERM', () => void stopAll(0))

try {
  const { database, keycloak, userIds } = await startDatabaseAndKeycloak({
    dataDir,
    keycloakPort: KEYCLOAK_PORT,
    portalUrl,
    secrets,
    stops,
    log: console.log,
  })

  console.log('Starting the mail catcher …')
  const { default: MailDev } = await import('maildev')
  const maildev = new MailDev({ smtp: MAIL_SMTP_PORT, web: MAIL_WEB_PORT, ip: '127.0.0.1', silent: true })
  await new Promise<void>((resolve, reject) => maildev.listen((e) => (e ? reject(e) : resolve())))
  stops.push(() => new Promise((resolve) => maildev.close(() => resolve())))

  // Tools need Docker; without it the portal still runs and says the tool service is unreachable.
  let provisioner: { url: string; apiToken: string } | undefined
  try {
    provisioner = await startProvisionerStack({
      dataDir,
      databaseUrl: database.url,
      keycloakUrl: keycloak.url,
      provisionerClientSecret: secrets.provisioner,
      port: PROVISIONER_PORT,
      httpPort: TOOLS_PORT,
      proxyName: 'commons-dev-proxy',
      stops,
      env: { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(MAIL_SMTP_PORT), SMTP_FROM: 'tools@commons.local' },
      log: console.log,
    })
  } catch (error) {
    console.warn(`The provisioner could not start, so tools cannot be requested: ${error instanceof Error ? error.message : String(error)}`)
  }

  const env = {
    ...process.env,
    ...(provisioner ? { PROVISIONER_URL: provisioner.url, PROVISIONER_API_TOKEN: provisioner.apiToken } : {}),
    NODE_ENV: 'development',
    PORT: String(PORTAL_PORT),
    PORTAL_URL: portalUrl,
    DATABASE_URL: database.url,
    KEYCLOAK_URL: keycloak.url,
    KEYCLOAK_CLIENT_SECRET: secrets.portal,
    KEYCLOAK_ADMIN_CLIENT_SECRET: secrets.portalAdmin,
    SMTP_URL: `smtp://127.0.0.1:${MAIL_SMTP_PORT}`,
    MAIL_FROM: 'Commons Portal (dev) <portal@commons.local>',
    HELPDESK_ADDRESS: 'support@commons.local',
    HELPDESK_SMTP_PORT: String(HELPDESK_SMTP_PORT),
  }

  const { PrismaClient } = await import('../portal/app/generated/prisma/client.ts')
  const { KeycloakAdmin } = await import('../portal/app/utils/keycloak-admin.server.ts')
  const { seedDemoData } = await import('../portal/prisma/seed.ts')
  const devUsers = (JSON.parse(readFileSync(DEV_USERS_FILE, 'utf8')) as { users: { email: string; firstName: string; lastName: string; password: string; realmRoles?: string[] }[] }).users
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) })
  await seedDemoData(
    prisma,
    new KeycloakAdmin({ baseUrl: keycloak.url, realm: 'commons', clientId: 'commons-portal-admin', clientSecret: secrets.portalAdmin }),
    devUsers.map((u) => ({ email: u.email, name: `${u.firstName} ${u.lastName}`, keycloakId: userIds.get(u.email) ?? '' })),
  )
  await prisma.$disconnect()

  const portal = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], { cwd: path.join(root, 'portal'), env, stdio: 'inherit' })
  // Registered last, so it stops first: the portal goes before its database and Keycloak.
  stops.push(async () => {
    if (portal.exitCode !== null) return
    portal.kill('SIGTERM')
    await new Promise((r) => portal.once('exit', r))
  })
  process.once('exit', () => portal.kill('SIGTERM'))
  portal.once('exit', (code) => void stopAll(code ?? 1))

  const banner = [
    '',
    '  Commons Portal is starting on embedded defaults.',
    '',
    `  Portal:        ${portalUrl}`,
    `  Mail catcher:  http://127.0.0.1:${MAIL_WEB_PORT}  (every mail the portal sends lands here)`,
    `  Helpdesk mail: smtp://127.0.0.1:${HELPDESK_SMTP_PORT}  (mail to support@commons.local: replies thread into tickets)`,
    provisioner
      ? `  Tools:         http://<tool>-<organisation>.localhost:${TOOLS_PORT}  (log: .data/provisioner.log)`
      : '  Tools:         not available (the provisioner could not start; see above)',
    `  Keycloak:      ${keycloak.url}/admin  (master admin "admin", password in .data/dev-secrets.json)`,
    '',
    '  Sign in with a demo person (password for all: see below):',
    ...devUsers.map((u) => `    ${u.email.padEnd(30)} ${(u.realmRoles ?? []).join(', ') || (u.email.startsWith('admin') ? 'admin of Groene Bakkerij' : 'member of Groene Bakkerij')}`),
    `  Password: ${devUsers[0]?.password}`,
    '',
  ]
  console.log(banner.join('\n'))
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  await stopAll(1)
}
