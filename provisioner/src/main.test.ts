import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger, parseEnv } from './main.ts'

const provisionerDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

/** The real process, as the container runs it (through tsx instead of the bundle). */
function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: provisionerDir,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env },
  })
  const stdout: LogLine[] = []
  let stderr = ''
  let buffered = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) if (line.trim()) stdout.push(JSON.parse(line) as LogLine)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  children.push(child)
  return { child, stdout, stderr: () => stderr, exited }
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const children: ChildProcessWithoutNullStreams[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

const required = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
  PROVISIONER_API_TOKEN: 'x'.repeat(32),
  SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'),
  KEYCLOAK_URL: 'http://127.0.0.1:8080',
  PROVISIONER_CLIENT_SECRET: 'secret',
  CADDY_ADMIN_URL: 'http://127.0.0.1:2019',
  PROXY_CONTAINER: 'commons-proxy',
}

describe('provisioner process', () => {
  it('refuses a bad PORT with a message that names PORT, and logs nothing else', async () => {
    const proc = startProcess({ ...required, PORT: 'eighty' })
    expect(await proc.exited).toEqual({ code: 1, signal: null })
    const [line] = proc.stderr().trim().split('\n')
    const entry = JSON.parse(line ?? '{}') as LogLine
    expect(entry.level).toBe(60)
    expect(entry.msg).toMatch(/PORT: must be a port number/)
    expect(proc.stdout).toEqual([])
  })

  it('names every missing required variable at once', async () => {
    const proc = startProcess({})
    expect(await proc.exited).toEqual({ code: 1, signal: null })
    const entry = JSON.parse(proc.stderr().trim().split('\n')[0] ?? '{}') as LogLine
    for (const name of Object.keys(required)) expect(entry.msg).toContain(name)
  })
})

describe('parseEnv', () => {
  it('uses the defaults for everything that is not required', () => {
    expect(parseEnv(required)).toMatchObject({
      PORT: 3001,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_SCHEMA: 'provisioner',
      INSTANCE_DOMAIN: 'localhost',
      PUBLIC_URL_SCHEME: 'https',
      REMOVED_VOLUME_GRACE_DAYS: 30,
      RETRY_BUDGET: 5,
    })
  })

  it.each(['-1', '3.5', '65536', 'http'])('refuses PORT=%j', (value) => {
    expect(() => parseEnv({ ...required, PORT: value })).toThrow(/PORT: must be a port number/)
  })

  it('names LOG_LEVEL when it is not a level', () => {
    expect(() => parseEnv({ ...required, LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/)
  })

  it('refuses a secrets key that is not 32 bytes and a short API token', () => {
    expect(() => parseEnv({ ...required, SECRETS_KEY: 'c2hvcnQ=' })).toThrow(/SECRETS_KEY: must be 32 bytes/)
    expect(() => parseEnv({ ...required, PROVISIONER_API_TOKEN: 'short' })).toThrow(/PROVISIONER_API_TOKEN: must be at least 32/)
  })

  it('reads the Swarm settings, and names the one that is malformed', () => {
    const env = parseEnv({
      ...required,
      PROVISIONER_DRIVER: 'swarm',
      SWARM_NODE_ENGINES: 'tools-1=ssh://commons@10.0.0.11,tools-2=unix:///run/tools-2/docker.sock',
      SWARM_CONSTRAINTS: 'node.role==worker, node.labels.commons.tools==true',
    })
    expect(env.PROVISIONER_DRIVER).toBe('swarm')
    expect([...(env.SWARM_NODE_ENGINES ?? [])]).toEqual([
      ['tools-1', 'ssh://commons@10.0.0.11'],
      ['tools-2', 'unix:///run/tools-2/docker.sock'],
    ])
    expect(env.SWARM_CONSTRAINTS).toEqual(['node.role==worker', 'node.labels.commons.tools==true'])
    expect(env.SWARM_ENCRYPT_NETWORKS).toBe(true)
    expect(parseEnv(required)).toMatchObject({ PROVISIONER_DRIVER: 'local', SWARM_CONSTRAINTS: [] })
    expect(() => parseEnv({ ...required, PROVISIONER_DRIVER: 'kubernetes' })).toThrow(/PROVISIONER_DRIVER/)
    expect(() => parseEnv({ ...required, SWARM_NODE_ENGINES: 'tools-1=tcp://10.0.0.11:2375' })).toThrow(/SWARM_NODE_ENGINES: must be hostname=unix/)
    expect(() => parseEnv({ ...required, SWARM_CONSTRAINTS: 'node.role worker' })).toThrow(/SWARM_CONSTRAINTS: must be constraints/)
  })

  it('reads the crash switch of the tests', () => {
    expect(parseEnv({ ...required, TEST_CRASH_AT: 'container:web@after' }).TEST_CRASH_AT).toEqual({ step: 'container:web', when: 'after' })
    expect(() => parseEnv({ ...required, TEST_CRASH_AT: 'soon' })).toThrow(/TEST_CRASH_AT/)
  })
})

describe('createLogger', () => {
  it('writes pino-shaped JSON lines and drops those below the level', () => {
    const lines: string[] = []
    const log = createLogger('warn', (line) => lines.push(line))
    log.info('not written')
    log.warn('written', { instance: 'nextcloud-1' })
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 40, service: 'provisioner', instance: 'nextcloud-1', msg: 'written' })
  })
})
