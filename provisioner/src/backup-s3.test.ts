/**
 * Backups on S3-compatible storage, for real: the backup helper (restic
 * 0.18.0, the version production runs) against an S3 server, Versity S3
 * Gateway (images/versitygw, a folder behind it), in a container on a Docker
 * network of this test's own that the helpers join (BACKUP_NETWORK). The
 * server checks every request's AWS signature, as any S3 storage does.
 *
 * A tool is backed up there, checked and restored; the bucket holds only
 * encrypted files; the credentials reach the helpers as a file, never in
 * their environment; a wrong secret and storage that does not answer get
 * their message in seconds, not after restic's 15 minutes of retrying.
 */
import { randomBytes } from 'node:crypto'
import type Docker from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { images } from '../../scripts/images.ts'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import { parseRepository, Restic, ResticError } from './backup/restic.ts'
import type { Env } from './config.ts'
import { LocalDockerDriver } from './docker/local.ts'
import { createLogger } from './log.ts'
import { LABEL } from './spec.ts'
import { apiClient, execIn as execInContainer, testStack, waitFor, type TestStack } from './testing/stack.ts'

let stack: TestStack
let env: Env
let provisioner: RunningProvisioner
let api: ReturnType<typeof apiClient>

const suffix = randomBytes(4).toString('hex')
const network = `commons-test-s3-net-${suffix}`
const server = `commons-test-s3-${suffix}`
const bucket = 'commons-backups'
const account = { accessKeyId: `commons${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(24).toString('base64url') }
const password = randomBytes(24).toString('base64')
const org = { id: 'org-zonnedak', slug: 'zonnedak', name: 'Zonnedak Coöperatie' }
const id = 'hello-zonnedak'

/** Runs argv in a container (as `docker exec` does); returns exit code and output. */
const execIn = (container: string, argv: string[]) => execInContainer(stack.docker, container, argv)

async function sh(container: string, script: string): Promise<string> {
  const { exitCode, output } = await execIn(container, ['sh', '-c', script])
  if (exitCode !== 0) throw new Error(`${container}: ${script}: exit ${exitCode}: ${output}`)
  return output
}

const fingerprint = () => sh(`${id}-web`, 'cd /data && find . -type f | sort | xargs sha256sum')

/** A Restic of our own against the test's S3 server, as the provisioner makes it. */
function restic(s3: { accessKeyId: string; secretAccessKey: string }, location = `s3:http://${server}:7070/${bucket}`): Restic {
  return new Restic({
    driver: new LocalDockerDriver(stack.docker, stack.proxy.containerName, env.PROVISIONER_NAME, false),
    image: images.restic,
    repository: parseRepository(location, network),
    password,
    owner: env.PROVISIONER_NAME,
    s3,
  })
}

async function startServer(docker: Docker): Promise<void> {
  const container = await docker.createContainer({
    name: server,
    Image: images.s3,
    Env: [`ROOT_ACCESS_KEY=${account.accessKeyId}`, `ROOT_SECRET_KEY=${account.secretAccessKey}`],
    Labels: { 'org.commons.test': 'backup-s3' },
    HostConfig: { NetworkMode: network, Memory: 256 * 1024 * 1024 },
  })
  await container.start()
  // Up once it answers S3 (an unsigned request is refused: 403 is an answer).
  await waitFor(async () => (await execIn(server, ['sh', '-c', 'wget -q -O /dev/null http://127.0.0.1:7070/ 2>&1; true'])).output.includes('403'), 'the S3 server answers', 30_000)
}

