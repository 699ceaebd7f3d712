/**
 * A real Synapse homeserver for recipe tests: `matrix-synapse` from PyPI in a
 * virtualenv, made once per version and cached outside the repository
 * (~/.cache/commons-portal/synapse-<version>/). The version is the one the
 * Matrix recipe pins (`matrixdotorg/synapse:v1.138.0` → 1.138.0).
 *
 *   npx tsx scripts/synapse.ts     # make the venv now (prints where it is)
 *
 * Dependencies come from wheels only where possible: Synapse's `postgres`
 * extra is `psycopg2`, which PyPI ships for Linux as source only (it needs a
 * compiler and libpq's pg_config). `psycopg2-binary` is the same `psycopg2`
 * module as a manylinux wheel, and Synapse's dependency check accepts it, so
 * it is tried first; building `psycopg2` from source is the fallback.
 *
 * Synapse's own dependencies are open ranges (`prometheus-client>=0.6.0`, …);
 * resolved today they pick releases newer than Synapse and break it (e.g.
 * prometheus-client 0.26 makes `synapse.metrics` fail to import). So pip
 * resolves them as of the day the Synapse release was published
 * (`--uploaded-prior-to`, pip >= 26): the versions Synapse was released
 * against, the same on every machine, without a lock file of our own.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const MATRIX_RECIPE_FILE = path.join(repoRoot, 'catalog', 'recipes', 'matrix', 'recipe.json')

const READY_FILE = '.commons-portal-ready.json'
/** Bumped when the way the venv is made changes: an older venv is then made again. */
const INSTALL_SCHEME = 2
/** Synapse 1.138 declares Requires-Python >=3.9; 3.14 is newer than its wheels' tested range. */
const PYTHON_MIN: [number, number] = [3, 9]
const PYTHON_MAX: [number, number] = [3, 13]

export interface SynapseInstall {
  /** The venv's python: run `python -m synapse.app.homeserver -c <config>`. */
  python: string
  /** The matrix-synapse version installed (the recipe's, unless PyPI lacked it). */
  version: string
  /** The version the recipe pins. */
  recipeVersion: string
  venv: string
}

function log(line: string): void {
  console.log(`[synapse] ${line}`)
}

export function synapseCacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(cacheHome, 'commons-portal')
}

/** `matrixdotorg/synapse:v1.138.0` in the Matrix recipe → `1.138.0`. */
export function recipeSynapseVersion(recipeFile = MATRIX_RECIPE_FILE): string {
  const recipe = JSON.parse(fs.readFileSync(recipeFile, 'utf8')) as { services?: { image?: string }[] }
  const image = recipe.services?.map((s) => s.image ?? '').find((i) => i.startsWith('matrixdotorg/synapse:'))
  const match = image ? /:v?(\d+\.\d+\.\d+)$/.exec(image) : null
  if (!match?.[1]) throw new Error(`${recipeFile}: no service with an image matrixdotorg/synapse:vX.Y.Z (found ${image ?? 'none'})`)
  return match[1]
}

// ---------------------------------------------------------------- processes

function run(
  command: string,
  args: string[],
  opts: { echo?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const take = (chunk: Buffer) => {
      const text = chunk.toString()
      output += text
      if (opts.echo) {
        for (const line of text.split('\n')) {
          // pip's milestones only: what it builds, installs, and what fails
          if (/^(Building|Installing collected|Successfully installed|ERROR|error:|Downloading matrix)/.test(line.trim())) {
            log(`  ${line.trim()}`)
          }
        }
      }
    }
    child.stdout.on('data', take)
    child.stderr.on('data', take)
    child.once('error', (error) => resolve({ code: 127, output: `${output}${error.message}` }))
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 0), output }))
  })
}

