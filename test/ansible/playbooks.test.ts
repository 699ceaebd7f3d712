/**
 * ansible/site.yml, linted, syntax-checked with both example inventories, and
 * run for real twice against a Debian bookworm container made here (sshd
 * inside, Ansible's own ssh connection from this machine): the first run
 * must succeed, the second must change nothing.
 *
 * The container has no init system and no Docker engine of its own, so the
 * run sets commons_manage_services=false: no service is started, enabled or
 * reloaded, no Swarm is made and the stack is not built or started. Every
 * package, file, template, user and folder is really made, the nftables
 * ruleset is checked by `nft -c` (the container gets CAP_NET_ADMIN in its
 * own network namespace for that), and Compose reads the rendered .env.
 * What this leaves unproven: ansible/README.md, "What the test proves".
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureAnsible, ensureTargetImage } from '../../scripts/ansible.ts'

const root = path.resolve(import.meta.dirname, '..', '..')
const ansibleDir = path.join(root, 'ansible')
const offset = Number(process.env.TEST_PORT_OFFSET ?? 0)
const workDir = path.join(root, '.data', `ansible-test-${offset}`)

let bin = ''
let container = ''
let inventory = ''
let secrets: Record<string, string> = {}
let extraArgs: string[] = []

type Result = { code: number; output: string }

function run(command: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ansibleDir,
      // Only what the run needs: the test run's own variables (SMTP_URL, …) stay out of it.
      env: { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ANSIBLE_CONFIG: path.join(ansibleDir, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ...env },
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code: code ?? 1, output }))
  })
}

/** A command inside the target container. */
function onTarget(script: string): Result {
  const r = spawnSync('docker', ['exec', container, 'sh', '-c', script], { encoding: 'utf8' })
  return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}` }
}

function playbook(): Promise<Result> {
  return run('ansible-playbook', ['-i', inventory, ...extraArgs, 'site.yml'], Object.fromEntries(Object.entries(secrets).filter(([name]) => !vaulted.includes(name)).map(([name, value]) => [`COMMONS_${name}`, value])))
}

function recap(output: string): { ok: number; changed: number; unreachable: number; failed: number } {
  const m = /^target\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/m.exec(output)
  if (!m) throw new Error(`no PLAY RECAP for target in:\n${output.slice(-4000)}`)
  return { ok: Number(m[1]), changed: Number(m[2]), unreachable: Number(m[3]), failed: Number(m[4]) }
}

// Half of the secrets come from the vault, the other half from the environment.
const names = ['POSTGRES_SUPERUSER_PASSWORD', 'PORTAL_DB_PASSWORD', 'KEYCLOAK_DB_PASSWORD', 'PROVISIONER_DB_PASSWORD', 'KEYCLOAK_BOOTSTRAP_ADMIN_PASSWORD', 'PORTAL_CLIENT_SECRET', 'PORTAL_ADMIN_CLIENT_SECRET', 'PROVISIONER_CLIENT_SECRET', 'PROVISIONER_API_TOKEN', 'PROVISIONER_SECRETS_KEY', 'BACKUP_PASSWORD', 'SMTP_URL']
const vaulted = names.filter((_, i) => i % 2 === 0)

beforeAll(async () => {
  bin = ensureAnsible()
  const image = ensureTargetImage()
  rmSync(workDir, { recursive: true, force: true })
  mkdirSync(workDir, { recursive: true, mode: 0o700 })

  const key = path.join(workDir, 'id_ed25519')
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'commons-ansible-test', '-f', key], { stdio: 'ignore' })
  chmodSync(`${key}.pub`, 0o600)
  const started = spawnSync('docker', ['run', '-d', '--rm', '--label', 'commons.test=ansible', '--name', `commons-ansible-target-${offset}-${process.pid}`, '--cap-add', 'NET_ADMIN', '-p', '127.0.0.1::22', '-v', `${key}.pub:/root/.ssh/authorized_keys:ro`, image], { encoding: 'utf8' })
  if (started.status !== 0) throw new Error(`docker run: ${started.stderr}`)
  container = started.stdout.trim()
  const port = spawnSync('docker', ['port', container, '22/tcp'], { encoding: 'utf8' }).stdout.trim().split('\n')[0]!.split(':').pop()

  secrets = Object.fromEntries(names.map((name) => [name, name === 'SMTP_URL' ? `smtp://portal:${randomBytes(8).toString('hex')}@relay.example.test:587` : randomBytes(24).toString('hex')]))
  const vaultPass = path.join(workDir, 'vault-password')
  writeFileSync(vaultPass, randomBytes(16).toString('hex'), { mode: 0o600 })
  const vaultFile = path.join(workDir, 'vault.yml')
  writeFileSync(vaultFile, vaulted.map((name) => `vault_commons_${name.toLowerCase()}: "${secrets[name]}"`).join('\n') + '\n', { mode: 0o600 })
  const encrypted = await run('ansible-vault', ['encrypt', '--vault-password-file', vaultPass, vaultFile])
  expect(encrypted.code, encrypted.output).toBe(0)

  // The release is pinned to one commit: others committing meanwhile must not make the second run differ.
  const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim()
  inventory = path.join(workDir, 'inventory.yml')
  writeFileSync(
    inventory,
    JSON.stringify({
      all: {
        children: { managers: { hosts: { target: { ansible_host: '127.0.0.1', ansible_port: Number(port) } } }, workers: { hosts: {} } },
        vars: {
          ansible_user: 'root',
          ansible_ssh_private_key_file: key,
          // A container made a second ago by this test: its host key cannot be known.
          ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
          commons_manage_services: false,
          commons_version: commit,
          commons_portal_host: 'portal.example.test',
          commons_auth_host: 'auth.example.test',
          commons_tools_domain: 'tools.example.test',
          commons_acme_email: 'operator@example.test',
          commons_mail_from: 'Commons Portal <no-reply@example.test>',
          commons_helpdesk_address: 'support@example.test',
        },
      },
    }),
  )
  extraArgs = ['--vault-password-file', vaultPass, '-e', `@${vaultFile}`]

  // sshd takes a moment to listen.
  for (let i = 0; ; i++) {
    const ping = await run('ansible', ['-i', inventory, 'all', '-m', 'ansible.builtin.ping'])
    if (ping.code === 0) break
    if (i >= 30) throw new Error(`the target never answered:\n${ping.output}`)
    await new Promise((r) => setTimeout(r, 500))
  }
})

