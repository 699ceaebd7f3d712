import { randomBytes } from 'node:crypto'
import { redirect } from '@remix-run/node'
import * as oidc from 'openid-client'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { z } from 'zod'
import { db } from './db.server'
import { env } from './env.server'
import { logger } from './logger.server'
import { createSession, getSession, type PortalSession } from './session.server'

export const REALM_ROLES = ['platform-operator', 'helpdesk-agent', 'trainer'] as const
export type RealmRole = (typeof REALM_ROLES)[number]

export function issuerUrl() {
  return `${env().KEYCLOAK_URL}/realms/${env().KEYCLOAK_REALM}`
}

let configuration: Promise<oidc.Configuration> | undefined

/** Discovery is done once and cached; a failure is retried on the next sign-in. */
export function oidcConfiguration(): Promise<oidc.Configuration> {
  configuration ??= (async () => {
    const issuer = new URL(issuerUrl())
    const config = await oidc.discovery(
      issuer,
      env().KEYCLOAK_CLIENT_ID,
      undefined,
      oidc.ClientSecretBasic(env().KEYCLOAK_CLIENT_SECRET),
      issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
    )
    return config
  })().catch((error: unknown) => {
    configuration = undefined
    throw error
  })
  return configuration
}

const redirectUri = () => `${env().PORTAL_URL}/auth/callback`

/** Only paths on the portal itself may be returned to after sign-in. */
export function safeReturnTo(value: string | null | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/'
  return value
}

export async function startLogin(returnTo: string, locale: string) {
  const config = await oidcConfiguration()
  const codeVerifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  await db().loginAttempt.create({
    data: {
      id: randomBytes(16).toString('hex'),
      state,
      codeVerifier,
      nonce,
      returnTo: safeReturnTo(returnTo),
      expiresAt: new Date(Date.now() + 10 * 60_000),
    },
  })
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri(),
    // 'organization:*' puts every organisation in the token without Keycloak's picker page.
    scope: 'openid email profile organization:*',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ui_locales: locale,
  })
  return redirect(url.href)
}

const idTokenClaims = z.object({
  sub: z.string().min(1),
  sid: z.string().optional(),
  email: z.email(),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  locale: z.string().optional(),
  roles: z.array(z.string()).optional(),
})

export class LoginError extends Error {
  constructor(
    readonly reason: 'expired' | 'denied' | 'invalid',
    message: string,
  ) {
    super(message)
  }
}

/** Finishes the code flow: verifies state, PKCE and nonce, then opens a portal session. */
export async function finishLogin(request: Request) {
  const incoming = new URL(request.url)
  const state = incoming.searchParams.get('state')
  if (incoming.searchParams.get('error')) {
    throw new LoginError('denied', incoming.searchParams.get('error_description') ?? 'sign-in was cancelled')
  }
  const attempt = state ? await db().loginAttempt.findUnique({ where: { state } }) : null
  if (!attempt || attempt.expiresAt < new Date()) throw new LoginError('expired', 'unknown or expired sign-in attempt')
  await db().loginAttempt.delete({ where: { id: attempt.id } })

  const config = await oidcConfiguration()
  // The public URL, not the one the proxy forwarded to us, is what Keycloak redirected to.
  const currentUrl = new URL(`${env().PORTAL_URL}${incoming.pathname}${incoming.search}`)
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>
  try {
    tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: attempt.codeVerifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    })
  } catch (error) {
    logger.warn({ err: error }, 'code exchange failed')
    throw new LoginError('invalid', 'the sign-in could not be verified')
  }
  const claims = idTokenClaims.parse(tokens.claims())
  const name = claims.name ?? ([claims.given_name, claims.family_name].filter(Boolean).join(' ') || claims.email)
  const realmRoles = (claims.roles ?? []).filter((r): r is RealmRole => (REALM_ROLES as readonly string[]).includes(r))
  const user = await db().user.upsert({
    where: { keycloakId: claims.sub },
    create: { keycloakId: claims.sub, email: claims.email.toLowerCase(), name, locale: claims.locale, realmRoles },
    update: { email: claims.email.toLowerCase(), name, lastSeenAt: new Date(), realmRoles },
  })
  const firstMembership = await db().membership.findFirst({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } })
  const session = await createSession({
    userId: user.id,
    keycloakSessionId: claims.sid ?? null,
    idToken: tokens.id_token ?? '',
    realmRoles,
    activeOrganizationId: firstMembership?.organizationId ?? null,
  })
  logger.info({ userId: user.id }, 'signed in')
  // Have the keys that sign logout tokens before this session can be ended:
  // fetched only when Keycloak's logout call is already waiting on us, a busy
  // Keycloak sometimes did not answer in time, and the session outlived the logout.
  void logoutKeys()
    .then((keys) => (keys.fresh ? undefined : keys.reload()))
    .catch((error: unknown) => logger.warn({ err: error }, 'could not fetch the keys that sign logout tokens; tried again at the first logout'))
  return { returnTo: attempt.returnTo, setCookie: session.setCookie }
}

