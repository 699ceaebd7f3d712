/**
 * One confidential OIDC client per tool instance, in the realm "commons".
 *
 * The provisioner signs in as the service account `commons-provisioner`
 * (client credentials; realm-management manage-clients, view-clients,
 * query-clients). Those roles cover every client of the realm, the portal's
 * own included, so this module changes or deletes only clients whose
 * attribute `commons.instance` proves they belong to the instance at hand.
 *
 * Who may sign in is decided by Keycloak, not by the tool: every instance
 * client is bound to the browser flow "commons tool browser", which refuses
 * anyone who is not a member of the organization named by the client's
 * `commons.organization` attribute (keycloak/extensions/organization-gate,
 * docs/decisions/0005-organisation-gate-in-keycloak.md).
 */
import { z } from 'zod'

/** Proves which instance a client belongs to; absent on every client the provisioner did not make. */
export const INSTANCE_ATTRIBUTE = 'commons.instance'
/** Alias of the Keycloak organization whose members may sign in; read by the organization gate. */
export const ORGANIZATION_ATTRIBUTE = 'commons.organization'
/** Name of the provisioner that made the client: several provisioners (test runs) can share one realm. */
export const PROVISIONER_ATTRIBUTE = 'commons.provisioner'
/** The browser flow with the organization gate (keycloak/realm-commons.json). */
export const TOOL_BROWSER_FLOW_ALIAS = 'commons tool browser'

export type KeycloakClientErrorCode =
  /** Keycloak did not answer at all (connection refused, timeout). */
  | 'unreachable'
  /** The provisioner's client credentials were refused. */
  | 'authentication_failed'
  /** The service account lacks a role for this call. */
  | 'forbidden'
  /** A client with this clientId exists but belongs to another instance, or to nobody we know. */
  | 'not_owned'
  /** The realm has no "commons tool browser" flow: it was imported from an older realm file. */
  | 'flow_missing'
  /** The spec given to ensureClient is not usable. */
  | 'invalid_spec'
  /** Keycloak answered with a status or body this module does not expect. */
  | 'unexpected_response'

