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

describe('provisioner process', () => {
  it('answers GET /healthz on the port it was given and stops cleanly on SIGTERM', async () => {
    const proc = startProcess({ PORT: '0' })
    const listening = await until(() => proc.stdout.find((line) => line.msg === 'provisioner listening'), 'the listening log line')
    expect(listening).toMatchObject({ level: 30, service: 'provisioner', host: '127.0.0.1' })
    const port = listening.port as number
    expect(port).toBeGreaterThan(0)

    const res = await fetch(`http://127.0.0.1:${port}/healthz`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toEqual({ status: 'ok', phase: 'not yet provisioning' })

    const other = await fetch(`http://127.0.0.1:${port}/instances`)
    expect(other.status).toBe(404)
    const post = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST' })
    expect(post.status).toBe(405)

    proc.child.kill('SIGTERM')
    expect(await proc.exited).toEqual({ code: 0, signal: null })
    expect(proc.stdout.map((line) => line.msg)).toContain('stopped')
    expect(proc.stderr()).toBe('')
  })

  it('refuses a bad PORT with a message that names PORT', async () => {
    const proc = startProcess({ PORT: 'eighty' })
    expect(await proc.exited).toEqual({ code: 1, signal: null })
    const [line] = proc.stderr().trim().split('\n')
    const entry = JSON.parse(line ?? '{}') as LogLine
    expect(entry.level).toBe(60)
    expect(entry.msg).toMatch(/PORT: must be a port number/)
    expect(proc.stdout).toEqual([])
  })
})

describe('parseEnv', () => {
  it('uses the defaults when nothing is set', () => {
    expect(parseEnv({})).toEqual({ PORT: 3001, HOST: '127.0.0.1', LOG_LEVEL: 'info' })
  })

  it.each(['', '-1', '3.5', '65536', 'http'])('refuses PORT=%j', (value) => {
    expect(() => parseEnv({ PORT: value })).toThrow(/PORT: must be a port number/)
  })

  it('names LOG_LEVEL when it is not a level', () => {
    expect(() => parseEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/)
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
