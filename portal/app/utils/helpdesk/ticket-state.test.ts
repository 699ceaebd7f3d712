import { describe, expect, it } from 'vitest'
import { businessCalendarOf, parseBusinessHours, type BusinessCalendarConfig } from './business-calendar'
import {
  DEFAULT_SLA_TARGETS,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  isActive,
  shiftForPause,
  slaClock,
  slaDueDates,
  slaEscalations,
  transition,
  type SlaTrack,
  type TicketEvent,
  type TicketStatus,
  type TransitionResult,
} from './ticket-state'

const at = (iso: string) => new Date(iso)
const now = at('2025-06-16T10:00:00+02:00')
const later = at('2025-06-20T10:00:00+02:00')
const earlier = at('2025-06-13T10:00:00+02:00')

// The settings module hands over a plain config like this one.
const config: BusinessCalendarConfig = {
  timeZone: 'Europe/Amsterdam',
  hours: parseBusinessHours('mon-fri 09:00-17:00'),
  closedDates: [],
  publicHolidays: 'nl',
}
const calendar = businessCalendarOf(config)

describe('ticket statuses', () => {
  it('are the Prisma enum values', () => {
    expect(TICKET_STATUSES).toEqual(['NEW', 'OPEN', 'PENDING', 'RESOLVED', 'CLOSED'])
    expect(TICKET_PRIORITIES).toEqual(['LOW', 'NORMAL', 'HIGH', 'URGENT'])
  })

  it.each<[TicketStatus, boolean]>([
    ['NEW', true],
    ['OPEN', true],
    ['PENDING', true],
    ['RESOLVED', false],
    ['CLOSED', false],
  ])('%s is active: %s', (status, active) => {
    expect(isActive(status)).toBe(active)
  })
})

