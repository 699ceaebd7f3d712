import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '..')

/** `docker compose` (v2 plugin) where present, else Debian's `docker-compose`. */
function composeCommand(): string[] {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose']
  return ['docker-compose']
}

/** deploy/.env.example with every empty value filled, as an operator would. */
function filledEnv(drop?: string) {
  const lines = readFileSync(path.join(root, 'deploy', '.env.example'), 'utf8').split('\n')
  const filled = lines
    .filter((l) => !drop || !l.startsWith(`${drop}=`))
    .map((l) => {
      const m = /^([A-Z0-9_]+)=$/.exec(l)
      if (!m) return l
      if (m[1] === 'SMTP_URL') return `${m[1]}=smtp://relay.example.coop:587`
      if (m[1] === 'DOCKER_GID') return `${m[1]}=999`
      // Files on the host are absolute paths (a bare word would be a named volume).
      if (m[1]?.endsWith('_PATH')) return `${m[1]}=/srv/commons/${m[1].toLowerCase()}`
      return `${m[1]}=${'a1'.repeat(20)}`
    })
  const dir = mkdtempSync(path.join(tmpdir(), 'compose-'))
  writeFileSync(path.join(dir, '.env'), filled.join('\n'))
  return path.join(dir, '.env')
}

function config(envFile: string) {
  const [cmd, ...args] = composeCommand()
  // Only the env file: variables of the test run itself (SMTP_URL, …) would win over it.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }
  return spawnSync(cmd!, [...args, '--env-file', envFile, '-f', path.join(root, 'docker-compose.yml'), 'config'], { encoding: 'utf8', env })
}

describe('docker-compose.yml', () => {
  it('is accepted by Compose with every setting of deploy/.env.example filled in', () => {
    const result = config(filledEnv())
    expect(result.stderr).not.toMatch(/error/i)
    expect(result.status).toBe(0)
    for (const service of ['postgres', 'keycloak', 'proxy', 'portal', 'provisioner']) expect(result.stdout).toContain(`${service}:`)
    // Only the provisioner mounts the Docker socket.
    expect(result.stdout.split('\n').filter((line) => line.includes('docker.sock'))).toHaveLength(1)
  })

  it('refuses to start without a secret and names it', () => {
    const result = config(filledEnv('SMTP_URL'))
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain('SMTP_URL')
  })

  it('pins every image to a version', () => {
    const images = execFileSync('grep', ['-E', '^\\s+image:', path.join(root, 'docker-compose.yml')], { encoding: 'utf8' })
    for (const line of images.trim().split('\n')) expect(line, line).toMatch(/:[0-9][^\s]*\s*$/)
  })
})
