import path from 'node:path'
import { repoRoot } from '../../../server/database'
import { attachmentStore } from '../attachments.server'
import { db } from '../db.server'
import { env } from '../env.server'
import { parseBusinessHours, type BusinessCalendarConfig } from './business-calendar'
import { DEFAULT_SLA_TARGETS, type SlaTargets } from './ticket-state'

/** The helpdesk's business hours, from HELPDESK_TIMEZONE, _BUSINESS_HOURS and _CLOSED_DATES. */
export function businessCalendar(): BusinessCalendarConfig {
  const e = env()
  return {
    timeZone: e.HELPDESK_TIMEZONE,
    hours: parseBusinessHours(e.HELPDESK_BUSINESS_HOURS),
    closedDates: e.HELPDESK_CLOSED_DATES,
    publicHolidays: 'nl',
  }
}

let targets: { value: SlaTargets; at: number } | undefined

/** SLA targets per priority as operators set them (SlaPolicy), read at most once a minute. */
export async function slaTargets(): Promise<SlaTargets> {
  if (targets && Date.now() - targets.at < 60_000) return targets.value
  const rows = await db().slaPolicy.findMany()
  const value = { ...DEFAULT_SLA_TARGETS }
  for (const row of rows) value[row.priority] = { firstResponseMinutes: row.firstResponseMinutes, resolutionMinutes: row.resolutionMinutes }
  targets = { value, at: Date.now() }
  return value
}

export function forgetSlaTargets() {
  targets = undefined
}

let store: ReturnType<typeof attachmentStore> | undefined

/** Where ticket attachments live: ATTACHMENTS_DIR, or `.data/attachments` beside the embedded database. */
export function attachments() {
  store ??= attachmentStore({
    dir: env().ATTACHMENTS_DIR ?? path.join(repoRoot, '.data', 'attachments'),
    maxBytes: env().ATTACHMENT_MAX_MB * 1024 * 1024,
  })
  return store
}

/** The domain our Message-IDs carry, so replies to them are recognised as ours. */
export function mailDomain() {
  return env().HELPDESK_ADDRESS.split('@')[1] ?? 'localhost'
}
