import { useEffect } from 'react'

/**
 * Notices in an open tab that the Keycloak session has ended elsewhere (signed
 * out in another tool, ended by an admin) and closes the portal session too.
 * keycloak-js runs against a public client that carries no roles and no
 * scopes; the portal's own tokens never reach the browser. The server learns
 * the same through back-channel logout; this makes the open page follow at once.
 */
export function SessionWatch({ url, realm, clientId }: { url: string; realm: string; clientId: string }) {
  useEffect(() => {
    let cancelled = false
    void import('keycloak-js').then(async ({ default: Keycloak }) => {
      const keycloak = new Keycloak({ url, realm, clientId })
      const ended = () => {
        if (!cancelled) window.location.assign('/auth/ended')
      }
      keycloak.onAuthLogout = ended
      try {
        // Only a change seen by the session iframe ends the portal session:
        // an initial "not signed in" may just be a browser that blocks the frame's cookie.
        const authenticated = await keycloak.init({
          onLoad: 'check-sso',
          pkceMethod: 'S256',
          silentCheckSsoRedirectUri: `${window.location.origin}/silent-check-sso.html`,
          // Never leave the page: where the browser blocks the frame's cookies, the watch simply stays off.
          silentCheckSsoFallback: false,
          checkLoginIframe: true,
          checkLoginIframeInterval: 5,
        })
        // Says whether the watch is on (it is off where the frame's cookie is blocked); the end-to-end tests wait for it.
        if (!cancelled) document.documentElement.dataset.sessionWatch = authenticated ? 'on' : 'off'
      } catch {
        // Keycloak unreachable: keep the page; the server still checks every request.
      }
    })
    return () => {
      cancelled = true
    }
  }, [url, realm, clientId])
  return null
}
