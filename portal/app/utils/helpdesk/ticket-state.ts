/**
 * A ticket's life (the status machine) and its SLA clocks, with no database:
 * the callers load a ticket, ask here what may happen, and store the answer.
 * The statuses follow Zammad and FreeScout, so agents who know either feel
 * at home.
 */
import { addBusinessMinutes, businessMinutesBetween, type BusinessCalendarLike } from './business-calendar'

// ---------------------------------------------------------------------------
// Statuses

/** The Prisma enum TicketStatus, in the order a ticket usually passes through them. */
export const TICKET_STATUSES = ['NEW', 'OPEN', 'PENDING', 'RESOLVED', 'CLOSED'] as const
export type TicketStatus = (typeof TICKET_STATUSES)[number]

/** A ticket that still needs the helpdesk: not yet resolved or closed. Pending counts, it comes back by itself. */
export function isActive(status: TicketStatus): boolean {
  return status === 'NEW' || status === 'OPEN' || status === 'PENDING'
}

export type TicketEvent =
  /** A public reply by an agent (internal notes are no event). */
  | { type: 'agent-reply' }
  /** A reply by the requester or someone of their organisation. */
  | { type: 'requester-reply' }
  /** The helpdesk waits (for the requester, a supplier) until `until`, then looks again. */
  | { type: 'set-pending'; until: Date }
  /** The scheduler noticed that pendingUntil has passed. */
  | { type: 'pending-expired' }
  | { type: 'resolve' }
  /** An agent or the requester wants a resolved or closed ticket back. */
  | { type: 'reopen' }
  | { type: 'close' }
  /** The scheduler closes a ticket that stayed resolved long enough. */
  | { type: 'auto-close' }
  /** An agent picks up a new ticket, or takes a pending one off hold. */
  | { type: 'open' }

export type TransitionRefusal =
  /** A closed ticket takes nothing but a reopen; tell the person to reopen it or open a new ticket. */
  | 'closed'
  /** pending-expired for a ticket that is not pending, or whose pending time is still ahead (a stale timer). */
  | 'not-pending'
  | 'pending-in-past'
  /** The event makes no sense in this status, e.g. resolving a resolved ticket. */
  | 'invalid'

export type TransitionResult =
  | { ok: true; status: TicketStatus; pendingUntil: Date | null }
  | { ok: false; reason: TransitionRefusal }

/** What the machine needs of a ticket; a Prisma Ticket row fits. */
export interface TicketState {
  status: TicketStatus
  pendingUntil: Date | null
}

const to = (status: TicketStatus, pendingUntil: Date | null = null): TransitionResult => ({ ok: true, status, pendingUntil })
const refuse = (reason: TransitionRefusal): TransitionResult => ({ ok: false, reason })

/**
 * Where an event takes a ticket. Pass the ticket itself (status and
 * pendingUntil) so a ticket that stays pending keeps its pending time; with a
 * bare status, pendingUntil comes back null in that case.
 */
export function transition(current: TicketStatus | TicketState, event: TicketEvent, now: Date): TransitionResult {
  const { status, pendingUntil } = typeof current === 'string' ? { status: current, pendingUntil: null } : current
  if (status === 'CLOSED') return event.type === 'reopen' ? to('OPEN') : refuse('closed')
  const keep = () => to(status, status === 'PENDING' ? pendingUntil : null)

  switch (event.type) {
    case 'agent-reply':
      return status === 'NEW' ? to('OPEN') : keep()
    case 'requester-reply':
      // The requester answering is what a pending or resolved ticket waits for.
      return status === 'PENDING' || status === 'RESOLVED' ? to('OPEN') : keep()
    case 'set-pending':
      if (status === 'RESOLVED') return refuse('invalid')
      if (Number.isNaN(event.until.getTime())) return refuse('invalid')
      if (event.until.getTime() <= now.getTime()) return refuse('pending-in-past')
      return to('PENDING', event.until)
    case 'pending-expired':
      if (status !== 'PENDING') return refuse('not-pending')
      // The pending time may have been moved later after the timer was set.
      if (pendingUntil && pendingUntil.getTime() > now.getTime()) return refuse('not-pending')
      return to('OPEN')
    case 'resolve':
      return status === 'RESOLVED' ? refuse('invalid') : to('RESOLVED')
    case 'reopen':
      return status === 'RESOLVED' ? to('OPEN') : refuse('invalid')
    case 'close':
      return to('CLOSED')
    case 'auto-close':
      return status === 'RESOLVED' ? to('CLOSED') : refuse('invalid')
    case 'open':
      return status === 'NEW' || status === 'PENDING' ? to('OPEN') : refuse('invalid')
  }
}

// ---------------------------------------------------------------------------
// SLA

/** The Prisma enum TicketPriority. */
export const TICKET_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const
export type TicketPriority = (typeof TICKET_PRIORITIES)[number]

/** Targets in business minutes, counted from when the ticket was opened. */
export type SlaTargets = Record<TicketPriority, { firstResponseMinutes: number; resolutionMinutes: number }>

