import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/**
 * A real SMTP server for the tests: it accepts every mail and stores it as an
 * .eml file in `dir`, where tests read it back. Each file is written whole
 * (rename-free, but only after the DATA phase ends), so readers never see half a mail.
 */
export async function startSmtpCapture(opts: { port: number; dir: string }) {
  mkdirSync(opts.dir, { recursive: true })
  let count = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        count += 1
        const name = `${Date.now()}-${process.pid}-${count}.eml`
        writeFileSync(path.join(opts.dir, name), Buffer.concat(chunks))
        callback()
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, '127.0.0.1', () => resolve())
  })
  return { stop: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/** Waits until a mail to `to` whose subject matches arrives in `dir`, and parses it. */
export async function waitForMail(dir: string, match: { to: string; subject?: RegExp }, timeoutMs = 20_000): Promise<ParsedMail> {
  const deadline = Date.now() + timeoutMs
  const seen = new Set<string>()
  while (Date.now() < deadline) {
    for (const file of readdirSync(dir).sort()) {
      if (seen.has(file)) continue
      seen.add(file)
      const mail = await simpleParser(readFileSync(path.join(dir, file)))
      const recipients = [mail.to].flat().flatMap((a) => a?.value ?? []).map((a) => a.address?.toLowerCase())
      if (recipients.includes(match.to.toLowerCase()) && (!match.subject || match.subject.test(mail.subject ?? ''))) return mail
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`no mail to ${match.to} arrived within ${timeoutMs} ms`)
}
