import type { RequestHandler } from 'express'
import type { Env } from '../app/utils/env.server.ts'

/**
 * A strict Content-Security-Policy: everything comes from the portal itself
 * (scripts only with the per-request nonce); the one other origin is
 * Keycloak, for sign-in redirects and the keycloak-js session check frame.
 */
export function securityHeaders(config: Env): RequestHandler {
  const keycloak = new URL(config.KEYCLOAK_URL).origin
  const dev = config.NODE_ENV === 'development'
  return (req, res, next) => {
    // keycloak-js loads this one page of ours in a hidden frame of our own pages.
    const frameable = req.path === '/silent-check-sso.html'
    const nonce = res.locals.cspNonce as string
    const directives = [
      "default-src 'self'",
      `script-src 'self' 'nonce-${nonce}'`,
      // Vite injects styles during development only.
      dev ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      dev ? `connect-src 'self' ${keycloak} ws://localhost:* ws://127.0.0.1:*` : `connect-src 'self' ${keycloak}`,
      `frame-src 'self' ${keycloak}`,
      `form-action 'self' ${keycloak}`,
      frameable ? "frame-ancestors 'self'" : "frame-ancestors 'none'",
      "base-uri 'none'",
      "object-src 'none'",
    ]
    res.setHeader('Content-Security-Policy', directives.join('; '))
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'same-origin')
    res.setHeader('X-Frame-Options', frameable ? 'SAMEORIGIN' : 'DENY')
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()')
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    next()
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Session cookies are SameSite=Lax; on top of that a state-changing request
 * sent by a browser from another site is refused. Keycloak's back-channel
 * logout is server-to-server (no Origin header) and passes.
 */
export function rejectCrossSiteForms(config: Env): RequestHandler {
  const portalOrigin = new URL(config.PORTAL_URL).origin
  return (req, res, next) => {
    if (!UNSAFE.has(req.method)) return next()
    const origin = req.get('Origin')
    const site = req.get('Sec-Fetch-Site')
    const foreignOrigin = origin !== undefined && origin !== 'null' && origin !== portalOrigin
    if (foreignOrigin || site === 'cross-site' || (origin === 'null' && site !== 'same-origin')) {
      res
        .status(403)
        .type('text/plain; charset=utf-8')
        .send(
          'This form was not sent from the Commons Portal itself, so nothing was changed. Go back to the portal and try again.\n\n' +
            'Dit formulier kwam niet van het Commons Portaal zelf, dus er is niets gewijzigd. Ga terug naar het portaal en probeer het opnieuw.\n',
        )
      return
    }
    next()
  }
}