afterAll(() => {
  if (container) spawnSync('docker', ['rm', '-f', container], { stdio: 'ignore' })
})

describe('ansible/', () => {
  it('passes ansible-lint (production profile)', async () => {
    const lint = await run('ansible-lint')
    expect(lint.code, lint.output).toBe(0)
  })

  it.each(['one-host', 'three-hosts'])('passes --syntax-check with inventories/%s.example.yml', async (name) => {
    const check = await run('ansible-playbook', ['--syntax-check', '-i', `inventories/${name}.example.yml`, 'site.yml'])
    expect(check.code, check.output).toBe(0)
  })

  it('takes a fresh Debian host to the platform files, and a second run changes nothing', async () => {
    const first = await playbook()
    expect(first.code, first.output.slice(-6000)).toBe(0)
    expect(recap(first.output)).toMatchObject({ unreachable: 0, failed: 0 })
    expect(recap(first.output).changed).toBeGreaterThan(0)

    expect(onTarget("dpkg-query -W -f '${Status}\\n' docker.io docker-compose nftables restic unattended-upgrades").output.trim().split('\n')).toEqual(Array(5).fill('install ok installed'))
    expect(onTarget('stat -c "%a %U" /srv/commons /srv/commons/backups /srv/commons/.env').output.trim().split('\n')).toEqual(['750 root', '700 root', '600 root'])
    expect(onTarget('getent passwd commons').code).toBe(0)
    expect(onTarget('cat /etc/docker/daemon.json').output).toContain('"max-size": "10m"')

    const env = onTarget('cat /srv/commons/.env').output
    for (const name of names) expect(env, name).toContain(`\n${name}=${secrets[name]}\n`)
    expect(env).toContain('\nPORTAL_HOST=portal.example.test\n')
    expect(env).toMatch(/\nDOCKER_GID=\d+\n/)
    // Compose finds every variable docker-compose.yml needs in the rendered .env.
    const config = onTarget('cd /srv/commons/current && docker-compose config -q')
    expect(config.code, config.output).toBe(0)

    const ruleset = onTarget('cat /etc/nftables.conf').output
    expect(ruleset).toContain('tcp dport { 22, 80, 443, 25 } accept')
    expect(ruleset).not.toMatch(/^\s*flush ruleset/m)
    // One host: no Swarm ports opened to anyone.
    expect(ruleset).not.toContain('2377')
    const nft = onTarget('nft -c -f /etc/nftables.conf')
    expect(nft.code, nft.output).toBe(0)

    const second = await playbook()
    expect(second.code, second.output.slice(-6000)).toBe(0)
    const changed = second.output.split('\n').filter((line) => line.startsWith('changed:'))
    expect({ ...recap(second.output), changedTasks: changed }).toMatchObject({ changed: 0, failed: 0, unreachable: 0 })
  })
})