describe('transition', () => {
  const events: Record<TicketEvent['type'], TicketEvent> = {
    'agent-reply': { type: 'agent-reply' },
    'requester-reply': { type: 'requester-reply' },
    'set-pending': { type: 'set-pending', until: later },
    'pending-expired': { type: 'pending-expired' },
    resolve: { type: 'resolve' },
    reopen: { type: 'reopen' },
    close: { type: 'close' },
    'auto-close': { type: 'auto-close' },
    open: { type: 'open' },
  }

  // Every status against every event: a status where the ticket goes, or the refusal.
  const expected: Record<TicketStatus, Record<TicketEvent['type'], TicketStatus | `refused: ${string}`>> = {
    NEW: {
      'agent-reply': 'OPEN',
      'requester-reply': 'NEW',
      'set-pending': 'PENDING',
      'pending-expired': 'refused: not-pending',
      resolve: 'RESOLVED',
      reopen: 'refused: invalid',
      close: 'CLOSED',
      'auto-close': 'refused: invalid',
      open: 'OPEN',
    },
    OPEN: {
      'agent-reply': 'OPEN',
      'requester-reply': 'OPEN',
      'set-pending': 'PENDING',
      'pending-expired': 'refused: not-pending',
      resolve: 'RESOLVED',
      reopen: 'refused: invalid',
      close: 'CLOSED',
      'auto-close': 'refused: invalid',
      open: 'refused: invalid',
    },
    PENDING: {
      'agent-reply': 'PENDING',
      'requester-reply': 'OPEN',
      'set-pending': 'PENDING',
      'pending-expired': 'OPEN',
      resolve: 'RESOLVED',
      reopen: 'refused: invalid',
      close: 'CLOSED',
      'auto-close': 'refused: invalid',
      open: 'OPEN',
    },
    RESOLVED: {
      'agent-reply': 'RESOLVED',
      'requester-reply': 'OPEN',
      'set-pending': 'refused: invalid',
      'pending-expired': 'refused: not-pending',
      resolve: 'refused: invalid',
      reopen: 'OPEN',
      close: 'CLOSED',
      'auto-close': 'CLOSED',
      open: 'refused: invalid',
    },
    CLOSED: {
      'agent-reply': 'refused: closed',
      'requester-reply': 'refused: closed',
      'set-pending': 'refused: closed',
      'pending-expired': 'refused: closed',
      resolve: 'refused: closed',
      reopen: 'OPEN',
      close: 'refused: closed',
      'auto-close': 'refused: closed',
      open: 'refused: closed',
    },
  }

  const outcome = (result: TransitionResult) => (result.ok ? result.status : `refused: ${result.reason}`)
  const cases = TICKET_STATUSES.flatMap((status) =>
    (Object.keys(events) as TicketEvent['type'][]).map((type) => [status, type, expected[status][type]] as const),
  )

  it('covers every status and every event', () => {
    expect(cases).toHaveLength(5 * 9)
  })

  it.each(cases)('%s + %s → %s', (status, type, result) => {
    expect(outcome(transition(status, events[type], now))).toBe(result)
    // Passing the ticket instead of its status gives the same answer.
    expect(outcome(transition({ status, pendingUntil: status === 'PENDING' ? earlier : null }, events[type], now))).toBe(result)
  })

  it('sets pendingUntil when a ticket goes pending and clears it when it leaves', () => {
    expect(transition('OPEN', { type: 'set-pending', until: later }, now)).toEqual({ ok: true, status: 'PENDING', pendingUntil: later })
    const pending = { status: 'PENDING' as const, pendingUntil: earlier }
    expect(transition(pending, { type: 'set-pending', until: later }, now)).toEqual({ ok: true, status: 'PENDING', pendingUntil: later })
    expect(transition(pending, { type: 'requester-reply' }, now)).toEqual({ ok: true, status: 'OPEN', pendingUntil: null })
    expect(transition(pending, { type: 'resolve' }, now)).toEqual({ ok: true, status: 'RESOLVED', pendingUntil: null })
    expect(transition(pending, { type: 'close' }, now)).toEqual({ ok: true, status: 'CLOSED', pendingUntil: null })
    expect(transition(pending, { type: 'pending-expired' }, now)).toEqual({ ok: true, status: 'OPEN', pendingUntil: null })
  })

  it('keeps the pending time when an agent replies to a pending ticket', () => {
    expect(transition({ status: 'PENDING', pendingUntil: later }, { type: 'agent-reply' }, now)).toEqual({ ok: true, status: 'PENDING', pendingUntil: later })
    // Given only a status, there is no pending time to keep.
    expect(transition('PENDING', { type: 'agent-reply' }, now)).toEqual({ ok: true, status: 'PENDING', pendingUntil: null })
  })

  it('refuses a pending time that is not in the future', () => {
    for (const status of ['NEW', 'OPEN', 'PENDING'] as const) {
      expect(transition(status, { type: 'set-pending', until: earlier }, now)).toEqual({ ok: false, reason: 'pending-in-past' })
      expect(transition(status, { type: 'set-pending', until: now }, now)).toEqual({ ok: false, reason: 'pending-in-past' })
      expect(transition(status, { type: 'set-pending', until: new Date(Number.NaN) }, now)).toEqual({ ok: false, reason: 'invalid' })
    }
    expect(transition('OPEN', { type: 'set-pending', until: new Date(now.getTime() + 1) }, now).ok).toBe(true)
    // A closed ticket is refused as closed, whatever the time.
    expect(transition('CLOSED', { type: 'set-pending', until: earlier }, now)).toEqual({ ok: false, reason: 'closed' })
  })

  it('ignores a stale pending timer when the pending time was moved later', () => {
    expect(transition({ status: 'PENDING', pendingUntil: later }, { type: 'pending-expired' }, now)).toEqual({ ok: false, reason: 'not-pending' })
    expect(transition({ status: 'PENDING', pendingUntil: now }, { type: 'pending-expired' }, now)).toEqual({ ok: true, status: 'OPEN', pendingUntil: null })
  })
})

describe('SLA due dates', () => {
  it('has first response before resolution for every priority, urgent the tightest', () => {
    expect(DEFAULT_SLA_TARGETS.URGENT).toEqual({ firstResponseMinutes: 60, resolutionMinutes: 480 })
    expect(DEFAULT_SLA_TARGETS.HIGH).toEqual({ firstResponseMinutes: 240, resolutionMinutes: 1440 })
    for (const priority of TICKET_PRIORITIES) {
      const target = DEFAULT_SLA_TARGETS[priority]
      expect(target.firstResponseMinutes).toBeLessThan(target.resolutionMinutes)
    }
    const order = (['URGENT', 'HIGH', 'NORMAL', 'LOW'] as const).map((p) => DEFAULT_SLA_TARGETS[p].resolutionMinutes)
    expect(order).toEqual([...order].sort((a, b) => a - b))
  })

  it('counts an urgent ticket of Friday afternoon into Monday', () => {
    expect(slaDueDates(calendar, at('2025-06-13T16:30:00+02:00'), 'URGENT', DEFAULT_SLA_TARGETS)).toEqual({
      firstResponseDueAt: at('2025-06-16T09:30:00+02:00'),
      resolutionDueAt: at('2025-06-16T16:30:00+02:00'),
    })
  })

  it('counts a ticket opened on a Saturday from the Monday opening, straight from a plain config', () => {
    expect(slaDueDates(config, at('2025-06-14T11:00:00+02:00'), 'NORMAL')).toEqual({
      firstResponseDueAt: at('2025-06-16T17:00:00+02:00'),
      resolutionDueAt: at('2025-06-20T17:00:00+02:00'),
    })
  })

  it('skips the Christmas holidays for a high-priority ticket', () => {
    expect(slaDueDates(calendar, at('2025-12-24T10:00:00+01:00'), 'HIGH')).toEqual({
      firstResponseDueAt: at('2025-12-24T14:00:00+01:00'),
      resolutionDueAt: at('2025-12-31T10:00:00+01:00'),
    })
  })

  it('uses the targets it is given', () => {
    const targets = { ...DEFAULT_SLA_TARGETS, LOW: { firstResponseMinutes: 30, resolutionMinutes: 90 } }
    expect(slaDueDates(calendar, at('2025-06-16T16:00:00+02:00'), 'LOW', targets)).toEqual({
      firstResponseDueAt: at('2025-06-16T16:30:00+02:00'),
      resolutionDueAt: at('2025-06-17T09:30:00+02:00'),
    })
  })
})

