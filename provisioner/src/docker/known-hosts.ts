import { createHmac, timingSafeEqual } from 'node:crypto'

// The ssh host keys the provisioner trusts for the workers' engines, in
// OpenSSH's known_hosts format (what `ssh-keyscan` prints and ~/.ssh/known_hosts
// holds): `host[,host…] keytype base64-key [comment]`, a host as `name`
// (port 22) or `[name]:port`, or hashed (`|1|salt|hash`, `ssh-keygen -H`).
// Patterns with `*` and `?`, and `!` negations, are understood;
// `@cert-authority` lines are not (their hosts are not trusted by them), and
// a key on a `@revoked` line is refused wherever it is presented.

type Line = { marker: '' | '@revoked' | '@cert-authority'; hosts: string[]; key: Buffer }

export class KnownHostsError extends Error {}

function parse(text: string): Line[] {
  const lines: Line[] = []
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const fields = line.split(/\s+/)
    const marker = fields[0]?.startsWith('@') ? fields.shift()! : ''
    if (marker !== '' && marker !== '@revoked' && marker !== '@cert-authority') throw new KnownHostsError(`line ${i + 1}: unknown marker ${marker}`)
    const [hosts, type, key] = fields
    if (!hosts || !type || !key || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new KnownHostsError(`line ${i + 1}: not "host keytype key"`)
    lines.push({ marker: marker as Line['marker'], hosts: hosts.split(','), key: Buffer.from(key, 'base64') })
  }
  return lines
}

function glob(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i')
  return re.test(name)
}

function hashedMatches(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|')
  if (!salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest()
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

function hostMatches(patterns: string[], name: string): boolean {
  let matched = false
  for (const pattern of patterns) {
    if (pattern.startsWith('|1|')) {
      if (hashedMatches(pattern, name)) matched = true
    } else if (pattern.startsWith('!')) {
      if (glob(pattern.slice(1), name)) return false
    } else if (glob(pattern, name)) matched = true
  }
  return matched
}

/** The name known_hosts keeps a host under: `name` for port 22, `[name]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/**
 * A verifier for ssh2's `hostVerifier` (the raw host key blob): true only
 * for a key known_hosts lists for this host and port, and not revoked.
 * Throws when the file lists no key for the host at all, so the operator
 * learns which line is missing before anything connects.
 */
export function hostKeyVerifier(knownHosts: string, host: string, port: number): (key: Buffer) => boolean {
  const lines = parse(knownHosts)
  const name = knownHostsName(host, port)
  const trusted = lines.filter((l) => l.marker === '' && hostMatches(l.hosts, name)).map((l) => l.key)
  const revoked = lines.filter((l) => l.marker === '@revoked').map((l) => l.key)
  if (trusted.length === 0) throw new KnownHostsError(`it lists no host key for ${name} (add the line \`ssh-keyscan${port === 22 ? '' : ` -p ${port}`} ${host}\` prints, after checking it)`)
  return (key) => !revoked.some((k) => k.equals(key)) && trusted.some((k) => k.equals(key))
}
