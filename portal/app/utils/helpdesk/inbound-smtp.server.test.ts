import { connect } from 'node:net'
import { simpleParser } from 'mailparser'
import nodemailer from 'nodemailer'
import MailComposer from 'nodemailer/lib/mail-composer'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startInboundSmtp, type InboundEnvelope, type InboundSmtp } from './inbound-smtp.server'

const SUPPORT = 'support@coop.example'
const MAX_BYTES = 64 * 1024

interface Line {
  level: 'info' | 'warn' | 'error'
  obj: object
  msg: string
}
const lines: Line[] = []
const log = {
  info: (obj: object, msg: string) => lines.push({ level: 'info', obj, msg }),
  warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj, msg }),
  error: (obj: object, msg: string) => lines.push({ level: 'error', obj, msg }),
}

type Store = (raw: Buffer, envelope: InboundEnvelope) => Promise<void>
const received: { raw: Buffer; envelope: InboundEnvelope }[] = []
const keep: Store = async (raw, envelope) => {
  received.push({ raw, envelope })
}
let store: Store = keep

let smtp: InboundSmtp
beforeAll(async () => {
  smtp = await startInboundSmtp({
    host: '127.0.0.1',
    port: 0,
    acceptRecipient: (address) => /^support(\+\d+)?@coop\.example$/i.test(address),
    maxBytes: MAX_BYTES,
    onMail: (raw, envelope) => store(raw, envelope),
    log,
  })
})
afterAll(async () => {
  await smtp.stop()
})
beforeEach(() => {
  received.length = 0
  lines.length = 0
  store = keep
})

async function send(mail: { from: string; to: string[]; raw: Buffer }) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true })
  try {
    return await transport.sendMail({ envelope: { from: mail.from, to: mail.to }, raw: mail.raw })
  } finally {
    transport.close()
  }
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    return error as { responseCode?: number; message: string }
  }
  throw new Error('expected the mail to be refused')
}

async function composeMail(extra: { subject?: string; text?: string; attachment?: Buffer } = {}) {
  return new MailComposer({
    from: 'Jan <jan@bakkerij.example>',
    to: SUPPORT,
    subject: extra.subject ?? 'Printer kapot',
    text: extra.text ?? 'De printer op de eerste verdieping doet niets meer.',
    attachments: extra.attachment ? [{ filename: 'foutmelding.bin', content: extra.attachment }] : [],
  })
    .compile()
    .build()
}

/**
 * Speaks SMTP by hand: waits for each complete reply (its last line has a space after
 * the code) before sending the next command. Returns the greeting and every reply.
 */
async function converse(port: number, commands: string[]) {
  const socket = connect(port, '127.0.0.1')
  const replies: string[] = []
  let pending = ''
  const queue = [...commands]
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    if (!/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(pending)) return
    replies.push(pending)
    pending = ''
    const next = queue.shift()
    if (next) socket.write(`${next}\r\n`)
  })
  await new Promise((resolve, reject) => socket.on('close', resolve).on('error', reject))
  return replies
}

describe('the inbound SMTP listener', () => {
  it('hands over the exact bytes of a mail with an attachment', async () => {
    const attachment = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256))
    const raw = await composeMail({ subject: 'Printer kapot (foto)', attachment })

    const info = await send({ from: 'jan@bakkerij.example', to: ['support+1234@coop.example'], raw })

    expect(info.accepted).toEqual(['support+1234@coop.example'])
    expect(received).toHaveLength(1)
    const [mail] = received
    expect(mail?.raw.equals(raw)).toBe(true)
    expect(mail?.envelope).toEqual({ mailFrom: 'jan@bakkerij.example', rcptTo: ['support+1234@coop.example'], remoteAddress: '127.0.0.1' })
    const parsed = await simpleParser(mail?.raw ?? Buffer.alloc(0))
    expect(parsed.subject).toBe('Printer kapot (foto)')
    expect(parsed.attachments[0]?.filename).toBe('foutmelding.bin')
    expect(parsed.attachments[0]?.content.equals(attachment)).toBe(true)
  })

  it('keeps mail contents and full addresses out of the log', async () => {
    await send({ from: 'jan@bakkerij.example', to: [SUPPORT], raw: await composeMail({ subject: 'Geheim onderwerp' }) })

    const accepted = lines.find((l) => l.msg === 'inbound mail accepted')
    expect(accepted?.obj).toMatchObject({ fromDomain: 'bakkerij.example', rcptDomains: ['coop.example'] })
    const logged = JSON.stringify(lines)
    expect(logged).not.toContain('jan@')
    expect(logged).not.toContain('support@')
    expect(logged).not.toContain('Geheim onderwerp')
  })

  it('accepts a bounce from the null sender', async () => {
    await send({ from: '', to: [SUPPORT], raw: await composeMail({ subject: 'Undelivered Mail Returned to Sender' }) })
    expect(received[0]?.envelope.mailFrom).toBeNull()
  })

  it('refuses a recipient it does not handle with 550', async () => {
    const error = await rejection(send({ from: 'jan@bakkerij.example', to: ['boss@coop.example'], raw: await composeMail() }))
    expect(error.responseCode).toBe(550)
    expect(error.message).toMatch(/only accepts mail for the helpdesk/)
    expect(received).toHaveLength(0)
  })

  it('refuses a message over the size limit with 552 and stores nothing', async () => {
    const raw = await composeMail({ attachment: Buffer.alloc(MAX_BYTES, 7) })
    expect(raw.length).toBeGreaterThan(MAX_BYTES)

    const error = await rejection(send({ from: 'jan@bakkerij.example', to: [SUPPORT], raw }))
    expect(error.responseCode).toBe(552)
    expect(received).toHaveLength(0)
    expect(lines.some((l) => l.msg === 'inbound mail refused: too big')).toBe(true)
  })

  it('answers 451 when storing fails, and takes the next mail', async () => {
    store = async () => {
      throw new Error('database unavailable')
    }
    const error = await rejection(send({ from: 'jan@bakkerij.example', to: [SUPPORT], raw: await composeMail() }))
    expect(error.responseCode).toBe(451)
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['inbound mail could not be stored; sender will retry'])

    store = keep
    await send({ from: 'jan@bakkerij.example', to: [SUPPORT], raw: await composeMail({ subject: 'Tweede poging' }) })
    expect(received).toHaveLength(1)
  })

  it('answers 250 only after the mail is stored', async () => {
    let release: () => void = () => {
      throw new Error('onMail was not called')
    }
    let storing: () => void = () => {}
    const called = new Promise<void>((resolve) => (storing = resolve))
    store = () =>
      new Promise<void>((resolve) => {
        release = resolve
        storing()
      })

    let delivered = false
    const sending = send({ from: 'jan@bakkerij.example', to: [SUPPORT], raw: await composeMail() }).then((info) => {
      delivered = true
      return info
    })
    await called
    await new Promise((r) => setTimeout(r, 200))
    expect(delivered).toBe(false)

    release()
    const info = await sending
    expect(info.response).toMatch(/^250/)
  })

  it('greets as the portal and offers SIZE but neither AUTH nor STARTTLS', async () => {
    const [greeting = '', ehlo = ''] = await converse(smtp.port, ['EHLO client.example', 'QUIT'])

    expect(greeting).toMatch(/^220 .*Commons Portal/)
    expect(ehlo).toContain(`SIZE ${MAX_BYTES}`)
    expect(ehlo).not.toMatch(/AUTH/)
    expect(ehlo).not.toMatch(/STARTTLS/)
  })
})

