import { Link } from '@remix-run/react'
import { ALLOWED_ATTACHMENT_LABELS } from '~/utils/helpdesk/attachment-types'
import { MAX_ATTACHMENTS, type Priority, type Status } from '~/utils/helpdesk/ticket-forms'
import { useLanguage, useT } from '~/utils/use-t'

export function StatusBadge({ status }: { status: Status }) {
  const t = useT()
  return <span className={`badge status-${status.toLowerCase()}`}>{t(`ticket.status.${status}`)}</span>
}

export function PriorityBadge({ priority }: { priority: Priority }) {
  const t = useT()
  return <span className={`badge priority-${priority.toLowerCase()}`}>{t(`ticket.priority.${priority}`)}</span>
}

/** A file input with the limits said before the person picks a file, not after. */
export function AttachmentInput({ maxMb }: { maxMb: number }) {
  const t = useT()
  return (
    <div className="field">
      <label htmlFor="attachments">{t('ticket.field.attachments')}</label>
      <p id="attachments-help" className="help">
        {t('ticket.field.attachments.help', { max: String(maxMb), count: String(MAX_ATTACHMENTS), types: ALLOWED_ATTACHMENT_LABELS.join(', ') })}
      </p>
      <input id="attachments" name="attachments" type="file" multiple aria-describedby="attachments-help" />
    </div>
  )
}

export function RefusedFiles({ files, maxMb }: { files: { fileName: string; reason: string }[]; maxMb: number }) {
  const t = useT()
  if (!files.length) return null
  return (
    <ul>
      {files.map((f, i) => (
        <li key={`${f.fileName}-${i}`}>
          {f.fileName}: {t(`ticket.attachment.refused.${f.reason as 'too-large' | 'type-not-allowed' | 'empty' | 'too-many'}`, { max: String(maxMb), count: String(MAX_ATTACHMENTS) })}
        </li>
      ))}
    </ul>
  )
}

/** A date and time in the reader's language and the helpdesk's zone. */
export function When({ iso, timeZone }: { iso: string; timeZone: string }) {
  const lang = useLanguage()
  const text = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso))
  return <time dateTime={iso}>{text}</time>
}

export interface SlaView {
  label: 'firstResponse' | 'resolution'
  state: 'met' | 'running' | 'warning' | 'breached' | 'paused'
  minutesLeft: number
  dueAt: string
}

export function formatMinutes(minutes: number, lang: 'nl' | 'en') {
  const m = Math.abs(Math.round(minutes))
  const h = Math.floor(m / 60)
  const rest = m % 60
  if (lang === 'nl') return h ? `${h} u ${rest} min` : `${rest} min`
  return h ? `${h} h ${rest} min` : `${rest} min`
}

/** An SLA countdown: what is left in business hours, or by how much it is overdue. */
export function SlaBadge({ sla, timeZone }: { sla: SlaView; timeZone: string }) {
  const t = useT()
  const lang = useLanguage()
  const time = formatMinutes(sla.minutesLeft, lang)
  const text =
    sla.state === 'met'
      ? t('sla.met')
      : sla.state === 'paused'
        ? t('sla.paused')
        : sla.state === 'breached'
          ? // Missed outside business hours: no business minute has passed since, so say when it was due.
            Math.abs(sla.minutesLeft) < 1
            ? t('sla.overdueSince', { time: new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { weekday: 'short', hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(sla.dueAt)) })
            : t('sla.overdue', { time })
          : t('sla.dueIn', { time })
  return (
    <span className={`badge sla-${sla.state}`}>
      {t(`sla.${sla.label}`)}: {text}
    </span>
  )
}

export function TicketLink({ id, number, subject }: { id: string; number: number; subject: string }) {
  return (
    <Link to={`/tickets/${id}`}>
      #{number} {subject}
    </Link>
  )
}
