import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { PageBackups } from '~/utils/backups.server'
import { initCatalog } from '~/utils/catalog.server'
import { contractStubProvisioner } from '~/utils/contract-stub-provisioner.testing'
import { db, disconnectDb } from '~/utils/db.server'
import { outbox } from '~/utils/email.server'
import { deliverDesiredState } from '~/utils/instances.server'
import { createSession } from '~/utils/session.server'
import { action, loader } from './organisations.$slug_.instances.$id'

// The instance page's backups, called as Remix calls the loader and the
// action, with real sessions in Postgres; the provisioner is
// contractStubProvisioner (a test double speaking the contract, not the
// real provisioner).

const unique = Date.now().toString(36)
let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
const saved = { url: process.env.PROVISIONER_URL, token: process.env.PROVISIONER_API_TOKEN }
const cookies = { admin: '', member: '' }
let adminId: string
const ours = { slug: `bk-a-${unique}`, instanceId: '', earlierId: '' }
const theirs = { slug: `bk-b-${unique}`, instanceId: '' }

type Answer = { init: { status: number } | null; data: { notice?: string; error?: string; restore?: { backupId: string; reply: { error?: Record<string, string[] | null> } } } }

async function personWithSession(tag: string) {
  const user = await db().user.create({ data: { keycloakId: `backups-${tag}-${unique}`, email: `${tag}-${unique}@backups.test`, name: tag } })
  const { setCookie } = await createSession({ userId: user.id, keycloakSessionId: null, idToken: '', realmRoles: [], activeOrganizationId: null })
  return { user, cookie: setCookie.split(';')[0]! }
}

/** An organisation with a Nextcloud the stub knows and has made ready. */
async function organisationWithNextcloud(slug: string, people: { userId: string; role: 'ADMIN' | 'MEMBER' }[]) {
  const organization = await db().organization.create({ data: { slug, name: `Backups ${slug}`, description: 'x', sector: 'care', city: 'Ede' } })
  for (const p of people) await db().membership.create({ data: { ...p, organizationId: organization.id } })
  const instance = await db().instance.create({ data: { id: `nextcloud-${slug}`, organizationId: organization.id, recipeId: 'nextcloud', adminEmail: 'admin@backups.test' } })
  await deliverDesiredState(instance.id)
  stub.setPhase(instance.id, 'ready')
  return { organization, instance }
}

/** Calls the action; a thrown Response (403, 404) is returned as it is. */
async function post(cookie: string, id: string, fields: Record<string, string>, slug = ours.slug): Promise<Answer | Response> {
  const request = new Request(`http://portal.test/organisations/${slug}/instances/${id}`, {
    method: 'POST',
    headers: { Cookie: cookie, 'Accept-Language': 'en' },
    body: new URLSearchParams(fields),
  })
  try {
    return (await action({ request, params: { slug, id }, context: { cspNonce: '' } })) as unknown as Answer
  } catch (thrown) {
    if (thrown instanceof Response) return thrown
    throw thrown
  }
}

function statusOf(answer: Answer | Response) {
  return answer instanceof Response ? answer.status : (answer.init?.status ?? 200)
}

const restoreCalls = () => stub.calls.filter((c) => c.startsWith('POST') && c.endsWith('/restore'))
const audited = (action: string) => db().auditEntry.findMany({ where: { action, targetId: ours.instanceId }, orderBy: { createdAt: 'asc' } })

