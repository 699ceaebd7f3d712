/**
 * The portal's door into the Keycloak admin REST API, as the service account
 * of the confidential client `commons-portal-admin` (client-credentials grant).
 *
 * That account holds only realm-management `manage-organizations` plus, through
 * Keycloak's fine-grained admin permissions, `view` and `manage` on users (see
 * keycloak/realm-commons.json): it manages organisations and their members and
 * looks people up; it cannot map roles, impersonate, or create clients or roles.
 */

export interface KeycloakAdminConfig {
  /** Keycloak base URL, e.g. http://127.0.0.1:8180 */
  baseUrl: string
  realm: string
  clientId: string
  clientSecret: string
}

/** A refusal or failure of the Keycloak admin API; `status` is the HTTP status (0: no response). */
export class KeycloakAdminError extends Error {
  override readonly name = 'KeycloakAdminError'
  constructor(
    readonly status: number,
    message: string,
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation}: ${message} (${status})`, options)
  }

  get isNotFound(): boolean {
    return this.status === 404
  }

  get isConflict(): boolean {
    return this.status === 409
  }
}

export type OrganizationAttributes = Record<string, string | string[]>

export interface NewOrganization {
  name: string
  /** URL-safe, unique, fixed for life; Keycloak refuses to change it. */
  alias: string
  description?: string
  attributes?: OrganizationAttributes
}

export interface OrganizationChanges {
  name?: string
  description?: string
  enabled?: boolean
  /** Replaces all attributes. */
  attributes?: OrganizationAttributes
}

export interface KeycloakOrganization {
  id: string
  name: string
  alias: string
  enabled: boolean
  description?: string
  attributes: Record<string, string[]>
  domains: { name: string; verified: boolean }[]
}

export interface KeycloakUser {
  id: string
  username: string
  email?: string
  firstName?: string
  lastName?: string
  enabled: boolean
  emailVerified: boolean
}

export interface KeycloakMember extends KeycloakUser {
  /** MANAGED: the account came with the organisation's identity provider. */
  membershipType?: 'MANAGED' | 'UNMANAGED'
}

interface OrganizationRepresentation {
  id?: string
  name: string
  alias: string
  enabled?: boolean
  description?: string
  attributes?: Record<string, string[]>
  domains?: { name: string; verified?: boolean }[]
  redirectUrl?: string
}

interface CachedToken {
  value: string
  /** epoch ms after which a new token is fetched */
  renewAt: number
}

const PAGE_SIZE = 100

function toAttributes(attributes: OrganizationAttributes | undefined): Record<string, string[]> {
  const result: Record<string, string[]> = {}
  for (const [key, value] of Object.entries(attributes ?? {})) result[key] = Array.isArray(value) ? value : [value]
  return result
}

function toOrganization(rep: OrganizationRepresentation & { id: string }): KeycloakOrganization {
  return {
    id: rep.id,
    name: rep.name,
    alias: rep.alias,
    enabled: rep.enabled ?? true,
    description: rep.description,
    attributes: rep.attributes ?? {},
    domains: (rep.domains ?? []).map((domain) => ({ name: domain.name, verified: domain.verified ?? false })),
  }
}

function toUser(rep: KeycloakUser): KeycloakUser {
  return {
    id: rep.id,
    username: rep.username,
    email: rep.email,
    firstName: rep.firstName,
    lastName: rep.lastName,
    enabled: rep.enabled,
    emailVerified: rep.emailVerified,
  }
}

function toMember(rep: KeycloakMember): KeycloakMember {
  return rep.membershipType ? { ...toUser(rep), membershipType: rep.membershipType } : toUser(rep)
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    for (const key of ['errorMessage', 'error_description', 'error']) {
      if (typeof body[key] === 'string' && body[key]) return body[key]
    }
  } catch {
    // not JSON
  }
  return text.trim() || response.statusText || 'request failed'
}

export class KeycloakAdmin {
  readonly #baseUrl: string
  readonly #realm: string
  readonly #clientId: string
  readonly #clientSecret: string
  #token: CachedToken | null = null
  #pendingToken: Promise<string> | null = null

  constructor(config: KeycloakAdminConfig) {
    this.#baseUrl = config.baseUrl.replace(/\/+$/, '')
    this.#realm = config.realm
    this.#clientId = config.clientId
    this.#clientSecret = config.clientSecret
  }

  // ------------------------------------------------------------ organisations

  /**
   * Creates the organisation and returns its Keycloak id. Keycloak 26.7 needs
   * no e-mail domain for an organisation, so none is set. A name or alias
   * already in use is a KeycloakAdminError with status 409.
   */
  async createOrganization(input: NewOrganization): Promise<string> {
    const rep: OrganizationRepresentation = {
      name: input.name,
      alias: input.alias,
      enabled: true,
      description: input.description,
      attributes: toAttributes(input.attributes),
    }
    const response = await this.#request('create organization', 'POST', '/organizations', rep)
    const id = response.headers.get('location')?.split('/').pop()
    if (!id) throw new KeycloakAdminError(response.status, 'no Location header in the answer', 'create organization')
    return id
  }

  /** The organisation, or null when Keycloak has none with this id. */
  async getOrganization(orgId: string): Promise<KeycloakOrganization | null> {
    const response = await this.#request('get organization', 'GET', `/organizations/${enc(orgId)}`, undefined, [404])
    if (response.status === 404) return null
    return toOrganization((await response.json()) as OrganizationRepresentation & { id: string })
  }

  /** Changes the given fields; Keycloak's PUT replaces the whole organisation, so the rest is read first. */
  async updateOrganization(orgId: string, changes: OrganizationChanges): Promise<void> {
    const current = await this.getOrganization(orgId)
    if (!current) throw new KeycloakAdminError(404, 'Organization not found.', 'update organization')
    const rep: OrganizationRepresentation = {
      id: current.id,
      alias: current.alias,
      name: changes.name ?? current.name,
      enabled: changes.enabled ?? current.enabled,
      description: changes.description ?? current.description,
      attributes: changes.attributes ? toAttributes(changes.attributes) : current.attributes,
      domains: current.domains,
    }
    await this.#request('update organization', 'PUT', `/organizations/${enc(orgId)}`, rep)
  }

  /** Deletes the organisation; false when it did not exist (already deleted). */
  async deleteOrganization(orgId: string): Promise<boolean> {
    const response = await this.#request('delete organization', 'DELETE', `/organizations/${enc(orgId)}`, undefined, [404])
    return response.status !== 404
  }

  // ------------------------------------------------------------ members

  /**
   * Makes the user a member; false when they already were one. An unknown
   * organisation or user is a KeycloakAdminError with status 404.
   */
  async addOrganizationMember(orgId: string, userId: string): Promise<boolean> {
    // The body is the bare user id as a JSON string.
    const response = await this.#request(
      'add organization member',
      'POST',
      `/organizations/${enc(orgId)}/members`,
      userId,
      [409],
    )
    return response.status !== 409
  }

  /**
   * Ends the membership (the account itself stays); false when the user was
   * not a member. An unknown organisation is a KeycloakAdminError with status 404.
   */
  async removeOrganizationMember(orgId: string, userId: string): Promise<boolean> {
    await this.#requireOrganization(orgId, 'remove organization member')
    // Keycloak answers 404 both for "no such organisation" and "not a member"; the check above tells them apart.
    const response = await this.#request(
      'remove organization member',
      'DELETE',
      `/organizations/${enc(orgId)}/members/${enc(userId)}`,
      undefined,
      [404],
    )
    return response.status !== 404
  }

  /** All members of the organisation. */
  async listOrganizationMembers(orgId: string): Promise<KeycloakMember[]> {
    const members: KeycloakMember[] = []
    for (let first = 0; ; first += PAGE_SIZE) {
      const response = await this.#request(
        'list organization members',
        'GET',
        `/organizations/${enc(orgId)}/members?first=${first}&max=${PAGE_SIZE}`,
      )
      const page = (await response.json()) as KeycloakMember[]
      members.push(...page.map(toMember))
      if (page.length < PAGE_SIZE) return members
    }
  }

  // ------------------------------------------------------------ users

  /** The user with exactly this e-mail address (case-insensitive), or null. */
  async findUserByEmail(email: string): Promise<KeycloakUser | null> {
    const response = await this.#request(
      'find user by email',
      'GET',
      `/users?exact=true&briefRepresentation=true&email=${encodeURIComponent(email)}`,
    )
    const users = (await response.json()) as KeycloakUser[]
    const wanted = email.trim().toLowerCase()
    const user = users.find((candidate) => candidate.email?.toLowerCase() === wanted)
    return user ? toUser(user) : null
  }

  // ------------------------------------------------------------ transport

  async #requireOrganization(orgId: string, operation: string): Promise<void> {
    const response = await this.#request(operation, 'GET', `/organizations/${enc(orgId)}`, undefined, [404])
    if (response.status === 404) throw new KeycloakAdminError(404, 'Organization not found.', operation)
  }

  /**
   * One admin API call. Statuses in `accepted` are returned instead of thrown;
   * a 401 (token revoked or expired early) is retried once with a new token.
   */
  async #request(
    operation: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    resource: string,
    body?: unknown,
    accepted: number[] = [],
  ): Promise<Response> {
    const url = `${this.#baseUrl}/admin/realms/${enc(this.#realm)}${resource}`
    for (let attempt = 0; ; attempt++) {
      const token = await this.#accessToken()
      let response: Response
      try {
        response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
      } catch (error) {
        throw new KeycloakAdminError(0, `Keycloak unreachable at ${this.#baseUrl}`, operation, { cause: error })
      }
      if (response.status === 401 && attempt === 0) {
        await response.body?.cancel()
        this.#token = null
        continue
      }
      if (response.ok || accepted.includes(response.status)) return response
      throw new KeycloakAdminError(response.status, await errorMessage(response), operation)
    }
  }

