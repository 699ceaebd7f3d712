import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCatalog } from '~/utils/catalog.server'
import { contractStubProvisioner } from '~/utils/contract-stub-provisioner.testing'
import { db, disconnectDb } from '~/utils/db.server'
import { outbox } from '~/utils/email.server'
import { createSession } from '~/utils/session.server'
import { loader } from './operator.health'

// The operators' health page, its loader called as Remix calls it, with real
// sessions in Postgres; the provisioner is contractStubProvisioner (a test
// double speaking the contract, not the real provisioner).

const unique = Date.now().toString(36)
let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
const saved = { url: process.env.PROVISIONER_URL, token: process.env.PROVISIONER_API_TOKEN }
const slug = `health-${unique}`

async function cookieOf(tag: string, realmRoles: string[]) {
  const user = await db().user.create({ data: { keycloakId: `health-${tag}-${unique}`, email: `${tag}-${unique}@health.test`, name: tag } })
  const { setCookie } = await createSession({ userId: user.id, keycloakSessionId: null, idToken: '', realmRoles, activeOrganizationId: null })
  return setCookie.split(';')[0]!
}

async function load(cookie: string) {
  const request = new Request('http://portal.test/operator/health', { headers: { Cookie: cookie, 'Accept-Language': 'en' } })
  try {
    return await loader({ request, params: {}, context: { cspNonce: '' } })
  } catch (thrown) {
    if (thrown instanceof Response) return thrown
    throw thrown
  }
}

beforeAll(async () => {
  stub = await contractStubProvisioner()
  // Read by env() on first use in this file's module graph, before any other call.
  process.env.PROVISIONER_URL = stub.url
  process.env.PROVISIONER_API_TOKEN = stub.token
  await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
})
afterAll(async () => {
  await db().organization.deleteMany({ where: { slug } })
  await db().user.deleteMany({ where: { email: { endsWith: `-${unique}@health.test` } } })
  process.env.PROVISIONER_URL = saved.url
  process.env.PROVISIONER_API_TOKEN = saved.token
  await stub.stop()
  await outbox.stop()
  await disconnectDb()
})

describe('the operators’ health page', () => {
  it('shows operators the backup problems with the organisation and tool by name', async () => {
    const organization = await db().organization.create({ data: { slug, name: 'Zorgcoöperatie Ede', description: 'x', sector: 'care', city: 'Ede' } })
    const ref = { id: organization.id, slug, name: organization.name }
    await stub.client().putInstance(`nextcloud-${slug}`, { organization: ref, recipe: 'nextcloud', adminEmail: 'a@health.test' })
    await stub.client().putInstance(`loomio-${slug}`, { organization: ref, recipe: 'loomio', adminEmail: 'a@health.test' })
    stub.setPhase(`nextcloud-${slug}`, 'ready')
    stub.setPhase(`loomio-${slug}`, 'ready')
    const failed = stub.addBackup(`nextcloud-${slug}`, { status: 'failed', error: 'The backup repository is full.', verification: { status: 'skipped', message: null, at: null } })
    const unchecked = stub.addBackup(`loomio-${slug}`, { verification: { status: 'failed', message: 'The database dump does not load.', at: new Date().toISOString() } })
    stub.setBackups({ repositoryError: 'The repository cannot be written.' })

    const health = await load(await cookieOf('operator', ['platform-operator']))
    if (health instanceof Response || health.state !== 'answered') throw new Error(`expected an answer, got ${JSON.stringify(health)}`)
    expect(health).toMatchObject({ configured: true, repositoryError: 'The repository cannot be written.' })
    expect(health.failed).toEqual([
      expect.objectContaining({ key: failed.id, org: { name: 'Zorgcoöperatie Ede', slug }, tool: 'Nextcloud', message: 'The backup repository is full.' }),
    ])
    expect(health.checks).toEqual([expect.objectContaining({ key: unchecked.id, tool: 'Loomio', message: 'The database dump does not load.' })])
    // Nextcloud's only backup failed: it has no good one.
    expect(health.overdue).toEqual([expect.objectContaining({ instanceId: `nextcloud-${slug}`, tool: 'Nextcloud', lastBackupAt: null })])

    // The platform part: the host, tools by phase, the failed tool with its step, by name.
    stub.setPhase(`loomio-${slug}`, 'failed', { step: 'health:app', message: '"app" did not answer its health check within 60 seconds.' })
    const again = await load(await cookieOf('operator-3', ['platform-operator']))
    if (again instanceof Response || again.platform.state !== 'answered') throw new Error(`expected the platform part, got ${JSON.stringify(again)}`)
    expect(again.platform.hosts).toEqual([expect.objectContaining({ name: 'stub-host', reachable: true, cpus: 2 })])
    expect(Object.fromEntries(again.platform.phases)).toMatchObject({ ready: expect.any(Number), failed: expect.any(Number) })
    expect(again.platform.failed).toEqual(
      expect.arrayContaining([expect.objectContaining({ instanceId: `loomio-${slug}`, tool: 'Loomio', org: { name: 'Zorgcoöperatie Ede', slug }, step: 'health:app' })]),
    )

    stub.setBackups({ configured: false, repositoryError: null })
    expect(await load(await cookieOf('operator-1', ['platform-operator']))).toMatchObject({ state: 'answered', configured: false, failed: [], overdue: [] })
  })

  it('says when the provisioner cannot be reached', async () => {
    const cookie = await cookieOf('operator-2', ['platform-operator'])
    await stub.stop()
    try {
      expect(await load(cookie)).toEqual({ state: 'unreachable', platform: { state: 'unreachable' } })
    } finally {
      stub = await contractStubProvisioner()
    }
  })

  it('refuses members and helpdesk agents with 403', async () => {
    for (const roles of [[], ['helpdesk-agent']]) {
      const answer = await load(await cookieOf(`not-operator-${roles.length}`, roles))
      expect(answer).toBeInstanceOf(Response)
      expect((answer as Response).status).toBe(403)
    }
  })
})
