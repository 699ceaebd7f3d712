import type { Readable } from 'node:stream'
import type { ContainerDriver, ExecResult, HelperMount } from '../docker/driver.ts'

// restic, the backup tool, run in a helper container of its own for every
// command: it sees only the volumes a step mounts into it and the repository,
// never the Docker socket. Its repository is encrypted with BACKUP_PASSWORD,
// which goes in as a file written before the container starts (not env, not
// argv, so `docker inspect` and logs never show it).

/** Where the repository is: a Docker volume, a folder on the Docker host, or remote storage restic speaks to. */
export type Repository = {
  /** What restic is told (RESTIC_REPOSITORY). */
  location: string
  mount?: HelperMount
  /** "none" for local storage; remote storage needs a network. */
  network: string
  /** Shown to operators: never a secret. */
  describe: string
}

const remote = /^(s3|rest|sftp|azure|gs|swift|b2|rclone):/

export class RepositoryError extends Error {}

/** `volume:<name>`, an absolute path on the Docker host, or a restic URL such as `s3:https://host/bucket`. */
export function parseRepository(text: string): Repository {
  if (text.startsWith('volume:')) {
    const name = text.slice('volume:'.length)
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) throw new RepositoryError(`"${name}" is not a Docker volume name`)
    return { location: '/repository', mount: { volume: name, path: '/repository' }, network: 'none', describe: `Docker volume ${name}` }
  }
  if (text.startsWith('/')) return { location: '/repository', mount: { bind: text, path: '/repository' }, network: 'none', describe: `folder ${text} on the Docker host` }
  if (remote.test(text)) {
    // Credentials in the URL would end up in logs: they go in BACKUP_S3_* instead.
    const shown = text.replace(/\/\/[^@/]*@/, '//')
    return { location: text, network: 'bridge', describe: shown }
  }
  throw new RepositoryError('must be volume:<name>, an absolute folder on the Docker host, or a restic URL (s3:, rest:, sftp:, ...)')
}

/** A restic command that failed, with what to tell the people who asked for it. */
export class ResticError extends Error {
  constructor(
    readonly plain: string,
    readonly output: string,
    readonly exitCode: number,
  ) {
    super(`restic failed (exit ${exitCode}): ${output.slice(-800)}`)
    this.name = 'ResticError'
  }
}

export const DAMAGED = 'The backup is damaged: some of its data cannot be read back.'

/** restic's own words, turned into what an operator or admin can act on. */
export function plainResticError(output: string): string {
  if (/no space left on device/i.test(output)) return 'The backup storage is full. The platform operator must free space or add storage.'
  if (/read-only file system|permission denied|operation not permitted|access denied|forbidden/i.test(output)) return 'The backup storage refuses to store anything. The platform operator must check its permissions.'
  if (/wrong password|no key found/i.test(output)) return 'The backup password does not open the backup storage. The platform operator must check BACKUP_PASSWORD.'
  if (/ciphertext verification failed|pack .* (damaged|corrupt)|checksum|invalid data returned|hash does not match|unexpected EOF|file does not exist|no such file/i.test(output))
    return DAMAGED
  if (/no such host|connection refused|timeout|i\/o timeout|network is unreachable/i.test(output)) return 'The backup storage cannot be reached. The platform operator must check the connection.'
  if (/repository is already locked/i.test(output)) return 'The backup storage is busy with another task. Try again in a few minutes.'
  return 'The backup tool reported an error. The platform operator can find the details in the provisioner log.'
}

export type ResticOptions = {
  driver: ContainerDriver
  image: string
  repository: Repository
  password: string
  owner: string
  /** Extra environment for remote storage (e.g. AWS_ACCESS_KEY_ID): not secret-free, so never logged. */
  env: Record<string, string>
}

const PASSWORD_FILE = '/run/restic/password'

export class Restic {
  #queue: Promise<unknown> = Promise.resolve()

  constructor(readonly opts: ResticOptions) {}

  /**
   * Runs a shell script in a helper container with restic set up (repository,
   * password file, a throw-away cache). One at a time: restic locks the
   * repository itself, and a small host is better served by one task after another.
   */
  run(script: string, opts: { instanceId: string; purpose: string; mounts?: HelperMount[]; stdin?: Readable }): Promise<ExecResult> {
    const next = this.#queue.then(() => this.#runNow(script, opts))
    this.#queue = next.catch(() => undefined)
    return next
  }

  async #runNow(script: string, opts: { instanceId: string; purpose: string; mounts?: HelperMount[]; stdin?: Readable }): Promise<ExecResult> {
    const { driver, image, repository, password, owner, env } = this.opts
    const name = opts.instanceId ? `${opts.instanceId}-${opts.purpose}` : `${owner}-${opts.purpose}`
    return driver.runHelper({
      name,
      instanceId: opts.instanceId,
      purpose: opts.purpose,
      image,
      command: ['sh', '-c', script],
      env: { ...env, RESTIC_REPOSITORY: repository.location, RESTIC_PASSWORD_FILE: PASSWORD_FILE, RESTIC_CACHE_DIR: '/tmp/restic-cache' },
      files: [{ path: PASSWORD_FILE, content: password }],
      mounts: [...(repository.mount ? [repository.mount] : []), ...(opts.mounts ?? [])],
      stdin: opts.stdin,
      network: repository.network,
    })
  }

  /** Like run, but a non-zero exit is a ResticError. */
  async must(script: string, opts: { instanceId: string; purpose: string; mounts?: HelperMount[] }): Promise<string> {
    const result = await this.run(script, opts)
    if (result.exitCode !== 0) throw new ResticError(plainResticError(result.output), result.output, result.exitCode)
    return result.output
  }

  /** Opens the repository, and makes it when there is none yet. A wrong password is not "none". */
  async ensureRepository(): Promise<'opened' | 'created'> {
    const mount = this.opts.repository.mount
    if (mount && 'volume' in mount) await this.opts.driver.ensureSharedVolume(mount.volume)
    const output = await this.must(
      [
        'if restic cat config >/dev/null 2>/tmp/open-error; then echo opened; exit 0; fi',
        'if grep -qiE "wrong password|no key found" /tmp/open-error; then cat /tmp/open-error >&2; exit 3; fi',
        'if ! grep -qiE "no such file|not exist|Is there a repository" /tmp/open-error; then cat /tmp/open-error >&2; exit 4; fi',
        'restic init >/dev/null && echo created',
      ].join('\n'),
      { instanceId: '', purpose: 'backup-repository' },
    )
    return output.trim().split('\n').pop() === 'created' ? 'created' : 'opened'
  }
}

/** Single-quoted for sh: what is inside can never break out. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** The summary line of `restic backup --json`. */
export function backupSummary(output: string): { snapshotId: string; sizeBytes: number; fileCount: number } | undefined {
  for (const line of output.split('\n').reverse()) {
    if (!line.startsWith('{')) continue
    try {
      const parsed = JSON.parse(line) as { message_type?: string; snapshot_id?: string; total_bytes_processed?: number; total_files_processed?: number }
      if (parsed.message_type === 'summary' && parsed.snapshot_id) {
        return { snapshotId: parsed.snapshot_id, sizeBytes: parsed.total_bytes_processed ?? 0, fileCount: parsed.total_files_processed ?? 0 }
      }
    } catch {
      // Not JSON after all: restic prints some warnings as plain text.
    }
  }
  return undefined
}
