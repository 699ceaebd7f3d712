/**
 * Against the real Keycloak started by the test harness (test/run.ts), with
 * the realm file and the organization-gate extension: the provisioner's
 * service account makes the clients, the master admin makes organisations
 * and people, and sign-ins go through Keycloak's login pages over plain HTTP,
 * as a browser would.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  INSTANCE_ATTRIBUTE,
  KeycloakClientError,
  KeycloakInstanceClients,
  ORGANIZATION_ATTRIBUTE,
  TOOL_BROWSER_FLOW_ALIAS,
  type InstanceClientSpec,
} from './instance-clients.ts'

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run these tests through the harness, npx tsx test/run.ts unit provisioner/src/keycloak`)
  return value
}

const keycloakUrl = requiredEnv('KEYCLOAK_URL').replace(/\/+$/, '')
const issuer = `${keycloakUrl}/realms/commons`
const portalRedirectUri = `${requiredEnv('PORTAL_URL').replace(/\/+$/, '')}/auth/callback`
const unique = randomBytes(4).toString('hex')
// Nothing listens here: a sign-in that gets through ends in a redirect to it carrying `code=`.
const toolOrigin = 'http://127.0.0.1:9'
const toolRedirectUri = `${toolOrigin}/oauth/callback`
const DENY_MESSAGE_EN = 'You are not a member of the organisation that owns this tool. Ask its admin to invite you.'
const DENY_MESSAGE_NL = 'Je bent geen lid van de organisatie die deze tool beheert.'

const clients = new KeycloakInstanceClients({
  keycloakUrl,
  realm: 'commons',
  clientId: 'commons-provisioner',
  clientSecret: requiredEnv('PROVISIONER_CLIENT_SECRET'),
})

// ---------------------------------------------------------------- master admin (test fixtures only)

let masterToken = ''

async function masterAdmin(method: string, resource: string, body?: unknown): Promise<Response> {
  if (!masterToken) {
    const response = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: 'admin',
        password: requiredEnv('TEST_KEYCLOAK_MASTER_PASSWORD'),
      }),
    })
    expect(response.status, 'master admin sign-in').toBe(200)
    masterToken = ((await response.json()) as { access_token: string }).access_token
  }
  const response = await fetch(`${keycloakUrl}/admin/realms/commons${resource}`, {
    method,
    headers: { authorization: `Bearer ${masterToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok && response.status !== 404) {
    throw new Error(`${method} ${resource}: ${response.status} ${await response.text()}`)
  }
  return response
}

function idFromLocation(response: Response): string {
  const id = response.headers.get('location')?.split('/').pop()
  if (!id) throw new Error(`no Location in ${response.status} answer`)
  return id
}

interface ClientView {
  id: string
  clientId: string
  secret?: string
  publicClient: boolean
  standardFlowEnabled: boolean
  implicitFlowEnabled: boolean
  directAccessGrantsEnabled: boolean
  serviceAccountsEnabled: boolean
  fullScopeAllowed: boolean
  rootUrl?: string
  redirectUris: string[]
  webOrigins: string[]
  attributes: Record<string, string>
  authenticationFlowBindingOverrides: Record<string, string>
}

async function clientsNamed(clientId: string): Promise<ClientView[]> {
  const response = await masterAdmin('GET', `/clients?${new URLSearchParams({ clientId, search: 'false' })}`)
  return (await response.json()) as ClientView[]
}

async function toolBrowserFlowId(): Promise<string> {
  const flows = (await (await masterAdmin('GET', '/authentication/flows')).json()) as { id: string; alias: string }[]
  const flow = flows.find((candidate) => candidate.alias === TOOL_BROWSER_FLOW_ALIAS)
  if (!flow) throw new Error(`flow ${TOOL_BROWSER_FLOW_ALIAS} missing from the realm`)
  return flow.id
}

const cleanups: (() => Promise<unknown>)[] = []

async function createOrganization(alias: string): Promise<string> {
  const id = idFromLocation(await masterAdmin('POST', '/organizations', { name: `Test coop ${alias}`, alias, enabled: true }))
  cleanups.push(() => masterAdmin('DELETE', `/organizations/${id}`))
  return id
}

async function createPerson(email: string, organizationId?: string): Promise<{ email: string; password: string }> {
  const password = randomBytes(12).toString('hex')
  const id = idFromLocation(
    await masterAdmin('POST', '/users', {
      username: email,
      email,
      firstName: 'Test',
      lastName: email.split('@')[0],
      enabled: true,
      emailVerified: true,
      credentials: [{ type: 'password', value: password, temporary: false }],
    }),
  )
  cleanups.push(() => masterAdmin('DELETE', `/users/${id}`))
  if (organizationId) await masterAdmin('POST', `/organizations/${organizationId}/members`, id)
  return { email, password }
}

function spec(overrides: Partial<InstanceClientSpec> = {}): InstanceClientSpec {
  const instanceId = overrides.instanceId ?? `inst-${unique}`
  return {
    clientId: `tool-${instanceId}`,
    instanceId,
    organizationAlias: `coop-a-${unique}`,
    name: `Test tool ${instanceId}`,
    rootUrl: toolOrigin,
    redirectUris: [toolRedirectUri],
    postLogoutRedirectUris: [`${toolOrigin}/*`],
    webOrigins: [toolOrigin],
    secret: randomBytes(24).toString('hex'),
    ...overrides,
  }
}

/** Ensures the instance client and deletes it again after the tests. */
async function ensureForTest(clientSpec: InstanceClientSpec): Promise<void> {
  await clients.ensureClient(clientSpec)
  cleanups.push(() => clients.deleteClient(clientSpec.clientId, clientSpec.instanceId))
}

