/**
 * Integration test against a real Keycloak (scripts/keycloak.ts), own data
 * directory, port 8281. The first run on a machine also unpacks and prepares
 * the cached distribution.
 */
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDevUsers } from '../../../scripts/keycloak-dev-users.ts'
import { startKeycloak, type RunningKeycloak } from '../../../scripts/keycloak.ts'
import { KeycloakAdmin, KeycloakAdminError } from './keycloak-admin.server.ts'

const PORT = 8281
// The test plays the portal on this address, to receive back-channel logouts.
const PORTAL_URL = 'http://127.0.0.1:3999'
const REDIRECT_URI = `${PORTAL_URL}/auth/callback`
const DEMO_PASSWORD = 'commons-demo'
const adminCreds = { username: 'kc-test-admin', password: randomBytes(12).toString('hex') }
const secrets = {
  portal: randomBytes(16).toString('hex'),
  portalAdmin: randomBytes(16).toString('hex'),
  provisioner: randomBytes(16).toString('hex'),
}

let keycloak: RunningKeycloak
let dataDir: string
let admin: KeycloakAdmin

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'commons-kc-test-'))
  keycloak = await startKeycloak({
    port: PORT,
    dataDir,
    portalUrl: PORTAL_URL,
    secrets,
    adminUser: adminCreds.username,
    adminPassword: adminCreds.password,
    logFile: path.join(dataDir, 'keycloak.log'),
  })
  await importDevUsers(keycloak.url, adminCreds)
  admin = new KeycloakAdmin({
    baseUrl: keycloak.url,
    realm: 'commons',
    clientId: 'commons-portal-admin',
    clientSecret: secrets.portalAdmin,
  })
}, 600_000)

afterAll(async () => {
  await keycloak?.stop()
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true })
}, 60_000)