// A throw-away self-signed certificate for 127.0.0.1, for this test only.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMLqE4zlGGsYrqCFn
wsCIo1NpSXIAC1+JXAb9esxczcehRANCAASSQJQ2HtlYg81AZjUpDZ4BGgSEH5rV
j/HSzr03rPNFXO4DetzSIe1YelDGEnAZkwcg0j/Rla+KTCzjmK2ibue1
-----END PRIVATE KEY-----`
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUVB4rymXOX/u6eyacaL4hPUSkZQ8wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTA4NDE1N1oYDzIxMjYxMTA3
MDg0MTU3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASSQJQ2HtlYg81AZjUpDZ4BGgSEH5rVj/HSzr03rPNFXO4DetzSIe1Y
elDGEnAZkwcg0j/Rla+KTCzjmK2ibue1o28wbTAdBgNVHQ4EFgQUwl3CPWT9mbgK
t9eD3UUhWG24hRswHwYDVR0jBBgwFoAUwl3CPWT9mbgKt9eD3UUhWG24hRswDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSQAwRgIhAKy3+/mEGHUXr2Y0EwgXFxwhbnvIglBBK21b/Vqf7vBUAiEA
nlLdaPkMGEMg3JJN8Va3FXXbEJ2+OTteMcwOYtb9mdE=
-----END CERTIFICATE-----`

describe('STARTTLS', () => {
  it('is offered and used when a key and certificate are given', async () => {
    const tls = { key: Buffer.from(TEST_KEY), cert: Buffer.from(TEST_CERT) }
    const secured = await startInboundSmtp({ host: '127.0.0.1', port: 0, acceptRecipient: () => true, maxBytes: MAX_BYTES, onMail: keep, log, tls })
    try {
      const [, ehlo = ''] = await converse(secured.port, ['EHLO client.example', 'QUIT'])
      expect(ehlo).toMatch(/STARTTLS/)
      expect(ehlo).not.toMatch(/AUTH/)

      // requireTLS makes nodemailer fail rather than fall back to plain text.
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: secured.port,
        secure: false,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
      })
      try {
        const raw = await composeMail({ subject: 'Versleuteld' })
        await transport.sendMail({ envelope: { from: 'jan@bakkerij.example', to: [SUPPORT] }, raw })
        expect(received.map((m) => m.raw.equals(raw))).toEqual([true])
      } finally {
        transport.close()
      }
    } finally {
      await secured.stop()
    }
  })
})

describe('starting and stopping', () => {
  it('fails to start on a port that is taken', async () => {
    const options = { host: '127.0.0.1', acceptRecipient: () => true, maxBytes: 1000, onMail: keep, log }
    await expect(startInboundSmtp({ ...options, port: smtp.port })).rejects.toMatchObject({ code: 'EADDRINUSE' })
  })

  it('stops listening once stopped', async () => {
    const other = await startInboundSmtp({ host: '127.0.0.1', port: 0, acceptRecipient: () => true, maxBytes: 1000, onMail: keep, log })
    await other.stop()
    await other.stop()
    const refused = await new Promise<string>((resolve) => {
      connect(other.port, '127.0.0.1')
        .on('connect', () => resolve('connected'))
        .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    })
    expect(refused).toBe('ECONNREFUSED')
  })
})