async function expectClientError(promise: Promise<unknown>, code: string): Promise<void> {
  const error: unknown = await promise.then(
    () => null,
    (rejection: unknown) => rejection,
  )
  expect(error).toBeInstanceOf(KeycloakClientError)
  expect(error).toMatchObject({ code })
}

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
}, 60_000)

// ---------------------------------------------------------------- a browser without a browser

type SignInOutcome =
  | { kind: 'redirected'; location: URL; loginPagesFilled: number; codeVerifier: string }
  | { kind: 'page'; status: number; html: string; loginPagesFilled: number }

/** Cookies and Keycloak's login pages, as a browser would handle them (redirects by hand, forms parsed from HTML). */
class CookieBrowser {
  readonly #cookies = new Map<string, string>()
  constructor(readonly language?: string) {}

  async #send(url: string, form?: Record<string, string>): Promise<Response> {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(this.language ? { 'accept-language': this.language } : {}),
      },
      body: form ? new URLSearchParams(form) : undefined,
    })
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute))
      if (expired || value === '' || value === '""') this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
    return response
  }

  /** Authorization code flow up to the redirect back to the client (or the page Keycloak stops on). */
  async signIn(opts: { clientId: string; redirectUri: string; person: { email: string; password: string } }): Promise<SignInOutcome> {
    const verifier = randomBytes(32).toString('base64url')
    let response = await this.#send(
      `${issuer}/protocol/openid-connect/auth?${new URLSearchParams({
        client_id: opts.clientId,
        redirect_uri: opts.redirectUri,
        response_type: 'code',
        scope: 'openid',
        state: randomBytes(8).toString('hex'),
        // The portal's client requires PKCE; the tool clients accept it.
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })}`,
    )
    let loginPagesFilled = 0
    const seen: string[] = []
    for (let step = 0; step < 8; step++) {
      seen.push(`${response.status} ${response.headers.get('location') ?? ''}`)
      const location = response.headers.get('location')
      if (location?.startsWith(opts.redirectUri)) {
        return { kind: 'redirected', location: new URL(location), loginPagesFilled, codeVerifier: verifier }
      }
      if (location) {
        response = await this.#send(new URL(location, keycloakUrl).href)
        continue
      }
      const html = await response.text()
      seen.push(pageSummary(html))
      const formTag = /<form\b[^>]*\bid="kc-form-login"[^>]*>/.exec(html)?.[0]
      const action = formTag && /\baction="([^"]+)"/.exec(formTag)?.[1]?.replaceAll('&amp;', '&')
      if (!action) return { kind: 'page', status: response.status, html, loginPagesFilled }
      // Identity-first login: the address on one page, the password on the next.
      const form: Record<string, string> = {}
      if (/\bname="username"/.test(html)) form.username = opts.person.email
      if (/\bname="password"/.test(html)) form.password = opts.person.password
      loginPagesFilled++
      response = await this.#send(action, form)
    }
    throw new Error(`sign-in to ${opts.clientId} did not finish within 8 steps:\n${seen.join('\n')}`)
  }
}

