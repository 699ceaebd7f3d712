/**
 * The images our tests and the local proxy run, built here from the
 * machine's own binaries: no image registry is reachable on our machines, so
 * nothing is pulled. Every image is FROM scratch (or FROM our busybox image)
 * and is rebuilt only when it is missing or its build inputs changed: the
 * label `org.commons.image-inputs` holds a hash of those inputs.
 *
 * Build inputs live in images/<name>/ (a Dockerfile and a rootfs/ folder);
 * the binaries come from the machine (Debian's busybox-static and caddy) or
 * are built from source by scripts/go-tools.ts (restic 0.18, versitygw).
 * See docs/containers.md.
 */
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type Docker from 'dockerode'
import { proxyConfig } from '../provisioner/src/proxy/caddy-config.ts'
import { goToolPath, type GoTool } from './go-tools.ts'

export const images = {
  busybox: 'commons-test/busybox:1.35',
  hello: 'commons-test/hello:1.0',
  trioDb: 'commons-test/trio-db:1.0',
  trioApi: 'commons-test/trio-api:1.0',
  trioWeb: 'commons-test/trio-web:1.0',
  caddy: 'commons/caddy:2.6.2',
  // The backup helper: restic 0.18.0 built from source (scripts/go-tools.ts),
  // the version of the official restic/restic:0.18.0 that production uses.
  restic: 'commons/restic:0.18.0',
  // An S3 server for the backup tests: Versity S3 Gateway on a folder.
  s3: 'commons-test/versitygw:1.8.0',
  // Contract stand-ins, NOT the tools: tiny busybox images that honour what the
  // core recipes expect of the official images (ports, required env, health
  // checks, the commands their hooks run) and record what they received.
  // Tagged with the official image's name and tag. See docs/containers.md.
  contractPostgres: 'commons-contract/postgres:17.6-alpine',
  contractRedis: 'commons-contract/redis:7.4.5-alpine',
  contractNextcloud: 'commons-contract/nextcloud:31.0.9-apache',
  contractSynapse: 'commons-contract/synapse:v1.138.0',
  contractElementWeb: 'commons-contract/element-web:v1.11.112',
  contractLoomio: 'commons-contract/loomio:v3.0.11',
  contractLoomioChannels: 'commons-contract/loomio_channel_server:v1.0.0',
  contractDiscourse: 'commons-contract/discourse:3.4.7',
} as const
export type LocalImage = keyof typeof images

export const inputsLabel = 'org.commons.image-inputs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const imagesDir = path.join(root, 'images')
// Bump to rebuild every image after a change to how contexts are made.
const recipeVersion = '1'

type Entry =
  | { type: 'file'; path: string; mode: number; content: Buffer }
  | { type: 'dir'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string }

type ImageSpec = {
  /** The local image named in the Dockerfile's FROM, built first. */
  base?: LocalImage
  context(): Entry[]
}

const specs: Record<LocalImage, ImageSpec> = {
  busybox: { context: () => [...folder('busybox'), ...busyboxFiles()] },
  hello: { base: 'busybox', context: () => [...folder('hello'), dir('rootfs/www'), dir('rootfs/data')] },
  trioDb: { base: 'busybox', context: () => [...folder('trio/db'), dir('rootfs/var/lib/trio')] },
  trioApi: { base: 'busybox', context: () => folder('trio/api') },
  trioWeb: { base: 'busybox', context: () => [...folder('trio/web'), dir('rootfs/srv/web')] },
  caddy: { context: caddyContext },
  restic: { base: 'busybox', context: resticContext },
  s3: { base: 'busybox', context: () => [...folder('versitygw'), goToolFile('versitygw', 'rootfs/usr/bin/versitygw'), dir('rootfs/data'), dir('rootfs/var/lib/versitygw')] },
  contractPostgres: { base: 'busybox', context: () => contract('postgres') },
  contractRedis: { base: 'busybox', context: () => contract('redis') },
  contractNextcloud: { base: 'busybox', context: () => contract('nextcloud') },
  contractSynapse: { base: 'busybox', context: () => contract('synapse') },
  contractElementWeb: { base: 'busybox', context: () => contract('element-web') },
  contractLoomio: { base: 'busybox', context: () => contract('loomio') },
  contractLoomioChannels: { base: 'busybox', context: () => contract('loomio-channels') },
  contractDiscourse: { base: 'busybox', context: () => contract('discourse') },
}

