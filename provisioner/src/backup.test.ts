/**
 * Backups for real: restic (Debian's, in the helper image commons/restic) on
 * the Docker engine, an encrypted repository in a Docker volume, the "hello"
 * recipe. Data is written, backed up, checked, changed, restored, destroyed,
 * restored into a new instance; a damaged backup and a full backup storage
 * get clear messages and lose nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { images } from '../../scripts/images.ts'
import type { BackupView, RestoreView } from './api/contract.ts'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import { Backups } from './backup/backups.ts'
import { parseRepository, Restic } from './backup/restic.ts'
import type { Env } from './config.ts'
import { createLogger } from './log.ts'
import { LABEL } from './spec.ts'
import { apiClient, testStack, waitFor, type TestStack } from './testing/stack.ts'

let stack: TestStack
let env: Env
let provisioner: RunningProvisioner
let api: ReturnType<typeof apiClient>
const repositoryVolume = `commons-test-backups-${randomBytes(4).toString('hex')}`
const fullFolder = path.join(tmpdir(), `${repositoryVolume}-full`)
const refusingFolder = path.join(tmpdir(), `${repositoryVolume}-refusing`)

const org = { id: 'org-fietsrepair', slug: 'fietsrepair', name: 'Fietsrepair Coöperatie' }
const first = 'hello-fietsrepair'
const second = 'hello-fietsrepair-2'
const admin = 'beheer@fietsrepair.example'

beforeAll(async () => {
  stack = await testStack(7)
  env = stack.env({
    REMOVED_VOLUME_GRACE_DAYS: '1',
    BACKUP_PASSWORD: randomBytes(24).toString('base64'),
    BACKUP_REPOSITORY: `volume:${repositoryVolume}`,
    BACKUP_IMAGE: images.restic,
    BACKUP_SCHEDULE_HOURS: '0',
  })
  provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
  api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
}, 300_000)

afterAll(async () => {
  if (provisioner) {
    await provisioner.backups?.idle()
    for (const instance of ((await api.call('GET', '/instances')).body as { instances: { id: string }[] }).instances) await api.call('DELETE', `/instances/${instance.id}`)
    await provisioner.controller.idle()
    await provisioner.close()
    for (const id of [first, second]) for (const v of (await stack.docker.listVolumes({ filters: { label: [`${LABEL.instance}=${id}`] } })).Volumes ?? []) await stack.docker.getVolume(v.Name).remove()
    await stack.dropSchema(env.DATABASE_SCHEMA)
  }
  await stack?.docker.getVolume(repositoryVolume).remove().catch(() => undefined)
  spawnSync('umount', [fullFolder])
  spawnSync('chattr', ['-i', refusingFolder])
  rmSync(fullFolder, { recursive: true, force: true })
  rmSync(refusingFolder, { recursive: true, force: true })
  await stack?.close()
}, 180_000)

const container = (id: string) => `${id}-web`

async function sh(id: string, script: string): Promise<string> {
  const exec = await stack.docker.getContainer(container(id)).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({ hijack: true, stdin: false })
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  await new Promise((resolve) => stream.on('end', resolve))
  const { ExitCode } = await exec.inspect()
  // Frames: 8-byte header each; the payload is all we want.
  const raw = Buffer.concat(chunks)
  let out = ''
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4)
    out += raw.subarray(i + 8, i + 8 + size).toString('utf8')
    i += 8 + size
  }
  if (ExitCode !== 0) throw new Error(`${script}: exit ${ExitCode}: ${out}`)
  return out
}

/** Every file under /data with its checksum, except what the tool itself writes at each start. */
const fingerprint = (id: string) => sh(id, 'cd /data && find . -type f | sort | xargs sha256sum')

async function ready(id: string) {
  await waitFor(async () => (await api.get(id)).phase === 'ready', `${id} ready`, 90_000)
}

async function backups(id: string): Promise<{ backups: BackupView[]; restores: RestoreView[] }> {
  const res = await api.call('GET', `/instances/${id}/backups`)
  expect(res.status).toBe(200)
  return res.body as { backups: BackupView[]; restores: RestoreView[] }
}

async function settledBackup(id: string, backupId: string): Promise<BackupView> {
  return waitFor(
    async () => {
      const b = (await backups(id)).backups.find((x) => x.id === backupId)
      return b && b.status !== 'running' && (b.status === 'failed' || b.verification.status !== 'pending') ? b : undefined
    },
    `backup ${backupId} done and checked`,
    90_000,
  )
}