beforeAll(async () => {
  stub = await contractStubProvisioner()
  // Read by env() on first use in this file's module graph, before any other call.
  process.env.PROVISIONER_URL = stub.url
  process.env.PROVISIONER_API_TOKEN = stub.token
  await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
  const admin = await personWithSession('admin')
  const member = await personWithSession('member')
  adminId = admin.user.id
  cookies.admin = admin.cookie
  cookies.member = member.cookie
  const a = await organisationWithNextcloud(ours.slug, [
    { userId: admin.user.id, role: 'ADMIN' },
    { userId: member.user.id, role: 'MEMBER' },
  ])
  ours.instanceId = a.instance.id
  const b = await organisationWithNextcloud(theirs.slug, [])
  theirs.instanceId = b.instance.id
  // A Nextcloud the organisation had before, removed: its backups may be put back into the new one.
  const earlier = await db().instance.create({
    data: { id: `nextcloud-${ours.slug}-old`, organizationId: a.organization.id, recipeId: 'nextcloud', adminEmail: 'admin@backups.test', desiredState: 'REMOVED', removedAt: new Date() },
  })
  await stub.client().putInstance(earlier.id, { organization: { id: a.organization.id, slug: ours.slug, name: a.organization.name }, recipe: 'nextcloud', adminEmail: 'admin@backups.test' })
  await stub.client().deleteInstance(earlier.id)
  ours.earlierId = earlier.id
})
afterAll(async () => {
  const mine = { organization: { slug: { in: [ours.slug, theirs.slug] } } }
  await db().auditEntry.deleteMany({ where: { targetType: 'instance', targetId: { in: [ours.instanceId, theirs.instanceId, ours.earlierId] } } })
  await db().instance.deleteMany({ where: mine })
  await db().organization.deleteMany({ where: { slug: { in: [ours.slug, theirs.slug] } } })
  await db().user.deleteMany({ where: { email: { endsWith: `-${unique}@backups.test` } } })
  process.env.PROVISIONER_URL = saved.url
  process.env.PROVISIONER_API_TOKEN = saved.token
  await stub.stop()
  await outbox.stop()
  await disconnectDb()
})
beforeEach(() => {
  // Each test starts from a ready instance with nothing running.
  stub.setBackups({ configured: true, repositoryError: null })
  for (const b of stub.backups) if (b.status === 'running') stub.updateBackup(b.id, { status: 'succeeded', finishedAt: new Date().toISOString() })
  for (const r of stub.restores) if (r.status === 'running') stub.finishRestore(r.id, 'succeeded')
  stub.setPhase(ours.instanceId, 'ready')
})

describe('backing up from the instance page', () => {
  it('starts a backup for an admin and records it in the audit log with the backup id', async () => {
    const answer = await post(cookies.admin, ours.instanceId, { intent: 'backup' })
    expect(statusOf(answer)).toBe(200)
    expect((answer as Answer).data.notice).toBe('A backup of Nextcloud is being made. It appears in the list below.')
    const backup = stub.backups.at(-1)!
    expect(backup).toMatchObject({ instanceId: ours.instanceId, kind: 'manual', status: 'running', requestedBy: `portal-user:${adminId}` })
    const [entry] = await audited('backup.request')
    expect(entry).toMatchObject({ actorId: adminId, targetType: 'instance', data: { backupId: backup.id } })
  })

  it('a backup already being made (the schedule\'s) is the answer, not "busy"', async () => {
    const scheduled = stub.addBackup(ours.instanceId, { kind: 'scheduled', status: 'running', finishedAt: null })
    const before = stub.backups.length
    const answer = await post(cookies.admin, ours.instanceId, { intent: 'backup' })
    expect(statusOf(answer)).toBe(200)
    expect((answer as Answer).data.notice).toBe('A backup of Nextcloud is being made. It appears in the list below.')
    expect(stub.backups.length).toBe(before)
    expect(stub.backups.at(-1)!.id).toBe(scheduled.id)
  })

  it('says in plain words why not: busy, not running, or backups not set up', async () => {
    // A restore under way: busy.
    stub.setPhase(ours.instanceId, 'restoring')
    const busy = await post(cookies.admin, ours.instanceId, { intent: 'backup' })
    expect(statusOf(busy)).toBe(409)
    expect((busy as Answer).data.error).toBe('This tool is busy with a backup or a restore. Try again when that has finished.')
    stub.setPhase(ours.instanceId, 'ready')

    for (const b of stub.backups) if (b.status === 'running') stub.updateBackup(b.id, { status: 'succeeded' })
    stub.setPhase(ours.instanceId, 'suspended')
    const notRunning = await post(cookies.admin, ours.instanceId, { intent: 'backup' })
    expect(statusOf(notRunning)).toBe(409)
    expect((notRunning as Answer).data.error).toMatch(/^This tool is not running right now/)

    stub.setPhase(ours.instanceId, 'ready')
    stub.setBackups({ configured: false })
    const unavailable = await post(cookies.admin, ours.instanceId, { intent: 'backup' })
    expect(statusOf(unavailable)).toBe(503)
    expect((unavailable as Answer).data.error).toBe('Backups are not set up on this server yet; the platform operator can turn them on.')
    const noRestore = await post(cookies.admin, ours.instanceId, { intent: 'restore', backupId: 'b-0000000000nobody', confirm: 'on' })
    expect(statusOf(noRestore)).toBe(503)
    expect((noRestore as Answer).data.error).toBe('Backups are not set up on this server yet; the platform operator can turn them on.')
    // The backups started or joined above; none of the refused requests.
    expect(await audited('backup.request')).toHaveLength(2)
  })
})

