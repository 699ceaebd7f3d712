import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import type { ServerBuild } from '@remix-run/node'
import compression from 'compression'
import express from 'express'
import { EnvError, parseEnv, type Env } from '../app/utils/env.server.ts'
import { openDatabase } from './database.ts'
import { applyMigrations } from './migrate.ts'
import { securityHeaders, rejectCrossSiteForms } from './security.ts'

const portalDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

let config: Env
try {
  config = parseEnv(process.env)
} catch (error) {
  if (error instanceof EnvError) {
    console.error(error.message)
    console.error('See docs/configuration.md for every setting, or run `npm run dev` for local defaults.')
    process.exit(1)
  }
  throw error
}

// Imported after the env check so the logger reads a valid LOG_LEVEL.
const { logger } = await import('../app/utils/logger.server.ts')

const database = await openDatabase((line) => logger.debug({ component: 'postgres' }, line))
process.env.DATABASE_URL = database.url
const applied = await applyMigrations(database.url)
logger.info({ embedded: database.embedded, applied }, 'database ready')

// The catalog is read once; a broken recipe stops the start with the list of its problems.
const { initCatalog } = await import('../app/utils/catalog.server.ts')
const { CatalogError } = await import('@commons/catalog')
try {
  const recipes = await initCatalog(config.CATALOG_DIR ?? path.join(portalDir, '..', 'catalog', 'recipes'))
  logger.info({ recipes: recipes.length }, 'catalog loaded')
} catch (error) {
  if (error instanceof CatalogError) {
    console.error(error.message)
    process.exit(1)
  }
  throw error
}

// The starter courses; a broken one stops the start like a broken recipe (the tests load them all).
if (config.ACADEMY_SEED) {
  const { seedAndReport } = await import('./seed-academy.ts')
  const seeded = await seedAndReport(config.ACADEMY_COURSES_DIR ?? path.join(portalDir, '..', 'academy', 'courses'), logger)
  if (!seeded) process.exit(1)
}

const { outbox } = await import('../app/utils/email.server.ts')
const { instanceWatcher } = await import('../app/utils/instance-watcher.server.ts')
const { deleteExpiredSessions } = await import('../app/utils/session.server.ts')
const { helpdeskScheduler } = await import('../app/utils/helpdesk/scheduler.server.ts')
const { startInboundSmtp } = await import('../app/utils/helpdesk/inbound-smtp.server.ts')
const { isSupportAddress, receiveInboundMail } = await import('../app/utils/helpdesk/inbound.server.ts')
const { disconnectDb } = await import('../app/utils/db.server.ts')

const app = express()
app.disable('x-powered-by')
app.set('trust proxy', 'loopback, uniquelocal')
app.use(compression())
app.use((req, res, next) => {
  res.locals.cspNonce = randomBytes(16).toString('base64')
  next()
})
app.use((req, res, next) => {
  const started = performance.now()
  res.on('finish', () => {
    if (req.path.startsWith('/assets/') || req.path === '/healthz') return
    logger.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request')
  })
  next()
})
app.use(securityHeaders(config))
app.use(rejectCrossSiteForms(config))

let build: () => Promise<ServerBuild>
const viteServer =
  config.NODE_ENV === 'production'
    ? undefined
    : await import('vite').then((vite) => vite.createServer({ root: portalDir, server: { middlewareMode: true } }))
if (viteServer) {
  app.use(viteServer.middlewares)
  build = () => viteServer.ssrLoadModule('virtual:remix/server-build') as Promise<ServerBuild>
} else {
  const clientDir = path.join(portalDir, 'build', 'client')
  app.use('/assets', express.static(path.join(clientDir, 'assets'), { immutable: true, maxAge: '1y' }))
  app.use(express.static(clientDir, { maxAge: '1h' }))
  const serverBuild = (await import(pathToFileURL(path.join(portalDir, 'build', 'server', 'index.js')).href)) as ServerBuild
  build = async () => serverBuild
}

app.all(
  '*',
  createRequestHandler({
    build,
    mode: config.NODE_ENV,
    getLoadContext: (_req, res) => ({ cspNonce: res.locals.cspNonce as string }),
  }),
)

outbox.start()
instanceWatcher.start()
helpdeskScheduler.start()
// Mail to the support address, from a relay (production) or straight from senders.
const inboundSmtp =
  config.HELPDESK_SMTP_PORT === undefined
    ? undefined
    : await startInboundSmtp({
        host: config.HELPDESK_SMTP_HOST,
        port: config.HELPDESK_SMTP_PORT,
        acceptRecipient: isSupportAddress,
        maxBytes: config.HELPDESK_MAIL_MAX_MB * 1024 * 1024,
        onMail: async (raw, envelope) => {
          await receiveInboundMail(raw, envelope)
        },
        log: logger,
      })
if (inboundSmtp) logger.info({ listen: `${config.HELPDESK_SMTP_HOST}:${inboundSmtp.port}`, address: config.HELPDESK_ADDRESS }, 'helpdesk mail listener ready')
const sweeper = setInterval(() => void deleteExpiredSessions().catch((e: unknown) => logger.error({ err: e }, 'session sweep failed')), 15 * 60_000)

const server = app.listen(config.PORT, config.HOST, () => {
  logger.info({ url: config.PORTAL_URL, listen: `${config.HOST}:${config.PORT}` }, 'portal listening')
})

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  clearInterval(sweeper)
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await inboundSmtp?.stop()
  await helpdeskScheduler.stop()
  await outbox.stop()
  await instanceWatcher.stop()
  await viteServer?.close()
  await disconnectDb()
  await database.close()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
