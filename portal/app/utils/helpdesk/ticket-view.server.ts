import type { Ticket } from '~/generated/prisma/client'
import type { SlaView } from '~/components/tickets'
import { db } from '../db.server'
import { env } from '../env.server'
import type { Language } from '../i18n'
import { toolName } from '../instances.server'
import { logger } from '../logger.server'
import { renderMarkdown } from '../markdown.server'
import { provisioner, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable, type InstanceEvent } from '../provisioner.server'
import { businessCalendar } from './settings.server'
import { slaClock } from './ticket-state'

/** The SLA countdowns of a ticket as the page shows them. */
export function slaViews(ticket: Ticket, now = new Date()): SlaView[] {
  const calendar = businessCalendar()
  const warnBeforeMinutes = env().HELPDESK_SLA_WARN_MINUTES
  const views: SlaView[] = []
  if (ticket.firstResponseDueAt) {
    const clock = ticket.firstResponseAt
      ? { state: 'met' as const, businessMinutesLeft: 0 }
      : slaClock(calendar, { dueAt: ticket.firstResponseDueAt, now, warnBeforeMinutes })
    views.push({ label: 'firstResponse', state: clock.state, minutesLeft: clock.businessMinutesLeft, dueAt: ticket.firstResponseDueAt.toISOString() })
  }
  if (ticket.resolutionDueAt) {
    const done = ticket.status === 'RESOLVED' || ticket.status === 'CLOSED'
    const clock = done
      ? { state: 'met' as const, businessMinutesLeft: 0 }
      : ticket.status === 'PENDING'
        ? { state: 'paused' as const, businessMinutesLeft: 0 }
        : slaClock(calendar, { dueAt: ticket.resolutionDueAt, now, warnBeforeMinutes })
    views.push({ label: 'resolution', state: clock.state, minutesLeft: clock.businessMinutesLeft, dueAt: ticket.resolutionDueAt.toISOString() })
  }
  return views
}

/** The public messages, and for staff the internal notes too, with their Markdown made safe HTML. */
export async function messagesOf(ticket: Ticket, staff: boolean) {
  const messages = await db().ticketMessage.findMany({
    where: { ticketId: ticket.id, ...(staff ? {} : { kind: 'PUBLIC' }) },
    include: { attachments: { orderBy: { createdAt: 'asc' } } },
    orderBy: { createdAt: 'asc' },
  })
  const portalOrigin = new URL(env().PORTAL_URL).origin
  return messages.map((m) => ({
    id: m.id,
    kind: m.kind,
    channel: m.channel,
    authorName: m.authorName,
    fromAgent: m.fromAgent,
    createdAt: m.createdAt.toISOString(),
    html: renderMarkdown(m.body, { allowedOrigins: [portalOrigin] }),
    attachments: m.attachments.map((a) => ({ id: a.id, fileName: a.fileName, size: a.size, contentType: a.contentType })),
  }))
}

/** The history, newest last; lines about internal notes only for staff. */
export async function historyOf(ticket: Ticket, staff: boolean) {
  const events = await db().ticketEvent.findMany({
    where: { ticketId: ticket.id, ...(staff ? {} : { type: { notIn: ['note', 'sla.warning', 'sla.breach'] } }) },
    include: { actor: { select: { name: true } } },
    orderBy: { createdAt: 'asc' },
    take: 500,
  })
  const userIds = new Set<string>()
  for (const e of events) {
    if (e.type === 'assignee') {
      const d = e.data as { from?: string | null; to?: string | null } | null
      if (d?.from) userIds.add(d.from)
      if (d?.to) userIds.add(d.to)
    }
  }
  const names = new Map((await db().user.findMany({ where: { id: { in: [...userIds] } }, select: { id: true, name: true } })).map((u) => [u.id, u.name]))
  return events.map((e) => {
    let data = (e.data ?? {}) as Record<string, unknown>
    if (e.type === 'assignee') data = { from: names.get(String(data.from)) ?? null, to: names.get(String(data.to)) ?? null }
    return { id: e.id, type: e.type, actor: e.actor?.name ?? null, createdAt: e.createdAt.toISOString(), data: JSON.parse(JSON.stringify(data)) as Record<string, string | number | string[] | null> }
  })
}

/**
 * What an agent needs to know about the organisation behind a ticket: its
 * tools and their state, and for the ticket's tool (or the one that failed
 * last) the latest provisioning steps and recent log lines.
 */
export async function organisationContext(ticket: Ticket, lang: Language) {
  if (!ticket.organizationId) return null
  const organization = await db().organization.findUnique({
    where: { id: ticket.organizationId },
    include: { instances: { orderBy: { createdAt: 'asc' } }, _count: { select: { memberships: true } } },
  })
  if (!organization) return null
  const instances = organization.instances.map((i) => ({
    id: i.id,
    tool: toolName(i.recipeId, lang),
    phase: i.phase,
    desiredState: i.desiredState,
    url: i.url,
    failure: i.failureStep ? { step: i.failureStep, message: i.failureMessage ?? '' } : null,
    removed: i.removedAt !== null,
  }))
  const focus = organization.instances.find((i) => i.id === ticket.instanceId) ?? organization.instances.find((i) => i.phase === 'failed')
  let events: InstanceEvent[] = []
  let logs: { container: string; lines: string[] }[] = []
  let reachable = true
  if (focus && focus.phase) {
    try {
      events = (await provisioner().events(focus.id)).slice(-15)
      const view = await provisioner().logs(focus.id, 40)
      logs = view.containers.map((c) => ({ container: c.service, lines: c.lines }))
    } catch (error) {
      if (!(error instanceof ProvisionerUnavailable || error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError)) throw error
      if (!(error instanceof ProvisionerRefused && error.status === 404)) logger.warn({ err: error, instanceId: focus.id }, 'no provisioning context for the ticket')
      reachable = !(error instanceof ProvisionerUnavailable)
    }
  }
  return {
    organization: { slug: organization.slug, name: organization.name, city: organization.city, members: organization._count.memberships },
    instances,
    focus: focus ? { id: focus.id, tool: toolName(focus.recipeId, lang) } : null,
    events,
    logs,
    reachable,
  }
}