describe('restoring from the instance page', () => {
  it('refuses without the confirmation box: 400 with the field’s message, and nothing reaches the provisioner', async () => {
    const backup = stub.addBackup(ours.instanceId, { startedAt: '2025-03-01T03:00:00.000Z' })
    const calls = stub.calls.length
    const answer = await post(cookies.admin, ours.instanceId, { intent: 'restore', backupId: backup.id })
    expect(statusOf(answer)).toBe(400)
    expect((answer as Answer).data.restore).toMatchObject({ backupId: backup.id, reply: { error: { confirm: ['instance.backups.restore.mustConfirm'] } } })
    expect(stub.calls.length).toBe(calls)
    const forged = await post(cookies.admin, ours.instanceId, { intent: 'restore', backupId: '../instances/x', confirm: 'on' })
    expect(statusOf(forged)).toBe(400)
    expect(stub.calls.length).toBe(calls)
  })

  it('answers 404 for a backup of another organisation’s instance, or one nobody has, and restores nothing', async () => {
    const foreign = stub.addBackup(theirs.instanceId)
    for (const backupId of [foreign.id, 'b-0000000000nobody']) {
      const answer = await post(cookies.admin, ours.instanceId, { intent: 'restore', backupId, confirm: 'on' })
      expect(statusOf(answer)).toBe(404)
      expect((answer as Answer).data.error).toBe('That backup does not exist, or it is not one of this tool. Reload the page.')
    }
    // Nor through the other organisation's URL: that instance is not ours to reach.
    expect(statusOf(await post(cookies.admin, theirs.instanceId, { intent: 'restore', backupId: foreign.id, confirm: 'on' }, theirs.slug))).toBe(404)
    expect(restoreCalls()).toEqual([])
    expect(await audited('backup.restore')).toEqual([])
  })

  it('restores a backup of this tool, and one of its removed predecessor, audited with the backup id', async () => {
    const own = stub.addBackup(ours.instanceId, { startedAt: '2025-03-02T03:00:00.000Z' })
    const answer = await post(cookies.admin, ours.instanceId, { intent: 'restore', backupId: own.id, confirm: 'on' })
    expect(statusOf(answer)).toBe(200)
    expect((answer as Answer).data.notice).toBe(
      'The backup of 2 Mar 2025, 04:00 is being put back into Nextcloud. The current state is backed up first; Nextcloud is offline for a few minutes.',
    )
    expect(restoreCalls()).toEqual([`POST /instances/${ours.instanceId}/restore`])
    const restore = stub.restores.at(-1)!
    expect(restore).toMatchObject({ backupId: own.id, requestedBy: `portal-user:${adminId}` })
    expect((await audited('backup.restore'))[0]).toMatchObject({ actorId: adminId, data: { backupId: own.id, restoreId: restore.id } })
    stub.finishRestore(restore.id, 'succeeded')

    const older = stub.addBackup(ours.earlierId, { startedAt: '2025-02-01T03:00:00.000Z' })
    expect(statusOf(await post(cookies.admin, ours.instanceId, { intent: 'restore', backupId: older.id, confirm: 'on' }))).toBe(200)
    expect((await audited('backup.restore')).map((e) => (e.data as { backupId: string }).backupId)).toEqual([own.id, older.id])
  })

  it('refuses a backup that failed its check before asking the provisioner to restore it', async () => {
    const broken = stub.addBackup(ours.instanceId, { verification: { status: 'failed', message: 'a file differs', at: new Date().toISOString() } })
    const before = restoreCalls().length
    const answer = await post(cookies.admin, ours.instanceId, { intent: 'restore', backupId: broken.id, confirm: 'on' })
    expect(statusOf(answer)).toBe(409)
    expect(restoreCalls()).toHaveLength(before)
  })
})

