/**
 * A browser's part of a sign-in, done over plain HTTP: cookies kept by host
 * (not port) like a browser, redirects followed by hand, and Keycloak's login
 * pages (identity-first or one page) filled in. For the Matrix test, which
 * follows Synapse's SSO redirect to Keycloak and back.
 */
import { expect } from 'vitest'

export class CookieJar {
  private cookies = new Map<string, { host: string; path: string; name: string; value: string }>()

  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = header.split(';').map((part) => part.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      let cookiePath = url.pathname.replace(/\/[^/]*$/, '') || '/'
      let expired = false
      for (const attr of attrs) {
        const [key = '', val = ''] = attr.split('=')
        if (key.toLowerCase() === 'path' && val) cookiePath = val
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true
        if (key.toLowerCase() === 'expires' && Date.parse(val) < Date.now()) expired = true
      }
      const key = `${url.hostname}|${cookiePath}|${name}`
      if (expired) this.cookies.delete(key)
      else this.cookies.set(key, { host: url.hostname, path: cookiePath, name, value })
    }
  }

  header(url: URL): string {
    return [...this.cookies.values()]
      .filter((c) => c.host === url.hostname && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }
}

export type Hop = { url: string; status: number; location: string | null; body: string }

/** One request the way a browser makes it (cookies in and out), without following redirects. */
export async function request(jar: CookieJar, url: string, form?: Record<string, string>): Promise<Hop> {
  const target = new URL(url)
  const response = await fetch(target, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { cookie: jar.header(target), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form) : undefined,
    signal: AbortSignal.timeout(20_000),
  })
  jar.store(target, response)
  const location = response.headers.get('location')
  return { url, status: response.status, location: location ? new URL(location, target).href : null, body: await response.text() }
}

/** Follows redirects until a page answers or the next hop hands a login token to the client at `clientUrl`. */
export async function browse(jar: CookieJar, url: string, clientUrl: string, form?: Record<string, string>): Promise<Hop> {
  const handsToken = (location: string) => location.startsWith(clientUrl) && new URL(location).searchParams.has('loginToken')
  let hop = await request(jar, url, form)
  for (let i = 0; i < 10 && hop.location && hop.status >= 300 && hop.status < 400; i++) {
    if (handsToken(hop.location)) return hop
    hop = await request(jar, hop.location)
  }
  return hop
}

export const unescapeHtml = (s: string) =>
  s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')

/** The login form of a Keycloak page: its action and its hidden fields. */
function keycloakForm(html: string, pageUrl: string): { action: string; fields: Record<string, string>; asksPassword: boolean } {
  const form = /<form[^>]*id="kc-form-login"[^>]*>([\s\S]*?)<\/form>/.exec(html) ?? /<form[^>]*action="[^"]*login-actions\/authenticate[^"]*"[^>]*>([\s\S]*?)<\/form>/.exec(html)
  if (!form) throw new Error(`no Keycloak login form on ${pageUrl}:\n${html.slice(0, 2000)}`)
  const action = /action="([^"]+)"/.exec(form[0])?.[1]
  if (!action) throw new Error(`the Keycloak login form on ${pageUrl} has no action`)
  const fields: Record<string, string> = {}
  for (const input of form[1]?.match(/<input[^>]*>/g) ?? []) {
    const name = /name="([^"]+)"/.exec(input)?.[1]
    if (name && /type="hidden"/.test(input)) fields[name] = unescapeHtml(/value="([^"]*)"/.exec(input)?.[1] ?? '')
  }
  return { action: new URL(unescapeHtml(action), pageUrl).href, fields, asksPassword: /name="password"/.test(form[0]) }
}

/** Keycloak's login, identity-first (address, then password) or both on one page. */
export async function keycloakLogin(jar: CookieJar, page: Hop, email: string, password: string, clientUrl: string): Promise<Hop> {
  let form = keycloakForm(page.body, page.url)
  let hop: Hop
  if (!form.asksPassword) {
    hop = await browse(jar, form.action, clientUrl, { ...form.fields, username: email })
    expect(hop.status, `Keycloak's password page after the address (${hop.url})`).toBe(200)
    form = keycloakForm(hop.body, hop.url)
    expect(form.asksPassword, 'Keycloak asks for the password').toBe(true)
    hop = await browse(jar, form.action, clientUrl, { ...form.fields, password })
  } else {
    hop = await browse(jar, form.action, clientUrl, { ...form.fields, username: email, password })
  }
  return hop
}
