import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { initCatalog } from '~/utils/catalog.server'
import { contractStubProvisioner } from '~/utils/contract-stub-provisioner.testing'
import { db, disconnectDb } from '~/utils/db.server'
import { outbox } from '~/utils/email.server'
import { deliverDesiredState } from '~/utils/instances.server'
import { createSession } from '~/utils/session.server'
import { action, loader } from './operator.upgrades'

// The operators' upgrades page, its loader and action called as Remix calls
// them, with real sessions in Postgres; the provisioner is
// contractStubProvisioner (a test double speaking the contract, not the
// real provisioner).

const unique = Date.now().toString(36)
let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
/** The stub the upgrades were queued on (the last test replaces `stub`). */
let queuedOn: typeof stub
const saved = { url: process.env.PROVISIONER_URL, token: process.env.PROVISIONER_API_TOKEN }
const slugs = { a: `upg-a-${unique}`, b: `upg-b-${unique}` }
const ids = { cloudA: `nextcloud-${slugs.a}`, loomioA: `loomio-${slugs.a}`, cloudB: `nextcloud-${slugs.b}` }
const cookies = { operator: '', member: '' }
/** The people of the organisations, by the tag in their mail address. */
const tags = { adminEn: 'admin-en', adminNl: 'admin-nl', member: 'member', adminB: 'admin-b' }
let operatorId = ''

type Answer = {
  init: { status: number } | null
  data: { notice?: string; error?: string; refused?: { instanceId: string; text: string }[]; selection?: { initialValue?: Record<string, unknown> | null; error?: Record<string, string[] | null> | null } }
}

async function person(tag: string, locale: string, realmRoles: string[] = []) {
  const user = await db().user.create({ data: { keycloakId: `upgrades-${tag}-${unique}`, email: `${tag}-${unique}@upgrades.test`, name: tag, locale } })
  const { setCookie } = await createSession({ userId: user.id, keycloakSessionId: null, idToken: '', realmRoles, activeOrganizationId: null })
  return { user, cookie: setCookie.split(';')[0]! }
}

async function organisation(slug: string, name: string, members: { userId: string; role: 'ADMIN' | 'MEMBER' }[], recipes: string[]) {
  const organization = await db().organization.create({ data: { slug, name, description: 'x', sector: 'care', city: 'Ede' } })
  for (const m of members) await db().membership.create({ data: { ...m, organizationId: organization.id } })
  for (const recipeId of recipes) {
    const instance = await db().instance.create({ data: { id: `${recipeId}-${slug}`, organizationId: organization.id, recipeId, adminEmail: 'admin@upgrades.test' } })
    await deliverDesiredState(instance.id)
    stub.setPhase(instance.id, 'ready')
  }
  return organization
}

async function call<T>(fn: () => Promise<T>): Promise<T | Response> {
  try {
    return await fn()
  } catch (thrown) {
    if (thrown instanceof Response) return thrown
    throw thrown
  }
}

const load = (cookie: string) =>
  call(() => loader({ request: new Request('http://portal.test/operator/upgrades', { headers: { Cookie: cookie, 'Accept-Language': 'en' } }), params: {}, context: { cspNonce: '' } }))

async function post(cookie: string, fields: [string, string][]) {
  const request = new Request('http://portal.test/operator/upgrades', { method: 'POST', headers: { Cookie: cookie, 'Accept-Language': 'en' }, body: new URLSearchParams(fields) })
  return (await call(() => action({ request, params: {}, context: { cspNonce: '' } }))) as Answer | Response
}

const statusOf = (answer: Answer | Response) => (answer instanceof Response ? answer.status : (answer.init?.status ?? 200))
const upgradeCalls = () => stub.calls.filter((c) => c === 'POST /upgrades')
const audited = () => db().auditEntry.findMany({ where: { action: 'upgrade.request', actorId: operatorId }, orderBy: { createdAt: 'asc' } })
const mailsTo = (tag: string) => db().outboxMail.findMany({ where: { to: `${tag}-${unique}@upgrades.test` }, orderBy: { createdAt: 'asc' } })

