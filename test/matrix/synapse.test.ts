/**
 * The Matrix recipe against the real thing: a Synapse homeserver (PyPI
 * matrix-synapse, the version the recipe's image pins) runs with the
 * homeserver.yaml the recipe renders for one instance, against the harness's
 * Postgres, and a member signs in through the harness's Keycloak the way
 * Element does (SSO redirect, Keycloak login, login token, access token).
 *
 *   TEST_PORT_OFFSET=30 npx tsx test/run.ts unit test/matrix
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { escapeFor, loadCatalog, renderTemplate, type CatalogEntry, type HostableRecipe, type RenderValues } from '../../catalog/src/index.ts'
import { ensureSynapse } from '../../scripts/synapse.ts'
import { browse, CookieJar, keycloakLogin, request, unescapeHtml } from './browser-session.ts'

const root = path.resolve(import.meta.dirname, '..', '..')
const REALM = 'commons'
const IDP_ID = 'oidc-commons' // Synapse prefixes the recipe's idp_id "commons" with "oidc-"

function requireEnv(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run this test in the harness, TEST_PORT_OFFSET=30 npx tsx test/run.ts unit test/matrix`)
  return value
}

const randomSecret = (length: number) => randomBytes(length).toString('base64url').slice(0, length)
const suffix = randomBytes(4).toString('hex')

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

// ---------------------------------------------------------------- Keycloak admin

async function keycloakAdmin(keycloakUrl: string) {
  const tokenResponse = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: requireEnv('TEST_KEYCLOAK_MASTER_PASSWORD') }),
  })
  if (!tokenResponse.ok) throw new Error(`master admin login: ${tokenResponse.status} ${await tokenResponse.text()}`)
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string }
  return async (method: string, resource: string, body?: unknown): Promise<Response> => {
    const response = await fetch(`${keycloakUrl}/admin/realms/${REALM}${resource}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!response.ok) throw new Error(`${method} ${resource}: ${response.status} ${await response.text()}`)
    return response
  }
}

const createdId = (response: Response) => {
  const id = response.headers.get('location')?.split('/').pop()
  if (!id) throw new Error('Keycloak answered 201 without a Location')
  return id
}

// ---------------------------------------------------------------- the instance

type Instance = {
  url: string
  host: string
  port: number
  dir: string
  configFile: string
  logFile: string
  rendered: { homeserver: string; element: string }
  values: RenderValues
  member: { email: string; password: string; firstName: string; lastName: string; keycloakId: string }
}

let entry: CatalogEntry
let recipe: HostableRecipe
let instance: Instance
let synapse: ChildProcess | undefined
let synapseExit: Promise<void> | undefined
const cleanups: { what: string; run: () => Promise<void> }[] = []
const timings: Record<string, number> = {}

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now()
  try {
    return await work()
  } finally {
    timings[name] = (Date.now() - started) / 1000
  }
}

function tail(file: string, lines = 60): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/**
 * The local run differs from a container on an instance network in where
 * things are, never in what the recipe says about identity. Each override,
 * applied to the rendered YAML:
 */
function localOverrides(doc: YAML.Document, opts: { port: number; dataDir: string; db: { port: number; user: string; dbname: string } }) {
  const overrides: [path: (string | number)[], value: unknown, why: string][] = [
    [['listeners', 0, 'port'], opts.port, 'a free port: 8008 may be taken, and other test runs share the machine'],
    [['listeners', 0, 'bind_addresses'], ['127.0.0.1'], 'loopback only: in a container 0.0.0.0 is the instance network, here it would be every interface'],
    [['database', 'args', 'host'], '127.0.0.1', 'the harness Postgres instead of the "db" service of the instance network'],
    [['database', 'args', 'port'], opts.db.port, 'the harness Postgres port'],
    [['database', 'args', 'user'], opts.db.user, 'a role of this test in the shared harness Postgres (the recipe\'s password is kept)'],
    [['database', 'args', 'dbname'], opts.db.dbname, 'a database of this test in the shared harness Postgres'],
    [['signing_key_path'], path.join(opts.dataDir, 'signing.key'), '/data is the volume in the container; a temp dir here'],
    [['media_store_path'], path.join(opts.dataDir, 'media_store'), '/data is the volume in the container; a temp dir here'],
  ]
  for (const [at, value, why] of overrides) {
    if (!doc.hasIn(at)) throw new Error(`override ${at.join('.')} (${why}): the recipe's homeserver.yaml has no such key any more`)
    doc.setIn(at, value)
  }
  return overrides.map(([at, , why]) => `${at.join('.')}: ${why}`)
}

