import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { db, disconnectDb } from '~/utils/db.server'

// GET /metrics, its loader called as Remix calls it, against the real
// Postgres of the test harness. The database is shared with other test
// files, so the numbers checked are the change the rows made here bring.

const unique = Date.now().toString(36)
const slug = `metrics-${unique}`
const token = randomBytes(32).toString('hex')
const saved = process.env.METRICS_TOKEN
const HOUR = 3_600_000
const at = (hours: number) => new Date(Date.now() + hours * HOUR)

/** The loader as a portal started with this METRICS_TOKEN has it (env() is read once per process). */
async function loaderWith(metricsToken: string | undefined) {
  if (metricsToken === undefined) delete process.env.METRICS_TOKEN
  else process.env.METRICS_TOKEN = metricsToken
  vi.resetModules()
  return (await import('./metrics')).loader
}

async function scrape(loader: Awaited<ReturnType<typeof loaderWith>>, authorization?: string) {
  const request = new Request('http://portal.test/metrics', { headers: authorization ? { Authorization: authorization } : {} })
  return loader({ request, params: {}, context: { cspNonce: '' } })
}

async function samples(loader: Awaited<ReturnType<typeof loaderWith>>) {
  const res = await scrape(loader, `Bearer ${token}`)
  expect(res.status).toBe(200)
  expect(res.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  const values = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const [series, value] = line.split(' ')
    values.set(series!, Number(value))
  }
  return values
}

let organizationId: string

beforeAll(async () => {
  const organization = await db().organization.create({ data: { slug, name: 'Metrics Coop', description: 'x', sector: 'energy', city: 'Zwolle' } })
  organizationId = organization.id
})
afterAll(async () => {
  await db().ticket.deleteMany({ where: { organizationId } })
  await db().organization.deleteMany({ where: { slug } })
  await db().outboxMail.deleteMany({ where: { to: { endsWith: `@${slug}.test` } } })
  if (saved === undefined) delete process.env.METRICS_TOKEN
  else process.env.METRICS_TOKEN = saved
  await disconnectDb()
})

describe('GET /metrics', () => {
  it('is not there without METRICS_TOKEN', async () => {
    const loader = await loaderWith(undefined)
    expect((await scrape(loader)).status).toBe(404)
    expect((await scrape(loader, `Bearer ${token}`)).status).toBe(404)
  })

  it('refuses a missing or wrong token with 401', async () => {
    const loader = await loaderWith(token)
    const anonymous = await scrape(loader)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('WWW-Authenticate')).toBe('Bearer')
    expect((await scrape(loader, `Bearer ${token.slice(1)}`)).status).toBe(401)
    expect((await scrape(loader, token)).status).toBe(401)
  })

  it('counts the outbox, the open and overdue tickets and the pending requests', async () => {
    const loader = await loaderWith(token)
    const before = await samples(loader)
    for (const name of [
      'commons_portal_mail_outbox_pending',
      'commons_portal_mail_outbox_failed',
      'commons_portal_tickets_open{status="new"}',
      'commons_portal_tickets_open{status="open"}',
      'commons_portal_tickets_open{status="pending"}',
      'commons_portal_tickets_sla_breached',
      'commons_portal_requests_pending',
    ])
      expect(before.get(name), name).toBeTypeOf('number')

    const mail = (status: 'PENDING' | 'SENT' | 'DEAD', n: number) => ({ to: `m${n}@${slug}.test`, subject: 'Test', text: 'Test', status, nextAttemptAt: at(24) })
    await db().outboxMail.createMany({ data: [mail('PENDING', 1), mail('PENDING', 2), mail('SENT', 3), mail('DEAD', 4)] })
    const ticket = (label: string, data: Record<string, unknown>) => ({ organizationId, requesterEmail: `r@${slug}.test`, requesterName: 'R', subject: label, ...data })
    await db().ticket.createMany({
      data: [
        // Late first reply: breached.
        ticket('late reply', { status: 'NEW', firstResponseDueAt: at(-2), resolutionDueAt: at(20) }),
        // Answered in time, resolution late: breached.
        ticket('late solution', { status: 'OPEN', firstResponseDueAt: at(-30), firstResponseAt: at(-29), resolutionDueAt: at(-1) }),
        // Paused after its resolution was already late: still breached.
        ticket('late, then pending', { status: 'PENDING', firstResponseAt: at(-29), resolutionDueAt: at(-3), slaPausedAt: at(-2) }),
        // Paused in time: the clock stands still.
        ticket('pending in time', { status: 'PENDING', firstResponseAt: at(-29), resolutionDueAt: at(-1), slaPausedAt: at(-2) }),
        ticket('in time', { status: 'OPEN', firstResponseDueAt: at(1), resolutionDueAt: at(8) }),
        // Closed tickets are nobody's work, late or not.
        ticket('closed late', { status: 'CLOSED', firstResponseDueAt: at(-50), resolutionDueAt: at(-40), closedAt: at(-1) }),
      ],
    })
    await db().toolRequest.createMany({
      data: [
        { organizationId, recipeId: 'nextcloud', status: 'PENDING' },
        { organizationId, recipeId: 'loomio', status: 'PENDING' },
        { organizationId, recipeId: 'discourse', status: 'REJECTED', reason: 'Not now' },
      ],
    })

    const after = await samples(loader)
    const change = (name: string) => (after.get(name) ?? NaN) - (before.get(name) ?? NaN)
    expect(change('commons_portal_mail_outbox_pending')).toBe(2)
    expect(change('commons_portal_mail_outbox_failed')).toBe(1)
    expect(change('commons_portal_tickets_open{status="new"}')).toBe(1)
    expect(change('commons_portal_tickets_open{status="open"}')).toBe(2)
    expect(change('commons_portal_tickets_open{status="pending"}')).toBe(2)
    expect(change('commons_portal_tickets_sla_breached')).toBe(3)
    expect(change('commons_portal_requests_pending')).toBe(2)
  })
})
