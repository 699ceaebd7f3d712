/**
 * Programs the tests run that Debian does not package at the version we
 * need, built here from their source on the Go module proxy (the only way
 * to get them on our machines: no image registry, no release downloads):
 *
 * - restic 0.18.0, the version production runs (`restic/restic:0.18.0`),
 *   for the backup helper image `commons/restic:0.18.0`;
 * - Versity S3 Gateway (versitygw), an S3 server (Apache-2.0) with a plain
 *   folder behind it, so the backups are tested against real S3 storage.
 *
 * Each is built once, static (CGO off), into .data/go-tools/<name>-<version>
 * and kept while the pin is unchanged. Needs Go 1.23 or newer (the machine's
 * own, on PATH or /usr/local/go). `tsx scripts/go-tools.ts` builds what is
 * missing (scripts/setup.sh calls it).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const toolsDir = path.join(root, '.data', 'go-tools')

export const goTools = {
  restic: { module: 'github.com/restic/restic/cmd/restic', version: '0.18.0' },
  versitygw: { module: 'github.com/versity/versitygw/cmd/versitygw', version: '1.8.0' },
} as const
export type GoTool = keyof typeof goTools

/** Where the built binary of `tool` is (whether or not it has been built). */
export function goToolPath(tool: GoTool): string {
  return path.join(toolsDir, `${tool}-${goTools[tool].version}`)
}

export class GoToolError extends Error {}

function findGo(): string {
  for (const candidate of ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go']) {
    const result = spawnSync(candidate, ['env', 'GOVERSION'], { encoding: 'utf8' })
    if (result.status !== 0) continue
    const [, major = '0', minor = '0'] = /^go(\d+)\.(\d+)/.exec(result.stdout.trim()) ?? []
    if (Number(major) > 1 || (Number(major) === 1 && Number(minor) >= 23)) return candidate
  }
  throw new GoToolError('Go 1.23 or newer is needed to build restic 0.18 and the S3 test server (on PATH or in /usr/local/go); none was found.')
}

function build(go: string, tool: GoTool, log: (line: string) => void): Promise<void> {
  const { module, version } = goTools[tool]
  const target = goToolPath(tool)
  const bin = mkdtempSync(path.join(toolsDir, `.${tool}-`))
  const started = Date.now()
  log(`building ${tool} ${version} from ${module}@v${version} …`)
  return new Promise<void>((resolve, reject) => {
    let output = ''
    const child = spawn(go, ['install', '-trimpath', '-ldflags=-s -w', `${module}@v${version}`], {
      env: { ...process.env, GOBIN: bin, CGO_ENABLED: '0', GOFLAGS: '-modcacherw', GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')))
    child.on('error', reject)
    child.on('close', (code) => {
      const built = path.join(bin, tool)
      if (code !== 0 || !existsSync(built)) {
        rmSync(bin, { recursive: true, force: true })
        reject(new GoToolError(`go install ${module}@v${version} failed (exit ${code}):\n${output.slice(-3000)}`))
        return
      }
      renameSync(built, target)
      rmSync(bin, { recursive: true, force: true })
      log(`built ${path.relative(root, target)} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
      resolve()
    })
  })
}

/** Builds the tools that are missing (side by side); returns their paths. */
export async function ensureGoTools(log: (line: string) => void = console.log): Promise<Record<GoTool, string>> {
  const missing = (Object.keys(goTools) as GoTool[]).filter((tool) => !existsSync(goToolPath(tool)))
  if (missing.length > 0) {
    mkdirSync(toolsDir, { recursive: true })
    const go = findGo()
    await Promise.all(missing.map((tool) => build(go, tool, log)))
  }
  return Object.fromEntries((Object.keys(goTools) as GoTool[]).map((tool) => [tool, goToolPath(tool)])) as Record<GoTool, string>
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureGoTools().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(1)
  })
}