export type ImageResult = { key: LocalImage; name: string; id: string; built: boolean; seconds: number }

/**
 * Builds the local images that are missing or out of date (all, or `only`
 * these and the images they are built on). Returns one result per image.
 */
export async function ensureLocalImages(
  docker: Docker,
  opts: { only?: LocalImage[]; log?: (line: string) => void } = {},
): Promise<ImageResult[]> {
  const log = opts.log ?? (() => {})
  const wanted = new Set<LocalImage>()
  const want = (key: LocalImage) => {
    wanted.add(key)
    const base = specs[key].base
    if (base) want(base)
  }
  for (const key of opts.only ?? (Object.keys(specs) as LocalImage[])) want(key)

  const hashes = new Map<LocalImage, string>()
  const contexts = new Map<LocalImage, Entry[]>()
  const hashOf = (key: LocalImage): string => {
    const known = hashes.get(key)
    if (known) return known
    const entries = specs[key].context()
    contexts.set(key, entries)
    const base = specs[key].base
    const hash = inputsHash(entries, base ? hashOf(base) : '')
    hashes.set(key, hash)
    return hash
  }

  const results = new Map<LocalImage, Promise<ImageResult>>()
  const ensureOne = (key: LocalImage): Promise<ImageResult> => {
    let result = results.get(key)
    if (!result) {
      result = (async () => {
        const base = specs[key].base
        if (base) await ensureOne(base)
        const started = Date.now()
        const hash = hashOf(key)
        const current = await inspectImage(docker, images[key])
        if (current?.Config.Labels?.[inputsLabel] === hash) return { key, name: images[key], id: current.Id, built: false, seconds: 0 }
        log(`Building ${images[key]} (${current ? 'its inputs changed' : 'missing'}) …`)
        const id = await build(docker, images[key], contexts.get(key) ?? specs[key].context(), hash)
        const seconds = (Date.now() - started) / 1000
        log(`Built ${images[key]} in ${seconds.toFixed(1)} s`)
        return { key, name: images[key], id, built: true, seconds }
      })()
      results.set(key, result)
    }
    return result
  }
  return Promise.all([...wanted].map(ensureOne))
}

async function inspectImage(docker: Docker, name: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(name).inspect()
  } catch (error) {
    if (statusCode(error) === 404) return undefined
    throw error
  }
}

export class ImageBuildError extends Error {
  override name = 'ImageBuildError'
}

async function build(docker: Docker, name: string, entries: Entry[], hash: string): Promise<string> {
  const stream = await docker.buildImage(Readable.from([tarArchive(entries)]), {
    t: name,
    labels: { [inputsLabel]: hash },
    rm: true,
    forcerm: true,
  })
  const output = await new Promise<unknown[]>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, result: unknown[]) => (error ? reject(error) : resolve(result)))
  })
  const lines = output.map(describe)
  const failure = output.find((item) => typeof item === 'object' && item !== null && 'error' in item)
  if (failure) throw new ImageBuildError(`Building ${name} failed:\n${lines.join('')}`)
  const image = await inspectImage(docker, name)
  if (image?.Config.Labels?.[inputsLabel] !== hash) throw new ImageBuildError(`Building ${name} reported success, but the image is not there:\n${lines.join('')}`)
  return image.Id
}

function describe(item: unknown): string {
  if (typeof item !== 'object' || item === null) return String(item)
  if ('stream' in item && typeof item.stream === 'string') return item.stream
  if ('error' in item && typeof item.error === 'string') return `${item.error}\n`
  return `${JSON.stringify(item)}\n`
}

function inputsHash(entries: Entry[], baseHash: string): string {
  const hash = createHash('sha256').update(`commons-image-inputs ${recipeVersion}\nbase ${baseHash}\n`)
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (e.type === 'file') hash.update(`file ${e.path} ${e.mode.toString(8)} ${createHash('sha256').update(e.content).digest('hex')}\n`)
    else if (e.type === 'dir') hash.update(`dir ${e.path} ${e.mode.toString(8)}\n`)
    else hash.update(`symlink ${e.path} ${e.target}\n`)
  }
  return hash.digest('hex')
}