beforeAll(async () => {
  stack = await testStack(6)
  await stack.docker.createNetwork({ Name: network, Labels: { 'org.commons.test': 'backup-s3' } })
  await startServer(stack.docker)
  env = stack.env({
    BACKUP_PASSWORD: password,
    BACKUP_REPOSITORY: `s3:http://${server}:7070/${bucket}`,
    BACKUP_S3_ACCESS_KEY_ID: account.accessKeyId,
    BACKUP_S3_SECRET_ACCESS_KEY: account.secretAccessKey,
    BACKUP_NETWORK: network,
    BACKUP_IMAGE: images.restic,
    BACKUP_SCHEDULE_HOURS: '0',
    REMOVED_VOLUME_GRACE_DAYS: '0',
  })
  provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
  api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
}, 300_000)

afterAll(async () => {
  if (provisioner) {
    await provisioner.backups?.idle()
    for (const instance of ((await api.call('GET', '/instances')).body as { instances: { id: string }[] }).instances) await api.call('DELETE', `/instances/${instance.id}`)
    await waitFor(async () => ['purged', 'removed'].includes((await api.get(id)).phase), `${id} removed`, 120_000).catch(() => undefined)
    await provisioner.controller.idle()
    await provisioner.close()
    for (const v of (await stack.docker.listVolumes({ filters: { label: [`${LABEL.instance}=${id}`] } })).Volumes ?? []) await stack.docker.getVolume(v.Name).remove().catch(() => undefined)
    await stack.dropSchema(env.DATABASE_SCHEMA)
  }
  await stack?.docker.getContainer(server).remove({ force: true, v: true }).catch(() => undefined)
  await stack?.docker.getNetwork(network).remove().catch(() => undefined)
  await stack?.close()
}, 180_000)

type BackupView = { id: string; status: string; verification: { status: string; message: string }; sizeBytes: number | null }

