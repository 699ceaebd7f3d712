import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerDataStream, type SMTPServerError, type SMTPServerSession } from 'smtp-server'

export interface InboundEnvelope {
  /** The SMTP MAIL FROM; null for the null sender `<>` that bounces use. */
  mailFrom: string | null
  rcptTo: string[]
  remoteAddress: string
}

export interface InboundSmtpLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface InboundSmtpOptions {
  host: string
  /** 0 picks a free port; the one chosen is returned. */
  port: number
  acceptRecipient: (address: string) => boolean
  maxBytes: number
  /**
   * Stores the message. The sender gets its 250 only once this resolves; a rejection
   * answers 451, so the sending MTA keeps the mail and retries later.
   */
  onMail: (raw: Buffer, envelope: InboundEnvelope) => Promise<void>
  log: InboundSmtpLog
  /** Enables STARTTLS. Without it the listener only speaks plain SMTP. */
  tls?: { key: Buffer; cert: Buffer }
  /** Host name in the greeting and EHLO reply; the OS host name when not set. */
  serverName?: string
}

export interface InboundSmtp {
  port: number
  stop(): Promise<void>
}

// Shorter than Docker's 10 s stop grace period, so the rest of shutdown still runs. A
// sender cut off here retries, and the retry dedupes on its Message-ID.
const CLOSE_TIMEOUT_MS = 5_000

/**
 * Receives mail for the helpdesk. Logs carry sizes and domains only: the mail itself
 * and the full addresses are personal data that belongs in the ticket, not in logs.
 */
export async function startInboundSmtp(opts: InboundSmtpOptions): Promise<InboundSmtp> {
  const { log } = opts
  const server = new SMTPServer({
    name: opts.serverName,
    banner: 'Commons Portal helpdesk mail intake',
    // Anyone may deliver mail for the support address, as to any MX; there is no
    // account to log in with.
    authOptional: true,
    disabledCommands: opts.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    size: opts.maxBytes,
    rejectOversized: true,
    // smtp-server's own log lines contain full addresses.
    logger: false,
    disableReverseLookup: true,
    closeTimeout: CLOSE_TIMEOUT_MS,

    onRcptTo(address, session, callback) {
      let accepted: boolean
      try {
        accepted = opts.acceptRecipient(address.address)
      } catch (error) {
        log.error({ err: error, session: session.id, rcptDomain: domainOf(address.address) }, 'recipient check failed')
        callback(smtpError(451, 'Temporary error checking the recipient, try again later'))
        return
      }
      if (accepted) {
        callback()
        return
      }
      log.info({ session: session.id, rcptDomain: domainOf(address.address) }, 'inbound mail refused: unknown recipient')
      callback(smtpError(550, 'No such mailbox: this server only accepts mail for the helpdesk'))
    },

    onData(stream, session, callback) {
      receive(stream, opts.maxBytes).then(
        (raw) => {
          if (raw === null) {
            log.info({ session: session.id, bytes: stream.byteLength, maxBytes: opts.maxBytes }, 'inbound mail refused: too big')
            callback(smtpError(552, `Message exceeds fixed maximum message size ${opts.maxBytes}`))
            return
          }
          const envelope = envelopeOf(session)
          const summary = {
            session: session.id,
            bytes: raw.length,
            fromDomain: domainOf(envelope.mailFrom),
            rcptDomains: [...new Set(envelope.rcptTo.map(domainOf))],
          }
          // Promise.resolve().then also turns a synchronous throw into a 451.
          Promise.resolve()
            .then(() => opts.onMail(raw, envelope))
            .then(
              () => {
                log.info(summary, 'inbound mail accepted')
                callback()
              },
              (error: unknown) => {
                log.error({ ...summary, err: error }, 'inbound mail could not be stored; sender will retry')
                callback(smtpError(451, 'Temporary error storing the message, try again later'))
              },
            )
        },
        (error: unknown) => {
          // The client went away mid-DATA. The 451 reaches no one, but the callback
          // lets smtp-server finish the transaction.
          log.warn({ session: session.id, err: error }, 'inbound mail aborted while receiving')
          callback(smtpError(451, 'Error receiving the message'))
        },
      )
    },
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // After start-up, errors come from single connections (resets, TLS handshakes).
  server.on('error', (error) => {
    log.warn({ err: error }, 'inbound SMTP connection error')
  })

  const { port } = server.server.address() as AddressInfo
  log.info({ host: opts.host, port, starttls: Boolean(opts.tls) }, 'inbound SMTP listening')

  let stopping: Promise<void> | undefined
  return {
    port,
    stop() {
      stopping ??= new Promise<void>((resolve) => server.close(() => resolve()))
      return stopping
    },
  }
}

/**
 * Collects the DATA stream. Resolves null once it went over `maxBytes`: the rest is
 * still read (the client sends it anyway) but not kept, so a huge message cannot
 * exhaust memory.
 */
function receive(stream: SMTPServerDataStream, maxBytes: number) {
  return new Promise<Buffer | null>((resolve, reject) => {
    const chunks: Buffer[] = []
    let bytes = 0
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes <= maxBytes) chunks.push(chunk)
    })
    stream.once('error', reject)
    stream.once('end', () => resolve(stream.sizeExceeded || bytes > maxBytes ? null : Buffer.concat(chunks, bytes)))
  })
}

function envelopeOf(session: SMTPServerSession): InboundEnvelope {
  const { mailFrom, rcptTo } = session.envelope
  return {
    mailFrom: mailFrom && mailFrom.address ? mailFrom.address : null,
    rcptTo: rcptTo.map((r) => r.address),
    remoteAddress: session.remoteAddress,
  }
}

function domainOf(address: string | null) {
  if (!address) return null
  const at = address.lastIndexOf('@')
  return at >= 0 ? address.slice(at + 1).toLowerCase() : null
}

function smtpError(responseCode: number, message: string): SMTPServerError {
  return Object.assign(new Error(message), { responseCode })
}