// With an eight-hour day: urgent is answered within the hour and solved the
// same day; high in half a day and three days; normal in a day and a week;
// low in three days and two weeks.
export const DEFAULT_SLA_TARGETS: SlaTargets = {
  URGENT: { firstResponseMinutes: 60, resolutionMinutes: 480 },
  HIGH: { firstResponseMinutes: 240, resolutionMinutes: 1440 },
  NORMAL: { firstResponseMinutes: 480, resolutionMinutes: 2400 },
  LOW: { firstResponseMinutes: 1440, resolutionMinutes: 4800 },
}

export interface SlaDueDates {
  firstResponseDueAt: Date
  resolutionDueAt: Date
}

/** When the first agent reply and the resolution are due for a ticket opened at `createdAt`. */
export function slaDueDates(
  calendar: BusinessCalendarLike,
  createdAt: Date,
  priority: TicketPriority,
  targets: SlaTargets = DEFAULT_SLA_TARGETS,
): SlaDueDates {
  const target = targets[priority]
  return {
    firstResponseDueAt: addBusinessMinutes(calendar, createdAt, target.firstResponseMinutes),
    resolutionDueAt: addBusinessMinutes(calendar, createdAt, target.resolutionMinutes),
  }
}

export type SlaClockState = 'met' | 'running' | 'warning' | 'breached'

export interface SlaClockInput {
  dueAt: Date
  now: Date
  /** Business minutes before the due date from which the clock shows a warning; 0 for no warning. */
  warnBeforeMinutes: number
  /** When the target was reached (first agent reply, resolution); null or absent while it is not. */
  metAt?: Date | null
}

export interface SlaClock {
  state: SlaClockState
  /**
   * Business minutes from now (or from metAt) to the due date; negative once
   * it has passed. A breach outside business hours can still read 0.
   */
  businessMinutesLeft: number
}

/**
 * How an SLA target stands. Reached in time is 'met', reached late is
 * 'breached'; otherwise the clock is 'running', 'warning' within
 * warnBeforeMinutes of the due date, or 'breached' after it.
 */
export function slaClock(calendar: BusinessCalendarLike, input: SlaClockInput): SlaClock {
  const { dueAt, warnBeforeMinutes } = input
  const at = input.metAt ?? input.now
  const late = at.getTime() > dueAt.getTime()
  // `0 - x` rather than `-x`, so a breach of no business minutes is 0, not -0.
  const businessMinutesLeft = late ? 0 - businessMinutesBetween(calendar, dueAt, at) : businessMinutesBetween(calendar, at, dueAt)
  if (late) return { state: 'breached', businessMinutesLeft }
  if (input.metAt) return { state: 'met', businessMinutesLeft }
  const warning = warnBeforeMinutes > 0 && businessMinutesLeft <= warnBeforeMinutes
  return { state: warning ? 'warning' : 'running', businessMinutesLeft }
}

/**
 * The due date after a pause: later by the business minutes that passed
 * between pausedFrom and resumedAt. A pause that began after the due date
 * cannot bring the due date past resumedAt, so a breach stays a breach.
 */
export function shiftForPause(calendar: BusinessCalendarLike, dueAt: Date, pausedFrom: Date, resumedAt: Date): Date {
  return addBusinessMinutes(calendar, dueAt, businessMinutesBetween(calendar, pausedFrom, resumedAt))
}

export type SlaTarget = 'firstResponse' | 'resolution'

/** One SLA target of a ticket, as the ticket row stores it. */
export interface SlaTrack {
  /** Null when the ticket has no such target. */
  dueAt: Date | null
  /** When the target was reached; null while it is not. */
  metAt: Date | null
  warnedAt: Date | null
  breachedAt: Date | null
  /** The clock stands still (the resolution clock while the ticket is pending): no notice while it does. */
  paused?: boolean
}

export interface SlaNotice {
  target: SlaTarget
  notice: 'warning' | 'breach'
  dueAt: Date
}

export interface SlaEscalationInput {
  now: Date
  warnBeforeMinutes: number
  firstResponse: SlaTrack
  resolution: SlaTrack
}

/**
 * Which SLA notices are due now. A notice whose marker (warnedAt, breachedAt)
 * is set is never due again, so a scheduler that sends the notices and sets
 * their markers in one transaction sends each exactly once. A breach found
 * before its warning went out gets only the breach: a warning by then would
 * be noise.
 */
export function slaEscalations(calendar: BusinessCalendarLike, input: SlaEscalationInput): SlaNotice[] {
  const notices: SlaNotice[] = []
  const tracks: [SlaTarget, SlaTrack][] = [
    ['firstResponse', input.firstResponse],
    ['resolution', input.resolution],
  ]
  for (const [target, track] of tracks) {
    if (!track.dueAt || track.metAt || track.paused || track.breachedAt) continue
    const { state } = slaClock(calendar, { dueAt: track.dueAt, now: input.now, warnBeforeMinutes: input.warnBeforeMinutes })
    if (state === 'breached') notices.push({ target, notice: 'breach', dueAt: track.dueAt })
    else if (state === 'warning' && !track.warnedAt) notices.push({ target, notice: 'warning', dueAt: track.dueAt })
  }
  return notices
}
