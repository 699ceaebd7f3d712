import type { Prisma, Ticket } from '~/generated/prisma/client'
import { db } from '../db.server'
import { env } from '../env.server'
import { isLanguage, translator } from '../i18n'
import { logger } from '../logger.server'
import { addBusinessMinutes } from './business-calendar'
import { purgeClosedTickets, retentionCutoff } from './privacy.server'
import { businessCalendar } from './settings.server'
import { mailAgentNotice } from './ticket-mail.server'
import { slaEscalations, type SlaNotice, type SlaTarget } from './ticket-state'
import { helpdeskAgents, SYSTEM, updateTicket } from './tickets.server'

type Tx = Prisma.TransactionClient

const DAY = 86_400_000
/** Tickets looked at per query; a pass goes on until none is left. */
const BATCH = 100
const ACTIVE = ['NEW', 'OPEN', 'PENDING'] as const

export interface PassCounts {
  reopened: number
  closed: number
  warnings: number
  breaches: number
  purged: number
  /** Inbound mail ledger rows past INBOUND_LEDGER_DAYS. */
  forgotten: number
}

const MARKERS = {
  firstResponse: { warning: 'firstResponseWarnedAt', breach: 'firstResponseBreachedAt', due: 'firstResponseDueAt' },
  resolution: { warning: 'resolutionWarnedAt', breach: 'resolutionBreachedAt', due: 'resolutionDueAt' },
} as const satisfies Record<SlaTarget, { warning: keyof Ticket; breach: keyof Ticket; due: keyof Ticket }>

/**
 * The helpdesk's clock: pending tickets come back when their date passes,
 * resolved ones close after HELPDESK_AUTO_CLOSE_DAYS, agents hear of SLA
 * targets about to be missed (and missed), and closed tickets go after
 * HELPDESK_RETENTION_DAYS. Two portal processes may run it at once: every
 * change claims its row first (FOR UPDATE SKIP LOCKED, or a compare-and-set
 * on the marker), so each happens, and each mail goes out, once.
 */
/** How long a received mail's Message-ID is remembered for deduplication. */
const INBOUND_LEDGER_DAYS = 90

export class HelpdeskScheduler {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined

  /** `scope` narrows the tickets a pass looks at: tests share one database with others. */
  constructor(private readonly scope: Prisma.TicketWhereInput = {}) {}

  start(intervalMs = env().HELPDESK_POLL_MS) {
    this.timer = setInterval(() => this.kick(), intervalMs)
    this.kick()
  }

