/**
 * What the Ansible checks (test/ansible) need on this machine:
 * - ansible-core and ansible-lint, pinned, in a virtualenv under
 *   .data/ansible-venv (made once; kept while the versions match);
 * - a Debian bookworm image to run the playbooks against: a minbase rootfs
 *   made by debootstrap from the mirror this machine's apt uses, cached as a
 *   tarball under .data/ansible-target (keyed by suite and package list) and
 *   imported as `commons-test/debian-target:bookworm`.
 *
 * `tsx scripts/ansible.ts` installs the tools (scripts/setup.sh calls it);
 * `tsx scripts/ansible.ts image` also builds the target image.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ansibleVenv = path.join(root, '.data', 'ansible-venv')
export const ansibleBin = path.join(ansibleVenv, 'bin')
const pins = { 'ansible-core': '2.19.14', 'ansible-lint': '26.10.1' }

export const targetImage = 'commons-test/debian-target:bookworm'
const suite = 'bookworm'
// python3 for Ansible's modules, openssh-server for its connection; the rest the roles install.
const includes = ['python3', 'openssh-server', 'sudo', 'ca-certificates']
const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

function sh(command: string, args: string[], opts: { input?: string; cwd?: string } = {}): string {
  const result = spawnSync(command, args, { cwd: opts.cwd ?? root, input: opts.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:${systemPath}` } })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

function installedVersions(): Record<string, string> {
  const pip = path.join(ansibleBin, 'pip')
  if (!existsSync(pip)) return {}
  const freeze = spawnSync(pip, ['freeze'], { encoding: 'utf8' }).stdout ?? ''
  return Object.fromEntries(freeze.split('\n').flatMap((line) => {
    const match = /^([A-Za-z0-9_.-]+)==(.+)$/.exec(line.trim())
    return match ? [[match[1]!.toLowerCase(), match[2]!]] : []
  }))
}

/** Makes the virtualenv with the pinned versions, unless it already has them. */
export function ensureAnsible(log: (line: string) => void = console.log): string {
  const have = installedVersions()
  if (Object.entries(pins).every(([name, version]) => have[name] === version)) return ansibleBin
  log(`installing ${Object.entries(pins).map(([n, v]) => `${n}==${v}`).join(' ')} into ${path.relative(root, ansibleVenv)}`)
  if (!existsSync(path.join(ansibleBin, 'pip'))) sh('python3', ['-m', 'venv', ansibleVenv])
  sh(path.join(ansibleBin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...Object.entries(pins).map(([n, v]) => `${n}==${v}`)])
  return ansibleBin
}

/** The Debian mirror this machine's apt uses (deb822 or one-line sources). */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`) : [])]
  for (const file of files.filter((f) => /\.(list|sources)$/.test(f) && existsSync(f))) {
    const text = readFileSync(file, 'utf8')
    const uris = [...text.matchAll(/^URIs:\s*(\S+)/gm)].map((m) => m[1]!)
    const lines = [...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\b/gm)].map((m) => m[1]!)
    const mirror = [...uris, ...lines].find((uri) => /\/debian\/?$/.test(uri))
    if (mirror) return mirror.replace(/\/$/, '')
  }
  return 'http://deb.debian.org/debian'
}

function imageExists(): boolean {
  return spawnSync('docker', ['image', 'inspect', targetImage], { stdio: 'ignore' }).status === 0
}

/**
 * The image the playbooks run against. The rootfs tarball is kept, so a
 * machine whose images were pruned re-imports it in seconds.
 */
export function ensureTargetImage(log: (line: string) => void = console.log): string {
  const key = createHash('sha256').update(`${suite} minbase ${includes.join(',')}`).digest('hex').slice(0, 12)
  const cacheDir = path.join(root, '.data', 'ansible-target')
  const tarball = path.join(cacheDir, `debian-${suite}-${key}.tar`)
  const labelled = spawnSync('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "commons.rootfs"}}', targetImage], { encoding: 'utf8' }).stdout?.trim()
  if (imageExists() && labelled === key) return targetImage
  if (!existsSync(tarball)) {
    mkdirSync(cacheDir, { recursive: true })
    const rootfs = path.join(cacheDir, `rootfs-${key}`)
    rmSync(rootfs, { recursive: true, force: true })
    const mirror = debianMirror()
    log(`debootstrap ${suite} (${includes.join(', ')}) from ${mirror}: takes a few minutes, once`)
    sh('debootstrap', ['--variant=minbase', `--include=${includes.join(',')}`, suite, rootfs, mirror])
    // Like Debian's own container images: services a package installs are not
    // started inside the image (there is no init to run them); real hosts start them.
    writeFileSync(path.join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 })
    mkdirSync(path.join(rootfs, 'run/sshd'), { recursive: true })
    rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true })
    mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true })
    sh('tar', ['-C', rootfs, '-cf', `${tarball}.part`, '.'])
    renameSync(`${tarball}.part`, tarball)
    rmSync(rootfs, { recursive: true, force: true })
  }
  log(`importing ${path.relative(root, tarball)} as ${targetImage}`)
  sh('docker', ['import', '--change', `LABEL commons.rootfs=${key}`, '--change', 'CMD ["/usr/sbin/sshd", "-D", "-e"]', tarball, targetImage])
  return targetImage
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureAnsible()
  if (process.argv[2] === 'image') ensureTargetImage()
}
