import type { LoaderFunctionArgs } from '@remix-run/node'
import { instanceOf } from '~/utils/instances.server'
import { logger } from '~/utils/logger.server'
import { requireOrgAccess } from '~/utils/permissions.server'
import { provisioner, ProvisionerRefused, ProvisionerUnavailable } from '~/utils/provisioner.server'
import { formatSse } from '~/utils/sse.server'

const HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform keeps the compression middleware from buffering the stream.
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
}
const KEEPALIVE_MS = 20_000
const RETRY_WHEN_DOWN_MS = 10_000

/**
 * The provisioner's event stream of one instance, relayed to the browser
 * after the same access check as the instance page (members of the
 * organisation, helpdesk agents, operators; anyone else gets a 404). Each
 * event is checked against the contract on the way. When the provisioner
 * cannot be reached the stream says `unavailable` and ends; the browser's
 * EventSource comes back after `retry`.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { organization } = await requireOrgAccess(request, params.slug)
  const instance = await instanceOf(organization.id, params.id)
  const url = new URL(request.url)
  // EventSource sends Last-Event-ID when it reconnects; the first connection names its start in ?after=.
  const lastEventId = request.headers.get('Last-Event-ID') ?? (/^\d{1,12}$/.test(url.searchParams.get('after') ?? '') ? url.searchParams.get('after')! : undefined)
  const upstream = new AbortController()
  request.signal.addEventListener('abort', () => upstream.abort(), { once: true })

  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        // The browser may have gone between two events; then there is no one to tell.
        if (!upstream.signal.aborted) controller.enqueue(encoder.encode(text))
      }
      const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS)
      try {
        const events = await provisioner().eventStream(instance.id, { lastEventId: lastEventId || undefined, signal: upstream.signal })
        send(formatSse({ event: 'connected', data: '{}', retryMs: 3_000 }))
        for await (const event of events) send(formatSse({ id: event.seq, event: 'step', data: JSON.stringify(event) }))
      } catch (error) {
        if (!upstream.signal.aborted) {
          // Not taken on yet (404) counts as "nothing to show yet", like a provisioner that is down.
          if (!(error instanceof ProvisionerUnavailable) && !(error instanceof ProvisionerRefused && error.status === 404)) {
            logger.warn({ err: error, instanceId: instance.id }, 'event relay ended')
          }
          send(formatSse({ event: 'unavailable', data: '{}', retryMs: RETRY_WHEN_DOWN_MS }))
        }
      } finally {
        clearInterval(keepalive)
        try {
          controller.close()
        } catch {
          // Already closed because the browser went away.
        }
      }
    },
    cancel() {
      upstream.abort()
    },
  })
  return new Response(body, { headers: HEADERS })
}