describe('backups on S3 storage', () => {
  it('made the repository in a new bucket when it started', async () => {
    expect(provisioner.backups?.repositoryError).toBeNull()
    const listing = await sh(server, `ls /data/${bucket}`)
    expect(listing.split('\n')).toEqual(expect.arrayContaining(['config', 'keys']))
    // The health page's view of it: no problem.
    expect((await api.call('GET', '/backups/problems')).body).toMatchObject({ configured: true, repositoryError: null })
  })

  it('backs a tool up to S3, encrypted, checks it, and restores it after its data is overwritten', async () => {
    expect((await api.put(id, { organization: org, recipe: 'hello', adminEmail: 'beheer@zonnedak.example' })).status).toBe(202)
    await waitFor(async () => (await api.get(id)).phase === 'ready', `${id} ready`, 90_000)
    await sh(`${id}-web`, 'mkdir -p /data/files && echo "Jaarverslag van de zonnedakcoöperatie" > /data/files/jaarverslag.txt && head -c 300000 /dev/urandom > /data/files/paneel.jpg')
    const before = await fingerprint()

    const res = await api.call('POST', `/instances/${id}/backups`, { requestedBy: 'beheer@zonnedak.example' })
    expect(res.status).toBe(202)
    const backupId = (res.body as { id: string }).id
    const done = await waitFor(
      async () => {
        const list = ((await api.call('GET', `/instances/${id}/backups`)).body as { backups: BackupView[] }).backups
        const b = list.find((x) => x.id === backupId)
        return b && b.status !== 'running' && (b.status === 'failed' || b.verification.status !== 'pending') ? b : undefined
      },
      'backup done and checked',
      120_000,
    )
    expect(done).toMatchObject({ status: 'succeeded', verification: { status: 'passed' } })
    expect(done.verification.message).toMatch(/files matched their checksums/)
    expect(done.sizeBytes).toBeGreaterThan(300_000)

    // In the bucket: snapshots and packs, and none of them holds the report in the clear.
    const objects = (await sh(server, `cd /data/${bucket} && find . -type f`)).split('\n').filter(Boolean)
    expect(objects.some((o) => o.startsWith('./snapshots/'))).toBe(true)
    expect(objects.some((o) => o.startsWith('./data/'))).toBe(true)
    expect((await execIn(server, ['grep', '-rl', 'zonnedakcoöperatie', `/data/${bucket}`])).exitCode).toBe(1)

    await sh(`${id}-web`, 'echo "overschreven" > /data/files/jaarverslag.txt && rm /data/files/paneel.jpg')
    expect(await fingerprint()).not.toBe(before)
    const restore = await api.call('POST', `/instances/${id}/restore`, { backupId })
    expect(restore.status).toBe(202)
    const restoreId = (restore.body as { id: string }).id
    const finished = await waitFor(
      async () => ((await api.call('GET', `/instances/${id}/backups`)).body as { restores: { id: string; status: string }[] }).restores.find((r) => r.id === restoreId && r.status !== 'running'),
      'restore finished',
      180_000,
    )
    expect(finished).toMatchObject({ status: 'succeeded' })
    await waitFor(async () => (await api.get(id)).phase === 'ready', `${id} ready again`, 90_000)
    expect(await fingerprint()).toBe(before)
  }, 400_000)

  it('hands the credentials to the helpers as a file: neither the secret nor the key is in their environment', async () => {
    const out = await restic(account).must('env; echo ---; cat "$AWS_SHARED_CREDENTIALS_FILE"; echo ---; restic version', { instanceId: '', purpose: 'backup-s3-env' })
    const [environment = '', file = '', version = ''] = out.split('---\n')
    expect(environment).toContain('AWS_SHARED_CREDENTIALS_FILE=/run/restic/s3-credentials')
    expect(environment).not.toContain(account.secretAccessKey)
    expect(environment).not.toContain(account.accessKeyId)
    expect(environment).not.toContain(password)
    expect(file).toBe(`[default]\naws_access_key_id = ${account.accessKeyId}\naws_secret_access_key = ${account.secretAccessKey}\n`)
    expect(version).toMatch(/^restic 0\.18\.0 /)
  }, 60_000)

  it('says so in seconds when the storage refuses the secret, and makes nothing', async () => {
    const before = await sh(server, `ls -R /data/${bucket} | wc -l`)
    const started = Date.now()
    const error = await restic({ ...account, secretAccessKey: 'not-the-secret-of-this-account' })
      .ensureRepository()
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ResticError)
    expect((error as ResticError).plain).toBe('The backup storage refuses the credentials. The platform operator must check BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY.')
    expect((error as ResticError).output).toMatch(/signature/i)
    // Not restic's 15 minutes of retries (the measured time is in docs/benchmarks.md, not asserted).
    expect(Date.now() - started).toBeLessThan(120_000)
    // A new bucket is made on the first start; a wrong key makes no other.
    expect((await restic({ ...account, secretAccessKey: 'wrong' }, `s3:http://${server}:7070/other-bucket`).ensureRepository().catch((e: unknown) => e)) as ResticError).toBeInstanceOf(ResticError)
    expect(await sh(server, `ls /data`)).not.toContain('other-bucket')
    expect(await sh(server, `ls -R /data/${bucket} | wc -l`)).toBe(before)
  }, 180_000)

  it('opens a new bucket of the same account as a repository of its own, and says when the storage does not answer', async () => {
    expect(await restic(account, `s3:http://${server}:7070/second-bucket`).ensureRepository()).toBe('created')
    expect(await restic(account, `s3:http://${server}:7070/second-bucket`).ensureRepository()).toBe('opened')
    const error = await restic(account, `s3:http://${server}-gone:7070/${bucket}`)
      .ensureRepository()
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ResticError)
    expect((error as ResticError).plain).toBe('The backup storage cannot be reached. The platform operator must check the connection.')
  }, 180_000)

  it('refuses to start with an s3: repository but no credentials, naming the settings', async () => {
    const without = stack.env({ BACKUP_PASSWORD: password, BACKUP_REPOSITORY: `s3:http://${server}:7070/${bucket}`, BACKUP_NETWORK: network })
    await expect(startProvisioner(without, createLogger('error'))).rejects.toThrow(/BACKUP_S3_ACCESS_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY: an s3: repository needs both/)
  })
})