describe('who may see and use the backups', () => {
  it('gives a member who is not an admin 403 and sends nothing', async () => {
    const backup = stub.addBackup(ours.instanceId)
    const calls = stub.calls.length
    expect(statusOf(await post(cookies.member, ours.instanceId, { intent: 'backup' }))).toBe(403)
    expect(statusOf(await post(cookies.member, ours.instanceId, { intent: 'restore', backupId: backup.id, confirm: 'on' }))).toBe(403)
    expect(stub.calls.length).toBe(calls)
  })

  it('lists the backups for admins only, the removed predecessor’s among them, newest first', async () => {
    const load = async (cookie: string) => {
      const request = new Request(`http://portal.test/organisations/${ours.slug}/instances/${ours.instanceId}`, { headers: { Cookie: cookie } })
      return loader({ request, params: { slug: ours.slug, id: ours.instanceId }, context: { cspNonce: '' } })
    }
    const asAdmin = (await load(cookies.admin)).backups as Extract<PageBackups, { state: 'listed' }>
    expect(asAdmin.state).toBe('listed')
    const started = asAdmin.backups.map((b) => b.startedAt)
    expect(started).toEqual([...started].sort().reverse())
    expect(asAdmin.backups.some((b) => b.earlier && b.instanceId === ours.earlierId)).toBe(true)
    expect(asAdmin.backups.some((b) => b.instanceId === theirs.instanceId)).toBe(false)
    expect(asAdmin.restores.length).toBeGreaterThan(0)
    expect((await load(cookies.member)).backups).toBeNull()
    stub.setBackups({ configured: false })
    expect((await load(cookies.admin)).backups).toEqual({ state: 'unavailable' })
  })
})

describe('the version and the upgrades on the instance page', () => {
  const load = async (cookie: string) => {
    const request = new Request(`http://portal.test/organisations/${ours.slug}/instances/${ours.instanceId}`, { headers: { Cookie: cookie } })
    return loader({ request, params: { slug: ours.slug, id: ours.instanceId }, context: { cspNonce: '' } })
  }

  it('shows the running version, the upgrade under way to everyone, and the upgrades to admins only', async () => {
    expect((await load(cookies.admin)).instance.version).toBe('1.0.0')
    expect((await load(cookies.admin)).upgrades).toEqual({ state: 'listed', upgrades: [], total: 0 })
    expect((await load(cookies.member)).upgrades).toBeNull()

    stub.offerUpgrade(ours.instanceId, '1.1.0')
    const { queued } = await stub.client().startUpgrades([ours.instanceId])
    stub.moveUpgrade(queued[0]!.id, 'upgrading')
    const asMember = await load(cookies.member)
    expect(asMember.instance.phase).toBe('upgrading')
    // The member sees that it is upgrading, and to which version: the page has the upgrade's record for that.
    expect(asMember.upgrades).toMatchObject({ state: 'listed', upgrades: [{ fromVersion: '1.0.0', toVersion: '1.1.0', status: 'upgrading' }] })

    stub.moveUpgrade(queued[0]!.id, 'succeeded')
    const asAdmin = await load(cookies.admin)
    expect(asAdmin.instance).toMatchObject({ phase: 'ready', version: '1.1.0' })
    expect(asAdmin.upgrades).toMatchObject({ state: 'listed', upgrades: [{ status: 'succeeded' }], total: 1 })
    expect((await load(cookies.member)).upgrades).toBeNull()
  })
})
