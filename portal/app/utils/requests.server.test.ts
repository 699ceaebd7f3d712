import path from 'node:path'
import { instanceIdPattern } from '@commons/provisioner/contract'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { initCatalog } from './catalog.server'
import { contractStubProvisioner, unreachableProvisioner } from './contract-stub-provisioner.testing'
import { db, disconnectDb } from './db.server'
import { outbox } from './email.server'
import { InstanceWatcher } from './instance-watcher.server'
import { setDesiredState } from './instances.server'
import type { ProvisionerClient } from './provisioner.server'
import {
  approveRequest,
  cancelRequest,
  demandSummary,
  quotaUsage,
  rejectRequest,
  requestTool,
  setApprovalPolicy,
  setDemand,
  setInstanceQuota,
} from './requests.server'

// Real Postgres from the test harness. The provisioner is either a closed
// port (unreachable) or contractStubProvisioner: a test double that speaks
// the contract, not the real provisioner.

const unique = Date.now().toString(36)
let n = 0
let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
let down: ProvisionerClient
let operator: { id: string }

async function person(role: string, locale: string | null = 'en') {
  const tag = `${role}-${unique}-${++n}`
  return db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@requests.test`, name: `Test ${tag}`, locale } })
}

/** An organisation with an admin and a member, straight in the database (no Keycloak needed here). */
async function organisation(quota = 3) {
  const slug = `req-${unique}-${++n}`
  const admin = await person('admin')
  const member = await person('member', 'nl')
  const org = await db().organization.create({
    data: { slug, name: `Coop ${slug}`, description: 'Test', sector: 'energy', city: 'Utrecht', instanceQuota: quota },
  })
  await db().membership.createMany({
    data: [
      { userId: admin.id, organizationId: org.id, role: 'ADMIN' },
      { userId: member.id, organizationId: org.id, role: 'MEMBER' },
    ],
  })
  return { org, admin: { userId: admin.id, email: admin.email }, member: { userId: member.id } }
}

async function counts() {
  const [requests, instances, audit, mails, demand] = await Promise.all([
    db().toolRequest.count(),
    db().instance.count(),
    db().auditEntry.count(),
    db().outboxMail.count(),
    db().toolDemand.count(),
  ])
  return { requests, instances, audit, mails, demand }
}

/** Runs `refused`, expects the refusal, and checks that no table changed. */
async function expectRefusal(refused: () => Promise<unknown>, expected: { key: string; status?: number }) {
  const before = await counts()
  await expect(refused()).rejects.toMatchObject(expected)
  expect(await counts()).toEqual(before)
}

beforeAll(async () => {
  await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
  stub = await contractStubProvisioner()
  down = await unreachableProvisioner()
  operator = await person('operator')
})
afterAll(async () => {
  // The organisations and people made here go again (their requests and instances cascade).
  const mine = { organization: { slug: { startsWith: `req-${unique}-` } } }
  // A failed instance opened a helpdesk ticket for its organisation.
  await db().ticket.deleteMany({ where: mine })
  await db().instance.deleteMany({ where: mine })
  await db().organization.deleteMany({ where: { slug: { startsWith: `req-${unique}-` } } })
  await db().user.deleteMany({ where: { email: { endsWith: '@requests.test', contains: unique } } })
  await stub.stop()
  await outbox.stop()
  await disconnectDb()
})
beforeEach(async () => {
  // The approval policy is global; each test starts from the default.
  await db().catalogPolicy.deleteMany({ where: { recipeId: { in: ['nextcloud', 'loomio', 'hello'] } } })
})

describe('requesting a tool: refusals change nothing', () => {
  it('refuses a tool the catalog does not have', async () => {
    const { org, admin } = await organisation()
    await expectRefusal(() => requestTool({ actor: admin, organization: org, recipeId: 'no-such-tool' }), { key: 'request.error.unknownTool', status: 404 })
  })

  it('refuses a tool we do not host, and says to vote for it', async () => {
    const { org, admin } = await organisation()
    await expectRefusal(() => requestTool({ actor: admin, organization: org, recipeId: 'jitsi', lang: 'en' }), {
      key: 'request.error.notHostable',
      status: 409,
    })
  })

  it('refuses members who are not admins, and people outside the organisation', async () => {
    const { org, member } = await organisation()
    const outsider = await person('outsider')
    await expectRefusal(() => requestTool({ actor: member, organization: org, recipeId: 'nextcloud' }), { key: 'request.error.notOrgAdmin', status: 403 })
    await expectRefusal(() => requestTool({ actor: { userId: outsider.id }, organization: org, recipeId: 'nextcloud' }), {
      key: 'request.error.notOrgAdmin',
      status: 403,
    })
  })

  it('refuses a second request for the same tool while the first is pending', async () => {
    const { org, admin } = await organisation()
    const first = await requestTool({ actor: admin, organization: org, recipeId: 'nextcloud' })
    expect(first.kind).toBe('pending')
    await expectRefusal(() => requestTool({ actor: admin, organization: org, recipeId: 'nextcloud' }), { key: 'request.error.alreadyRequested' })
  })

  it('refuses a tool the organisation already has', async () => {
    const { org, admin } = await organisation()
    const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'loomio' })
    await approveRequest({ userId: operator.id }, request.id, down)
    await expectRefusal(() => requestTool({ actor: admin, organization: org, recipeId: 'loomio' }), { key: 'request.error.alreadyRunning' })
  })

  it('refuses what goes over the quota, counting live tools and pending requests', async () => {
    const { org, admin } = await organisation(2)
    const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'loomio' })
    await approveRequest({ userId: operator.id }, request.id, down)
    await requestTool({ actor: admin, organization: org, recipeId: 'nextcloud' })
    expect(await quotaUsage(org.id)).toBe(2)
    await expectRefusal(() => requestTool({ actor: admin, organization: org, recipeId: 'matrix', lang: 'en' }), { key: 'request.error.overQuota' })
    await expect(requestTool({ actor: admin, organization: org, recipeId: 'matrix' })).rejects.toMatchObject({ vars: { quota: 2, used: 2 } })
  })

  it('lets only one of two simultaneous requests for the same tool through', async () => {
    const { org, admin } = await organisation()
    const results = await Promise.allSettled([
      requestTool({ actor: admin, organization: org, recipeId: 'discourse' }),
      requestTool({ actor: admin, organization: org, recipeId: 'discourse' }),
    ])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { key: 'request.error.alreadyRequested' } })
    expect(await db().toolRequest.count({ where: { organizationId: org.id } })).toBe(1)
  })
})

describe('deciding on a request', () => {
  it('approval with the provisioner down stands, and the watcher delivers it once the provisioner answers', async () => {
    const { org, admin } = await organisation()
    const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'nextcloud' })
    const approved = await approveRequest({ userId: operator.id }, request.id, down)
    expect(approved.delivery.outcome).toBe('unavailable')
    expect(await db().toolRequest.findUniqueOrThrow({ where: { id: request.id } })).toMatchObject({ status: 'APPROVED', decidedById: operator.id })
    const waiting = await db().instance.findUniqueOrThrow({ where: { id: approved.instanceId } })
    expect(waiting).toMatchObject({ phase: null, desiredState: 'RUNNING', adminEmail: admin.email, lastSyncError: 'the tool service is not reachable' })
    expect(waiting.id).toBe(`nextcloud-${org.slug}`)
    expect(instanceIdPattern.test(waiting.id)).toBe(true)

    // A pass while the provisioner is still down changes nothing.
    await new InstanceWatcher(() => down).pass()
    expect(await db().instance.findUniqueOrThrow({ where: { id: waiting.id } })).toMatchObject({ phase: null })

    await new InstanceWatcher(() => stub.client()).pass()
    expect(stub.calls).toContain(`PUT /instances/${waiting.id}`)
    expect(stub.instances.get(waiting.id)).toMatchObject({ organizationId: org.id, recipe: 'nextcloud', desired: 'running' })
    expect(await db().instance.findUniqueOrThrow({ where: { id: waiting.id } })).toMatchObject({ phase: 'provisioning', lastSyncError: null })
    expect(await db().auditEntry.count({ where: { action: 'tool-request.approve', targetId: org.id } })).toBe(1)
  })

  it('mails the admins once when the tool is ready, in their language, and again on each failure', async () => {
    const { org, admin } = await organisation()
    const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'loomio' })
    const { instanceId } = await approveRequest({ userId: operator.id }, request.id, stub.client())
    const watcher = new InstanceWatcher(() => stub.client())
    const mailsTo = (to: string) => db().outboxMail.findMany({ where: { to }, orderBy: { createdAt: 'asc' } })

    stub.setPhase(instanceId, 'ready')
    await watcher.pass()
    await watcher.pass()
    const ready = await mailsTo(admin.email)
    expect(ready.map((m) => m.subject)).toEqual([`Loomio is ready for ${org.name}`])
    expect(ready[0]!.text).toContain(`https://loomio-${org.slug}.stub.test`)
    expect(ready[0]!.text).toContain(`/organisations/${org.slug}/instances/${instanceId}`)

    stub.setPhase(instanceId, 'failed', { step: 'health:app', message: 'no answer on port 3000' })
    await watcher.pass()
    await watcher.pass()
    const after = await mailsTo(admin.email)
    expect(after.map((m) => m.subject)).toEqual([`Loomio is ready for ${org.name}`, `Loomio could not be set up for ${org.name}`])
    expect(after[1]!.text).toContain('The step “Checking that it works (app)” did not succeed: no answer on port 3000')
    // The helpdesk heard of it too: one ticket, named in the mail.
    const ticket = await db().ticket.findFirstOrThrow({ where: { instanceId } })
    expect(after[1]!.text).toContain(`ticket #${ticket.number}`)
    expect(await db().ticket.count({ where: { instanceId } })).toBe(1)
    expect(await db().instance.findUniqueOrThrow({ where: { id: instanceId } })).toMatchObject({
      phase: 'failed',
      failureStep: 'health:app',
      failureMessage: 'no answer on port 3000',
    })
    // Members who are not admins get none of these mails (only a course offer, when Loomio has an onboarding course).
    const member = await db().membership.findFirstOrThrow({ where: { organizationId: org.id, role: 'MEMBER' }, include: { user: true } })
    expect((await mailsTo(member.user.email)).filter((m) => !m.subject.endsWith('leer het in de academie'))).toEqual([])
  })

  it('offers the tool’s onboarding course with the ready mail, to admins and members who have not completed it', async () => {
    const { org, admin, member } = await organisation()
    const finished = await person('finished')
    await db().membership.create({ data: { userId: finished.id, organizationId: org.id, role: 'MEMBER' } })
    const title = { en: `Chatting ${unique}`, nl: `Chatten ${unique}` }
    const content = {
      languages: ['en', 'nl'],
      title,
      summary: { en: 'Rooms', nl: 'Kamers' },
      audience: { en: 'Everyone', nl: 'Iedereen' },
      toolRecipeId: 'matrix',
      prerequisites: [],
      sequential: true,
      chapters: [{ id: 'talking', title: { en: 'Talking', nl: 'Praten' }, lessons: [{ id: 'rooms', title: { en: 'Rooms', nl: 'Kamers' }, minutes: 5, body: { en: 'Hi', nl: 'Hoi' } }] }],
    }
    // The oldest course onboarding to a tool is the one offered: this one, whatever else the database holds.
    const course = await db().course.create({
      data: {
        slug: `req-course-${unique}`,
        createdAt: new Date('2000-01-01T00:00:00Z'),
        versions: { create: { number: 1, status: 'PUBLISHED', content, toolRecipeId: 'matrix', languages: ['en', 'nl'], publishedAt: new Date() } },
      },
    })
    try {
      await db().enrolment.create({ data: { userId: finished.id, courseId: course.id, completedAt: new Date(), completedVersion: 1 } })
      const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'matrix' })
      const { instanceId } = await approveRequest({ userId: operator.id }, request.id, stub.client())
      stub.setPhase(instanceId, 'ready')
      await new InstanceWatcher(() => stub.client()).pass()
      const mailsTo = (to: string) => db().outboxMail.findMany({ where: { to }, orderBy: { createdAt: 'asc' } })
      const link = `/academy/req-course-${unique}`

      const [ready] = await mailsTo(admin.email)
      expect(ready?.subject).toBe(`Matrix (Element) is ready for ${org.name}`)
      expect(ready?.text).toContain(`the course “${title.en}” in the academy:\n`)
      expect(ready?.text).toContain(link)

      const memberUser = await db().user.findUniqueOrThrow({ where: { id: member.userId } })
      const offers = await mailsTo(memberUser.email)
      expect(offers.map((m) => m.subject)).toEqual([`${org.name} heeft nu Matrix (Element): leer het in de academie`])
      expect(offers[0]?.text).toContain(`de cursus “${title.nl}”`)
      expect(offers[0]?.text).toContain(link)
      expect(offers[0]?.text).toContain(`https://matrix-${org.slug}.stub.test`)

      expect(await mailsTo(finished.email)).toEqual([])
    } finally {
      await db().course.delete({ where: { id: course.id } })
    }
  })

  it('rejection keeps the reason for the admins and mails the requester; a decided request cannot be decided again', async () => {
    const { org, admin } = await organisation()
    const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'discourse' })
    await rejectRequest({ userId: operator.id }, request.id, 'We are full this month; ask again in June.')
    expect(await db().toolRequest.findUniqueOrThrow({ where: { id: request.id } })).toMatchObject({
      status: 'REJECTED',
      reason: 'We are full this month; ask again in June.',
      decidedById: operator.id,
    })
    const mail = await db().outboxMail.findFirstOrThrow({ where: { to: admin.email } })
    expect(mail.subject).toBe(`Your request for Discourse for ${org.name} was not approved`)
    expect(mail.text).toContain('We are full this month; ask again in June.')

    await expectRefusal(() => approveRequest({ userId: operator.id }, request.id, stub.client()), { key: 'request.error.notPending' })
    await expectRefusal(() => rejectRequest({ userId: operator.id }, request.id, 'again'), { key: 'request.error.notPending' })
    await expectRefusal(() => approveRequest({ userId: operator.id }, 'no-such-request', stub.client()), { key: 'request.error.notFound', status: 404 })
    // After a rejection the organisation may ask again.
    expect((await requestTool({ actor: admin, organization: org, recipeId: 'discourse' })).kind).toBe('pending')
  })

  it('sets a tool up at once when its policy needs no approval', async () => {
    const { org, admin } = await organisation()
    await setApprovalPolicy({ userId: operator.id }, 'nextcloud', false)
    const outcome = await requestTool({ actor: admin, organization: org, recipeId: 'nextcloud', client: stub.client() })
    expect(outcome).toMatchObject({ kind: 'approved', delivery: { outcome: 'delivered' } })
    expect(outcome.request.status).toBe('APPROVED')
    expect(outcome.request.decidedById).toBeNull()
    expect(stub.instances.get(`nextcloud-${org.slug}`)).toMatchObject({ desired: 'running' })
    await expect(setApprovalPolicy({ userId: operator.id }, 'jitsi', false)).rejects.toMatchObject({ key: 'request.error.notHostable' })
  })

  it('lets an admin withdraw a pending request, not a member', async () => {
    const { org, admin, member } = await organisation()
    const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'matrix' })
    await expectRefusal(() => cancelRequest(member, org, request.id), { key: 'request.error.notOrgAdmin', status: 403 })
    const other = await organisation()
    await expectRefusal(() => cancelRequest(other.admin, other.org, request.id), { key: 'request.error.notFound', status: 404 })
    await cancelRequest(admin, org, request.id)
    expect((await db().toolRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe('CANCELLED')
    expect(await quotaUsage(org.id)).toBe(0)
  })

  it('lets an operator change the quota, audited', async () => {
    const { org } = await organisation()
    await setInstanceQuota({ userId: operator.id }, org.id, 5)
    expect((await db().organization.findUniqueOrThrow({ where: { id: org.id } })).instanceQuota).toBe(5)
    expect(await db().auditEntry.findFirst({ where: { action: 'organization.quota', targetId: org.id } })).toMatchObject({ data: { from: 3, to: 5 } })
  })
})

