import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

/**
 * The provisioner process as it stands today: it answers its health check and
 * does nothing else. The controller loop (desired state → plan → ensure*) is
 * built in a later phase; see README.md and docs/architecture.md.
 */

const levels = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10, silent: Infinity } as const
type Level = Exclude<keyof typeof levels, 'silent'>

const envSchema = z.object({
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number (0-65535; 0 picks a free port)')
    .transform(Number)
    .pipe(z.number().max(65535, 'must be a port number (0-65535; 0 picks a free port)'))
    .default(3001),
  // Loopback unless told otherwise (as the portal); the container sets 0.0.0.0 for the backend network.
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})

export type Env = z.infer<typeof envSchema>

export class EnvError extends Error {}

/** Parses the environment once; a bad value is refused with a message that names the variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source)
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`)
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`)
  }
  return result.data
}

export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void>

/** JSON lines in pino's shape (numeric level, epoch ms), so the portal's and the provisioner's logs read alike. */
export function createLogger(level: Env['LOG_LEVEL'], write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const entry = (name: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (levels[name] < levels[level]) return
    write(JSON.stringify({ level: levels[name], time: Date.now(), service: 'provisioner', ...fields, msg }) + '\n')
  }
  return {
    fatal: entry('fatal'),
    error: entry('error'),
    warn: entry('warn'),
    info: entry('info'),
    debug: entry('debug'),
    trace: entry('trace'),
  }
}

const health = { status: 'ok', phase: 'not yet provisioning' } as const

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers })
  res.end(JSON.stringify(body))
}

export interface RunningProvisioner {
  port: number
  close(): Promise<void>
}

export async function startProvisioner(env: Env, log: Logger): Promise<RunningProvisioner> {
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://provisioner')
    if (pathname !== '/healthz') return sendJson(res, 404, { error: 'not found' })
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' })
    sendJson(res, 200, health)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(env.PORT, env.HOST, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  log.info('provisioner listening', { host: env.HOST, port, phase: health.phase })
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // Keep-alive connections would hold close() open until the client leaves.
        server.closeIdleConnections()
      }),
  }
}

async function main() {
  let env: Env
  try {
    env = parseEnv(process.env)
  } catch (error) {
    if (!(error instanceof EnvError)) throw error
    createLogger('info', (line) => process.stderr.write(line)).fatal(error.message)
    process.exitCode = 1
    return
  }
  const log = createLogger(env.LOG_LEVEL)
  let provisioner: RunningProvisioner
  try {
    provisioner = await startProvisioner(env, log)
  } catch (error) {
    log.fatal('could not listen', { host: env.HOST, port: env.PORT, err: error instanceof Error ? error.message : String(error) })
    process.exitCode = 1
    return
  }

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log.info('shutting down', { signal })
    // A request that is still running gets five seconds; then the process ends anyway.
    const deadline = setTimeout(() => {
      log.warn('open connections did not finish in time; exiting')
      process.exit(1)
    }, 5000)
    deadline.unref()
    provisioner.close().then(
      () => log.info('stopped'),
      (error: unknown) => {
        log.error('could not stop cleanly', { err: error instanceof Error ? error.message : String(error) })
        process.exitCode = 1
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main()
}