// --- Build contexts ---------------------------------------------------------

/** Every file under images/<name>/, at the same place in the context (Dockerfile, rootfs/…). */
function folder(name: string): Entry[] {
  const base = path.join(imagesDir, name)
  const entries: Entry[] = []
  const walk = (dirPath: string) => {
    for (const item of readdirSync(dirPath, { withFileTypes: true })) {
      const full = path.join(dirPath, item.name)
      const rel = path.relative(base, full).split(path.sep).join('/')
      if (item.isDirectory()) walk(full)
      // git keeps only the executable bit, so that is all that counts.
      else if (item.isFile()) entries.push({ type: 'file', path: rel, mode: statSync(full).mode & 0o111 ? 0o755 : 0o644, content: readFileSync(full) })
      else throw new ImageBuildError(`${full}: only files and folders belong in images/`)
    }
  }
  walk(base)
  return entries
}

/** A contract stand-in: images/contract-<name>/ plus the shell helpers all of them share. */
function contract(name: string): Entry[] {
  return [...folder(`contract-${name}`), ...folder('contract-common')]
}

function dir(p: string, mode = 0o755): Entry {
  return { type: 'dir', path: p, mode }
}

function hostFile(source: string, target: string, what: string): Entry {
  if (!existsSync(source)) throw new ImageBuildError(`${source} is missing: install ${what} (\`npm run setup\` does).`)
  return { type: 'file', path: target, mode: statSync(source).mode & 0o777, content: readFileSync(realpathSync(source)) }
}

/** Debian's static busybox with a link for every applet, /etc/passwd and /etc/group, /tmp and /root. */
function busyboxFiles(): Entry[] {
  const busybox = '/bin/busybox'
  const binary = hostFile(busybox, 'rootfs/bin/busybox', 'busybox-static')
  const version = /BusyBox v(\d+\.\d+)/.exec(run(busybox, []).split('\n')[0] ?? '')?.[1]
  const tagVersion = images.busybox.split(':')[1]
  if (version !== tagVersion) throw new ImageBuildError(`${busybox} is BusyBox ${version ?? '(unknown)'}, but the image is tagged ${images.busybox}: change the tag in scripts/images.ts.`)
  const links: Entry[] = run(busybox, ['--list-full'])
    .split('\n')
    .map((line) => line.trim())
    .filter((p) => p !== '' && p !== 'bin/busybox' && p !== 'linuxrc')
    .map((p) => ({ type: 'symlink', path: `rootfs/${p}`, target: '/bin/busybox' }))
  return [binary, ...links, ...folder('busybox').filter((e) => e.path.startsWith('rootfs/')), dir('rootfs/tmp', 0o1777), dir('rootfs/root', 0o700)]
}

/**
 * Debian's caddy, the shared libraries `ldd` says it needs (at the paths it
 * names), CA certificates, busybox, and the config from caddy-config.ts.
 */
function caddyContext(): Entry[] {
  const caddy = '/usr/bin/caddy'
  const binary = hostFile(caddy, 'rootfs/usr/bin/caddy', 'caddy')
  const version = run(caddy, ['version']).trim().split(/\s/)[0]?.replace(/^v/, '')
  const tagVersion = images.caddy.split(':')[1]
  if (version !== tagVersion) throw new ImageBuildError(`${caddy} is version ${version ?? '(unknown)'}, but the image is tagged ${images.caddy}: change the tag in scripts/images.ts.`)
  const libraries = sharedLibraries(caddy).map((lib) => hostFile(lib, `rootfs${lib}`, 'libc6'))
  const config = JSON.stringify(proxyConfig({ https: false }), null, 2) + '\n'
  return [
    ...folder('caddy'),
    binary,
    ...libraries,
    hostFile('/etc/ssl/certs/ca-certificates.crt', 'rootfs/etc/ssl/certs/ca-certificates.crt', 'ca-certificates'),
    { type: 'file', path: 'rootfs/etc/caddy/caddy.json', mode: 0o644, content: Buffer.from(config) },
    ...busyboxFiles(),
    dir('rootfs/config'),
    dir('rootfs/data'),
    dir('rootfs/run/caddy-admin'),
  ]
}

