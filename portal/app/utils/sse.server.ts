/** One Server-Sent Event as the WHATWG parsing rules deliver it. */
export interface SseMessage {
  id?: string
  event: string
  data: string
}

/**
 * Reads a text/event-stream body and yields its messages (comments and
 * `retry:` lines dropped). Follows the HTML spec's field rules: `data:` lines
 * are joined with newlines, one optional space after the colon is removed,
 * a message ends at a blank line.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string[] = []
  let event = ''
  let id: string | undefined
  const reader = body.getReader()
  try {
    for (;;) {
      const { value, done } = await reader.read()
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true })
      let newline: RegExpExecArray | null
      const lineEnd = /\r\n|\r|\n/g
      let start = 0
      while ((newline = lineEnd.exec(buffer))) {
        // A lone \r at the very end may be the first half of \r\n: wait for more.
        if (newline[0] === '\r' && newline.index === buffer.length - 1 && !done) break
        const line = buffer.slice(start, newline.index)
        start = newline.index + newline[0].length
        if (line === '') {
          if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') }
          data = []
          event = ''
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        let value = colon === -1 ? '' : line.slice(colon + 1)
        if (value.startsWith(' ')) value = value.slice(1)
        if (field === 'data') data.push(value)
        else if (field === 'event') event = value
        else if (field === 'id' && !value.includes('\0')) id = value
      }
      buffer = buffer.slice(start)
      if (done) return
    }
  } finally {
    reader.releaseLock()
  }
}

/** One message in the wire format; data with newlines becomes several `data:` lines. */
export function formatSse(message: { id?: string | number; event?: string; data: string; retryMs?: number }): string {
  let out = ''
  if (message.retryMs !== undefined) out += `retry: ${message.retryMs}\n`
  if (message.id !== undefined) out += `id: ${message.id}\n`
  if (message.event) out += `event: ${message.event}\n`
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return out + '\n'
}