async function settledRestore(id: string, restoreId: string): Promise<RestoreView> {
  return waitFor(
    async () => {
      const r = (await backups(id)).restores.find((x) => x.id === restoreId)
      return r && r.status !== 'running' ? r : undefined
    },
    `restore ${restoreId} finished`,
    120_000,
  )
}

let goodBackup: BackupView
let before: string

describe('backing up and restoring an instance', { timeout: 240_000 }, () => {
  it('backs up on request, encrypted, and proves the backup by restoring it into a scratch place', async () => {
    expect((await api.put(first, { organization: org, recipe: 'hello', adminEmail: admin })).status).toBe(202)
    await ready(first)
    await sh(first, 'mkdir -p /data/files && echo "Notulen van de ledenvergadering" > /data/files/notulen.txt && head -c 200000 /dev/urandom > /data/files/foto.jpg')
    before = await fingerprint(first)
    expect(before).toContain('./files/notulen.txt')

    const res = await api.call('POST', `/instances/${first}/backups`, { requestedBy: admin })
    expect(res.status).toBe(202)
    const started = res.body as BackupView
    expect(started).toMatchObject({ instanceId: first, kind: 'manual', status: 'running', requestedBy: admin, volumes: ['data'], dumps: ['installed.txt'] })

    goodBackup = await settledBackup(first, started.id)
    expect(goodBackup.status).toBe('succeeded')
    expect(goodBackup.verification.status).toBe('passed')
    expect(goodBackup.verification.message).toMatch(/files matched their checksums/)
    expect(goodBackup.sizeBytes).toBeGreaterThan(200_000)
    expect(goodBackup.restorable).toBe(true)

    // Encrypted at rest: the notes are nowhere in the repository's files.
    const { Mountpoint } = await stack.docker.getVolume(repositoryVolume).inspect()
    const files = walk(Mountpoint)
    expect(files.length).toBeGreaterThan(3)
    for (const f of files) expect(readFileSync(f).includes('ledenvergadering')).toBe(false)

    // Nothing of the backup is left behind on the engine.
    const leftovers = (await stack.docker.listContainers({ all: true, filters: { label: [`${LABEL.instance}=${first}`] } })).map((c) => c.Names[0])
    expect(leftovers).toEqual([`/${container(first)}`])
    expect((await stack.objectsOf(first)).filter((o) => /backup|restore|check/.test(o))).toEqual([])
    const steps = (await api.events(first)).map((e) => `${e.step}:${e.status}`)
    expect(steps).toEqual(expect.arrayContaining(['backup:started', 'backup:succeeded', 'verify:started', 'verify:succeeded']))
  })

  it('restores the instance to that backup: changes made after it are gone, and the state before is kept as a backup', async () => {
    await sh(first, 'echo "changed by mistake" > /data/files/notulen.txt && rm /data/files/foto.jpg && echo new > /data/files/later.txt')
    expect(await fingerprint(first)).not.toBe(before)

    const res = await api.call('POST', `/instances/${first}/restore`, { backupId: goodBackup.id, requestedBy: admin })
    expect(res.status).toBe(202)
    const restore = await settledRestore(first, (res.body as RestoreView).id)
    expect(restore).toMatchObject({ status: 'succeeded', backupId: goodBackup.id, error: null })
    await ready(first)
    expect(await fingerprint(first)).toBe(before)

    const list = (await backups(first)).backups
    const safety = list.find((b) => b.id === restore.safetyBackupId)
    expect(safety).toMatchObject({ kind: 'pre-restore', status: 'succeeded' })
    const steps = (await api.events(first)).map((e) => `${e.step}:${e.status}`)
    const after = steps.slice(steps.lastIndexOf('restore:started'))
    // Offline (route first), back, then the loop brings it up and marks it ready.
    expect(after).toEqual(
      expect.arrayContaining(['backup:succeeded', `remove-route:instance.${first}.main:succeeded`, 'stop:web:succeeded', 'restore:succeeded', 'container:web:succeeded', 'route:succeeded', 'ready:succeeded']),
    )
    expect(after.indexOf(`remove-route:instance.${first}.main:succeeded`)).toBeLessThan(after.indexOf('stop:web:succeeded'))
  })

  it('restores into a new instance after the first was removed and its data destroyed', async () => {
    expect((await api.call('DELETE', `/instances/${first}`)).status).toBe(202)
    await waitFor(async () => (await api.get(first)).phase === 'removed', `${first} removed`)
    // The disk is lost: the kept volumes go too.
    for (const v of (await stack.docker.listVolumes({ filters: { label: [`${LABEL.instance}=${first}`] } })).Volumes ?? []) await stack.docker.getVolume(v.Name).remove()

    // A backup of a removed tool cannot be made…
    expect((await api.call('POST', `/instances/${first}/backups`, {})).status).toBe(409)
    // …but its backups are still the organisation's.
    const orgList = (await api.call('GET', `/backups?organization=${org.id}`)).body as { backups: BackupView[] }
    expect(orgList.backups.map((b) => b.id)).toContain(goodBackup.id)

    expect((await api.put(second, { organization: org, recipe: 'hello', adminEmail: admin })).status).toBe(202)
    await ready(second)
    expect(await fingerprint(second)).not.toBe(before)
    const res = await api.call('POST', `/instances/${second}/restore`, { backupId: goodBackup.id })
    expect(res.status).toBe(202)
    expect((await settledRestore(second, (res.body as RestoreView).id)).status).toBe('succeeded')
    await ready(second)
    expect(await fingerprint(second)).toBe(before)
  })

  it('refuses what cannot be done with a clear answer, and changes nothing', async () => {
    const unknown = await api.call('POST', `/instances/${second}/restore`, { backupId: 'b-00000000000000000000' })
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not-found' } } })
    const invalid = await api.call('POST', `/instances/${second}/restore`, { backupId: '../etc' })
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'invalid-body' } } })

    // A backup of another organisation's instance is not this one's to restore.
    const db = new pg.Client({ connectionString: env.DATABASE_URL })
    await db.connect()
    try {
      await db.query(`SET search_path = ${env.DATABASE_SCHEMA}`)
      await db.query(
        `INSERT INTO backups (id, instance_id, organization_id, recipe, recipe_version, kind, status, snapshot_id, verification)
         SELECT 'b-0000000000other0000', id, 'org-someone-else', recipe, recipe_version, 'manual', 'succeeded', $2, 'passed' FROM instances WHERE id = $1`,
        [second, goodBackup.id],
      )
    } catch (error) {
      await db.end()
      throw error
    }
    const foreign = await api.call('POST', `/instances/${second}/restore`, { backupId: 'b-0000000000other0000' })
    expect(foreign).toMatchObject({ status: 404, body: { error: { code: 'not-found' } } })
    expect((await backups(second)).restores.every((r) => r.backupId !== 'b-0000000000other0000')).toBe(true)
    await db.query('DELETE FROM backups WHERE id = $1', ['b-0000000000other0000'])
    await db.end()
  })

  it('answers "back up now" while a backup of the tool is being made with that backup, not "busy"', async () => {
    // As the schedule starts a new tool's first backup the moment it is ready (its row, as the schedule makes it).
    const store = provisioner.backups!.opts.store
    const row = (await provisioner.backups!.opts.instances.get(second))!
    const scheduled = await store.start({ instanceId: second, organizationId: row.organizationId, recipe: row.recipe, recipeVersion: row.recipeVersion, kind: 'scheduled', volumes: ['data'], dumps: [] })
    try {
      const before = (await backups(second)).backups.length
      const res = await api.call('POST', `/instances/${second}/backups`, { requestedBy: admin })
      expect(res.status).toBe(202)
      expect(res.body).toMatchObject({ id: scheduled.id, kind: 'scheduled', status: 'running' })
      expect((await backups(second)).backups.length).toBe(before)
    } finally {
      await store.failed(scheduled.id, 'test row', 'test row')
    }
  })

  it('backs up on schedule every tool that is due, then keeps what the retention policy says and forgets the rest', async () => {
    const main = provisioner.backups!
    // Due after one second, and keep one a day: the newest is all that stays.
    const scheduled = new Backups({ ...main.opts, scheduleHours: 1 / 3600, retention: { within: '0d', daily: 1, weekly: 0, monthly: 0 } })
    const manual = await api.call('POST', `/instances/${second}/backups`, {})
    await settledBackup(second, (manual.body as BackupView).id)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await scheduled.due()).map((r) => r.id)).toEqual([second])
    const keptBefore = (await main.opts.store.kept(second)).length
    expect(keptBefore).toBeGreaterThan(1)

    await scheduled.tick()
    const list = (await backups(second)).backups
    const newest = list[0]!
    expect(newest).toMatchObject({ kind: 'scheduled', status: 'succeeded', verification: { status: 'passed' }, restorable: true })
    const kept = list.filter((b) => b.forgottenAt === null && b.status === 'succeeded')
    expect(kept.map((b) => b.id)).toEqual([newest.id])
    // Forgotten backups stay listed (history), but are no longer offered.
    expect(list.filter((b) => b.forgottenAt !== null).every((b) => !b.restorable)).toBe(true)
    const refused = await api.call('POST', `/instances/${second}/restore`, { backupId: list.find((b) => b.forgottenAt !== null)!.id })
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'not-restorable', message: expect.stringMatching(/no longer kept/) } } })
    // With the daily schedule, nothing is due right after.
    expect(await new Backups({ ...main.opts, scheduleHours: 24 }).due()).toEqual([])
  })

  it('a damaged backup fails its check; restoring it is refused before anything is touched', async () => {
    const now = await fingerprint(second)
    const res = await api.call('POST', `/instances/${second}/backups`, {})
    const damaged = await settledBackup(second, (res.body as BackupView).id)
    expect(damaged.verification.status).toBe('passed')

    // Bit rot in the repository: every data pack gets a flipped byte.
    const { Mountpoint } = await stack.docker.getVolume(repositoryVolume).inspect()
    for (const file of walk(path.join(Mountpoint, 'data'))) {
      const bytes = readFileSync(file)
      const at = Math.floor(bytes.length / 2)
      bytes[at] = (bytes[at] ?? 0) ^ 0xff
      writeFileSync(file, bytes)
    }

    const check = await provisioner.backups!.verify(damaged.id)
    expect(check.passed).toBe(false)
    expect(check.message).toMatch(/damaged|do(es)? not match/)
    const listed = (await backups(second)).backups.find((b) => b.id === damaged.id)
    expect(listed).toMatchObject({ restorable: false, verification: { status: 'failed' } })
    const refused = await api.call('POST', `/instances/${second}/restore`, { backupId: damaged.id })
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'not-restorable' } } })

    // The problems list shows it to the operator.
    const problems = (await api.call('GET', '/backups/problems')).body as { failedVerifications: BackupView[] }
    expect(problems.failedVerifications.map((b) => b.id)).toContain(damaged.id)

    // An older backup, not checked since the damage: the restore's own check stops it, nothing is lost.
    const restore = await api.call('POST', `/instances/${second}/restore`, { backupId: goodBackup.id })
    expect(restore.status).toBe(202)
    const result = await settledRestore(second, (restore.body as RestoreView).id)
    expect(result.status).toBe('failed')
    expect(result.error).toMatch(/nothing was restored.*unchanged/i)
    await ready(second)
    expect(await fingerprint(second)).toBe(now)
  })

  it('a full backup storage, or one that refuses writes, fails with a message for the operator, and the tool runs on', async () => {
    const main = provisioner.backups!
    const elsewhere = (folder: string) =>
      new Backups({ ...main.opts, restic: new Restic({ ...main.opts.restic.opts, repository: parseRepository(folder) }) })

    // A storage that refuses writes (immutable folder): not even the repository can be made.
    mkdirSync(refusingFolder, { recursive: true })
    execFileSync('chattr', ['+i', refusingFolder])
    const refusing = elsewhere(refusingFolder)
    expect(await refusing.openRepository()).toBe(false)
    expect(refusing.repositoryError).toMatch(/refuses to store anything/)

    // A 1 MB storage: the repository fits, the tool's 3 MB do not.
    mkdirSync(fullFolder, { recursive: true })
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', fullFolder])
    const full = elsewhere(fullFolder)
    expect(await full.openRepository()).toBe(true)
    await sh(second, 'mkdir -p /data/files && head -c 3000000 /dev/urandom > /data/files/video.bin')
    const now = await fingerprint(second)
    const started = await full.request(second, 'manual')
    await full.idle()
    const row = await full.opts.store.get(started.id)
    expect(row).toMatchObject({ status: 'failed', error: expect.stringMatching(/backup storage is full/) })
    expect(full.repositoryError).toMatch(/full/)
    expect((await api.get(second)).phase).toBe('ready')
    expect(await fingerprint(second)).toBe(now)
    // The failure is on the operator's list until a good backup follows.
    const problems = (await api.call('GET', '/backups/problems')).body as { failedBackups: BackupView[] }
    expect(problems.failedBackups.map((b) => b.id)).toContain(started.id)
  })
})

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) out.push(...walk(full))
    else out.push(full)
  }
  return out
}