  #accessToken(): Promise<string> {
    if (this.#token && Date.now() < this.#token.renewAt) return Promise.resolve(this.#token.value)
    // Concurrent callers share one token request.
    this.#pendingToken ??= this.#fetchToken().finally(() => {
      this.#pendingToken = null
    })
    return this.#pendingToken
  }

  async #fetchToken(): Promise<string> {
    const operation = 'service account login'
    let response: Response
    try {
      response = await fetch(`${this.#baseUrl}/realms/${enc(this.#realm)}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: this.#clientId,
          client_secret: this.#clientSecret,
        }),
      })
    } catch (error) {
      throw new KeycloakAdminError(0, `Keycloak unreachable at ${this.#baseUrl}`, operation, { cause: error })
    }
    if (!response.ok) throw new KeycloakAdminError(response.status, await errorMessage(response), operation)
    const body = (await response.json()) as { access_token?: unknown; expires_in?: unknown }
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new KeycloakAdminError(response.status, 'token response without access_token/expires_in', operation)
    }
    // Renew 30 s before expiry (or halfway for very short tokens), so no request carries a token that dies in flight.
    const lifetimeMs = body.expires_in * 1000
    this.#token = { value: body.access_token, renewAt: Date.now() + Math.max(lifetimeMs - 30_000, lifetimeMs / 2) }
    return body.access_token
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment)
}
