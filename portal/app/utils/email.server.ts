import nodemailer, { type Transporter } from 'nodemailer'
import type { Prisma } from '~/generated/prisma/client'
import { db } from './db.server'
import { env } from './env.server'
import { logger } from './logger.server'

export interface OutgoingMail {
  to: string
  subject: string
  text: string
  html?: string
  /** Set in advance when replies must be matched to this mail (helpdesk threading). */
  messageId?: string
  replyTo?: string
  /** In-Reply-To, References, Auto-Submitted and the like. */
  headers?: Record<string, string>
}

type Tx = Prisma.TransactionClient

/**
 * Puts a mail in the outbox, inside the caller's transaction when given one,
 * so the mail exists exactly when the change that caused it does.
 */
export async function enqueueMail(mail: OutgoingMail, tx?: Tx) {
  const row = await (tx ?? db()).outboxMail.create({ data: mail })
  setImmediate(() => outbox.kick())
  return row
}

const MAX_BACKOFF_MS = 60 * 60_000
const BATCH = 10

export function nextDelayMs(attempts: number) {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS)
}

/** SMTP 5xx answers (mailbox unknown, relaying denied) will not get better by retrying forever. */
function isPermanent(error: unknown) {
  const code = (error as { responseCode?: number }).responseCode
  return typeof code === 'number' && code >= 500 && code < 600
}

interface ClaimedMail {
  id: string
  to: string
  subject: string
  text: string
  html: string | null
  attempts: number
  messageId: string | null
  replyTo: string | null
  headers: Record<string, string> | null
}

class OutboxWorker {
  private timer: NodeJS.Timeout | undefined
  private running = false
  private again = false
  private transport: Transporter | undefined

  start() {
    this.transport = nodemailer.createTransport(env().SMTP_URL)
    this.timer = setInterval(() => this.kick(), env().OUTBOX_POLL_MS)
    this.kick()
  }

  async stop() {
    clearInterval(this.timer)
    this.timer = undefined
    while (this.running) await new Promise((r) => setTimeout(r, 20))
    this.transport?.close()
  }

  kick() {
    if (!this.timer) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    void this.drain()
      .catch((error: unknown) => logger.error({ err: error }, 'outbox pass failed'))
      .finally(() => {
        this.running = false
        if (this.again) {
          this.again = false
          this.kick()
        }
      })
  }

  /** Sends what is due; a row is claimed with a lease so two portal processes never send it twice. */
  private async drain() {
    for (;;) {
      const claimed = await db().$queryRaw<ClaimedMail[]>`
        UPDATE "OutboxMail" SET "lockedUntil" = now() + interval '2 minutes'
        WHERE id IN (
          SELECT id FROM "OutboxMail"
          WHERE status = 'PENDING' AND "nextAttemptAt" <= now()
            AND ("lockedUntil" IS NULL OR "lockedUntil" < now())
          ORDER BY "createdAt" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
        RETURNING id, "to", subject, text, html, attempts, "messageId", "replyTo", headers`
      if (claimed.length === 0) return
      for (const mail of claimed) await this.send(mail)
    }
  }

  private async send(mail: ClaimedMail) {
    const attempts = mail.attempts + 1
    try {
      const info = await this.transport!.sendMail({
        from: env().MAIL_FROM,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html ?? undefined,
        messageId: mail.messageId ?? undefined,
        replyTo: mail.replyTo ?? undefined,
        headers: mail.headers ?? undefined,
      })
      await db().outboxMail.update({
        where: { id: mail.id },
        data: { status: 'SENT', attempts, sentAt: new Date(), messageId: mail.messageId ?? info.messageId, lockedUntil: null, lastError: null },
      })
      logger.info({ mailId: mail.id, attempts }, 'mail sent')
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const dead = isPermanent(error) && attempts >= 5
      await db().outboxMail.update({
        where: { id: mail.id },
        data: {
          attempts,
          lastError: message.slice(0, 1000),
          lockedUntil: null,
          status: dead ? 'DEAD' : 'PENDING',
          nextAttemptAt: new Date(Date.now() + nextDelayMs(attempts)),
        },
      })
      logger.warn({ mailId: mail.id, attempts, dead, error: message }, 'mail not sent, will retry')
    }
  }
}

export const outbox = new OutboxWorker()
