import { useFetcher } from '@remix-run/react'
import { useEffect, useRef } from 'react'
import { useT } from '~/utils/use-t'

type Presence = { others: { name: string; replying: boolean }[] }

/**
 * Tells an agent who else has the ticket open or is writing a reply. The
 * page sends a heartbeat every 15 s (and at once when typing starts), and
 * says whether the reply box holds text.
 */
export function PresenceNotice({ ticketId }: { ticketId: string }) {
  const fetcher = useFetcher<Presence>()
  const t = useT()
  const replying = useRef(false)
  const submit = useRef(fetcher.submit)
  submit.current = fetcher.submit
  useEffect(() => {
    const beat = () => submit.current({ replying: String(replying.current) }, { method: 'post', action: `/tickets/${ticketId}/presence` })
    const onInput = (event: Event) => {
      const target = event.target as HTMLElement | null
      if (target?.id !== 'reply-body') return
      const now = ((target as HTMLTextAreaElement).value ?? '').trim().length > 0
      if (now !== replying.current) {
        replying.current = now
        beat()
      }
    }
    beat()
    const timer = setInterval(beat, 15_000)
    document.addEventListener('input', onInput)
    return () => {
      clearInterval(timer)
      document.removeEventListener('input', onInput)
    }
  }, [ticketId])
  const others = fetcher.data?.others ?? []
  if (!others.length) return null
  return (
    <div className="notice warning" role="status">
      {others.map((o) => (
        <p key={o.name}>{o.replying ? t('ticket.presence.replying', { name: o.name }) : t('ticket.presence.viewing', { name: o.name })}</p>
      ))}
    </div>
  )
}
