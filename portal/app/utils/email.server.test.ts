import { createServer } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { SMTPServer } from 'smtp-server'

// A port of our own that nothing listens on yet: the "down" SMTP server.
async function freePort() {
  return new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

const port = await freePort()
process.env.SMTP_URL = `smtp://127.0.0.1:${port}`
process.env.OUTBOX_POLL_MS = '100'
const { db, disconnectDb } = await import('./db.server')
const { enqueueMail, nextDelayMs, outbox } = await import('./email.server')

afterAll(async () => {
  await outbox.stop()
  await disconnectDb()
})

async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('the mail outbox', () => {
  it('keeps a mail while the SMTP server is down and delivers it once it is back', async () => {
    outbox.start()
    const to = `outbox-${Date.now()}@example.org`
    const mail = await enqueueMail({ to, subject: 'Hallo', text: 'Een bericht dat niet verloren mag gaan.' })

    const failed = await until(async () => {
      const row = await db().outboxMail.findUnique({ where: { id: mail.id } })
      return row && row.attempts >= 1 ? row : null
    })
    expect(failed.status).toBe('PENDING')
    expect(failed.lastError).toMatch(/ECONNREFUSED|connect/i)

    const received: string[] = []
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, done) {
        let body = ''
        stream.on('data', (c: Buffer) => (body += c.toString()))
        stream.on('end', () => {
          received.push(`${session.envelope.rcptTo.map((r) => r.address).join(',')}\n${body}`)
          done()
        })
      },
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
    try {
      // Skip the backoff wait instead of sleeping through it.
      await db().outboxMail.update({ where: { id: mail.id }, data: { nextAttemptAt: new Date() } })
      outbox.kick()
      const sent = await until(async () => {
        const row = await db().outboxMail.findUnique({ where: { id: mail.id } })
        return row?.status === 'SENT' ? row : null
      })
      expect(sent.attempts).toBe(failed.attempts + 1)
      expect(sent.messageId).toMatch(/^<.+>$/)
      expect(received).toHaveLength(1)
      expect(received[0]).toContain(to)
      expect(received[0]).toContain('Een bericht dat niet verloren mag gaan.')
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('backs off exponentially up to an hour', () => {
    expect(nextDelayMs(1)).toBe(5_000)
    expect(nextDelayMs(2)).toBe(10_000)
    expect(nextDelayMs(30)).toBe(3_600_000)
  })
})
