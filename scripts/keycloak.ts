/**
 * Keycloak for development and tests: fetch and unpack the distribution once
 * into a cache outside the repository, add the providers built from
 * keycloak/extensions, run one `kc.sh start-dev` per data directory, and
 * import the realm "commons". The demo people are in keycloak-dev-users.ts;
 * `npm run dev` and `npm test` use both.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const KEYCLOAK_VERSION = '26.7.3'
export const REALM = 'commons'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const REALM_FILE = path.join(repoRoot, 'keycloak', 'realm-commons.json')
export const DEV_USERS_FILE = path.join(repoRoot, 'keycloak', 'dev-users.json')
/** One Maven project per folder; each builds one provider jar that every distribution started here carries. */
export const EXTENSIONS_DIR = path.join(repoRoot, 'keycloak', 'extensions')

/** Written last when a distribution is unpacked and prepared; its absence means "not ready". */
const READY_MARKER = '.commons-portal-ready'
/** Touched on every start, so distributions nobody has started for a while can be removed. */
const LAST_USED_MARKER = '.commons-portal-last-used'
const STALE_AFTER_MS = 24 * 60 * 60_000
/** Folders of the distribution that an instance home links to; everything else of the home is its own. */
const SHARED_DIST_FOLDERS = ['bin', 'conf', 'lib', 'providers', 'themes'] as const

export function keycloakCacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(cacheHome, 'commons-portal', 'keycloak')
}

// ---------------------------------------------------------------- Java

