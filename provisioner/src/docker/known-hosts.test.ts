import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { engineAt } from '../app.ts'
import { hostKeyVerifier, KnownHostsError, knownHostsName } from './known-hosts.ts'

// Keys and hashed names made by OpenSSH's own ssh-keygen, as an operator's would be.
const dir = mkdtempSync(path.join(tmpdir(), 'known-hosts-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function key(name: string): { line: string; blob: Buffer } {
  const file = path.join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file])
  const line = readFileSync(`${file}.pub`, 'utf8').trim()
  return { line: line.split(' ').slice(0, 2).join(' '), blob: Buffer.from(line.split(' ')[1] ?? '', 'base64') }
}

const worker = key('worker')
const other = key('other')

describe('known_hosts', () => {
  it('names a host as OpenSSH does: plain on port 22, [host]:port otherwise', () => {
    expect(knownHostsName('10.0.0.2', 22)).toBe('10.0.0.2')
    expect(knownHostsName('10.0.0.2', 2222)).toBe('[10.0.0.2]:2222')
  })

  it('trusts the key listed for the host and port, and no other key', () => {
    const text = `# the workers\n10.0.0.2 ${worker.line}\n[10.0.0.3]:2222 ${other.line} other-comment\n`
    const verify = hostKeyVerifier(text, '10.0.0.2', 22)
    expect(verify(worker.blob)).toBe(true)
    expect(verify(other.blob)).toBe(false)
    expect(hostKeyVerifier(text, '10.0.0.3', 2222)(other.blob)).toBe(true)
    expect(hostKeyVerifier(text, '10.0.0.3', 2222)(worker.blob)).toBe(false)
  })

  it('reads the hashed names ssh-keygen -H writes', () => {
    const file = path.join(dir, 'known_hosts')
    writeFileSync(file, `worker-1.coop.example,10.0.0.2 ${worker.line}\n[10.0.0.3]:2222 ${other.line}\n`)
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' })
    const hashed = readFileSync(file, 'utf8')
    expect(hashed).not.toContain('10.0.0.2')
    expect(hashed).toMatch(/^\|1\|/m)
    expect(hostKeyVerifier(hashed, '10.0.0.2', 22)(worker.blob)).toBe(true)
    expect(hostKeyVerifier(hashed, 'worker-1.coop.example', 22)(worker.blob)).toBe(true)
    expect(hostKeyVerifier(hashed, '10.0.0.3', 2222)(other.blob)).toBe(true)
    expect(hostKeyVerifier(hashed, '10.0.0.3', 2222)(worker.blob)).toBe(false)
    expect(() => hostKeyVerifier(hashed, '10.0.0.3', 22)).toThrow(KnownHostsError)
  })

  it('understands patterns and negations, and refuses a revoked key everywhere', () => {
    const text = `10.0.0.*,!10.0.0.9 ${worker.line}\n@revoked * ${other.line}\n* ${other.line}\n`
    expect(hostKeyVerifier(text, '10.0.0.4', 22)(worker.blob)).toBe(true)
    expect(hostKeyVerifier(text, '10.0.0.9', 22)(worker.blob)).toBe(false)
    expect(hostKeyVerifier(text, '10.0.0.4', 22)(other.blob)).toBe(false)
  })

  it('says which line is missing, and refuses a file that is not known_hosts', () => {
    expect(() => hostKeyVerifier(`10.0.0.2 ${worker.line}\n`, '10.0.0.5', 2222)).toThrow('it lists no host key for [10.0.0.5]:2222 (add the line `ssh-keyscan -p 2222 10.0.0.5` prints, after checking it)')
    expect(() => hostKeyVerifier('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n', '10.0.0.2', 22)).toThrow(KnownHostsError)
    expect(() => hostKeyVerifier(`@bogus 10.0.0.2 ${worker.line}\n`, '10.0.0.2', 22)).toThrow('line 1: unknown marker @bogus')
  })

  it('an ssh:// engine needs the key and the known hosts, and the host must be in them', () => {
    const keyFile = path.join(dir, 'worker')
    const knownHosts = path.join(dir, 'known_hosts_engines')
    writeFileSync(knownHosts, `[10.0.0.2]:2222 ${worker.line}\n`)
    expect(() => engineAt('ssh://commons@10.0.0.2:2222', undefined, knownHosts)).toThrow(/SWARM_SSH_KEY_FILE: must be set to reach ssh:\/\/commons@10.0.0.2:2222/)
    expect(() => engineAt('ssh://commons@10.0.0.2:2222', keyFile, undefined)).toThrow(/SWARM_SSH_KNOWN_HOSTS_FILE: must be set to reach/)
    expect(() => engineAt('ssh://commons@10.0.0.3', keyFile, knownHosts)).toThrow(/SWARM_SSH_KNOWN_HOSTS_FILE: .*it lists no host key for 10.0.0.3/)
    expect(() => engineAt('ssh://commons@10.0.0.2:2222', keyFile, path.join(dir, 'missing'))).toThrow(/SWARM_SSH_KNOWN_HOSTS_FILE: .* cannot be read \(ENOENT\)/)
    expect(engineAt('ssh://commons@10.0.0.2:2222', keyFile, knownHosts).modem).toMatchObject({ protocol: 'ssh', host: '10.0.0.2', port: 2222, username: 'commons' })
  })
})
