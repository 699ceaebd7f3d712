import { describe, expect, it } from 'vitest'
import { formatSse, readSse, type SseMessage } from './sse.server'

function streamOf(...chunks: string[]) {
  const encoder = new TextEncoder()
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c))
      controller.close()
    },
  })
}

async function all(stream: ReadableStream<Uint8Array>) {
  const out: SseMessage[] = []
  for await (const m of readSse(stream)) out.push(m)
  return out
}

describe('readSse', () => {
  it('reads ids, event names and multi-line data; drops comments and retry lines', async () => {
    const messages = await all(streamOf(': hello\n\nretry: 5000\nid: 1\nevent: step\ndata: {"a":1}\n\n', 'data: one\ndata:two\n\n'))
    expect(messages).toEqual([
      { id: '1', event: 'step', data: '{"a":1}' },
      // The last id stays until a new one comes (the spec's last-event-id buffer).
      { id: '1', event: 'message', data: 'one\ntwo' },
    ])
  })

  it('copes with messages split across chunks and with CRLF line ends', async () => {
    expect(await all(streamOf('id: 7\r', '\ndata: x', 'y\r\n', '\r\n'))).toEqual([{ id: '7', event: 'message', data: 'xy' }])
  })

  it('drops an unfinished message at the end of the stream', async () => {
    expect(await all(streamOf('data: half'))).toEqual([])
  })

  it('round-trips what formatSse writes', async () => {
    const text = formatSse({ id: 3, event: 'step', data: 'a\nb', retryMs: 1000 })
    expect(text).toBe('retry: 1000\nid: 3\nevent: step\ndata: a\ndata: b\n\n')
    expect(await all(streamOf(text))).toEqual([{ id: '3', event: 'step', data: 'a\nb' }])
  })
})