describe('slaClock', () => {
  const dueAt = at('2025-06-16T12:00:00+02:00')

  it('runs while there is time, in business minutes', () => {
    expect(slaClock(calendar, { dueAt, now: at('2025-06-13T16:00:00+02:00'), warnBeforeMinutes: 60 })).toEqual({ state: 'running', businessMinutesLeft: 240 })
  })

  it('warns within warnBeforeMinutes of the due date, the due moment included', () => {
    expect(slaClock(calendar, { dueAt, now: at('2025-06-16T10:59:00+02:00'), warnBeforeMinutes: 60 }).state).toBe('running')
    expect(slaClock(calendar, { dueAt, now: at('2025-06-16T11:00:00+02:00'), warnBeforeMinutes: 60 })).toEqual({ state: 'warning', businessMinutesLeft: 60 })
    expect(slaClock(calendar, { dueAt, now: dueAt, warnBeforeMinutes: 60 })).toEqual({ state: 'warning', businessMinutesLeft: 0 })
    // Over the weekend only the business minutes count: Friday 16:30 is 3.5 hours before Monday 12:00.
    expect(slaClock(calendar, { dueAt, now: at('2025-06-13T16:30:00+02:00'), warnBeforeMinutes: 240 }).state).toBe('warning')
  })

  it('never warns when warnBeforeMinutes is 0', () => {
    expect(slaClock(calendar, { dueAt, now: dueAt, warnBeforeMinutes: 0 })).toEqual({ state: 'running', businessMinutesLeft: 0 })
  })

  it('is breached after the due date, with negative minutes left', () => {
    expect(slaClock(calendar, { dueAt, now: at('2025-06-16T13:30:00+02:00'), warnBeforeMinutes: 60 })).toEqual({ state: 'breached', businessMinutesLeft: -90 })
    const afterHours = slaClock(calendar, { dueAt: at('2025-06-13T17:00:00+02:00'), now: at('2025-06-14T10:00:00+02:00'), warnBeforeMinutes: 60 })
    expect(afterHours.state).toBe('breached')
    expect(Object.is(afterHours.businessMinutesLeft, 0)).toBe(true)
  })

  it('is met when the target was reached in time, and breached when late', () => {
    expect(slaClock(calendar, { dueAt, now: later, metAt: at('2025-06-16T11:30:00+02:00'), warnBeforeMinutes: 60 })).toEqual({ state: 'met', businessMinutesLeft: 30 })
    expect(slaClock(calendar, { dueAt, now: later, metAt: dueAt, warnBeforeMinutes: 60 }).state).toBe('met')
    expect(slaClock(calendar, { dueAt, now: later, metAt: at('2025-06-16T12:15:00+02:00'), warnBeforeMinutes: 60 })).toEqual({
      state: 'breached',
      businessMinutesLeft: -15,
    })
  })
})

describe('shiftForPause', () => {
  it('moves the due date later by the business minutes spent pending', () => {
    // Pending from Friday 16:00 to Monday 10:00: 60 + 60 business minutes.
    expect(shiftForPause(calendar, at('2025-06-16T12:00:00+02:00'), at('2025-06-13T16:00:00+02:00'), at('2025-06-16T10:00:00+02:00'))).toEqual(
      at('2025-06-16T14:00:00+02:00'),
    )
    // Over the end of the day: 16:00 + 120 business minutes is 10:00 the next day.
    expect(shiftForPause(config, at('2025-06-16T16:00:00+02:00'), at('2025-06-16T09:00:00+02:00'), at('2025-06-16T11:00:00+02:00'))).toEqual(
      at('2025-06-17T10:00:00+02:00'),
    )
  })

  it('leaves the due date alone for a pause outside business hours, even a due date at closing time', () => {
    const dueAt = at('2025-06-13T17:00:00+02:00')
    expect(shiftForPause(calendar, dueAt, at('2025-06-13T18:00:00+02:00'), at('2025-06-15T20:00:00+02:00'))).toEqual(dueAt)
  })

  it('does not turn a breach back into a running clock', () => {
    const dueAt = at('2025-06-16T10:00:00+02:00')
    const resumedAt = at('2025-06-16T15:00:00+02:00')
    const shifted = shiftForPause(calendar, dueAt, at('2025-06-16T11:00:00+02:00'), resumedAt)
    expect(shifted).toEqual(at('2025-06-16T14:00:00+02:00'))
    expect(slaClock(calendar, { dueAt: shifted, now: resumedAt, warnBeforeMinutes: 60 }).state).toBe('breached')
  })
})

