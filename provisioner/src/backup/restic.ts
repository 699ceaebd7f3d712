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

/**
 * `volume:<name>`, an absolute path on the Docker host, or a restic URL such
 * as `s3:https://host/bucket`, reached from the Docker network `network`.
 */
export function parseRepository(text: string, network = 'bridge'): Repository {
  if (text.startsWith('volume:')) {
    const name = text.slice('volume:'.length)
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) throw new RepositoryError(`"${name}" is not a Docker volume name`)
    return { location: '/repository', mount: { volume: name, path: '/repository' }, network: 'none', describe: `Docker volume ${name}` }
  }
  if (text.startsWith('/')) return { location: '/repository', mount: { bind: text, path: '/repository' }, network: 'none', describe: `folder ${text} on the Docker host` }
  if (remote.test(text)) {
    // Credentials in the URL would end up in logs: they go in BACKUP_S3_* instead.
    const shown = text.replace(/\/\/[^@/]*@/, '//')
    return { location: text, network, describe: shown }
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
  if (/signature we calculated does not match|SignatureDoesNotMatch|InvalidAccessKeyId|access key id you provided does not exist|The security token included in the request is invalid/i.test(output))
    return 'The backup storage refuses the credentials. The platform operator must check BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY.'
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
  /** Credentials for S3-compatible storage: written into the helper as a file, like the password. */
  s3?: { accessKeyId: string; secretAccessKey: string }
  /** How long opening the repository may take (restic retries most errors of remote storage for 15 minutes). */
  openTimeoutSeconds?: number
}

const PASSWORD_FILE = '/run/restic/password'
const S3_CREDENTIALS_FILE = '/run/restic/s3-credentials'

/** The shared-credentials file that restic's S3 client reads (AWS_SHARED_CREDENTIALS_FILE). */
function s3CredentialsFile(s3: { accessKeyId: string; secretAccessKey: string }): string {
  for (const value of [s3.accessKeyId, s3.secretAccessKey]) if (/[\r\n]/.test(value)) throw new RepositoryError('the S3 credentials must be one line each')
  return `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`
}

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
    const { driver, image, repository, password, owner, s3 } = this.opts
    const name = opts.instanceId ? `${opts.instanceId}-${opts.purpose}` : `${owner}-${opts.purpose}`
    return driver.runHelper({
      name,
      instanceId: opts.instanceId,
      purpose: opts.purpose,
      image,
      command: ['sh', '-c', script],
      env: {
        RESTIC_REPOSITORY: repository.location,
        RESTIC_PASSWORD_FILE: PASSWORD_FILE,
        RESTIC_CACHE_DIR: '/tmp/restic-cache',
        ...(s3 ? { AWS_SHARED_CREDENTIALS_FILE: S3_CREDENTIALS_FILE } : {}),
      },
      files: [{ path: PASSWORD_FILE, content: password }, ...(s3 ? [{ path: S3_CREDENTIALS_FILE, content: s3CredentialsFile(s3) }] : [])],
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

  /**
   * Opens the repository, and makes it when there is none yet. A wrong
   * password is not "none", nor is storage that refuses the credentials.
   * restic retries most errors of remote storage for 15 minutes, a missing
   * bucket among them: once it has retried three times (about 8 s), or
   * after `openTimeoutSeconds` (60), it is stopped and the error it retried
   * on tells what is wrong.
   */
  async ensureRepository(): Promise<'opened' | 'created'> {
    const mount = this.opts.repository.mount
    if (mount && 'volume' in mount) await this.opts.driver.ensureSharedVolume(mount.volume)
    const seconds = this.opts.openTimeoutSeconds ?? 60
    const output = await this.must(
      [
        'restic cat config >/dev/null 2>/tmp/open-error &',
        'pid=$!',
        `i=0; while kill -0 $pid 2>/dev/null; do`,
        `  if [ "$(grep -c "returned error, retrying" /tmp/open-error)" -ge 3 ] || [ $i -ge ${seconds * 5} ]; then kill -INT $pid; break; fi`,
        '  i=$((i + 1)); sleep 0.2',
        'done',
        'if wait $pid; then echo opened; exit 0; fi',
        'if grep -qiE "wrong password|no key found" /tmp/open-error; then cat /tmp/open-error >&2; exit 3; fi',
        // What restic retried on, or else what it said.
        'if grep -q "returned error, retrying" /tmp/open-error; then grep "returned error, retrying" /tmp/open-error | tail -n 1 > /tmp/why; else cat /tmp/open-error > /tmp/why; fi',
        'if ! grep -qiE "no such file|not exist|NoSuchBucket|NoSuchKey" /tmp/why || grep -qiE "signature|access key|denied|forbidden" /tmp/why; then cat /tmp/why >&2; exit 4; fi',
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
