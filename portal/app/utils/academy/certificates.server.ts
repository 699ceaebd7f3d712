import { randomInt } from 'node:crypto'
import { supportedLanguages, type Texts } from '@commons/academy/rules'
import type { Certificate, Prisma } from '~/generated/prisma/client'
import { db } from '../db.server'
import { AcademyError } from './content.server'
import { CODE_ALPHABET, CODE_LENGTH, normaliseCertificateCode } from './learning-forms'

export { normaliseCertificateCode }

// Certificates: proof that a member completed a course, checked by anyone who
// has the code. The code is the only key to a certificate, so it is random
// (not a counter, not derived from ids) and long enough not to be guessed.

type Tx = Prisma.TransactionClient

const GROUP = 4

/** A new code like "K7QM-3XDA-9PRT": 12 characters from 31, about 59 bits, from the system's CSPRNG. */
export function newCertificateCode(): string {
  const chars = Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]!)
  return [0, 1, 2].map((g) => chars.slice(g * GROUP, (g + 1) * GROUP).join('')).join('-')
}

export interface NewCertificate {
  enrolmentId: string
  courseId: string
  holderName: string
  courseTitle: Texts
  versionNumber: number
}

/**
 * Issues the certificate of an enrolment, inside the caller's transaction (the
 * one that completes the course). One per enrolment: a second call returns the
 * first certificate, so completing a newer version changes nothing here.
 */
export async function issueCertificate(tx: Tx, input: NewCertificate): Promise<{ certificate: Certificate; issued: boolean }> {
  const existing = await tx.certificate.findUnique({ where: { enrolmentId: input.enrolmentId } })
  if (existing) return { certificate: existing, issued: false }
  // A collision is about one in 10^17 per pair; looking first keeps the transaction clean (a failed insert would abort it).
  let code = newCertificateCode()
  for (let tries = 0; await tx.certificate.findUnique({ where: { code }, select: { id: true } }); tries++) {
    if (tries >= 5) throw new Error('could not find an unused certificate code')
    code = newCertificateCode()
  }
  const certificate = await tx.certificate.create({
    data: {
      code,
      enrolmentId: input.enrolmentId,
      courseId: input.courseId,
      holderName: input.holderName,
      courseTitle: input.courseTitle,
      versionNumber: input.versionNumber,
    },
  })
  return { certificate, issued: true }
}

/** What the public page shows: only what is printed on the certificate. */
export interface CertificateView {
  code: string
  holderName: string
  courseTitle: Texts
  versionNumber: number
  issuedAt: Date
  revoked: boolean
  revokedAt: Date | null
}

/** The certificate behind a code as typed (any case, spaces, with or without dashes), or null. */
export async function findCertificate(input: string): Promise<CertificateView | null> {
  const code = normaliseCertificateCode(input)
  if (!code) return null
  const found = await db().certificate.findUnique({ where: { code } })
  if (!found) return null
  return {
    code: found.code,
    holderName: found.holderName,
    courseTitle: titleTexts(found.courseTitle),
    versionNumber: found.versionNumber,
    issuedAt: found.issuedAt,
    revoked: found.revokedAt !== null,
    revokedAt: found.revokedAt,
  }
}

// The stored title is written by issueCertificate from the content; anything else in it is ignored.
function titleTexts(json: Prisma.JsonValue): Texts {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return {}
  const texts: Texts = {}
  for (const language of supportedLanguages) {
    const value = (json as Record<string, unknown>)[language]
    if (typeof value === 'string') texts[language] = value
  }
  return texts
}

/**
 * A trainer takes back a certificate of their course (issued by mistake, or
 * earned dishonestly): the public page then says it was revoked and on which
 * day. Only certificates of this course; one revoked already stays as it is.
 */
export async function revokeCertificate(actorUserId: string, courseId: string, input: string): Promise<{ code: string }> {
  const code = normaliseCertificateCode(input)
  const found = code ? await db().certificate.findUnique({ where: { code } }) : null
  if (!found || found.courseId !== courseId) throw new AcademyError('studio.error.certificateUnknown', 400, { code: input.trim() })
  if (found.revokedAt) throw new AcademyError('studio.error.certificateRevokedAlready', 409, { code: found.code })
  await db().$transaction([
    db().certificate.update({ where: { id: found.id }, data: { revokedAt: new Date() } }),
    db().auditEntry.create({ data: { actorId: actorUserId, action: 'academy.certificate-revoked', targetType: 'certificate', targetId: found.id, data: { courseId } } }),
  ])
  return { code: found.code }
}
