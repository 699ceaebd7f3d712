/**
 * The Docker engine the provisioner and the tests talk to: the one answering on
 * /var/run/docker.sock, or else a `dockerd` (Debian's docker.io) we start
 * ourselves, detached, as root, logging to .data/dockerd.log.
 *
 * A started engine is left running when this process exits: it is the
 * machine's engine, shared by every test file and by `npm run dev`, and its
 * containers outlive us. Call `stop()` to stop it (only if we started it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const dockerSocketPath = '/var/run/docker.sock'
const dockerPidFile = '/var/run/docker.pid'
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const dockerdLogPath = path.join(root, '.data', 'dockerd.log')

// dockerd finds containerd, runc, docker-proxy and iptables on PATH, and
// Debian puts some of them in sbin, which a non-login PATH may lack.
const systemPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
const startTimeoutMs = 60_000

export type DockerEngine = {
  socketPath: string
  /** True when this call started dockerd; only then does stop() stop it. */
  startedByUs: boolean
  stop(): Promise<void>
}

/** The engine cannot be reached or started; the message says what to do. */
export class DockerEngineError extends Error {
  override name = 'DockerEngineError'
}

let pending: Promise<DockerEngine> | undefined

/**
 * Uses the running engine, or starts dockerd and waits until it answers. Safe
 * to call more than once: callers in this process that ask while it starts
 * share that start (and its stop); later calls find it running.
 */
export function ensureDockerEngine(opts: { log?: (line: string) => void } = {}): Promise<DockerEngine> {
  const log = opts.log ?? (() => {})
  // Two callers in one process share one start instead of racing two daemons.
  pending ??= ensure(log).finally(() => {
    pending = undefined
  })
  return pending.then((engine) => sharedWithOthers(engine, log))
}

// Every process using the engine (test runs, `npm run dev`) leaves its pid
// here, machine-wide: a test run that started dockerd does not stop it under
// another run (another checkout, another TEST_PORT_OFFSET) still using it.
const usersDir = '/run/commons-portal/docker-users'

function sharedWithOthers(engine: DockerEngine, log: (line: string) => void): DockerEngine {
  const mine = path.join(usersDir, String(process.pid))
  try {
    mkdirSync(usersDir, { recursive: true })
    writeFileSync(mine, '')
  } catch {
    // Not root: then we cannot have started dockerd either, and never stop it.
  }
  return {
    ...engine,
    stop: async () => {
      rmSync(mine, { force: true })
      const others = existsSync(usersDir) ? readdirSync(usersDir).map(Number).filter((pid) => pid !== process.pid && isAlive(pid)) : []
      if (engine.startedByUs && others.length > 0) {
        log(`dockerd keeps running: pid ${others.join(', ')} still uses it`)
        return
      }
      await engine.stop()
    },
  }
}

function isAlive(pid: number) {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function ensure(log: (line: string) => void): Promise<DockerEngine> {
  if (await pingDocker()) return notOurs()
  if (process.getuid?.() !== 0) {
    throw new DockerEngineError(`No Docker engine answers on ${dockerSocketPath}, and only root can start dockerd. Start it as root (e.g. \`sudo dockerd\`) or run as root.`)
  }
  const dockerd = findOnPath('dockerd')
  if (!dockerd) {
    throw new DockerEngineError(`No Docker engine answers on ${dockerSocketPath} and dockerd is not installed. Install Debian's docker.io (\`npm run setup\` does).`)
  }
  // Another process (a parallel test file) may be starting it right now.
  const other = livePid(dockerPidFile)
  if (other !== undefined) {
    log(`dockerd (pid ${other}) is starting; waiting for it …`)
    if (await waitForPing(startTimeoutMs)) return notOurs()
    throw new DockerEngineError(`dockerd (pid ${other}, from ${dockerPidFile}) runs but does not answer on ${dockerSocketPath}. Look at its log (ours: ${dockerdLogPath}) or stop it.`)
  }

  let triedLegacyIptables = false
  for (;;) {
    const started = await startDockerd(dockerd, log)
    if (started.kind === 'ready') return started.engine
    if (started.kind === 'other-daemon') {
      if (await waitForPing(startTimeoutMs)) return notOurs()
      throw new DockerEngineError(`Another dockerd holds ${dockerPidFile} but does not answer on ${dockerSocketPath}.`)
    }
    if (started.kind === 'timeout') {
      throw new DockerEngineError(`dockerd did not answer on ${dockerSocketPath} within ${startTimeoutMs / 1000} s (stopped it again). Its log: ${dockerdLogPath}\n${started.logTail}`)
    }
    // It exited. The common cause on fresh machines: a kernel without
    // nf_tables support for the iptables-nft that Debian selects by default.
    if (!triedLegacyIptables && looksLikeNftProblem(started.logTail) && switchToLegacyIptables(log)) {
      triedLegacyIptables = true
      continue
    }
    throw new DockerEngineError(
      `dockerd exited (${started.exit}) before answering. Its log: ${dockerdLogPath}\n${started.logTail}\n` +
        'Is docker.io installed completely (containerd, runc, iptables)? `npm run setup` installs it.',
    )
  }
}

type StartResult =
  | { kind: 'ready'; engine: DockerEngine }
  | { kind: 'exited'; exit: string; logTail: string }
  | { kind: 'timeout'; logTail: string }
  | { kind: 'other-daemon' }

async function startDockerd(dockerd: string, log: (line: string) => void): Promise<StartResult> {
  mkdirSync(path.dirname(dockerdLogPath), { recursive: true })
  const logOffset = existsSync(dockerdLogPath) ? statSync(dockerdLogPath).size : 0
  const fd = openSync(dockerdLogPath, 'a')
  let child: ChildProcess
  try {
    log(`Starting dockerd (log: ${dockerdLogPath}) …`)
    child = spawn(dockerd, [], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, PATH: [...new Set([...(process.env.PATH ?? '').split(':').filter(Boolean), ...systemPath])].join(':') },
    })
  } finally {
    closeSync(fd)
  }
  child.unref()
  let exit: string | undefined
  child.once('exit', (code, signal) => {
    exit = signal ? `signal ${signal}` : `code ${code}`
  })
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))

  const deadline = Date.now() + startTimeoutMs
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, sleep(250).then(() => undefined)])
    if (failed) throw new DockerEngineError(`Could not run ${dockerd}: ${failed.message}`)
    if (exit !== undefined) {
      const tail = logSince(logOffset)
      if (/pid file found, ensure docker is not running/.test(tail)) return { kind: 'other-daemon' }
      return { kind: 'exited', exit, logTail: tail }
    }
    if (await pingDocker()) {
      log(`dockerd is ready (pid ${child.pid})`)
      return { kind: 'ready', engine: ourEngine(child) }
    }
  }
  await ourEngine(child).stop()
  return { kind: 'timeout', logTail: logSince(logOffset) }
}