/** Which Keycloak page this is and what it says, for failure messages. */
function pageSummary(html: string): string {
  const page = /data-page-id="([^"]+)"/.exec(html)?.[1] ?? 'unknown page'
  const alert = /class="[^"]*(?:alert__title|kc-feedback-text|instruction)[^"]*"[^>]*>\s*([^<]+)/.exec(html)?.[1]?.trim()
  return alert ? `  ${page}: ${alert}` : `  ${page}`
}

function expectCode(outcome: SignInOutcome, redirectUri: string): string {
  if (outcome.kind !== 'redirected') throw new Error(`expected a redirect with a code, got a ${outcome.status} page:${pageSummary(outcome.html)}`)
  expect(`${outcome.location.origin}${outcome.location.pathname}`).toBe(redirectUri)
  expect(outcome.location.searchParams.get('error')).toBeNull()
  const code = outcome.location.searchParams.get('code')
  expect(code).toBeTruthy()
  return code ?? ''
}

function expectDenied(outcome: SignInOutcome, message: string): void {
  if (outcome.kind === 'redirected') throw new Error(`expected Keycloak's error page, got a redirect to ${outcome.location.href}`)
  expect(outcome.status).toBe(403)
  expect(outcome.html).toContain(message)
  // Nor a link that would hand the tool a code.
  expect(outcome.html).not.toMatch(/127\.0\.0\.1:9\/[^"'\s]*[?&]code=/)
}

// ---------------------------------------------------------------- the module

describe('KeycloakInstanceClients', { timeout: 30_000 }, () => {
  it('creates the client once and leaves it as it is when ensured again', async () => {
    const wanted = spec({ instanceId: `idem-${unique}` })
    await ensureForTest(wanted)
    const [created, ...others] = await clientsNamed(wanted.clientId)
    expect(others).toEqual([])
    expect(created).toMatchObject({
      clientId: wanted.clientId,
      secret: wanted.secret,
      publicClient: false,
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      fullScopeAllowed: false,
      rootUrl: toolOrigin,
      redirectUris: [toolRedirectUri],
      webOrigins: [toolOrigin],
      attributes: {
        [INSTANCE_ATTRIBUTE]: wanted.instanceId,
        [ORGANIZATION_ATTRIBUTE]: wanted.organizationAlias,
        'post.logout.redirect.uris': `${toolOrigin}/*`,
      },
      authenticationFlowBindingOverrides: { browser: await toolBrowserFlowId() },
    })

    await clients.ensureClient(wanted)
    expect(await clientsNamed(wanted.clientId)).toEqual([created])
  })

  it('brings a changed client back to the spec, new secret and redirect URIs included', async () => {
    const first = spec({ instanceId: `upd-${unique}` })
    await ensureForTest(first)
    const [client] = await clientsNamed(first.clientId)
    if (!client) throw new Error('client missing')
    // Someone edits the client by hand: direct access grants on, the gate's organisation gone.
    await masterAdmin('PUT', `/clients/${client.id}`, {
      ...client,
      directAccessGrantsEnabled: true,
      attributes: { ...client.attributes, [ORGANIZATION_ATTRIBUTE]: '' },
    })

    const second = { ...first, secret: randomBytes(24).toString('hex'), redirectUris: [toolRedirectUri, `${toolOrigin}/other`] }
    await clients.ensureClient(second)
    const [updated, ...others] = await clientsNamed(first.clientId)
    expect(others).toEqual([])
    expect(updated?.id).toBe(client.id)
    expect(updated).toMatchObject({
      secret: second.secret,
      directAccessGrantsEnabled: false,
      attributes: { [ORGANIZATION_ATTRIBUTE]: first.organizationAlias },
    })
    expect(new Set(updated?.redirectUris)).toEqual(new Set(second.redirectUris))
  })

  it('refuses to change or delete a client it cannot prove belongs to the instance', async () => {
    const foreignClientId = `foreign-${unique}`
    const foreignId = idFromLocation(await masterAdmin('POST', '/clients', { clientId: foreignClientId, publicClient: false }))
    cleanups.push(() => masterAdmin('DELETE', `/clients/${foreignId}`))
    await expectClientError(clients.ensureClient(spec({ clientId: foreignClientId })), 'not_owned')
    await expectClientError(clients.deleteClient(foreignClientId, `inst-${unique}`), 'not_owned')
    // The portal's own client is just another client the provisioner may not touch.
    await expectClientError(clients.ensureClient(spec({ clientId: 'commons-portal' })), 'not_owned')
    await expectClientError(clients.deleteClient('commons-portal', `inst-${unique}`), 'not_owned')

    const owned = spec({ instanceId: `own-${unique}` })
    await ensureForTest(owned)
    await expectClientError(clients.ensureClient({ ...owned, instanceId: `other-${unique}` }), 'not_owned')
    await expectClientError(clients.deleteClient(owned.clientId, `other-${unique}`), 'not_owned')
    expect(await clientsNamed(foreignClientId)).toHaveLength(1)
    expect(await clientsNamed(owned.clientId)).toHaveLength(1)
  })

  it('deletes a client, and deleting it again is not an error', async () => {
    const doomed = spec({ instanceId: `del-${unique}` })
    await clients.ensureClient(doomed)
    expect(await clientsNamed(doomed.clientId)).toHaveLength(1)
    await clients.deleteClient(doomed.clientId, doomed.instanceId)
    expect(await clientsNamed(doomed.clientId)).toEqual([])
    await clients.deleteClient(doomed.clientId, doomed.instanceId)
  })

  it('lists the instance clients it owns and nothing else', async () => {
    const listed = spec({ instanceId: `list-${unique}` })
    await ensureForTest(listed)
    const owned = await clients.listInstanceClients()
    expect(owned).toContainEqual({ clientId: listed.clientId, instanceId: listed.instanceId, organizationAlias: listed.organizationAlias })
    expect(owned.map((client) => client.clientId)).not.toContain('commons-portal')
    expect(owned.every((client) => client.instanceId !== '')).toBe(true)
  })

  it('rejects a spec that would make an unusable or weak client', async () => {
    await expectClientError(clients.ensureClient(spec({ redirectUris: [] })), 'invalid_spec')
    await expectClientError(clients.ensureClient(spec({ secret: 'short' })), 'invalid_spec')
    await expectClientError(clients.ensureClient(spec({ organizationAlias: ' ' })), 'invalid_spec')
  })

  it('reports refused credentials as authentication_failed', async () => {
    const wrong = new KeycloakInstanceClients({ keycloakUrl, realm: 'commons', clientId: 'commons-provisioner', clientSecret: 'wrong' })
    await expectClientError(wrong.listInstanceClients(), 'authentication_failed')
  })
})

// ---------------------------------------------------------------- the gate

describe('the organisation gate in Keycloak', { timeout: 30_000 }, () => {
  const aliasA = `coop-a-${unique}`
  const aliasB = `coop-b-${unique}`
  const toolOfA = spec({ instanceId: `gate-${unique}`, organizationAlias: aliasA })
  let memberOfA: { email: string; password: string }
  let memberOfB: { email: string; password: string }

  beforeAll(async () => {
    const organizationA = await createOrganization(aliasA)
    const organizationB = await createOrganization(aliasB)
    memberOfA = await createPerson(`member-a-${unique}@gate.test`, organizationA)
    memberOfB = await createPerson(`member-b-${unique}@gate.test`, organizationB)
    await ensureForTest(toolOfA)
  }, 60_000)

  it('lets a member of the owning organisation through, with a code the tool redeems with its secret', async () => {
    const outcome = await new CookieBrowser('en').signIn({ clientId: toolOfA.clientId, redirectUri: toolRedirectUri, person: memberOfA })
    const code = expectCode(outcome, toolRedirectUri)
    if (outcome.kind !== 'redirected') return
    expect(outcome.loginPagesFilled).toBeGreaterThan(0)

    const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: toolRedirectUri,
        client_id: toolOfA.clientId,
        client_secret: toolOfA.secret,
        code_verifier: outcome.codeVerifier,
      }),
    })
    expect(response.status).toBe(200)
    const tokens = (await response.json()) as { id_token: string }
    const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
    expect(claims).toMatchObject({ email: memberOfA.email, aud: toolOfA.clientId })
  })

  it('refuses a member of another organisation, with the reason and without a code', async () => {
    const outcome = await new CookieBrowser('en').signIn({ clientId: toolOfA.clientId, redirectUri: toolRedirectUri, person: memberOfB })
    expectDenied(outcome, DENY_MESSAGE_EN)
  })

  it('tells a Dutch browser why in Dutch', async () => {
    const outcome = await new CookieBrowser('nl').signIn({ clientId: toolOfA.clientId, redirectUri: toolRedirectUri, person: memberOfB })
    expectDenied(outcome, DENY_MESSAGE_NL)
  })

  it('refuses a non-member who already has a portal session (the SSO cookie)', async () => {
    const browser = new CookieBrowser('en')
    expectCode(await browser.signIn({ clientId: 'commons-portal', redirectUri: portalRedirectUri, person: memberOfB }), portalRedirectUri)

    const outcome = await browser.signIn({ clientId: toolOfA.clientId, redirectUri: toolRedirectUri, person: memberOfB })
    expect(outcome.loginPagesFilled).toBe(0)
    expectDenied(outcome, DENY_MESSAGE_EN)
  })

  it('lets a member with a portal session straight through (single sign-on still works)', async () => {
    const browser = new CookieBrowser('en')
    expectCode(await browser.signIn({ clientId: 'commons-portal', redirectUri: portalRedirectUri, person: memberOfA }), portalRedirectUri)

    const outcome = await browser.signIn({ clientId: toolOfA.clientId, redirectUri: toolRedirectUri, person: memberOfA })
    expectCode(outcome, toolRedirectUri)
    expect(outcome.loginPagesFilled).toBe(0)
  })

  it('does not count a refusal as a failed login (no brute-force lockout of the person)', async () => {
    // Keycloak's own "Deny access" would lock the person out of every password sign-in after two quick refusals.
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await new CookieBrowser('en').signIn({ clientId: toolOfA.clientId, redirectUri: toolRedirectUri, person: memberOfB })
      expectDenied(refused, DENY_MESSAGE_EN)
    }
    const portal = await new CookieBrowser('en').signIn({ clientId: 'commons-portal', redirectUri: portalRedirectUri, person: memberOfB })
    expectCode(portal, portalRedirectUri)
  })

  it('refuses everyone on a client that names no organisation', async () => {
    const clientId = `no-organisation-${unique}`
    const id = idFromLocation(
      await masterAdmin('POST', '/clients', {
        clientId,
        publicClient: false,
        secret: randomBytes(24).toString('hex'),
        standardFlowEnabled: true,
        redirectUris: [toolRedirectUri],
        authenticationFlowBindingOverrides: { browser: await toolBrowserFlowId() },
      }),
    )
    cleanups.push(() => masterAdmin('DELETE', `/clients/${id}`))
    const outcome = await new CookieBrowser('en').signIn({ clientId, redirectUri: toolRedirectUri, person: memberOfA })
    expectDenied(outcome, DENY_MESSAGE_EN)
  })
})