export class KeycloakClientError extends Error {
  override readonly name = 'KeycloakClientError'
  constructor(
    readonly code: KeycloakClientErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface InstanceClientSpec {
  /** e.g. "tool-nextcloud-3f9a"; unique in the realm */
  clientId: string
  instanceId: string
  /** the organisation's slug, which is its Keycloak organization alias */
  organizationAlias: string
  /** shown on Keycloak's pages, e.g. "Nextcloud (Groene Bakkerij)" */
  name: string
  rootUrl: string
  redirectUris: string[]
  postLogoutRedirectUris: string[]
  webOrigins: string[]
  /** generated and stored by the provisioner, handed to the tool */
  secret: string
}

export interface InstanceClientSummary {
  clientId: string
  instanceId: string
  organizationAlias: string
}

const nonEmpty = z.string().trim().min(1)
const httpUrl = z.url({ protocol: /^https?$/ })
const specSchema = z.object({
  clientId: nonEmpty.max(255),
  instanceId: nonEmpty,
  organizationAlias: nonEmpty,
  name: nonEmpty,
  rootUrl: httpUrl,
  // A tool without a redirect URI could never complete a sign-in: refuse early rather than make a dead client.
  redirectUris: z.array(nonEmpty).min(1),
  postLogoutRedirectUris: z.array(nonEmpty),
  webOrigins: z.array(nonEmpty),
  // Keycloak accepts any secret; a short one would be guessable.
  secret: z.string().min(32),
})

const clientSchema = z.looseObject({
  id: z.string(),
  clientId: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  enabled: z.boolean().optional(),
  protocol: z.string().optional(),
  publicClient: z.boolean().optional(),
  bearerOnly: z.boolean().optional(),
  clientAuthenticatorType: z.string().optional(),
  secret: z.string().optional(),
  standardFlowEnabled: z.boolean().optional(),
  implicitFlowEnabled: z.boolean().optional(),
  directAccessGrantsEnabled: z.boolean().optional(),
  serviceAccountsEnabled: z.boolean().optional(),
  consentRequired: z.boolean().optional(),
  fullScopeAllowed: z.boolean().optional(),
  rootUrl: z.string().optional(),
  redirectUris: z.array(z.string()).optional(),
  webOrigins: z.array(z.string()).optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  authenticationFlowBindingOverrides: z.record(z.string(), z.string()).optional(),
})
type ClientRepresentation = z.infer<typeof clientSchema>

const flowSchema = z.looseObject({ id: z.string(), alias: z.string(), topLevel: z.boolean().optional() })
const tokenSchema = z.looseObject({ access_token: z.string(), expires_in: z.number() })

/** Clients are listed in pages of this size; a realm holds a few thousand at most. */
const PAGE_SIZE = 100

export class KeycloakInstanceClients {
  readonly #keycloakUrl: string
  readonly #realm: string
  readonly #clientId: string
  readonly #clientSecret: string
  readonly #owner: string
  #token: { value: string; renewAt: number } | null = null

  /** `owner`: the provisioner's name (PROVISIONER_NAME); it lists and touches only clients carrying it. */
  constructor(opts: { keycloakUrl: string; realm: string; clientId: string; clientSecret: string; owner?: string }) {
    this.#keycloakUrl = opts.keycloakUrl.replace(/\/+$/, '')
    this.#realm = opts.realm
    this.#clientId = opts.clientId
    this.#clientSecret = opts.clientSecret
    this.#owner = opts.owner ?? 'commons-provisioner'
  }

  /**
   * Creates the instance's client, or brings the existing one in line with
   * `spec`. Safe to repeat; writes nothing when the client already matches.
   */
  async ensureClient(spec: InstanceClientSpec): Promise<void> {
    const parsed = specSchema.safeParse(spec)
    if (!parsed.success) {
      throw new KeycloakClientError('invalid_spec', `client ${spec.clientId}: ${z.prettifyError(parsed.error)}`)
    }
    const desired = desiredRepresentation(spec, await this.#toolBrowserFlowId(), this.#owner)
    const existing = await this.#findClient(spec.clientId)
    if (!existing) {
      const response = await this.#call('POST', '/clients', desired, [409])
      if (response.status !== 409) return
      // Another pass created it between our look and our create: fall through to the ownership check.
    }
    const current = existing ?? (await this.#findClient(spec.clientId))
    if (!current) {
      throw new KeycloakClientError('unexpected_response', `client ${spec.clientId}: create answered 409, yet no such client exists`)
    }
    assertOwnedBy(current, spec.instanceId, this.#owner)
    if (differences(current, desired).length === 0) return
    // PUT changes only the fields it is given, so attributes Keycloak added itself survive.
    await this.#call('PUT', `/clients/${encodeURIComponent(current.id)}`, desired)
  }

  /** Deletes the instance's client. Safe to repeat: a client that is not there is already deleted. */
  async deleteClient(clientId: string, instanceId: string): Promise<void> {
    const existing = await this.#findClient(clientId)
    if (!existing) return
    assertOwnedBy(existing, instanceId, this.#owner)
    // 404: deleted by a concurrent pass after our look, which is the outcome we want.
    await this.#call('DELETE', `/clients/${encodeURIComponent(existing.id)}`, undefined, [404])
  }

  /** Every client made for an instance, so the provisioner can remove those whose instance is gone. */
  async listInstanceClients(): Promise<InstanceClientSummary[]> {
    const owned: InstanceClientSummary[] = []
    for (let first = 0; ; first += PAGE_SIZE) {
      const page = await this.#getClients(new URLSearchParams({ first: String(first), max: String(PAGE_SIZE) }))
      for (const client of page) {
        const instanceId = client.attributes?.[INSTANCE_ATTRIBUTE]
        if (!instanceId || ownerOf(client) !== this.#owner) continue
        owned.push({
          clientId: client.clientId,
          instanceId,
          organizationAlias: client.attributes?.[ORGANIZATION_ATTRIBUTE] ?? '',
        })
      }
      if (page.length < PAGE_SIZE) return owned
    }
  }

  async #findClient(clientId: string): Promise<ClientRepresentation | null> {
    // search=false asks for this exact clientId, not every clientId containing it.
    const found = await this.#getClients(new URLSearchParams({ clientId, search: 'false' }))
    return found.find((client) => client.clientId === clientId) ?? null
  }

  async #getClients(query: URLSearchParams): Promise<ClientRepresentation[]> {
    const response = await this.#call('GET', `/clients?${query}`)
    return parseBody(z.array(clientSchema), await response.json(), 'GET /clients')
  }

  /**
   * Looked up on every ensure rather than cached: the realm import gives the
   * flow a new id in every realm (ids in the realm file are not kept), and an
   * operator may recreate it. Listing flows needs only query-clients.
   */
  async #toolBrowserFlowId(): Promise<string> {
    const response = await this.#call('GET', '/authentication/flows')
    const flows = parseBody(z.array(flowSchema), await response.json(), 'GET /authentication/flows')
    const flow = flows.find((candidate) => candidate.alias === TOOL_BROWSER_FLOW_ALIAS && candidate.topLevel !== false)
    if (!flow) {
      throw new KeycloakClientError(
        'flow_missing',
        `realm ${this.#realm} has no authentication flow "${TOOL_BROWSER_FLOW_ALIAS}"; ` +
          'add it as in keycloak/realm-commons.json (docs/decisions/0005-organisation-gate-in-keycloak.md)',
      )
    }
    return flow.id
  }

  async #call(method: string, resource: string, body?: unknown, allowedStatuses: number[] = []): Promise<Response> {
    const url = `${this.#keycloakUrl}/admin/realms/${encodeURIComponent(this.#realm)}${resource}`
    const attempt = async () =>
      send(url, {
        method,
        headers: {
          authorization: `Bearer ${await this.#accessToken()}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    let response = await attempt()
    if (response.status === 401) {
      // The cached token was revoked or Keycloak's keys changed (a restart with a new database): sign in once more.
      this.#token = null
      response = await attempt()
    }
    if (response.ok || allowedStatuses.includes(response.status)) return response
    const detail = (await response.text()).slice(0, 500)
    const code: KeycloakClientErrorCode = response.status === 403 ? 'forbidden' : 'unexpected_response'
    throw new KeycloakClientError(code, `${method} ${resource}: ${response.status} ${detail}`, response.status)
  }

  async #accessToken(): Promise<string> {
    if (this.#token && Date.now() < this.#token.renewAt) return this.#token.value
    const url = `${this.#keycloakUrl}/realms/${encodeURIComponent(this.#realm)}/protocol/openid-connect/token`
    const response = await send(url, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: this.#clientId,
        client_secret: this.#clientSecret,
      }),
    })
    if (!response.ok) {
      const detail = (await response.text()).slice(0, 500)
      throw new KeycloakClientError(
        response.status === 400 || response.status === 401 ? 'authentication_failed' : 'unexpected_response',
        `client credentials of ${this.#clientId}: ${response.status} ${detail}`,
        response.status,
      )
    }
    const token = parseBody(tokenSchema, await response.json(), 'token endpoint')
    // Renewed half a minute early so a token never expires between our check and Keycloak's.
    this.#token = { value: token.access_token, renewAt: Date.now() + Math.max(0, token.expires_in - 30) * 1000 }
    return token.access_token
  }
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) })
  } catch (error) {
    throw new KeycloakClientError('unreachable', `${init.method ?? 'GET'} ${url}: ${String(error)}`, undefined, { cause: error })
  }
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw new KeycloakClientError('unexpected_response', `${what}: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

/** Clients made before the attribute existed belong to the default provisioner. */
function ownerOf(client: ClientRepresentation): string {
  return client.attributes?.[PROVISIONER_ATTRIBUTE] || 'commons-provisioner'
}

function assertOwnedBy(client: ClientRepresentation, instanceId: string, provisioner: string): void {
  const owner = client.attributes?.[INSTANCE_ATTRIBUTE]
  if (owner && ownerOf(client) !== provisioner) {
    throw new KeycloakClientError('not_owned', `client ${client.clientId} belongs to the provisioner ${ownerOf(client)}, not ${provisioner}`)
  }
  if (owner === instanceId) return
  throw new KeycloakClientError(
    'not_owned',
    owner
      ? `client ${client.clientId} belongs to instance ${owner}, not ${instanceId}`
      : `client ${client.clientId} was not made by the provisioner (no ${INSTANCE_ATTRIBUTE} attribute); leaving it alone`,
  )
}

type DesiredClient = Omit<ClientRepresentation, 'id'> & {
  attributes: Record<string, string>
  authenticationFlowBindingOverrides: Record<string, string>
}

function desiredRepresentation(spec: InstanceClientSpec, browserFlowId: string, provisioner: string): DesiredClient {
  return {
    clientId: spec.clientId,
    name: spec.name,
    description: `Tool instance ${spec.instanceId} of the organisation ${spec.organizationAlias}. Made by the provisioner; changes by hand are undone.`,
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    bearerOnly: false,
    clientAuthenticatorType: 'client-secret',
    secret: spec.secret,
    standardFlowEnabled: true,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
    consentRequired: false,
    // Tools get the user's identity, not the platform roles (platform-operator, ...) of the realm.
    fullScopeAllowed: false,
    rootUrl: spec.rootUrl,
    redirectUris: spec.redirectUris,
    webOrigins: spec.webOrigins,
    attributes: {
      [INSTANCE_ATTRIBUTE]: spec.instanceId,
      [ORGANIZATION_ATTRIBUTE]: spec.organizationAlias,
      [PROVISIONER_ATTRIBUTE]: provisioner,
      'post.logout.redirect.uris': spec.postLogoutRedirectUris.join('##'),
      // PKCE stays optional: some tools send it, some cannot. Empty clears a value set by hand.
      'pkce.code.challenge.method': '',
      'oauth2.device.authorization.grant.enabled': 'false',
      'oidc.ciba.grant.enabled': 'false',
    },
    authenticationFlowBindingOverrides: { browser: browserFlowId },
  }
}

/** Names of the fields where Keycloak's client differs from what the spec wants. */
function differences(current: ClientRepresentation, desired: DesiredClient): string[] {
  const changed: string[] = []
  for (const [key, want] of Object.entries(desired)) {
    if (key === 'attributes' || key === 'authenticationFlowBindingOverrides') continue
    const have: unknown = current[key]
    const same = Array.isArray(want) ? sameSet(want, Array.isArray(have) ? have : []) : have === want
    if (!same) changed.push(key)
  }
  for (const [name, want] of Object.entries(desired.attributes)) {
    if ((current.attributes?.[name] ?? '') !== want) changed.push(`attributes.${name}`)
  }
  for (const [binding, want] of Object.entries(desired.authenticationFlowBindingOverrides)) {
    if (current.authenticationFlowBindingOverrides?.[binding] !== want) changed.push(`authenticationFlowBindingOverrides.${binding}`)
  }
  return changed
}

function sameSet(a: readonly unknown[], b: readonly unknown[]): boolean {
  const left = new Set(a)
  const right = new Set(b)
  return left.size === right.size && [...left].every((item) => right.has(item))
}