beforeAll(async () => {
  stub = await contractStubProvisioner()
  queuedOn = stub
  // Read by env() on first use in this file's module graph, before any other call.
  process.env.PROVISIONER_URL = stub.url
  process.env.PROVISIONER_API_TOKEN = stub.token
  await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
  const operator = await person('operator', 'en', ['platform-operator'])
  const member = await person(tags.member, 'en')
  const adminEn = await person(tags.adminEn, 'en')
  const adminNl = await person(tags.adminNl, 'nl')
  const adminB = await person(tags.adminB, 'en')
  Object.assign(cookies, { operator: operator.cookie, member: member.cookie })
  operatorId = operator.user.id
  await organisation(
    slugs.a,
    'Zorgcoöperatie Ede',
    [
      { userId: adminEn.user.id, role: 'ADMIN' },
      { userId: adminNl.user.id, role: 'ADMIN' },
      { userId: member.user.id, role: 'MEMBER' },
    ],
    ['nextcloud', 'loomio'],
  )
  await organisation(slugs.b, 'Buurtenergie Wageningen', [{ userId: adminB.user.id, role: 'ADMIN' }], ['nextcloud'])
})
afterAll(async () => {
  const mine = { organization: { slug: { in: Object.values(slugs) } } }
  await db().auditEntry.deleteMany({ where: { OR: [{ actorId: operatorId }, { targetType: 'upgrade', targetId: { in: queuedOn.upgrades.map((u) => u.id) } }] } })
  await db().outboxMail.deleteMany({ where: { to: { endsWith: `-${unique}@upgrades.test` } } })
  await db().instance.deleteMany({ where: mine })
  await db().organization.deleteMany({ where: { slug: { in: Object.values(slugs) } } })
  await db().user.deleteMany({ where: { email: { endsWith: `-${unique}@upgrades.test` } } })
  process.env.PROVISIONER_URL = saved.url
  process.env.PROVISIONER_API_TOKEN = saved.token
  await stub.stop()
  await outbox.stop()
  await disconnectDb()
})
beforeEach(() => {
  // Each test starts with three ready instances, each offered a newer version, and nothing under way.
  for (const u of stub.upgrades) if (u.status === 'queued' || u.status === 'backing-up' || u.status === 'upgrading') stub.moveUpgrade(u.id, 'rolled-back', 'reset by the test')
  for (const id of Object.values(ids)) {
    stub.setPhase(id, 'ready')
    stub.offerUpgrade(id, id.startsWith('loomio') ? '3.0.0' : '1.1.0')
  }
})

