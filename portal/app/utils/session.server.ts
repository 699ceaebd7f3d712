import { randomBytes } from 'node:crypto'
import { createCookie, redirect } from '@remix-run/node'
import { db } from './db.server'
import { env } from './env.server'

function secureCookies() {
  return env().SECURE_COOKIES ?? env().PORTAL_URL.startsWith('https://')
}

// The cookie carries only the session id; everything else stays in the table.
function sessionCookie() {
  return createCookie(secureCookies() ? '__Host-commons_session' : 'commons_session', {
    httpOnly: true,
    sameSite: 'lax',
    secure: secureCookies(),
    path: '/',
    maxAge: env().SESSION_TTL_HOURS * 3600,
  })
}

export async function readSessionId(request: Request): Promise<string | null> {
  const value = await sessionCookie().parse(request.headers.get('Cookie'))
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null
}

export async function createSession(data: {
  userId: string
  keycloakSessionId: string | null
  idToken: string
  realmRoles: string[]
  activeOrganizationId: string | null
}) {
  const id = randomBytes(32).toString('base64url')
  const expiresAt = new Date(Date.now() + env().SESSION_TTL_HOURS * 3600_000)
  await db().session.create({ data: { id, ...data, expiresAt } })
  return { id, setCookie: await sessionCookie().serialize(id) }
}

export async function getSession(request: Request) {
  const id = await readSessionId(request)
  if (!id) return null
  const session = await db().session.findUnique({ where: { id }, include: { user: true } })
  if (!session) return null
  if (session.expiresAt < new Date()) {
    await db().session.deleteMany({ where: { id } })
    return null
  }
  return session
}

export type PortalSession = NonNullable<Awaited<ReturnType<typeof getSession>>>

export async function destroySessionCookie() {
  return sessionCookie().serialize('', { maxAge: 0 })
}

/** Ends a portal session and sends the browser to `to` without its cookie. */
export async function endSession(request: Request, to: string) {
  const id = await readSessionId(request)
  if (id) await db().session.deleteMany({ where: { id } })
  return redirect(to, { headers: { 'Set-Cookie': await destroySessionCookie() } })
}

export async function deleteExpiredSessions() {
  const now = new Date()
  await db().session.deleteMany({ where: { expiresAt: { lt: now } } })
  await db().loginAttempt.deleteMany({ where: { expiresAt: { lt: now } } })
}
