/**
 * OpenSSH's sshd for a host of a test swarm, as Ansible sets a worker up
 * (docs/swarm.md): in the node's network namespace on its address, port 22,
 * with one authorised key that may run `docker system dial-stdio` and
 * nothing else (`command=…,restrict`); the command reaches that node's
 * engine. Its own host key, config and folder; nothing of the machine's sshd
 * is touched. `known_hosts` holds its host key as `ssh-keygen -H` writes it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

export type TestSshd = {
  /** ssh://root@address, for SWARM_NODE_ENGINES. */
  url: string
  /** The client's private key (SWARM_SSH_KEY_FILE). */
  keyFile: string
  /** This server's host key, hashed (SWARM_SSH_KNOWN_HOSTS_FILE). */
  knownHostsFile: string
  /** A known_hosts file with another key for the same address. */
  wrongKnownHostsFile: string
  /** What sshd logged (its last 4000 characters). */
  log(): string
  /** How many times a client signed in with the key (each one a connection to the engine). */
  accepted(): number
  /** Stops the server (as when its host is lost); `start` brings it back. */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

function keygen(file: string, comment: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file])
  return readFileSync(`${file}.pub`, 'utf8').trim()
}

async function listening(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: address, port })
      socket.setTimeout(500)
      const done = (answered: boolean) => {
        socket.destroy()
        resolve(answered)
      }
      socket.once('connect', () => done(true))
      socket.once('error', () => done(false))
      socket.once('timeout', () => done(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`sshd does not answer on ${address}:${port}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function startSshd(node: { name: string; netns: string; address: string; socketPath: string }): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), `commons-sshd-${node.name}-`))
  const hostKey = path.join(dir, 'host_key')
  const hostPub = keygen(hostKey, `host ${node.name}`).split(' ').slice(0, 2).join(' ')
  const keyFile = path.join(dir, 'client_key')
  const clientPub = keygen(keyFile, 'commons-provisioner')
  const otherPub = keygen(path.join(dir, 'other_key'), 'someone else').split(' ').slice(0, 2).join(' ')
  writeFileSync(path.join(dir, 'authorized_keys'), `command="DOCKER_HOST=unix://${node.socketPath} docker system dial-stdio",restrict ${clientPub}\n`, { mode: 0o600 })
  const knownHostsFile = path.join(dir, 'known_hosts')
  writeFileSync(knownHostsFile, `${node.address} ${hostPub}\n`)
  execFileSync('ssh-keygen', ['-H', '-f', knownHostsFile], { stdio: 'ignore' })
  const wrongKnownHostsFile = path.join(dir, 'known_hosts_wrong')
  writeFileSync(wrongKnownHostsFile, `${node.address} ${otherPub}\n`)
  const config = path.join(dir, 'sshd_config')
  writeFileSync(
    config,
    [
      `ListenAddress ${node.address}`,
      'Port 22',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      // The folder is under /tmp (mode 1777), which StrictModes refuses; its files are ours and 0600.
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  )
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  let child: ChildProcess | undefined
  let log = ''
  let accepted = 0
  const start = async () => {
    child = spawn('ip', ['netns', 'exec', node.netns, '/usr/sbin/sshd', '-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    let partial = ''
    child.stderr?.on('data', (c: Buffer) => {
      const text = c.toString('utf8')
      log = `${log}${text}`.slice(-4000)
      const lines = `${partial}${text}`.split('\n')
      partial = lines.pop() ?? ''
      accepted += lines.filter((l) => l.includes('Accepted publickey for root')).length
    })
    const exited = new Promise<never>((_, reject) => child?.once('exit', (code) => reject(new Error(`sshd for ${node.name} exited (${code}): ${log}`))))
    await Promise.race([listening(node.address, 22, 10_000), exited])
  }
  const stop = async () => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null) return
    const gone = new Promise((resolve) => c.once('exit', resolve))
    c.kill('SIGTERM')
    await gone
  }
  await start()
  return {
    url: `ssh://root@${node.address}`,
    keyFile,
    knownHostsFile,
    wrongKnownHostsFile,
    log: () => log,
    accepted: () => accepted,
    stop,
    start,
    close: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