function uniqueAlias(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

async function userId(email: string): Promise<string> {
  const user = await admin.findUserByEmail(email)
  if (!user) throw new Error(`dev user ${email} missing`)
  return user.id
}

async function serviceAccountToken(clientId: string, clientSecret: string): Promise<string> {
  const response = await fetch(`${keycloak.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

/** Token of the master realm's bootstrap admin, to look things up that the service accounts may not see. */
async function masterAdminToken(): Promise<string> {
  const response = await fetch(`${keycloak.url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: adminCreds.username,
      password: adminCreds.password,
    }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

function adminApi(token: string, method: string, resource: string, body?: unknown): Promise<Response> {
  return fetch(`${keycloak.url}/admin/realms/commons${resource}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

/**
 * Authorization code flow with PKCE through Keycloak's login pages, as a
 * browser would do it; returns the claims of the ID token. `organization`
 * answers Keycloak's "choose an organisation" page, should it come.
 */
async function browserLogin(email: string, scope: string, organization?: string): Promise<Record<string, unknown>> {
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const cookies = new Map<string, string>()
  const send = async (url: string, form?: Record<string, string>) => {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
      body: form ? new URLSearchParams(form) : undefined,
    })
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(';')[0] ?? ''
      const at = pair.indexOf('=')
      cookies.set(pair.slice(0, at), pair.slice(at + 1))
    }
    return response
  }
  let response = await send(
    `${keycloak.issuer}/protocol/openid-connect/auth?${new URLSearchParams({
      client_id: 'commons-portal',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope,
      state: 'test-state',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`,
  )
  // The username page and the password page may be one page or two (identity-first login with organisations).
  for (let step = 0; step < 6; step++) {
    const location = response.headers.get('location')
    if (location?.startsWith(REDIRECT_URI)) {
      const code = new URL(location).searchParams.get('code')
      if (!code) throw new Error(`no code in ${location}`)
      const tokens = await fetch(`${keycloak.issuer}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          client_id: 'commons-portal',
          client_secret: secrets.portal,
          code_verifier: verifier,
        }),
      })
      const body = (await tokens.json()) as { id_token?: string }
      if (!body.id_token) throw new Error(`token exchange failed: ${JSON.stringify(body)}`)
      return JSON.parse(Buffer.from(body.id_token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >
    }
    if (location) {
      response = await send(new URL(location, keycloak.url).href)
      continue
    }
    const html = await response.text()
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&')
    if (!action) throw new Error(`no login form (status ${response.status}): ${html.slice(0, 500)}`)
    if (html.includes('name="kc.org"')) {
      if (!organization) throw new Error('Keycloak asks to choose an organisation')
      response = await send(action, { 'kc.org': organization })
    } else if (html.includes('name="password"')) {
      response = await send(action, { username: email, password: DEMO_PASSWORD })
    } else {
      response = await send(action, { username: email })
    }
  }
  throw new Error('login did not finish')
}

describe('KeycloakAdmin (commons-portal-admin service account)', () => {
  it('creates, updates and deletes an organisation and manages its members', async () => {
    const alias = uniqueAlias('fietsen')
    const orgId = await admin.createOrganization({
      name: `Fietsenmakers ${alias}`,
      alias,
      description: 'Coöperatieve fietsenmakers',
      attributes: { portalOrganisationId: 'org_123', sector: ['mobiliteit', 'ambacht'] },
    })
    expect(orgId).toMatch(/^[0-9a-f-]{36}$/)

    const created = await admin.getOrganization(orgId)
    expect(created).toMatchObject({
      id: orgId,
      alias,
      enabled: true,
      description: 'Coöperatieve fietsenmakers',
      attributes: { portalOrganisationId: ['org_123'], sector: ['mobiliteit', 'ambacht'] },
      domains: [],
    })

    await admin.updateOrganization(orgId, { description: 'Fietsen en reparatie' })
    expect(await admin.getOrganization(orgId)).toMatchObject({
      name: `Fietsenmakers ${alias}`,
      alias,
      description: 'Fietsen en reparatie',
      attributes: { portalOrganisationId: ['org_123'] },
    })

    const member = await userId('member@demo.commons.local')
    expect(await admin.addOrganizationMember(orgId, member)).toBe(true)
    expect(await admin.addOrganizationMember(orgId, member)).toBe(false)

    const members = await admin.listOrganizationMembers(orgId)
    expect(members).toHaveLength(1)
    expect(members[0]).toMatchObject({
      id: member,
      email: 'member@demo.commons.local',
      firstName: 'Mo',
      lastName: 'Member',
      membershipType: 'UNMANAGED',
    })

    expect(await admin.removeOrganizationMember(orgId, member)).toBe(true)
    expect(await admin.removeOrganizationMember(orgId, member)).toBe(false)
    expect(await admin.listOrganizationMembers(orgId)).toEqual([])

    expect(await admin.deleteOrganization(orgId)).toBe(true)
    expect(await admin.deleteOrganization(orgId)).toBe(false)
    expect(await admin.getOrganization(orgId)).toBeNull()
  })

  it('reports a name or alias in use as a 409', async () => {
    const alias = uniqueAlias('dubbel')
    const orgId = await admin.createOrganization({ name: `Dubbel ${alias}`, alias })
    try {
      const error = await admin.createOrganization({ name: `Ander ${alias}`, alias }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(KeycloakAdminError)
      expect((error as KeycloakAdminError).status).toBe(409)
    } finally {
      await admin.deleteOrganization(orgId)
    }
  })

  it('reports an unknown organisation or user as a 404', async () => {
    const member = await userId('member@demo.commons.local')
    const unknownOrg = '00000000-0000-0000-0000-000000000000'
    await expect(admin.addOrganizationMember(unknownOrg, member)).rejects.toMatchObject({ status: 404 })
    await expect(admin.removeOrganizationMember(unknownOrg, member)).rejects.toMatchObject({ status: 404 })
    await expect(admin.updateOrganization(unknownOrg, { name: 'x' })).rejects.toMatchObject({ status: 404 })

    const alias = uniqueAlias('leeg')
    const orgId = await admin.createOrganization({ name: `Leeg ${alias}`, alias })
    try {
      await expect(admin.addOrganizationMember(orgId, unknownOrg)).rejects.toMatchObject({ status: 404 })
    } finally {
      await admin.deleteOrganization(orgId)
    }
  })

  it('finds users by e-mail, exactly', async () => {
    expect(await admin.findUserByEmail('Agent@Demo.Commons.Local')).toMatchObject({
      email: 'agent@demo.commons.local',
      firstName: 'Ahmed',
      emailVerified: true,
      enabled: true,
    })
    expect(await admin.findUserByEmail('agent@demo.commons')).toBeNull()
    expect(await admin.findUserByEmail('nobody@demo.commons.local')).toBeNull()
  })

  it('fails with a 401 KeycloakAdminError on a wrong client secret', async () => {
    const wrong = new KeycloakAdmin({
      baseUrl: keycloak.url,
      realm: 'commons',
      clientId: 'commons-portal-admin',
      clientSecret: 'wrong',
    })
    await expect(wrong.findUserByEmail('agent@demo.commons.local')).rejects.toMatchObject({
      name: 'KeycloakAdminError',
      status: 401,
    })
  })
})

describe('least privilege of the service accounts', () => {
  it('refuses the portal admin account anything beyond organisations and users', async () => {
    const token = await serviceAccountToken('commons-portal-admin', secrets.portalAdmin)
    expect((await adminApi(token, 'POST', '/clients', { clientId: uniqueAlias('tool') })).status).toBe(403)
    expect((await adminApi(token, 'GET', '/clients')).status).toBe(403)
    expect((await adminApi(token, 'POST', '/roles', { name: uniqueAlias('role') })).status).toBe(403)
    expect((await adminApi(token, 'PUT', '', { registrationAllowed: true })).status).toBe(403)
  })

  it('lets the portal admin account manage members and find users, but not map roles (fine-grained permissions)', async () => {
    // What the portal needs: find a user, add them to an organisation, remove them again.
    const member = await userId('member@demo.commons.local')
    const alias = uniqueAlias('rechten')
    const orgId = await admin.createOrganization({ name: `Rechten ${alias}`, alias })
    try {
      expect(await admin.addOrganizationMember(orgId, member)).toBe(true)
      expect((await admin.listOrganizationMembers(orgId)).map((m) => m.id)).toEqual([member])
      expect(await admin.removeOrganizationMember(orgId, member)).toBe(true)
    } finally {
      await admin.deleteOrganization(orgId)
    }

    // What it must not do: hand out roles (realm or realm-management), impersonate,
    // or widen its own fine-grained permissions.
    const master = await masterAdminToken()
    const operatorRole = (await (await adminApi(master, 'GET', '/roles/platform-operator')).json()) as { id: string }
    const [realmManagement] = (await (await adminApi(master, 'GET', '/clients?clientId=realm-management')).json()) as {
      id: string
    }[]
    const realmAdminRole = await (
      await adminApi(master, 'GET', `/clients/${realmManagement?.id}/roles/realm-admin`)
    ).json()

    const token = await serviceAccountToken('commons-portal-admin', secrets.portalAdmin)
    expect((await adminApi(token, 'POST', `/users/${member}/role-mappings/realm`, [operatorRole])).status).toBe(403)
    expect(
      (await adminApi(token, 'POST', `/users/${member}/role-mappings/clients/${realmManagement?.id}`, [realmAdminRole]))
        .status,
    ).toBe(403)
    expect((await adminApi(token, 'POST', `/users/${member}/impersonation`)).status).toBe(403)
    const [permissionsClient] = (await (await adminApi(master, 'GET', '/clients?clientId=admin-permissions')).json()) as {
      id: string
    }[]
    expect(permissionsClient?.id).toBeTruthy()
    expect(
      (
        await adminApi(token, 'POST', `/clients/${permissionsClient?.id}/authz/resource-server/permission/scope`, {
          name: uniqueAlias('escalate'),
          resourceType: 'Users',
          scopes: ['map-roles'],
          policies: ['commons-portal-admin service account'],
        })
      ).status,
    ).toBe(403)
    expect((await adminApi(token, 'PUT', '', { adminPermissionsEnabled: false })).status).toBe(403)

    const roles = (await (await adminApi(master, 'GET', `/users/${member}/role-mappings/realm`)).json()) as {
      name: string
    }[]
    expect(roles.map((role) => role.name)).not.toContain('platform-operator')
    // The same request is fine for a full admin, so the 403 above is about rights, not about the request.
    expect((await adminApi(master, 'POST', `/users/${member}/role-mappings/realm`, [operatorRole])).status).toBe(204)
    expect((await adminApi(master, 'DELETE', `/users/${member}/role-mappings/realm`, [operatorRole])).status).toBe(204)
  })

  it('lets the provisioner account create and delete an OIDC client, and nothing about organisations', async () => {
    const token = await serviceAccountToken('commons-provisioner', secrets.provisioner)
    const clientId = uniqueAlias('tool-nextcloud')
    const created = await adminApi(token, 'POST', '/clients', {
      clientId,
      protocol: 'openid-connect',
      publicClient: false,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: ['https://nextcloud.example.invalid/*'],
    })
    expect(created.status).toBe(201)
    const found = (await (await adminApi(token, 'GET', `/clients?clientId=${clientId}`)).json()) as { id: string }[]
    expect(found).toHaveLength(1)
    expect((await adminApi(token, 'DELETE', `/clients/${found[0]?.id}`)).status).toBe(204)

    expect((await adminApi(token, 'POST', '/organizations', { name: 'x', alias: uniqueAlias('x') })).status).toBe(403)
    expect((await adminApi(token, 'GET', '/users')).status).toBe(403)
  })
})

describe('commons-portal client', () => {
  it('does not allow a password login at the token endpoint (direct access grants off)', async () => {
    const response = await fetch(`${keycloak.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'commons-portal',
        client_secret: secrets.portal,
        username: 'member@demo.commons.local',
        password: DEMO_PASSWORD,
        scope: 'openid',
      }),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'unauthorized_client' })
  })

  it('tells the portal about an ended session through the back channel, with the session id', async () => {
    const logoutTokens: string[] = []
    const portal = http.createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      request.on('end', () => {
        if (request.method === 'POST' && request.url === '/auth/backchannel-logout') {
          logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '')
        }
        response.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => portal.listen(Number(new URL(PORTAL_URL).port), '127.0.0.1', resolve))
    try {
      const claims = await browserLogin('member@demo.commons.local', 'openid')
      const token = await serviceAccountToken('commons-portal-admin', secrets.portalAdmin)
      expect((await adminApi(token, 'POST', `/users/${claims.sub}/logout`)).status).toBe(204)
      await expect.poll(() => logoutTokens.length, { timeout: 10_000 }).toBe(1)
      const logout = JSON.parse(Buffer.from(logoutTokens[0]?.split('.')[1] ?? '', 'base64url').toString('utf8'))
      expect(logout).toMatchObject({
        iss: keycloak.issuer,
        aud: 'commons-portal',
        sub: claims.sub,
        sid: claims.sid,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      })
    } finally {
      await new Promise((resolve) => portal.close(resolve))
    }
  })

  it('requires PKCE', async () => {
    const response = await fetch(
      `${keycloak.issuer}/protocol/openid-connect/auth?${new URLSearchParams({
        client_id: 'commons-portal',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid',
        state: 'no-pkce',
      })}`,
      { redirect: 'manual' },
    )
    const location = new URL(response.headers.get('location') ?? 'about:blank')
    expect(location.href.startsWith(REDIRECT_URI)).toBe(true)
    expect(location.searchParams.get('error')).toBe('invalid_request')
  })

  it('puts realm roles and, with scope organization:*, all organisations into the ID token', async () => {
    const operator = await userId('operator@demo.commons.local')
    const aliases = [uniqueAlias('coop-a'), uniqueAlias('coop-b')]
    const orgIds: string[] = []
    try {
      for (const alias of aliases) {
        const orgId = await admin.createOrganization({ name: `Coop ${alias}`, alias })
        orgIds.push(orgId)
        await admin.addOrganizationMember(orgId, operator)
      }
      const claims = await browserLogin('operator@demo.commons.local', 'openid organization:*')
      expect(claims).toMatchObject({ email: 'operator@demo.commons.local', roles: ['platform-operator'] })
      expect([...(claims.organization as string[])].sort()).toEqual([...aliases].sort())

      // From the default scope alone, Keycloak maps the organisation only when there is exactly one.
      const plain = await browserLogin('operator@demo.commons.local', 'openid')
      expect(plain.organization).toBeUndefined()

      // Asking for plain "organization" makes Keycloak let a member of several choose one at login.
      const chosen = await browserLogin('operator@demo.commons.local', 'openid organization', aliases[1])
      expect(chosen.organization).toEqual([aliases[1]])
    } finally {
      for (const orgId of orgIds) await admin.deleteOrganization(orgId)
    }
  })
})