async function waitForHealth(url: string, logFile: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void synapseExit?.then(() => (exited = true))
  for (;;) {
    if (exited) throw new Error(`Synapse exited during start; ${logFile}:\n${tail(logFile)}`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (response.ok && (await response.text()) === 'OK') return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Synapse did not answer ${url} in time; ${logFile}:\n${tail(logFile)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function stopSynapse() {
  const child = synapse
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const killed = await Promise.race([
    synapseExit!.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 15_000)),
  ])
  if (killed) {
    child.kill('SIGKILL')
    await synapseExit
  }
}

beforeAll(async () => {
  const keycloakUrl = requireEnv('KEYCLOAK_URL')
  const databaseUrl = new URL(requireEnv('DATABASE_URL'))
  const smtpUrl = new URL(process.env.SMTP_URL ?? 'smtp://127.0.0.1:2525')

  const { python } = await timed('ensureSynapse', () => ensureSynapse())

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'commons-synapse-'))
  cleanups.push({ what: `remove ${dir}`, run: () => fsp.rm(dir, { recursive: true, force: true }) })

  // The matrix recipe alone, validated and read by the catalog's own loader (other recipes are not this test's business).
  await fsp.cp(path.join(root, 'catalog', 'recipes', 'matrix'), path.join(dir, 'catalog', 'matrix'), { recursive: true })
  const [found] = await loadCatalog(path.join(dir, 'catalog'))
  if (!found?.recipe.hostable) throw new Error('the matrix recipe is not hostable')
  entry = found
  recipe = found.recipe

  const port = await freePort()
  const url = `http://127.0.0.1:${port}`

  const secrets = Object.fromEntries(Object.entries(recipe.secrets).map(([name, { length }]) => [name, randomSecret(length)]))
  const admin = await keycloakAdmin(keycloakUrl)

  // The instance's own confidential client, as the provisioner makes it: redirect URIs from recipe.sso.
  const discovery = (await (await fetch(`${keycloakUrl}/realms/${REALM}/.well-known/openid-configuration`)).json()) as Record<string, string>
  const clientId = `matrix-test-${suffix}`
  const clientSecret = randomSecret(32)
  const sso = recipe.sso
  if (!sso) throw new Error('the matrix recipe has no sso section')
  const clientResponse = await admin('POST', '/clients', {
    clientId,
    name: `Matrix test instance ${suffix}`,
    protocol: 'openid-connect',
    enabled: true,
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    secret: clientSecret,
    standardFlowEnabled: true,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
    redirectUris: sso.redirectPaths.map((p) => `${url}${p}`),
    webOrigins: [],
    attributes: { 'post.logout.redirect.uris': sso.postLogoutRedirectPaths.map((p) => `${url}${p}`).join('##') || '-' },
  })
  const clientUuid = createdId(clientResponse)
  cleanups.push({ what: `delete Keycloak client ${clientId}`, run: async () => void (await admin('DELETE', `/clients/${clientUuid}`)) })

  // A member (usernames are e-mail addresses in this realm, as for the demo people).
  const member = { email: `matrix-${suffix}@demo.commons.local`, password: `Matrix-test-${randomSecret(16)}`, firstName: 'Mira', lastName: 'Matrix' }
  const userResponse = await admin('POST', '/users', {
    username: member.email,
    email: member.email,
    firstName: member.firstName,
    lastName: member.lastName,
    enabled: true,
    emailVerified: true,
    requiredActions: [],
    credentials: [{ type: 'password', value: member.password, temporary: false }],
  })
  const keycloakId = createdId(userResponse)
  cleanups.push({ what: `delete Keycloak user ${member.email}`, run: async () => void (await admin('DELETE', `/users/${keycloakId}`)) })

  // Synapse's database: its own role and a C-collated database from template0, as Synapse requires.
  const db = { port: Number(databaseUrl.port || 5432), user: `synapse_test_${suffix}`, dbname: `synapse_test_${suffix}` }
  const pgClient = new pg.Client({ connectionString: databaseUrl.href })
  await pgClient.connect()
  try {
    await pgClient.query(`CREATE ROLE ${db.user} LOGIN PASSWORD '${secrets.DB_PASSWORD}'`)
    cleanups.push({ what: `drop role ${db.user}`, run: () => dropInPostgres(databaseUrl, `DROP ROLE IF EXISTS ${db.user}`) })
    await pgClient.query(`CREATE DATABASE ${db.dbname} OWNER ${db.user} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`)
    cleanups.push({ what: `drop database ${db.dbname}`, run: () => dropInPostgres(databaseUrl, `DROP DATABASE IF EXISTS ${db.dbname} WITH (FORCE)`) })
  } finally {
    await pgClient.end()
  }

  const values: RenderValues = {
    fixed: {
      'instance.url': url,
      // instance.host is the host of instance.url; locally that includes the port, a valid Matrix server name.
      'instance.host': new URL(url).host,
      'instance.id': `matrix-test-${suffix}`,
      'org.id': `org-${suffix}`,
      // A quote and a non-ASCII letter: the name lands in double-quoted YAML and JSON strings.
      'org.name': 'Coöperatie "De Kas"',
      'admin.email': 'admin@demo.commons.local',
      'oidc.issuer': `${keycloakUrl}/realms/${REALM}`,
      'oidc.discoveryUrl': `${keycloakUrl}/realms/${REALM}/.well-known/openid-configuration`,
      'oidc.authorizationUrl': discovery.authorization_endpoint ?? '',
      'oidc.tokenUrl': discovery.token_endpoint ?? '',
      'oidc.userinfoUrl': discovery.userinfo_endpoint ?? '',
      'oidc.endSessionUrl': discovery.end_session_endpoint ?? '',
      'oidc.clientId': clientId,
      'oidc.clientSecret': clientSecret,
      'smtp.host': smtpUrl.hostname,
      'smtp.port': smtpUrl.port || '25',
      'smtp.user': 'synapse',
      'smtp.password': randomSecret(20),
      'smtp.from': 'noreply@demo.commons.local',
      'smtp.fromLocalPart': 'noreply',
      'smtp.fromDomain': 'demo.commons.local',
    },
    routes: Object.fromEntries(recipe.routes.map((r) => [r.name, { url, host: new URL(url).host }])),
    secrets,
    password: () => {
      throw new Error('the matrix recipe has no ${password:N}')
    },
  }
  const render = (template: string) => renderTemplate(entry.templates.get(template) ?? '', values, template, escapeFor(template))
  const rendered = { homeserver: render('files/homeserver.yaml'), element: render('files/element-config.json') }

  const doc = YAML.parseDocument(rendered.homeserver)
  if (doc.errors.length > 0) throw new Error(`the rendered homeserver.yaml is not valid YAML: ${doc.errors.join('; ')}`)
  const dataDir = path.join(dir, 'data')
  await fsp.mkdir(dataDir)
  const applied = localOverrides(doc, { port, dataDir, db })
  console.log(`[matrix] local overrides of the rendered homeserver.yaml:\n  ${applied.join('\n  ')}`)
  const configFile = path.join(dir, 'homeserver.yaml')
  await fsp.writeFile(configFile, doc.toString())

  const logFile = path.join(dir, 'synapse.log')
  instance = { url, host: new URL(url).host, port, dir, configFile, logFile, rendered, values, member: { ...member, keycloakId } }

  // Synapse, as the image runs it: `python -m synapse.app.homeserver -c <config>` (docker/start.py).
  await timed('synapseStart', async () => {
    const log = fs.openSync(logFile, 'a')
    const noProxy = [process.env.NO_PROXY ?? process.env.no_proxy, '127.0.0.1', 'localhost'].filter(Boolean).join(',')
    synapse = spawn(python, ['-m', 'synapse.app.homeserver', '-c', configFile], {
      cwd: dir,
      stdio: ['ignore', log, log],
      env: { ...process.env, NO_PROXY: noProxy, no_proxy: noProxy },
    })
    fs.closeSync(log)
    const child = synapse
    synapseExit = new Promise((resolve) => child.once('exit', () => resolve()))
    // If the test process dies without afterAll, Synapse goes with it.
    process.once('exit', () => child.kill('SIGKILL'))
    const healthCheck = recipe.services.find((s) => s.name === 'synapse')?.healthCheck
    if (healthCheck?.type !== 'http') throw new Error('the synapse service has no http health check')
    await waitForHealth(`${url}${healthCheck.path}`, logFile)
  })
})