/** Debian's restic and the shared libraries it links, on the busybox image. */
function resticContext(): Entry[] {
  const binary = goToolFile('restic', 'rootfs/usr/bin/restic')
  const version = /restic (\d+\.\d+\.\d+)/.exec(run(goToolPath('restic'), ['version']))?.[1]
  const tagVersion = images.restic.split(':')[1]
  if (version !== tagVersion) throw new ImageBuildError(`${goToolPath('restic')} is version ${version ?? '(unknown)'}, but the image is tagged ${images.restic}: change the tag in scripts/images.ts.`)
  return [...folder('restic'), binary, dir('rootfs/run/restic', 0o700)]
}

/** A static binary built by scripts/go-tools.ts, whose version its file name says. */
function goToolFile(tool: GoTool, target: string): Entry {
  const source = goToolPath(tool)
  if (!existsSync(source)) throw new ImageBuildError(`${source} is missing: build it with \`npx tsx scripts/go-tools.ts\` (scripts/setup.sh does).`)
  if (sharedLibraries(source).length > 0) throw new ImageBuildError(`${source} is not a static binary: rebuild it with CGO_ENABLED=0 (scripts/go-tools.ts).`)
  return { type: 'file', path: target, mode: 0o755, content: readFileSync(source) }
}

/** The libraries and the loader of a dynamically linked binary, as absolute paths; none for a static one. */
function sharedLibraries(binary: string): string[] {
  const result = spawnSync('ldd', [binary], { encoding: 'utf8' })
  if (result.error) throw new ImageBuildError(`ldd ${binary}: ${result.error.message}`)
  if (/not a dynamic executable|statically linked/.test(`${result.stdout}${result.stderr}`)) return []
  if (result.status !== 0) throw new ImageBuildError(`ldd ${binary} failed: ${result.stderr}`)
  const libraries: string[] = []
  for (const line of result.stdout.split('\n')) {
    if (/=> not found/.test(line)) throw new ImageBuildError(`${binary} needs a library that is missing: ${line.trim()}`)
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line)
    if (match?.[1]) libraries.push(match[1])
  }
  return libraries
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  if (result.error) throw new ImageBuildError(`${command} ${args.join(' ')}: ${result.error.message}`)
  // busybox without arguments prints its help and exits 1; the output is what we want.
  return result.stdout || result.stderr
}

// --- A minimal tar writer (ustar), so a context needs no temp folder -------

function tarArchive(entries: Entry[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const content = e.type === 'file' ? e.content : Buffer.alloc(0)
    parts.push(tarHeader(e, content.length))
    if (content.length > 0) {
      parts.push(content)
      const padding = (512 - (content.length % 512)) % 512
      if (padding) parts.push(Buffer.alloc(padding))
    }
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

function tarHeader(e: Entry, size: number): Buffer {
  const header = Buffer.alloc(512)
  const name = e.type === 'dir' ? `${e.path}/` : e.path
  let prefix = ''
  let short = name
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2)
    prefix = name.slice(0, cut)
    short = name.slice(cut + 1)
    if (Buffer.byteLength(short) > 100 || Buffer.byteLength(prefix) > 155) throw new ImageBuildError(`path too long for a tar header: ${name}`)
  }
  const text = (value: string, offset: number, length: number) => header.write(value, offset, length, 'utf8')
  const octal = (value: number, offset: number, length: number) => text(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length)
  text(short, 0, 100)
  octal(e.type === 'symlink' ? 0o777 : e.mode, 100, 8)
  octal(0, 108, 8) // uid
  octal(0, 116, 8) // gid
  octal(size, 124, 12)
  octal(0, 136, 12) // mtime: fixed, so equal inputs make equal layers
  text('        ', 148, 8) // checksum placeholder
  text(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 1)
  if (e.type === 'symlink') text(e.target, 157, 100)
  text('ustar\0', 257, 6)
  text('00', 263, 2)
  text('root', 265, 32)
  text('root', 297, 32)
  text(prefix, 345, 155)
  let sum = 0
  for (const byte of header) sum += byte
  text(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
  return header
}

function statusCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : undefined
}