describe('slaEscalations', () => {
  const dueAt = at('2025-06-16T12:00:00+02:00')
  const track = (overrides: Partial<SlaTrack> = {}): SlaTrack => ({ dueAt, metAt: null, warnedAt: null, breachedAt: null, ...overrides })
  const idle = track({ dueAt: null })
  const escalations = (moment: string, firstResponse: SlaTrack, resolution: SlaTrack = idle) =>
    slaEscalations(calendar, { now: at(moment), warnBeforeMinutes: 60, firstResponse, resolution })

  it('sends nothing while the clock runs', () => {
    expect(escalations('2025-06-16T10:30:00+02:00', track())).toEqual([])
  })

  it('sends a warning once, before the breach', () => {
    expect(escalations('2025-06-16T11:15:00+02:00', track())).toEqual([{ target: 'firstResponse', notice: 'warning', dueAt }])
    expect(escalations('2025-06-16T11:30:00+02:00', track({ warnedAt: at('2025-06-16T11:15:00+02:00') }))).toEqual([])
  })

  it('sends the breach once, and only the breach when the warning was missed', () => {
    expect(escalations('2025-06-16T12:01:00+02:00', track({ warnedAt: at('2025-06-16T11:15:00+02:00') }))).toEqual([
      { target: 'firstResponse', notice: 'breach', dueAt },
    ])
    expect(escalations('2025-06-16T12:01:00+02:00', track())).toEqual([{ target: 'firstResponse', notice: 'breach', dueAt }])
    expect(escalations('2025-06-16T13:00:00+02:00', track({ breachedAt: at('2025-06-16T12:01:00+02:00') }))).toEqual([])
  })

  it('sends nothing for a target that was met, is paused or does not exist', () => {
    expect(escalations('2025-06-16T13:00:00+02:00', track({ metAt: at('2025-06-16T11:00:00+02:00') }))).toEqual([])
    expect(escalations('2025-06-16T13:00:00+02:00', idle, track({ paused: true }))).toEqual([])
    expect(escalations('2025-06-16T13:00:00+02:00', idle, idle)).toEqual([])
  })

  it('reports both targets', () => {
    const resolutionDueAt = at('2025-06-16T12:30:00+02:00')
    expect(escalations('2025-06-16T12:10:00+02:00', track(), track({ dueAt: resolutionDueAt }))).toEqual([
      { target: 'firstResponse', notice: 'breach', dueAt },
      { target: 'resolution', notice: 'warning', dueAt: resolutionDueAt },
    ])
  })

  it('lets a scheduler that sets the markers send each notice exactly once', () => {
    const created = at('2025-06-13T15:00:00+02:00')
    const due = slaDueDates(calendar, created, 'URGENT')
    const tracks = { firstResponse: track({ dueAt: due.firstResponseDueAt }), resolution: track({ dueAt: due.resolutionDueAt }) }
    const sent: string[] = []
    for (let moment = created.getTime(); moment < at('2025-06-18T00:00:00+02:00').getTime(); moment += 5 * 60_000) {
      const tick = new Date(moment)
      for (const notice of slaEscalations(calendar, { now: tick, warnBeforeMinutes: 30, ...tracks })) {
        sent.push(`${notice.target} ${notice.notice}`)
        tracks[notice.target] = { ...tracks[notice.target], [notice.notice === 'warning' ? 'warnedAt' : 'breachedAt']: tick }
      }
    }
    expect(sent).toEqual(['firstResponse warning', 'firstResponse breach', 'resolution warning', 'resolution breach'])
    // Friday 15:00 + 60 is 16:00; the warning came half an hour earlier, the breach just after.
    expect(tracks.firstResponse.warnedAt).toEqual(at('2025-06-13T15:30:00+02:00'))
    expect(tracks.firstResponse.breachedAt).toEqual(at('2025-06-13T16:05:00+02:00'))
    // 480 minutes: two hours on Friday, six on Monday, so due Monday 15:00.
    expect(tracks.resolution.breachedAt).toEqual(at('2025-06-16T15:05:00+02:00'))
  })
})