function javaMajorVersion(jdkHome: string): number | null {
  try {
    const release = fs.readFileSync(path.join(jdkHome, 'release'), 'utf8')
    const match = /^JAVA_VERSION="(\d+)(?:\.(\d+))?/m.exec(release)
    if (match?.[1]) return match[1] === '1' ? Number(match[2]) : Number(match[1])
  } catch {
    // no release file: ask the JVM itself
  }
  const java = path.join(jdkHome, 'bin', 'java')
  if (!fs.existsSync(java)) return null
  const result = spawnSync(java, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' })
  const match = /java\.specification\.version = (\d+)/.exec(`${result.stderr}${result.stdout}`)
  return match?.[1] ? Number(match[1]) : null
}

/** A JDK home with Java >= 21: JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm. */
export function findJava21(): string {
  const seen: string[] = []
  const javaHome = process.env.JAVA_HOME
  if (javaHome) {
    const version = javaMajorVersion(javaHome)
    if (version !== null && version >= 21) return javaHome
    seen.push(`JAVA_HOME=${javaHome} (Java ${version ?? '?'})`)
  }
  const jvmDir = '/usr/lib/jvm'
  const candidates = fs.existsSync(jvmDir)
    ? fs
        .readdirSync(jvmDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .map((entry) => path.join(jvmDir, entry.name))
    : []
  let best: { home: string; version: number } | null = null
  for (const home of candidates) {
    const version = javaMajorVersion(home)
    seen.push(`${home} (Java ${version ?? '?'})`)
    if (version !== null && version >= 21 && (!best || version > best.version)) best = { home, version }
  }
  if (best) return best.home
  throw new Error(
    `Keycloak ${KEYCLOAK_VERSION} needs a JDK >= 21; found: ${seen.join(', ') || 'none'}. ` +
      'Install one (e.g. a Temurin 21/25 package) or point JAVA_HOME at it.',
  )
}

// ---------------------------------------------------------------- processes and files

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const result = spawnSync(command, args, { ...options, encoding: 'utf8' })
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`)
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n')
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}:\n${output}`)
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function withLock<T>(lockDir: string, work: () => Promise<T>, isDone: () => boolean): Promise<T | null> {
  const deadline = Date.now() + 15 * 60_000
  for (;;) {
    try {
      await fsp.mkdir(lockDir)
      await fsp.writeFile(path.join(lockDir, 'pid'), String(process.pid))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (isDone()) return null
    const owner = Number(await fsp.readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => 'NaN'))
    // A lock without a live owner is left over from a killed run: take it over.
    if (Number.isInteger(owner) && !processIsAlive(owner)) {
      await fsp.rm(lockDir, { recursive: true, force: true })
      continue
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir} (held by pid ${owner})`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  try {
    return await work()
  } finally {
    await fsp.rm(lockDir, { recursive: true, force: true })
  }
}

function unpack(zip: string, intoDir: string, javaHome: string): void {
  if (commandExists('unzip')) {
    run('unzip', ['-q', '-o', zip, '-d', intoDir])
    return
  }
  // `jar` ships with every JDK but drops the executable bits.
  const jar = path.join(javaHome, 'bin', 'jar')
  if (!fs.existsSync(jar)) throw new Error(`cannot unpack ${zip}: neither 'unzip' nor ${jar} is available`)
  run(jar, ['xf', zip], { cwd: intoDir })
  for (const dir of fs.readdirSync(intoDir)) {
    const bin = path.join(intoDir, dir, 'bin')
    if (!fs.existsSync(bin)) continue
    for (const file of fs.readdirSync(bin)) if (file.endsWith('.sh')) fs.chmodSync(path.join(bin, file), 0o755)
  }
}

// ---------------------------------------------------------------- extensions (providers)

interface Extension {
  /** folder name under keycloak/extensions, also the jar's name in providers/ */
  name: string
  dir: string
  /** sha256 of every source file's path and content */
  sourceHash: string
}

function sourceFiles(dir: string, base = dir): string[] {
  const files: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    // target/ is where a hand-run `mvn package` writes; dot files are editor and VCS litter.
    if (entry.name.startsWith('.') || entry.name === 'target') continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) files.push(...sourceFiles(full, base))
    else if (entry.isFile()) files.push(path.relative(base, full))
  }
  return files.sort()
}

function listExtensions(dir = EXTENSIONS_DIR): Extension[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'pom.xml')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const extensionDir = path.join(dir, name)
      const hash = createHash('sha256')
      for (const file of sourceFiles(extensionDir)) {
        hash.update(`${file}\0`)
        hash.update(fs.readFileSync(path.join(extensionDir, file)))
        hash.update('\0')
      }
      return { name, dir: extensionDir, sourceHash: hash.digest('hex') }
    })
}

/** Builds one extension with Maven into `outDir` (outside the repository) and returns the jar. */
function buildExtension(extension: Extension, outDir: string, javaHome: string): string {
  if (!commandExists('mvn')) {
    throw new Error(`Maven (mvn) is needed to build the Keycloak extension ${extension.dir}; run npm run setup`)
  }
  console.log(`[keycloak] building the extension ${extension.name} with Maven`)
  // The same JDK that runs Keycloak; -B keeps progress bars and colours out of the captured output.
  run('mvn', ['-B', '-q', 'package', `-Dcommons.buildDirectory=${outDir}`], {
    cwd: extension.dir,
    env: { ...process.env, JAVA_HOME: javaHome },
  })
  const jars = fs.readdirSync(outDir).filter((file) => file.endsWith('.jar'))
  if (jars.length !== 1 || !jars[0]) throw new Error(`building ${extension.dir} left ${jars.length} jars in ${outDir}: ${jars.join(', ')}`)
  return path.join(outDir, jars[0])
}

// ---------------------------------------------------------------- distribution

/**
 * Returns the unpacked, prepared Keycloak home in the user cache, downloading
 * the distribution from Maven Central when the zip is missing.
 *
 * The home carries the providers of keycloak/extensions and is named after a
 * hash of their sources: a start with unchanged sources reuses it as is, a
 * change gets a new home and never disturbs a Keycloak still running from
 * the old one. "Prepared" means the dev-profile Quarkus build has already run
 * once with those providers, so that `start-dev` finds nothing to rebuild and
 * never writes into the shared folder.
 */
export async function ensureKeycloakDistribution(version = KEYCLOAK_VERSION): Promise<string> {
  const cacheDir = keycloakCacheDir()
  const extensions = listExtensions()
  const providersHash = createHash('sha256')
    .update(extensions.map((extension) => `${extension.name}:${extension.sourceHash}`).join('\n'))
    .digest('hex')
    .slice(0, 12)
  const homeName = extensions.length > 0 ? `keycloak-${version}-${providersHash}` : `keycloak-${version}`
  const home = path.join(cacheDir, homeName)
  const isReady = () => fs.existsSync(path.join(home, READY_MARKER))
  if (!isReady()) {
    await fsp.mkdir(cacheDir, { recursive: true })
    await withLock(
      path.join(cacheDir, `${homeName}.lock`),
      async () => {
        if (isReady()) return
        await prepareDistribution({ cacheDir, version, home, extensions })
      },
      isReady,
    )
    if (!isReady()) throw new Error(`Keycloak distribution at ${home} is not ready`)
  }
  const now = new Date()
  await fsp.writeFile(path.join(home, LAST_USED_MARKER), `${now.toISOString()}\n`)
  await pruneStaleDistributions(cacheDir, version, homeName, now.getTime())
  return home
}

async function prepareDistribution(opts: { cacheDir: string; version: string; home: string; extensions: Extension[] }) {
  const { cacheDir, version, home, extensions } = opts
  const javaHome = findJava21()
  const zip = path.join(cacheDir, `keycloak-quarkus-dist-${version}.zip`)
  if (!fs.existsSync(zip)) {
    if (!commandExists('mvn')) {
      throw new Error(`${zip} is missing and Maven (mvn) is not installed to fetch it from Maven Central`)
    }
    console.log(`[keycloak] downloading org.keycloak:keycloak-quarkus-dist:${version}:zip with Maven`)
    run('mvn', [
      '-q',
      'dependency:copy',
      `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:zip`,
      `-DoutputDirectory=${cacheDir}`,
    ])
  }
  // Unpacked and built beside the cache, moved into place whole: a killed run leaves only scratch behind.
  const scratch = await fsp.mkdtemp(path.join(cacheDir, '.prepare-'))
  try {
    const jars = extensions.map((extension) => {
      const outDir = path.join(scratch, 'build', extension.name)
      fs.mkdirSync(outDir, { recursive: true })
      return { name: extension.name, jar: buildExtension(extension, outDir, javaHome) }
    })
    console.log(`[keycloak] unpacking ${zip}`)
    const unpacked = path.join(scratch, 'dist')
    await fsp.mkdir(unpacked)
    unpack(zip, unpacked, javaHome)
    const distHome = path.join(unpacked, `keycloak-${version}`)
    if (!fs.existsSync(path.join(distHome, 'bin', 'kc.sh'))) throw new Error(`${zip} did not unpack to keycloak-${version}/`)
    for (const { name, jar } of jars) await fsp.copyFile(jar, path.join(distHome, 'providers', `${name}.jar`))
    await fsp.rm(home, { recursive: true, force: true })
    // Moved before the dev build: the throw-away home that build starts links to these folders by path.
    await fsp.rename(distHome, home)
    await prepareDevBuild(home, javaHome)
    await fsp.writeFile(path.join(home, READY_MARKER), `${new Date().toISOString()}\n`)
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true })
  }
}

/**
 * Removes homes of this Keycloak version that no start has used for a day
 * (each change of an extension leaves one behind, ~200 MB), and scratch
 * folders of killed preparations.
 */
async function pruneStaleDistributions(cacheDir: string, version: string, keep: string, now: number): Promise<void> {
  const homePattern = new RegExp(`^keycloak-${version.replace(/\./g, '\\.')}(-[0-9a-f]{12})?$`)
  for (const entry of await fsp.readdir(cacheDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === keep) continue
    const isHome = homePattern.test(entry.name)
    if (!isHome && !entry.name.startsWith('.prepare-')) continue
    const dir = path.join(cacheDir, entry.name)
    const markers = isHome ? [LAST_USED_MARKER, READY_MARKER, '.'] : ['.']
    let lastUsed = 0
    for (const marker of markers) {
      const stat = await fsp.stat(path.join(dir, marker)).catch(() => null)
      if (stat) {
        lastUsed = stat.mtimeMs
        break
      }
    }
    // A lock means someone is preparing that home right now.
    if (now - lastUsed < STALE_AFTER_MS || fs.existsSync(path.join(cacheDir, `${entry.name}.lock`))) continue
    console.log(`[keycloak] removing ${dir} (unused for a day)`)
    await fsp.rm(dir, { recursive: true, force: true })
  }
}

/** Runs the dev-profile re-augmentation once in a throw-away home; the server starts, then exits by itself. */
async function prepareDevBuild(distHome: string, javaHome: string): Promise<void> {
  console.log('[keycloak] building the dev profile once (about half a minute)')
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'commons-kc-prepare-'))
  try {
    await linkInstanceHome(scratch, distHome)
    const port = await freePort()
    const result = spawnSync(
      path.join(distHome, 'bin', 'kc.sh'),
      [
        'start-dev',
        `-Dkc.home.dir=${scratch}`,
        '-Dkc.launch.mode=exit_after_start',
        '--http-host=127.0.0.1',
        `--http-port=${port}`,
      ],
      { env: keycloakEnv(javaHome, {}), encoding: 'utf8', timeout: 10 * 60_000 },
    )
    if (result.status !== 0) {
      const output = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-30).join('\n')
      throw new Error(`preparing Keycloak failed (exit ${result.status ?? result.signal}):\n${output}`)
    }
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- one instance

export interface KeycloakSecrets {
  /** client secret of commons-portal */
  portal: string
  /** client secret of commons-portal-admin */
  portalAdmin: string
  /** client secret of commons-provisioner */
  provisioner: string
}

export interface StartKeycloakOptions {
  port: number
  /** Everything this instance writes (H2 database, import copy, transaction log) lives here. */
  dataDir: string
  /** Base URL of the portal, e.g. http://localhost:3000 (no trailing slash). */
  portalUrl: string
  secrets: KeycloakSecrets
  /** Bootstrap admin of the master realm; only used when the database is new. */
  adminUser: string
  adminPassword: string
  logFile: string
  version?: string
  realmFile?: string
  startTimeoutMs?: number
}

export interface RunningKeycloak {
  /** e.g. http://127.0.0.1:8180 */
  url: string
  /** e.g. http://127.0.0.1:8180/realms/commons */
  issuer: string
  stop(): Promise<void>
}

function keycloakEnv(javaHome: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env }
  // KC_* or JAVA_OPTS* from the caller's shell would silently change the server's configuration.
  for (const key of Object.keys(env)) {
    if (key.startsWith('KC_') || key.startsWith('JAVA_OPTS') || key.startsWith('QUARKUS_')) delete env[key]
  }
  return { ...env, JAVA_HOME: javaHome, JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx512m', ...extra }
}

/**
 * Makes `home` a Keycloak home of its own: the read-only parts of the shared
 * distribution are linked, `data/` is real. With `-Dkc.home.dir` pointing
 * here, the database, the import folder and the transaction log stay in it.
 */
async function linkInstanceHome(home: string, distHome: string): Promise<void> {
  await fsp.mkdir(path.join(home, 'data'), { recursive: true })
  for (const folder of SHARED_DIST_FOLDERS) {
    const link = path.join(home, folder)
    const target = path.join(distHome, folder)
    const current = await fsp.readlink(link).catch(() => null)
    if (current === target) continue
    await fsp.rm(link, { recursive: true, force: true })
    await fsp.symlink(target, link)
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is already in use (another Keycloak?)`
            : `cannot bind 127.0.0.1:${port}: ${error.message}`,
        ),
      ),
    )
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()))
  })
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    // detached: the child leads its own process group (kc.sh and its JVM)
    process.kill(-child.pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/** Starts `kc.sh start-dev` on 127.0.0.1 and resolves once the realm "commons" answers. */
export async function startKeycloak(opts: StartKeycloakOptions): Promise<RunningKeycloak> {
  const distHome = await ensureKeycloakDistribution(opts.version)
  const javaHome = findJava21()
  const dataDir = path.resolve(opts.dataDir)
  const url = `http://127.0.0.1:${opts.port}`
  const issuer = `${url}/realms/${REALM}`
  const portalUrl = opts.portalUrl.replace(/\/+$/, '')
  // The realm import leaves a placeholder whose variable is empty or unset as literal text,
  // e.g. a client secret "${PORTAL_CLIENT_SECRET}": refuse to start like that.
  for (const [name, value] of Object.entries(opts.secrets)) {
    if (!value) throw new Error(`startKeycloak: secrets.${name} is empty`)
  }
  if (!/^https?:\/\/[^/]+/.test(portalUrl)) {
    throw new Error(`startKeycloak: portalUrl ${opts.portalUrl} is not an http(s) URL`)
  }

  await assertPortFree(opts.port)
  await linkInstanceHome(dataDir, distHome)
  // --import-realm reads <home>/data/import; the realm is only imported when it does not exist yet.
  const importDir = path.join(dataDir, 'data', 'import')
  await fsp.mkdir(importDir, { recursive: true })
  await fsp.copyFile(opts.realmFile ?? REALM_FILE, path.join(importDir, 'realm-commons.json'))
  await fsp.mkdir(path.dirname(path.resolve(opts.logFile)), { recursive: true })
  const log = fs.openSync(opts.logFile, 'a')

  const child = spawn(
    path.join(distHome, 'bin', 'kc.sh'),
    [
      'start-dev',
      `-Dkc.home.dir=${dataDir}`,
      '--http-host=127.0.0.1',
      `--http-port=${opts.port}`,
      `--hostname=${url}`,
      '--import-realm',
    ],
    {
      cwd: dataDir,
      detached: true,
      stdio: ['ignore', log, log],
      env: keycloakEnv(javaHome, {
        KC_BOOTSTRAP_ADMIN_USERNAME: opts.adminUser,
        KC_BOOTSTRAP_ADMIN_PASSWORD: opts.adminPassword,
        // resolved by the realm import: ${PORTAL_URL}, ${PORTAL_CLIENT_SECRET}, ...
        PORTAL_URL: portalUrl,
        PORTAL_CLIENT_SECRET: opts.secrets.portal,
        PORTAL_ADMIN_CLIENT_SECRET: opts.secrets.portalAdmin,
        PROVISIONER_CLIENT_SECRET: opts.secrets.provisioner,
      }),
    },
  )
  fs.closeSync(log)

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal }
      resolve()
    }),
  )
  // If this Node process goes away, so does the JVM.
  const killOnExit = () => killGroup(child, 'SIGKILL')
  process.once('exit', killOnExit)

  const stop = async () => {
    process.removeListener('exit', killOnExit)
    if (exited) return
    killGroup(child, 'SIGTERM')
    const killed = await Promise.race([
      exit.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 30_000)),
    ])
    if (killed) {
      killGroup(child, 'SIGKILL')
      await exit
    }
  }

  const deadline = Date.now() + (opts.startTimeoutMs ?? 240_000)
  for (;;) {
    if (exited) {
      const { code, signal } = exited as { code: number | null; signal: NodeJS.Signals | null }
      throw new Error(`Keycloak exited during start (${code ?? signal}); ${opts.logFile}:\n${tail(opts.logFile)}`)
    }
    try {
      const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) })
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`Keycloak did not answer at ${issuer} in time; ${opts.logFile}:\n${tail(opts.logFile)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return { url, issuer, stop }
}