function lastLines(text: string, n = 25): string {
  return text.trimEnd().split('\n').slice(-n).join('\n')
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** One installer per version at a time (parallel test runs share the cache). */
async function withLock<T>(lockDir: string, work: () => Promise<T>, isDone: () => boolean): Promise<T | null> {
  const deadline = Date.now() + 20 * 60_000
  let said = false
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
    if (Number.isInteger(owner) && !processIsAlive(owner)) {
      await fsp.rm(lockDir, { recursive: true, force: true })
      continue
    }
    if (!said) log(`waiting for another install (pid ${owner}) to finish`)
    said = true
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir} (held by pid ${owner})`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  try {
    return await work()
  } finally {
    await fsp.rm(lockDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- Python

function pythonVersion(python: string): [number, number] | null {
  const result = spawnSync(python, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], {
    encoding: 'utf8',
  })
  const match = result.status === 0 ? /^(\d+)\.(\d+)/.exec(result.stdout.trim()) : null
  return match ? [Number(match[1]), Number(match[2])] : null
}

const inRange = ([major, minor]: [number, number]) =>
  major === 3 && minor >= PYTHON_MIN[1] && minor <= PYTHON_MAX[1]

/**
 * A Python for the venv: SYNAPSE_PYTHON if set; else pyenv's 3.11, 3.12, 3.10
 * (in that order); else python3.11 … python3 on the PATH. It must have the
 * `venv` and `ensurepip` modules (Debian splits them into python3-venv).
 */
export function findPython(): string {
  const seen: string[] = []
  const explicit = process.env.SYNAPSE_PYTHON
  if (explicit) {
    const version = pythonVersion(explicit)
    if (version && inRange(version)) return explicit
    throw new Error(
      `SYNAPSE_PYTHON=${explicit} is ${version ? `Python ${version.join('.')}` : 'not a working Python with venv'}; ` +
        `Synapse needs Python ${PYTHON_MIN.join('.')}–${PYTHON_MAX.join('.')} with the venv module.`,
    )
  }
  const candidates: string[] = []
  const pyenvRoot = process.env.PYENV_ROOT || path.join(os.homedir(), '.pyenv')
  const versionsDir = path.join(pyenvRoot, 'versions')
  if (fs.existsSync(versionsDir)) {
    const installed = fs.readdirSync(versionsDir).filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    for (const minor of ['3.11', '3.12', '3.10', '3.13', '3.9']) {
      const best = installed
        .filter((v) => v.startsWith(`${minor}.`))
        .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]))[0]
      if (best) candidates.push(path.join(versionsDir, best, 'bin', 'python'))
    }
  }
  for (const name of ['python3.11', 'python3.12', 'python3.10', 'python3.13', 'python3']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim()
    if (found) candidates.push(found)
  }
  for (const python of candidates) {
    const version = pythonVersion(python)
    seen.push(`${python} (${version ? version.join('.') : 'no venv module'})`)
    if (version && inRange(version)) return python
  }
  throw new Error(
    `Synapse needs Python ${PYTHON_MIN.join('.')}–${PYTHON_MAX.join('.')} with the venv module; found: ${seen.join(', ') || 'none'}. ` +
      'Install one (Debian: apt-get install python3 python3-venv; or pyenv install 3.11) or set SYNAPSE_PYTHON.',
  )
}

// ---------------------------------------------------------------- install

async function pipInstall(pip: string, args: string[]): Promise<{ code: number; output: string }> {
  return run(pip, ['install', '--disable-pip-version-check', '--no-input', '--prefer-binary', ...args], { echo: true })
}

type Release = { version: string; uploaded: string }

/**
 * The releases of matrix-synapse on the package index with the time each was
 * published (PEP 691/700 JSON of the simple index, which pip itself reads).
 * Asked through Python so that proxies and CA settings apply as they do for pip.
 */
async function synapseReleases(python: string, pip: string): Promise<Release[]> {
  const configured = (await run(pip, ['config', 'get', 'global.index-url'])).output.trim()
  const indexUrl = (process.env.PIP_INDEX_URL || (/^https?:\/\//.test(configured) ? configured : '') || 'https://pypi.org/simple').replace(/\/+$/, '')
  const script = [
    'import json, re, sys, urllib.request',
    'req = urllib.request.Request(sys.argv[1] + "/matrix-synapse/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})',
    'files = json.load(urllib.request.urlopen(req, timeout=60))["files"]',
    'out = {}',
    'for f in files:',
    '    m = re.match(r"matrix[-_]synapse-(\\d+\\.\\d+\\.\\d+)(?:-|\\.tar\\.gz$)", f["filename"])',
    '    t = f.get("upload-time")',
    '    if m and t: out[m.group(1)] = max(out.get(m.group(1), t), t)',
    'print(json.dumps(out))',
  ].join('\n')
  const result = await run(python, ['-c', script, indexUrl])
  if (result.code !== 0) throw new Error(`cannot read the release list of matrix-synapse from ${indexUrl}:\n${lastLines(result.output)}`)
  const byVersion = JSON.parse(result.output.trim().split('\n').pop() ?? '{}') as Record<string, string>
  return Object.entries(byVersion).map(([version, uploaded]) => ({ version, uploaded }))
}

/** `wanted` if released; else the release closest to it (same major.minor with the nearest patch first). */
function pickRelease(releases: Release[], wanted: string): Release | undefined {
  const key = (v: string) => v.split('.').map(Number) as [number, number, number]
  const [wMajor, wMinor, wPatch] = key(wanted)
  const distance = (v: string) => {
    const [major, minor, patch] = key(v)
    return Math.abs((major - wMajor) * 1e6 + (minor - wMinor) * 1e3 + (patch - wPatch))
  }
  return [...releases].sort((a, b) => distance(a.version) - distance(b.version))[0]
}

/**
 * The venv with `matrix-synapse[oidc]==<version>` and a `psycopg2` module,
 * made once per version. Prints progress; throws naming what to install.
 */
export async function ensureSynapse(version = recipeSynapseVersion()): Promise<SynapseInstall> {
  const cacheDir = synapseCacheDir()
  const venv = path.join(cacheDir, `synapse-${version}`)
  const readyFile = path.join(venv, READY_FILE)
  const python = path.join(venv, 'bin', 'python')
  const readReady = (): SynapseInstall | null => {
    try {
      const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8')) as { version: string; scheme?: number }
      return ready.scheme === INSTALL_SCHEME && fs.existsSync(python) ? { python, version: ready.version, recipeVersion: version, venv } : null
    } catch {
      return null
    }
  }
  const cached = readReady()
  if (cached) return cached
  await fsp.mkdir(cacheDir, { recursive: true })

  await withLock(
    path.join(cacheDir, `synapse-${version}.lock`),
    async () => {
      if (readReady()) return
      const started = Date.now()
      const basePython = findPython()
      log(`making a virtualenv for Synapse ${version} with ${basePython} in ${venv} (once per machine and version; about half a minute)`)
      await fsp.rm(venv, { recursive: true, force: true })
      const made = await run(basePython, ['-m', 'venv', venv])
      if (made.code !== 0) {
        throw new Error(`${basePython} -m venv ${venv} failed (Debian: apt-get install python3-venv):\n${lastLines(made.output)}`)
      }
      const pip = path.join(venv, 'bin', 'pip')

      // --uploaded-prior-to needs pip >= 26.
      const upgraded = await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', 'pip>=26'])
      if (upgraded.code !== 0) throw new Error(`upgrading pip in ${venv} failed (is PyPI reachable?):\n${lastLines(upgraded.output)}`)

      const release = pickRelease(await synapseReleases(python, pip), version)
      if (!release) throw new Error('the package index lists no release of matrix-synapse')
      if (release.version !== version) {
        log(`NOTE: PyPI has no matrix-synapse ${version} (the recipe's image); using the nearest release, ${release.version}`)
      }
      const installed = release.version
      // An hour after the last file of the release went up: the release itself is included, nothing of later weeks.
      const asOf = ['--uploaded-prior-to', new Date(Date.parse(release.uploaded) + 3600_000).toISOString()]
      log(`pip install matrix-synapse[oidc]==${installed} psycopg2-binary, dependencies as of ${release.uploaded} (its release)`)
      let result = await pipInstall(pip, [...asOf, `matrix-synapse[oidc]==${installed}`, 'psycopg2-binary'])
      if (result.code !== 0 && /psycopg2-binary/i.test(lastLines(result.output, 10))) {
        // No psycopg2-binary wheel for this platform: build psycopg2 itself (Synapse's `postgres` extra).
        const hasPgConfig = spawnSync('sh', ['-c', 'command -v pg_config'], { stdio: 'ignore' }).status === 0
        if (!hasPgConfig) {
          throw new Error(
            'psycopg2-binary has no wheel here and building psycopg2 needs libpq headers and pg_config: ' +
              `install them (Debian: apt-get install libpq-dev gcc) and run again.\n${lastLines(result.output)}`,
          )
        }
        log('psycopg2-binary did not install; building psycopg2 from source (matrix-synapse[postgres])')
        result = await pipInstall(pip, [...asOf, `matrix-synapse[postgres,oidc]==${installed}`])
      }
      if (result.code !== 0) {
        throw new Error(
          `pip install matrix-synapse[oidc]==${installed} failed (is PyPI reachable? pip honours PIP_INDEX_URL and HTTPS_PROXY):\n` +
            lastLines(result.output),
        )
      }
      // Import what a start imports, so a broken dependency shows here rather than as a crashed homeserver.
      const check = await run(python, ['-c', 'import synapse, synapse.app.homeserver, psycopg2, authlib; print(synapse.__version__)'])
      const reported = check.output.trim().split('\n').pop()
      if (check.code !== 0 || reported !== installed) {
        throw new Error(`the Synapse venv in ${venv} does not import synapse ${installed}, psycopg2 and authlib:\n${lastLines(check.output)}`)
      }
      const seconds = Math.round((Date.now() - started) / 100) / 10
      await fsp.writeFile(
        readyFile,
        `${JSON.stringify({ scheme: INSTALL_SCHEME, version: installed, recipeVersion: version, python: basePython, dependenciesAsOf: release.uploaded, seconds, at: new Date().toISOString() }, null, 2)}\n`,
      )
      log(`Synapse ${installed} installed in ${seconds} s`)
    },
    () => readReady() !== null,
  )
  const ready = readReady()
  if (!ready) throw new Error(`the Synapse venv in ${venv} is not ready`)
  return ready
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const started = Date.now()
  const install = await ensureSynapse()
  log(`${install.python} (Synapse ${install.version}; ready after ${((Date.now() - started) / 1000).toFixed(1)} s)`)
}