  async stop() {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  kick() {
    if (this.running) return
    this.running = this.pass()
      .catch((error: unknown) => logger.error({ err: error }, 'helpdesk scheduler pass failed'))
      .finally(() => {
        this.running = undefined
      })
  }

  /** One round of everything that is due at `now`. */
  async pass(now = new Date()): Promise<PassCounts> {
    const reopened = await this.reopenPending(now)
    const closed = await this.closeResolved(now)
    const { warnings, breaches } = await this.slaNotices(now)
    const purged = await purgeClosedTickets(retentionCutoff(now), this.scope)
    // The inbound ledger only has to outlive a mail's redelivery (days, not months); it keeps no ticket data.
    const forgotten =
      Object.keys(this.scope).length === 0
        ? (await db().inboundMail.deleteMany({ where: { receivedAt: { lt: new Date(now.getTime() - INBOUND_LEDGER_DAYS * 24 * 3600_000) } } })).count
        : 0
    const counts = { reopened, closed, warnings, breaches, purged, forgotten }
    if (Object.values(counts).some((n) => n > 0)) logger.info(counts, 'helpdesk scheduler pass')
    return counts
  }

  /** Ids of the tickets that match, a batch at a time, in id order so a ticket that keeps failing cannot stall the rest. */
  private async *candidates(where: Prisma.TicketWhereInput) {
    let after: string | undefined
    for (;;) {
      const batch = await db().ticket.findMany({
        where: { AND: [this.scope, where, ...(after ? [{ id: { gt: after } }] : [])] },
        select: { id: true },
        orderBy: { id: 'asc' },
        take: BATCH,
      })
      for (const { id } of batch) yield id
      if (batch.length < BATCH) return
      after = batch.at(-1)?.id
    }
  }

  /** Runs `work` for one ticket in its own transaction; a failure is logged and the pass goes on. */
  private async each(where: Prisma.TicketWhereInput, work: (tx: Tx, id: string) => Promise<number>) {
    let done = 0
    for await (const id of this.candidates(where)) {
      try {
        done += await db().$transaction((tx) => work(tx, id))
      } catch (error) {
        logger.error({ err: error, ticketId: id }, 'helpdesk scheduler could not handle a ticket')
      }
    }
    return done
  }

  private reopenPending(now: Date) {
    return this.each({ status: 'PENDING', pendingUntil: { lte: now } }, async (tx, id) => {
      // Claimed only if still pending and due: another process, or an agent who moved the date, wins.
      const claimed = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM "Ticket" WHERE id = ${id} AND status = 'PENDING' AND "pendingUntil" <= ${now} FOR UPDATE SKIP LOCKED`
      if (claimed.length === 0) return 0
      // Through the ticket service, so the history line and the resumed SLA clock are the usual ones.
      const ticket = await updateTicket(SYSTEM, id, { status: 'OPEN' }, tx)
      const assignee = ticket.assigneeId ? await tx.user.findUnique({ where: { id: ticket.assigneeId }, select: { email: true, locale: true } }) : null
      if (assignee) await mailAgentNotice(tx, ticket, assignee, 'reopened')
      return 1
    })
  }

  private closeResolved(now: Date) {
    const before = new Date(now.getTime() - env().HELPDESK_AUTO_CLOSE_DAYS * DAY)
    return this.each({ status: 'RESOLVED', resolvedAt: { lt: before } }, async (tx, id) => {
      const claimed = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM "Ticket" WHERE id = ${id} AND status = 'RESOLVED' AND "resolvedAt" < ${before} FOR UPDATE SKIP LOCKED`
      if (claimed.length === 0) return 0
      await updateTicket(SYSTEM, id, { status: 'CLOSED' }, tx)
      return 1
    })
  }

  private async slaNotices(now: Date) {
    const calendar = businessCalendar()
    const warnBeforeMinutes = env().HELPDESK_SLA_WARN_MINUTES
    // Due within the warning window (one minute more, for a due date in closed hours) or already passed.
    const horizon = addBusinessMinutes(calendar, now, warnBeforeMinutes + 1)
    const counts = { warnings: 0, breaches: 0 }
    await this.each(
      {
        status: { in: [...ACTIVE] },
        OR: [
          { firstResponseAt: null, firstResponseBreachedAt: null, firstResponseDueAt: { lte: horizon } },
          { status: { not: 'PENDING' }, resolutionBreachedAt: null, resolutionDueAt: { lte: horizon } },
        ],
      },
      async (tx, id) => {
        const ticket = await tx.ticket.findUnique({ where: { id } })
        if (!ticket) return 0
        const notices = slaEscalations(calendar, {
          now,
          warnBeforeMinutes,
          firstResponse: { dueAt: ticket.firstResponseDueAt, metAt: ticket.firstResponseAt, warnedAt: ticket.firstResponseWarnedAt, breachedAt: ticket.firstResponseBreachedAt },
          resolution: {
            dueAt: ticket.resolutionDueAt,
            metAt: ticket.resolvedAt,
            warnedAt: ticket.resolutionWarnedAt,
            breachedAt: ticket.resolutionBreachedAt,
            // The resolution clock stands still while the ticket waits.
            paused: ticket.status === 'PENDING',
          },
        })
        let sent = 0
        for (const notice of notices) {
          if (!(await this.claimNotice(tx, ticket, notice, now))) continue
          await tx.ticketEvent.create({
            data: { ticketId: ticket.id, actorId: null, type: notice.notice === 'breach' ? 'sla.breach' : 'sla.warning', data: { target: notice.target, dueAt: notice.dueAt.toISOString() } },
          })
          await this.mailNotice(tx, ticket, notice)
          counts[notice.notice === 'breach' ? 'breaches' : 'warnings']++
          sent++
        }
        return sent
      },
    )
    return counts
  }

  /**
   * Sets the notice's marker if nobody did: the old value (null) and the due
   * date the notice is about are in the WHERE, so of two processes one wins,
   * and a due date moved meanwhile (a new priority) gets its own notices.
   */
  private async claimNotice(tx: Tx, ticket: Ticket, notice: SlaNotice, now: Date) {
    const marker = MARKERS[notice.target]
    const { count } = await tx.ticket.updateMany({
      where: {
        id: ticket.id,
        status: { in: notice.target === 'resolution' ? ['NEW', 'OPEN'] : [...ACTIVE] },
        [marker[notice.notice]]: null,
        [marker.due]: notice.dueAt,
        ...(notice.target === 'firstResponse' ? { firstResponseAt: null } : {}),
      },
      data: { [marker[notice.notice]]: now },
    })
    return count === 1
  }

  /** To the assignee; with nobody assigned, to every agent, so someone picks it up. */
  private async mailNotice(tx: Tx, ticket: Ticket, notice: SlaNotice) {
    const assignee = ticket.assigneeId ? await tx.user.findUnique({ where: { id: ticket.assigneeId }, select: { email: true, locale: true } }) : null
    const recipients = assignee ? [assignee] : await helpdeskAgents(tx)
    const kind = notice.notice === 'breach' ? 'sla.breach' : 'sla.warning'
    for (const to of recipients) {
      const lang = isLanguage(to.locale) ? to.locale : 'nl'
      const t = translator(lang)
      const due = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: env().HELPDESK_TIMEZONE }).format(notice.dueAt)
      await mailAgentNotice(tx, ticket, to, kind, { target: t(`scheduler.target.${notice.target}`), due })
    }
  }
}

export const helpdeskScheduler = new HelpdeskScheduler()