describe('the operators’ upgrades page', () => {
  it('lists the available upgrades with organisation and tool by name, the tools with several, and how many are ready', async () => {
    stub.setPhase(ids.cloudB, 'suspended')
    const page = await load(cookies.operator)
    if (page instanceof Response || page.state !== 'answered') throw new Error(`expected an answer, got ${JSON.stringify(page)}`)
    const ours = page.available.filter((a) => Object.values(ids).includes(a.instanceId))
    expect(ours).toEqual([
      expect.objectContaining({ instanceId: ids.loomioA, tool: 'Loomio', org: { name: 'Zorgcoöperatie Ede', slug: slugs.a }, from: '1.0.0', to: '3.0.0', ready: true, underWay: null }),
      expect.objectContaining({ instanceId: ids.cloudB, tool: 'Nextcloud', org: { name: 'Buurtenergie Wageningen', slug: slugs.b }, ready: false }),
      expect.objectContaining({ instanceId: ids.cloudA, tool: 'Nextcloud', org: { name: 'Zorgcoöperatie Ede', slug: slugs.a }, ready: true }),
    ])
    expect(page.readyCount).toBe(2)
    // Two Nextclouds are listed, one of them can start now; Loomio has one only.
    expect(page.groups).toEqual([{ recipe: 'nextcloud', tool: 'Nextcloud', count: 1 }])
    expect(page.running).toBe(false)
  })

  it('refuses members and people without the operator role with 403, for the page and the action', async () => {
    expect(statusOf((await load(cookies.member)) as Response)).toBe(403)
    const answer = await post(cookies.member, [['intent', 'upgrade-selected'], ['instances', ids.cloudA]])
    expect(statusOf(answer)).toBe(403)
    expect(upgradeCalls()).toEqual([])
  })

  it('answers 400 with a message when nothing is chosen, and asks the provisioner nothing', async () => {
    const answer = await post(cookies.operator, [['intent', 'upgrade-selected']])
    expect(statusOf(answer)).toBe(400)
    expect((answer as Answer).data.selection?.error).toEqual({ instances: ['upgrades.error.noneChosen'] })
    expect(upgradeCalls()).toEqual([])
  })

  it('refuses an id that is not among the available upgrades: 404, the selection kept, nothing sent, no audit, no mail', async () => {
    const answer = await post(cookies.operator, [
      ['intent', 'upgrade-selected'],
      ['instances', ids.cloudA],
      ['instances', 'hello-somebody-else'],
    ])
    expect(statusOf(answer)).toBe(404)
    const selection = (answer as Answer).data.selection!
    expect(selection.error).toEqual({ instances: ['upgrades.error.notAvailable'] })
    expect(selection.initialValue).toMatchObject({ instances: [ids.cloudA, 'hello-somebody-else'] })
    expect(upgradeCalls()).toEqual([])
    expect(await audited()).toEqual([])
    expect(await mailsTo(tags.adminEn)).toEqual([])
  })

  it('queues the chosen upgrades, audits the request, mails each admin once in their language, and says the refusals in words', async () => {
    stub.setPhase(ids.cloudB, 'suspended')
    const answer = await post(cookies.operator, [
      ['intent', 'upgrade-selected'],
      ['instances', ids.cloudA],
      ['instances', ids.cloudB],
    ])
    expect(statusOf(answer)).toBe(200)
    expect((answer as Answer).data.notice).toBe('1 upgrade queued. The admins of the organisation get a mail.')
    expect((answer as Answer).data.refused).toEqual([{ instanceId: ids.cloudB, text: 'Nextcloud of Buurtenergie Wageningen: it is not running. Upgrade it once it is ready.' }])
    expect(upgradeCalls()).toHaveLength(1)
    const queued = stub.upgrades.filter((u) => u.instanceId === ids.cloudA && u.status === 'queued')
    expect(queued).toEqual([expect.objectContaining({ fromVersion: '1.0.0', toVersion: '1.1.0', requestedBy: `portal-user:${operatorId}` })])

    const [entry, ...more] = await audited()
    expect(more).toEqual([])
    expect(entry).toMatchObject({
      targetType: 'platform',
      targetId: 'upgrades',
      data: { instanceIds: [ids.cloudA, ids.cloudB], queued: [{ instanceId: ids.cloudA, upgradeId: queued[0]!.id }], refused: [{ instanceId: ids.cloudB, code: 'not-running' }] },
    })

    const en = await mailsTo(tags.adminEn)
    expect(en.map((m) => m.subject)).toEqual(['Nextcloud of Zorgcoöperatie Ede will be upgraded to version 1.1.0'])
    expect(en[0]!.text).toContain('will be upgraded from version 1.0.0 to 1.1.0. A backup is made first')
    expect(en[0]!.text).toContain('may be offline for a few minutes')
    expect(en[0]!.text).toContain(`/organisations/${slugs.a}/instances/${ids.cloudA}`)
    const nl = await mailsTo(tags.adminNl)
    expect(nl.map((m) => m.subject)).toEqual(['Nextcloud van Zorgcoöperatie Ede krijgt versie 1.1.0'])
    expect(nl[0]!.text).toContain('Eerst wordt een back-up gemaakt')
    // Members who are not admins, and the admins of the refused instance's organisation, get nothing.
    expect(await mailsTo(tags.member)).toEqual([])
    expect(await mailsTo(tags.adminB)).toEqual([])

    // Queued now: the page says so, reads itself again, and "all ready" leaves it out.
    const page = await load(cookies.operator)
    if (page instanceof Response || page.state !== 'answered') throw new Error('expected an answer')
    expect(page.available.find((a) => a.instanceId === ids.cloudA)?.underWay).toBe('queued')
    expect(page.recent[0]).toMatchObject({ instanceId: ids.cloudA, status: 'queued', tool: 'Nextcloud' })
    expect(page.running).toBe(true)
  })

  it('upgrades all ready ones, or all of one tool, choosing them on the server', async () => {
    const before = stub.upgrades.length
    const tool = await post(cookies.operator, [
      ['intent', 'upgrade-tool'],
      ['recipeId', 'nextcloud'],
    ])
    expect(statusOf(tool)).toBe(200)
    const nextclouds = stub.upgrades.slice(before).map((u) => u.instanceId)
    expect(nextclouds.filter((id) => Object.values(ids).includes(id)).sort()).toEqual([ids.cloudA, ids.cloudB].sort())
    expect(nextclouds).not.toContain(ids.loomioA)

    const all = await post(cookies.operator, [['intent', 'upgrade-all']])
    expect(statusOf(all)).toBe(200)
    // The Nextclouds are queued already: only Loomio was ready and free.
    expect(stub.upgrades.slice(before + nextclouds.length).map((u) => u.instanceId)).toContain(ids.loomioA)
    expect((all as Answer).data.refused).toEqual([])

    const none = await post(cookies.operator, [
      ['intent', 'upgrade-tool'],
      ['recipeId', 'nextcloud'],
    ])
    expect(statusOf(none)).toBe(409)
    expect((none as Answer).data.error).toBe('None of these tools can be upgraded right now, so nothing was started.')
  })

  it('says when the provisioner cannot be reached', async () => {
    await stub.stop()
    try {
      expect(await load(cookies.operator)).toEqual({ state: 'unreachable' })
      const answer = await post(cookies.operator, [['intent', 'upgrade-all']])
      expect(statusOf(answer)).toBe(503)
    } finally {
      stub = await contractStubProvisioner()
    }
  })
})
