import { createHash, timingSafeEqual } from 'node:crypto'
import { METRICS_CONTENT_TYPE, MetricsRegistry } from '@commons/provisioner/metrics'
import type { LoaderFunctionArgs } from '@remix-run/node'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { queueCounts } from '~/utils/helpdesk/queue.server'

/** The tickets the helpdesk still works on (the queue's "open" view). */
const OPEN_STATUSES = ['NEW', 'OPEN', 'PENDING'] as const

function sameToken(given: string, expected: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest())
}

/**
 * Prometheus metrics of the portal (docs/configuration.md, "Metrics"),
 * for a scraper holding METRICS_TOKEN. Without METRICS_TOKEN the route does
 * not exist (404), so an unconfigured portal says nothing about itself.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const expected = env().METRICS_TOKEN
  if (!expected) return new Response('Not Found', { status: 404 })
  const auth = request.headers.get('Authorization') ?? ''
  if (!auth.startsWith('Bearer ') || !sameToken(auth.slice(7), expected))
    return new Response('A valid bearer token is required.', { status: 401, headers: { 'WWW-Authenticate': 'Bearer', 'Cache-Control': 'no-store' } })
  return new Response(await metricsText(), { headers: { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' } })
}

async function metricsText(): Promise<string> {
  const [pendingMail, failedMail, tickets, counts, pendingRequests] = await Promise.all([
    db().outboxMail.count({ where: { status: 'PENDING' } }),
    db().outboxMail.count({ where: { status: 'DEAD' } }),
    db().ticket.groupBy({ by: ['status'], where: { status: { in: [...OPEN_STATUSES] } }, _count: { _all: true } }),
    // The queue's own count of its "overdue" view, so the metric and the tab agree; the viewer (for "mine") is nobody.
    queueCounts(''),
    db().toolRequest.count({ where: { status: 'PENDING' } }),
  ])

  const registry = new MetricsRegistry()
  registry.gauge('commons_portal_mail_outbox_pending', 'Mails in the outbox waiting to be sent (retried with backoff until the SMTP server takes them).').set(pendingMail)
  registry.gauge('commons_portal_mail_outbox_failed', 'Mails the outbox gave up on after its retries.').set(failedMail)
  const open = registry.gauge('commons_portal_tickets_open', 'Tickets the helpdesk still works on, by status (new, open, pending).', ['status'])
  for (const status of OPEN_STATUSES) open.set({ status: status.toLowerCase() }, tickets.find((t) => t.status === status)?._count._all ?? 0)
  registry
    .gauge('commons_portal_tickets_sla_breached', 'Open tickets past their first-response or resolution due time without a first response or resolution (the queue’s “overdue” view).')
    .set(counts.overdue)
  registry.gauge('commons_portal_requests_pending', 'Tool requests waiting for an operator to approve or reject them.').set(pendingRequests)
  return registry.text()
}
