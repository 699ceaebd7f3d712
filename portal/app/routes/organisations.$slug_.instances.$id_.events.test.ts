import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCatalog } from '~/utils/catalog.server'
import { contractStubProvisioner } from '~/utils/contract-stub-provisioner.testing'
import { db, disconnectDb } from '~/utils/db.server'
import { outbox } from '~/utils/email.server'
import { deliverDesiredState } from '~/utils/instances.server'
import { readSse } from '~/utils/sse.server'
import { createSession } from '~/utils/session.server'
import { loader } from './organisations.$slug_.instances.$id_.events'

// The relay of an instance's live events, called as Remix calls it, with
// real sessions in Postgres; the provisioner is contractStubProvisioner (a
// test double speaking the contract, not the real provisioner).

const unique = Date.now().toString(36)
let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
const saved = { url: process.env.PROVISIONER_URL, token: process.env.PROVISIONER_API_TOKEN }
let org: { id: string; slug: string }
let otherOrg: { id: string; slug: string }
let instanceId: string
let otherInstanceId: string
const cookies: Record<'member' | 'outsider' | 'agent', string> = { member: '', outsider: '', agent: '' }

async function personWithSession(tag: string, roles: string[] = []) {
  const user = await db().user.create({ data: { keycloakId: `relay-${tag}-${unique}`, email: `${tag}-${unique}@relay.test`, name: tag } })
  const { setCookie } = await createSession({ userId: user.id, keycloakSessionId: null, idToken: '', realmRoles: roles, activeOrganizationId: null })
  return { user, cookie: setCookie.split(';')[0]! }
}

async function organisationWithInstance(slug: string, memberId?: string) {
  const organization = await db().organization.create({ data: { slug, name: `Relay ${slug}`, description: 'x', sector: 'care', city: 'Ede' } })
  if (memberId) await db().membership.create({ data: { userId: memberId, organizationId: organization.id, role: 'MEMBER' } })
  const instance = await db().instance.create({
    data: { id: `loomio-${slug}`, organizationId: organization.id, recipeId: 'loomio', adminEmail: 'admin@relay.test' },
  })
  return { organization, instance }
}

function call(slug: string, id: string, cookie: string, signal?: AbortSignal) {
  const request = new Request(`http://portal.test/organisations/${slug}/instances/${id}/events?after=0`, { headers: { Cookie: cookie }, signal })
  return loader({ request, params: { slug, id }, context: { cspNonce: '' } })
}

async function status(promise: Promise<Response>) {
  try {
    return (await promise).status
  } catch (thrown) {
    if (thrown instanceof Response) return thrown.status
    throw thrown
  }
}

beforeAll(async () => {
  stub = await contractStubProvisioner()
  // Read by env() on first use in this file's module graph, before any other call.
  process.env.PROVISIONER_URL = stub.url
  process.env.PROVISIONER_API_TOKEN = stub.token
  await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
  const member = await personWithSession('member')
  cookies.member = member.cookie
  cookies.outsider = (await personWithSession('outsider')).cookie
  cookies.agent = (await personWithSession('agent', ['helpdesk-agent'])).cookie
  const a = await organisationWithInstance(`relay-a-${unique}`, member.user.id)
  const b = await organisationWithInstance(`relay-b-${unique}`)
  org = a.organization
  otherOrg = b.organization
  instanceId = a.instance.id
  otherInstanceId = b.instance.id
  await deliverDesiredState(instanceId)
})
afterAll(async () => {
  process.env.PROVISIONER_URL = saved.url
  process.env.PROVISIONER_API_TOKEN = saved.token
  await stub.stop()
  await outbox.stop()
  await disconnectDb()
})

describe('the live event relay', () => {
  it('answers 404 to anyone outside the organisation, and for an instance of another organisation', async () => {
    expect(await status(call(org.slug, instanceId, cookies.outsider))).toBe(404)
    expect(await status(call(org.slug, otherInstanceId, cookies.member))).toBe(404)
    expect(await status(call(otherOrg.slug, otherInstanceId, cookies.member))).toBe(404)
    expect(await status(call(org.slug, 'no-such-instance', cookies.member))).toBe(404)
  })

  it('relays the provisioner’s events to members and helpdesk agents as they happen', async () => {
    for (const who of ['member', 'agent'] as const) {
      const abort = new AbortController()
      const response = await call(org.slug, instanceId, cookies[who], abort.signal)
      expect(response.status).toBe(200)
      expect(response.headers.get('Content-Type')).toContain('text/event-stream')
      expect(response.headers.get('Cache-Control')).toContain('no-transform')
      const seen: string[] = []
      const later = setTimeout(() => stub.addEvent(instanceId, `container:app-${who}`, 'started'), 100)
      for await (const message of readSse(response.body!)) {
        seen.push(message.event === 'step' ? `${message.event} ${(JSON.parse(message.data) as { step: string }).step}` : message.event)
        if (seen.at(-1) === `step container:app-${who}`) break
      }
      clearTimeout(later)
      abort.abort()
      expect(seen[0]).toBe('connected')
      expect(seen).toContain('step secrets')
    }
  })

})