/** RP-initiated logout: the Keycloak session ends too, then Keycloak sends the browser back. */
export async function logoutUrl(session: PortalSession | null) {
  const config = await oidcConfiguration()
  const params: Record<string, string> = {
    post_logout_redirect_uri: `${env().PORTAL_URL}/?signedOut=1`,
    client_id: env().KEYCLOAK_CLIENT_ID,
  }
  if (session?.idToken) params.id_token_hint = session.idToken
  return oidc.buildEndSessionUrl(config, params).href
}

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined

/**
 * OIDC Back-Channel Logout: Keycloak tells us a session ended (sign-out in
 * another app, an admin ending it, expiry). We verify the logout token and
 * delete the matching portal sessions.
 */
/** The keys that sign logout tokens, kept a day (an unknown key id still makes jose fetch them again at once). */
async function logoutKeys() {
  if (jwks) return jwks
  const config = await oidcConfiguration()
  const jwksUri = config.serverMetadata().jwks_uri
  if (!jwksUri) throw new Error('the identity provider publishes no jwks_uri')
  jwks ??= createRemoteJWKSet(new URL(jwksUri), { cacheMaxAge: 24 * 60 * 60 * 1000, timeoutDuration: 15_000 })
  return jwks
}

export async function handleBackchannelLogout(logoutToken: string): Promise<number> {
  const { payload } = await jwtVerify(logoutToken, await logoutKeys(), {
    issuer: issuerUrl(),
    audience: env().KEYCLOAK_CLIENT_ID,
    maxTokenAge: '5m',
  })
  const events = payload.events as Record<string, unknown> | undefined
  if (!events || !('http://schemas.openid.net/event/backchannel-logout' in events) || 'nonce' in payload) {
    throw new Error('not a logout token')
  }
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined
  if (sid) {
    const { count } = await db().session.deleteMany({ where: { keycloakSessionId: sid } })
    return count
  }
  if (!payload.sub) throw new Error('logout token names neither sid nor sub')
  const { count } = await db().session.deleteMany({ where: { user: { keycloakId: payload.sub } } })
  return count
}

export async function requireUser(request: Request): Promise<PortalSession> {
  const session = await getSession(request)
  if (!session) {
    const url = new URL(request.url)
    throw redirect(`/auth/login?returnTo=${encodeURIComponent(url.pathname + url.search)}`)
  }
  return session
}

export function hasRole(session: PortalSession, role: RealmRole) {
  return session.realmRoles.includes(role)
}

export async function requireRole(request: Request, ...roles: RealmRole[]): Promise<PortalSession> {
  const session = await requireUser(request)
  if (!roles.some((r) => hasRole(session, r))) throw new Response('Forbidden', { status: 403 })
  return session
}