describe('managing an instance', () => {
  it('keeps a pause made while the provisioner is down and delivers it later; removal frees the quota and the id', async () => {
    const { org, admin, member } = await organisation(1)
    await setApprovalPolicy({ userId: operator.id }, 'loomio', false)
    const { instanceId } = (await requestTool({ actor: admin, organization: org, recipeId: 'loomio', client: stub.client() })) as { instanceId: string }

    await expectRefusal(() => setDesiredState(member, org, instanceId, 'SUSPENDED', stub.client()), { key: 'request.error.notOrgAdmin', status: 403 })
    const other = await organisation()
    await expectRefusal(() => setDesiredState(other.admin, other.org, instanceId, 'SUSPENDED', stub.client()), { key: 'instance.error.notFound' })

    expect((await setDesiredState(admin, org, instanceId, 'SUSPENDED', down)).outcome).toBe('unavailable')
    expect(stub.instances.get(instanceId)?.desired).toBe('running')
    await new InstanceWatcher(() => stub.client()).pass()
    expect(stub.instances.get(instanceId)?.desired).toBe('suspended')

    expect((await setDesiredState(admin, org, instanceId, 'REMOVED', stub.client())).outcome).toBe('delivered')
    const removed = await db().instance.findUniqueOrThrow({ where: { id: instanceId } })
    expect(removed.removedAt).not.toBeNull()
    expect(removed.phase).toBe('removing')
    expect(removed.purgeAt).not.toBeNull()
    await expectRefusal(() => setDesiredState(admin, org, instanceId, 'RUNNING', stub.client()), { key: 'instance.error.removed' })
    expect(
      await db().auditEntry.findMany({ where: { targetType: 'instance', targetId: instanceId }, select: { action: true }, orderBy: { createdAt: 'asc' } }),
    ).toEqual([{ action: 'instance.suspend' }, { action: 'instance.remove' }])

    // The quota is free again; the new instance gets a new id, since the old one keeps its data for a while.
    const again = (await requestTool({ actor: admin, organization: org, recipeId: 'loomio', client: stub.client() })) as { instanceId: string }
    expect(again.instanceId).not.toBe(instanceId)
    expect(again.instanceId).toMatch(new RegExp(`^loomio-${org.slug}-[a-z0-9]{5}$`))
  })

  it('marks a removed instance the provisioner never had as removed, without asking again', async () => {
    const { org, admin } = await organisation()
    const { request } = await requestTool({ actor: admin, organization: org, recipeId: 'matrix' })
    const { instanceId } = await approveRequest({ userId: operator.id }, request.id, down)
    await setDesiredState(admin, org, instanceId, 'REMOVED', stub.client())
    expect((await db().instance.findUniqueOrThrow({ where: { id: instanceId } })).phase).toBe('removed')
    const calls = stub.calls.length
    await new InstanceWatcher(() => stub.client()).pass()
    expect(stub.calls.slice(calls).filter((c) => c.includes(instanceId))).toEqual([])
  })
})

describe('“we want this too”', () => {
  it('counts one vote per person per tool, and takes it back', async () => {
    const a = await person('voter')
    const b = await person('voter')
    const before = (await demandSummary()).counts.get('jitsi') ?? 0
    await setDemand({ userId: a.id }, 'jitsi', true)
    await setDemand({ userId: a.id }, 'jitsi', true)
    await setDemand({ userId: b.id }, 'jitsi', true)
    expect((await demandSummary(a.id)).counts.get('jitsi')).toBe(before + 2)
    expect((await demandSummary(a.id)).mine.has('jitsi')).toBe(true)
    await setDemand({ userId: a.id }, 'jitsi', false)
    const after = await demandSummary(a.id)
    expect(after.counts.get('jitsi')).toBe(before + 1)
    expect(after.mine.has('jitsi')).toBe(false)
  })

  it('refuses votes for hosted or unknown tools', async () => {
    const a = await person('voter')
    await expectRefusal(() => setDemand({ userId: a.id }, 'nextcloud', true), { key: 'catalog.demand.hosted' })
    await expectRefusal(() => setDemand({ userId: a.id }, 'no-such-tool', true), { key: 'request.error.unknownTool' })
  })
})
