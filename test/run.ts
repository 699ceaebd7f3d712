/**
 * `npm test`: starts the real parts once — PostgreSQL (embedded), Keycloak with
 * the realm and demo users, an SMTP server that keeps what it receives — then
 * runs the unit and integration tests (vitest) and the end-to-end tests
 * (Playwright in Debian's Chromium against a production build), and stops everything.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDatabaseAndKeycloak } from '../scripts/local-stack.ts'
import { ensureDockerEngine } from '../scripts/docker-engine.ts'
import { startProvisionerStack } from '../scripts/provisioner-stack.ts'
import { localSecrets } from '../scripts/secrets.ts'
import { startSmtpCapture } from './support/smtp-capture.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
// TEST_PORT_OFFSET lets two test runs share a machine (each its own ports and folder).
const offset = Number(process.env.TEST_PORT_OFFSET ?? 0)
const runDir = path.join(root, '.data', offset ? `test-run-${offset}` : 'test-run')
rmSync(runDir, { recursive: true, force: true })
mkdirSync(runDir, { recursive: true })

const ports = { postgres: 5434 + offset, keycloak: 8280 + offset, portal: 3100 + offset, smtp: 2525 + offset, provisioner: 3200 + offset, tools: 18000 + offset, helpdeskSmtp: 2626 + offset }
const portalUrl = `http://127.0.0.1:${ports.portal}`
const secrets = localSecrets(path.join(runDir, 'secrets.json'))
const stops: (() => Promise<void>)[] = []
// `tsx test/run.ts unit|e2e [filters…]` runs one half, optionally only the matching test files.
const only = process.argv[2]
const filters = process.argv.slice(3)

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' })
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

let exitCode = 1
try {
  const started = Date.now()
  process.env.EMBEDDED_POSTGRES_DIR = path.join(runDir, 'postgres')
  process.env.EMBEDDED_POSTGRES_PORT = String(ports.postgres)
  delete process.env.DATABASE_URL
  // The provisioner's tests drive a real Docker engine; one we start here is stopped at the end.
  const engine = await ensureDockerEngine({ log: console.log })
  stops.push(engine.stop)
  const { database, keycloak } = await startDatabaseAndKeycloak({ dataDir: runDir, keycloakPort: ports.keycloak, portalUrl, secrets, stops })

  const mailDir = path.join(runDir, 'mail')
  const smtp = await startSmtpCapture({ port: ports.smtp, dir: mailDir })
  stops.push(smtp.stop)
  // The end-to-end tests request tools through the portal: the provisioner,
  // the Docker engine and the proxy run for them (vitest files start their own).
  const provisioner =
    only === 'unit'
      ? undefined
      : await startProvisionerStack({
          dataDir: runDir,
          databaseUrl: database.url,
          keycloakUrl: keycloak.url,
          provisionerClientSecret: secrets.provisioner,
          port: ports.provisioner,
          httpPort: ports.tools,
          proxyName: `commons-test-proxy-${offset}-0`,
          stops,
          env: { PROVISIONER_NAME: `commons-provisioner-e2e-${offset}`, LOG_LEVEL: 'info', RETRY_BASE_MS: '500', RESYNC_MS: '5000', REMOVED_VOLUME_GRACE_DAYS: '0' },
          dropBackupsOnStop: true,
        })
  console.log(`test stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    PORTAL_URL: portalUrl,
    PORTAL_PORT: String(ports.portal),
    KEYCLOAK_URL: keycloak.url,
    KEYCLOAK_CLIENT_SECRET: secrets.portal,
    KEYCLOAK_ADMIN_CLIENT_SECRET: secrets.portalAdmin,
    PROVISIONER_CLIENT_SECRET: secrets.provisioner,
    TEST_KEYCLOAK_MASTER_PASSWORD: secrets.keycloakAdminPassword,
    SMTP_URL: `smtp://127.0.0.1:${ports.smtp}`,
    TEST_MAIL_DIR: mailDir,
    // The portal's listener for mail to the support address (the end-to-end tests answer its mail there).
    HELPDESK_ADDRESS: 'support@commons.test',
    HELPDESK_SMTP_PORT: String(ports.helpdeskSmtp),
    ATTACHMENTS_DIR: path.join(runDir, 'attachments'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    CATALOG_SHOW_TEST_RECIPES: 'true',
    ...(provisioner
      ? { PROVISIONER_URL: provisioner.url, PROVISIONER_API_TOKEN: provisioner.apiToken, REMOVED_VOLUME_GRACE_DAYS: '0' }
      : {}),
  }
  const unit = only === 'e2e' ? 0 : await run('npx', ['vitest', 'run', ...filters], env)
  const e2e = only === 'unit' ? 0 : await run('npx', ['playwright', 'test', '-c', 'test/playwright.config.ts', ...filters], env)
  exitCode = unit || e2e
} catch (error) {
  console.error(error)
} finally {
  for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error('stop failed:', e))
}
process.exit(exitCode)