async function dropInPostgres(databaseUrl: URL, sql: string) {
  const client = new pg.Client({ connectionString: databaseUrl.href })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

afterAll(async () => {
  await timed('synapseStop', stopSynapse)
  const failures: string[] = []
  for (const cleanup of cleanups.reverse()) {
    await cleanup.run().catch((error: unknown) => failures.push(`${cleanup.what}: ${error instanceof Error ? error.message : String(error)}`))
  }
  console.log(`[matrix] timings (s): ${JSON.stringify(timings)}`)
  if (failures.length > 0) throw new Error(`cleanup failed:\n${failures.join('\n')}`)
})

// ---------------------------------------------------------------- the tests

describe('the Matrix recipe on a real Synapse', () => {
  it('renders a homeserver.yaml Synapse starts with, answering the recipe health check', async () => {
    const healthCheck = recipe.services.find((s) => s.name === 'synapse')?.healthCheck
    expect(healthCheck).toMatchObject({ type: 'http', path: '/health' })
    // In the container, the health check and the proxy's route reach the port the recipe's listener has.
    const listenerPort = (YAML.parse(instance.rendered.homeserver) as { listeners: { port: number }[] }).listeners[0]?.port
    expect(healthCheck && 'port' in healthCheck ? healthCheck.port : undefined).toBe(listenerPort)
    expect(recipe.routes.find((r) => r.name === 'homeserver')?.port).toBe(listenerPort)
    const health = await fetch(`${instance.url}/health`)
    expect(await health.text()).toBe('OK')
    // Synapse made the signing key itself on the first start (the recipe relies on it).
    expect(fs.existsSync(path.join(instance.dir, 'data', 'signing.key'))).toBe(true)
    const versions = (await (await fetch(`${instance.url}/_matrix/client/versions`)).json()) as { versions: string[] }
    expect(versions.versions.length).toBeGreaterThan(0)
    // The routes the proxy sends to Synapse are Synapse's: the well-known answers come from it.
    const client = (await (await fetch(`${instance.url}/.well-known/matrix/client`)).json()) as Record<string, { base_url: string }>
    expect(client['m.homeserver']?.base_url).toBe(`${instance.url}/`)
    const server = (await (await fetch(`${instance.url}/.well-known/matrix/server`)).json()) as Record<string, string>
    // Federation goes through the same host: port 443 in production, where the host has no port; here the host's port.
    expect(server['m.server']).toBe(instance.host.includes(':') ? instance.host : `${instance.host}:443`)
  })

  it("registers the instance's client with the callback Synapse actually uses and the scopes it asks for", async () => {
    const doc = YAML.parse(instance.rendered.homeserver) as {
      oidc_providers: { scopes: string[]; client_id: string; issuer: string }[]
      public_baseurl: string
    }
    const provider = doc.oidc_providers[0]
    expect(provider?.client_id).toBe(instance.values.fixed['oidc.clientId'])
    expect(provider?.issuer).toBe(instance.values.fixed['oidc.issuer'])
    // Synapse's callback is <public_baseurl>_synapse/client/oidc/callback (synapse/config/oidc.py).
    expect(recipe.sso?.redirectPaths.map((p) => `${instance.url}${p}`)).toContain(`${doc.public_baseurl}_synapse/client/oidc/callback`)
    expect([...(provider?.scopes ?? [])].sort()).toEqual([...(recipe.sso?.scopes ?? [])].sort())
  })

  it('offers only single sign-on through the organisation, as Element asks', async () => {
    const flows = (await (await fetch(`${instance.url}/_matrix/client/v3/login`)).json()) as {
      flows: { type: string; identity_providers?: { id: string; name: string }[] }[]
    }
    const types = flows.flows.map((f) => f.type)
    expect(types).toContain('m.login.sso')
    expect(types).toContain('m.login.token')
    expect(types, 'password login is off').not.toContain('m.login.password')
    const sso = flows.flows.find((f) => f.type === 'm.login.sso')
    expect(sso?.identity_providers).toEqual([{ id: IDP_ID, name: 'Coöperatie "De Kas"' }])
  })

  it('signs a member in through Keycloak and gives a Matrix access token', async () => {
    const { member } = instance
    const jar = new CookieJar()
    // A client that is not this instance's Element: Synapse asks the member to confirm.
    const clientUrl = 'http://127.0.0.1:9/element-elsewhere/'
    const start = await request(jar, `${instance.url}/_matrix/client/v3/login/sso/redirect/${IDP_ID}?redirectUrl=${encodeURIComponent(clientUrl)}`)
    expect(start.status).toBe(302)
    const keycloakOrigin = new URL(requireEnv('KEYCLOAK_URL')).origin
    expect(start.location).toMatch(new RegExp(`^${keycloakOrigin}/realms/${REALM}/protocol/openid-connect/auth\\?`))
    const authorize = new URL(start.location ?? '')
    expect(authorize.searchParams.get('client_id')).toBe(instance.values.fixed['oidc.clientId'])
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${instance.url}/_synapse/client/oidc/callback`)

    const loginPage = await browse(jar, start.location ?? '', clientUrl)
    expect(loginPage.status, `Keycloak's login page (${loginPage.url})`).toBe(200)
    const landed = await keycloakLogin(jar, loginPage, member.email, member.password, clientUrl)

    // Synapse's callback registered the member and shows "Continue to your account" for a foreign client.
    expect(landed.status, `after the callback (${landed.url}): ${landed.body.slice(0, 500)}`).toBe(200)
    expect(landed.url.startsWith(`${instance.url}/_synapse/client/oidc/callback?`)).toBe(true)
    expect(landed.body).toContain('Continue to your account')
    const continueHref = /<a href="([^"]+)" class="primary-button"/.exec(landed.body)?.[1]
    expect(continueHref).toBeDefined()
    const continueUrl = new URL(unescapeHtml(continueHref ?? ''))
    expect(continueUrl.href.startsWith(clientUrl)).toBe(true)
    const loginToken = continueUrl.searchParams.get('loginToken')
    expect(loginToken).toBeTruthy()

    const login = await fetch(`${instance.url}/_matrix/client/v3/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.token', token: loginToken }),
    })
    const session = (await login.json()) as { user_id: string; access_token: string; device_id: string }
    expect(login.status, JSON.stringify(session)).toBe(200)
    // The localpart is the part of the member's address before the @ (usernames are addresses in this realm).
    const localpart = member.email.split('@')[0]
    expect(session.user_id).toBe(`@${localpart}:${instance.host}`)
    expect(session.access_token).toBeTruthy()

    const auth = { authorization: `Bearer ${session.access_token}` }
    const whoami = (await (await fetch(`${instance.url}/_matrix/client/v3/account/whoami`, { headers: auth })).json()) as { user_id: string }
    expect(whoami.user_id).toBe(session.user_id)
    // Display name and address come from the ID token through the recipe's templates.
    const profile = (await (await fetch(`${instance.url}/_matrix/client/v3/profile/${encodeURIComponent(session.user_id)}`, { headers: auth })).json()) as { displayname: string }
    expect(profile.displayname).toBe(`${member.firstName} ${member.lastName}`)
    const threepids = (await (await fetch(`${instance.url}/_matrix/client/v3/account/3pid`, { headers: auth })).json()) as { threepids: { medium: string; address: string }[] }
    expect(threepids.threepids).toEqual([expect.objectContaining({ medium: 'email', address: member.email })])
  })

  it("lets the member back in from the instance's own Element without a confirmation page, same account, name kept up to date", async () => {
    const { member } = instance
    const admin = await keycloakAdmin(requireEnv('KEYCLOAK_URL'))
    await admin('PUT', `/users/${member.keycloakId}`, { firstName: 'Miranda' })

    const jar = new CookieJar()
    const elementUrl = `${instance.url}/` // Element is served at the instance URL (recipe.public)
    const start = await request(jar, `${instance.url}/_matrix/client/v3/login/sso/redirect/${IDP_ID}?redirectUrl=${encodeURIComponent(elementUrl)}`)
    const loginPage = await browse(jar, start.location ?? '', elementUrl)
    const back = await keycloakLogin(jar, loginPage, member.email, member.password, elementUrl)
    expect(back.url.startsWith(`${instance.url}/_synapse/client/oidc/callback?`), back.url).toBe(true)
    expect(back.status, `after the callback (${back.url}): ${back.body.slice(0, 300)}`).toBe(302)
    const toElement = new URL(back.location ?? '')
    expect(toElement.href.startsWith(elementUrl)).toBe(true)
    const login = await fetch(`${instance.url}/_matrix/client/v3/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.token', token: toElement.searchParams.get('loginToken') }),
    })
    const session = (await login.json()) as { user_id: string; access_token: string }
    expect(session.user_id).toBe(`@${member.email.split('@')[0]}:${instance.host}`)
    const profile = (await (
      await fetch(`${instance.url}/_matrix/client/v3/profile/${encodeURIComponent(session.user_id)}`, { headers: { authorization: `Bearer ${session.access_token}` } })
    ).json()) as { displayname: string }
    expect(profile.displayname).toBe(`Miranda ${member.lastName}`)
  })

  it("renders an Element config that points at this homeserver and nowhere else", async () => {
    const config = JSON.parse(instance.rendered.element) as {
      default_server_config: { 'm.homeserver': { base_url: string; server_name: string } }
      disable_custom_urls: boolean
      disable_guests: boolean
      room_directory: { servers: string[] }
    }
    const homeserver = config.default_server_config['m.homeserver']
    expect(homeserver.base_url).toBe(instance.url)
    expect(homeserver.server_name).toBe(instance.host)
    // Members cannot point Element at another server; the homeserver itself offers SSO only (see above).
    expect(config.disable_custom_urls).toBe(true)
    expect(config.disable_guests).toBe(true)
    expect(config.room_directory.servers).toEqual([instance.host])
    // Element reaches Synapse at base_url: the client API answers there.
    const versions = await fetch(`${homeserver.base_url}/_matrix/client/versions`)
    expect(versions.ok).toBe(true)
  })
})