function ourEngine(child: ChildProcess): DockerEngine {
  let stopping: Promise<void> | undefined
  return {
    socketPath: dockerSocketPath,
    startedByUs: true,
    stop: () => (stopping ??= stopChild(child)),
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.ref() // keep this process alive until dockerd is gone
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  // dockerd stops its containers first (10 s each at most, in parallel).
  let timer: NodeJS.Timeout | undefined
  const done = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 45_000)))])
  clearTimeout(timer)
  if (!done) {
    child.kill('SIGKILL')
    await exited
  }
}

function notOurs(): DockerEngine {
  return { socketPath: dockerSocketPath, startedByUs: false, stop: async () => {} }
}

/** GET /_ping on the engine's socket: true when it answers OK. */
export function pingDocker(socketPath = dockerSocketPath, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (response) => {
      response.resume()
      resolve(response.statusCode === 200)
    })
    request.once('timeout', () => request.destroy(Object.assign(new Error('ping timed out'), { code: 'ETIMEDOUT' })))
    request.once('error', (error: NodeJS.ErrnoException) => {
      // No socket, nobody listening, or a daemon still starting: "not (yet) there".
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ETIMEDOUT' || error.code === 'ECONNRESET') resolve(false)
      else reject(new DockerEngineError(`Cannot talk to ${socketPath}: ${error.message}`))
    })
  })
}

async function waitForPing(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await pingDocker()) return true
    await sleep(250)
  }
  return false
}

// e.g. "failed to create NAT chain DOCKER: iptables failed: … iptables v1.8.9
// (nf_tables): Could not fetch rule set generation id: Invalid argument"
function looksLikeNftProblem(logText: string): boolean {
  return /iptables/i.test(logText) && /\(nf_tables\)/.test(logText)
}

/**
 * Debian selects iptables-nft; on kernels without nf_tables, dockerd cannot
 * create its NAT and isolation chains and exits. iptables-legacy is the known
 * fix there. Only done after dockerd failed that way, and said so in the log.
 */
function switchToLegacyIptables(log: (line: string) => void): boolean {
  const pairs = [
    ['iptables', '/usr/sbin/iptables-legacy'],
    ['ip6tables', '/usr/sbin/ip6tables-legacy'],
  ] as const
  if (!existsSync(pairs[0][1])) return false
  // Only a machine on the nft backend can be helped by leaving it.
  if (!existsSync('/etc/alternatives/iptables') || !realpathSync('/etc/alternatives/iptables').includes('nft')) return false
  log('dockerd failed to set up iptables with the nf_tables backend (see its log); switching the machine to iptables-legacy and trying again.')
  for (const [name, target] of pairs) {
    if (!existsSync(target)) continue
    const result = spawnSync('update-alternatives', ['--set', name, target], { encoding: 'utf8' })
    if (result.status !== 0) throw new DockerEngineError(`update-alternatives --set ${name} ${target} failed: ${result.stderr || result.error?.message}`)
  }
  return true
}

function findOnPath(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...systemPath]
  return dirs.map((dir) => path.join(dir, command)).find((candidate) => existsSync(candidate))
}

function livePid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return undefined // left over from a killed daemon
    throw error
  }
}

function logSince(offset: number): string {
  if (!existsSync(dockerdLogPath)) return ''
  const lines = readFileSync(dockerdLogPath).subarray(offset).toString('utf8').trimEnd().split('\n')
  return lines.slice(-30).join('\n')
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
