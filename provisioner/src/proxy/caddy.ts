import http from 'node:http'
import { isDeepStrictEqual } from 'node:util'
import { adminHost, defaultServerName, httpGracePeriod, proxyServer, routeConfig, type ProxyRoute, type ProxyTls } from './caddy-config.ts'

// The provisioner's side of the reverse proxy: one Caddy route per instance
// entry point, kept through Caddy's admin API. Every method is safe to
// repeat. The admin API is reached through a unix socket (`unix:/path`, see
// caddy-config.ts for why) or, for a Caddy elsewhere, `http://host:port`.
// node:http rather than fetch, because fetch cannot speak over a unix socket.

/** Caddy answered with an error, or could not be reached (`status` undefined). */
export class CaddyAdminError extends Error {
  override name = 'CaddyAdminError'
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Caddy admin ${method} ${path}: ${status === undefined ? '' : `${status} `}${message}`, options)
  }
}

export type RouteChange = 'created' | 'replaced' | 'unchanged'

type Target = { socketPath: string } | { host: string; port: number }

export class CaddyRoutes {
  private readonly target: Target
  private readonly routesPath: string

  constructor(
    adminUrl: string,
    readonly serverName = defaultServerName,
  ) {
    this.target = parseAdminUrl(adminUrl)
    this.routesPath = `/config/apps/http/servers/${encodeURIComponent(serverName)}/routes`
  }

  /**
   * Makes sure the http server exists (with its 404 fallback), creating the
   * parts of the config that are missing. An existing server is left as it is.
   */
  async ensureServer(tls: ProxyTls = { https: false }): Promise<'created' | 'exists'> {
    const config = await this.get('/config/')
    const apps = field(config, 'apps')
    const httpApp = field(apps, 'http')
    const servers = field(httpApp, 'servers')
    if (field(servers, this.serverName) !== undefined) return 'exists'
    const server = proxyServer(tls)
    // POST on an object path sets that key; its parent must exist.
    if (servers !== undefined) await this.send('POST', `/config/apps/http/servers/${encodeURIComponent(this.serverName)}`, server)
    else if (httpApp !== undefined) await this.send('POST', '/config/apps/http/servers', { [this.serverName]: server })
    else if (apps !== undefined) await this.send('POST', '/config/apps/http', { grace_period: httpGracePeriod, servers: { [this.serverName]: server } })
    else await this.send('POST', '/config/apps', { http: { grace_period: httpGracePeriod, servers: { [this.serverName]: server } } })
    return 'created'
  }

  /**
   * Makes the route with `@id` = route.id look exactly like `route`: created
   * (before the fallback) when absent, replaced in place when different.
   */
  async ensureRoute(route: ProxyRoute): Promise<RouteChange> {
    const desired = routeConfig(route)
    const current = await this.getById(route.id)
    if (!current.found) {
      // Index 0: before the fallback; hosts of different routes never overlap, so order among them does not matter.
      await this.send('PUT', `${this.routesPath}/0`, desired)
      return 'created'
    }
    if (isDeepStrictEqual(current.route, desired)) return 'unchanged'
    await this.send('PATCH', `/id/${encodeURIComponent(route.id)}`, desired)
    return 'replaced'
  }

  /** Removes the route; true if there was one. */
  async removeRoute(id: string): Promise<boolean> {
    const result = await this.request('DELETE', `/id/${encodeURIComponent(id)}`)
    if (isUnknownId(result)) return false
    this.check('DELETE', `/id/${id}`, result)
    return true
  }

  /** The routes whose `@id` starts with `prefix` (the provisioner's own), for finding orphans. */
  async listRoutes(prefix = 'instance-'): Promise<{ id: string; hosts: string[] }[]> {
    const routes = await this.get(this.routesPath)
    if (routes === null) return []
    if (!Array.isArray(routes)) throw new CaddyAdminError('GET', this.routesPath, 200, 'expected a list of routes')
    const found: { id: string; hosts: string[] }[] = []
    for (const route of routes) {
      const id = field(route, '@id')
      if (typeof id !== 'string' || !id.startsWith(prefix)) continue
      const matchers = field(route, 'match')
      const hosts = Array.isArray(matchers) ? matchers.flatMap((m) => stringArray(field(m, 'host'))) : []
      found.push({ id, hosts })
    }
    return found
  }

  private async getById(id: string): Promise<{ found: false } | { found: true; route: unknown }> {
    const path = `/id/${encodeURIComponent(id)}`
    const result = await this.request('GET', path)
    if (isUnknownId(result)) return { found: false }
    this.check('GET', path, result)
    return { found: true, route: parseJson('GET', path, result) }
  }

  private async get(path: string): Promise<unknown> {
    const result = await this.request('GET', path)
    this.check('GET', path, result)
    return parseJson('GET', path, result)
  }

  private async send(method: 'POST' | 'PUT' | 'PATCH', path: string, body: unknown): Promise<void> {
    this.check(method, path, await this.request(method, path, body))
  }

  private check(method: string, path: string, result: AdminResponse): void {
    if (result.status >= 200 && result.status < 300) return
    throw new CaddyAdminError(method, path, result.status, errorMessage(result.body))
  }

  private request(method: string, path: string, body?: unknown): Promise<AdminResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const headers: http.OutgoingHttpHeaders = payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}
    const where = 'socketPath' in this.target ? { socketPath: this.target.socketPath, headers: { ...headers, Host: adminHost } } : { ...this.target, headers }
    return new Promise((resolve, reject) => {
      // A fresh connection per call: Caddy closes idle ones after every config
      // change, and a reused one then fails with EPIPE/ECONNRESET.
      const req = http.request({ ...where, method, path, timeout: 30_000, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.once('error', (error) => reject(new CaddyAdminError(method, path, undefined, error.message, { cause: error })))
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      })
      req.once('timeout', () => req.destroy(new Error('no answer within 30 s')))
      req.once('error', (error) => reject(new CaddyAdminError(method, path, undefined, `cannot reach the admin API: ${error.message}`, { cause: error })))
      req.end(payload)
    })
  }
}

type AdminResponse = { status: number; body: string }

function parseAdminUrl(adminUrl: string): Target {
  if (adminUrl.startsWith('unix:')) {
    const socketPath = adminUrl.slice('unix:'.length)
    if (!socketPath.startsWith('/')) throw new TypeError(`admin URL ${adminUrl}: a unix socket needs an absolute path (unix:/path/admin.sock)`)
    return { socketPath }
  }
  const url = new URL(adminUrl)
  if (url.protocol !== 'http:') throw new TypeError(`admin URL ${adminUrl}: must be unix:/path or http://host:port`)
  return { host: url.hostname, port: Number(url.port || 80) }
}

// Caddy answers an @id it does not know with 404 "unknown object ID"; any
// other 404 (a wrong path, a missing server) is an error, not "absent".
function isUnknownId(result: AdminResponse): boolean {
  return result.status === 404 && /unknown object ID/i.test(errorMessage(result.body))
}

function errorMessage(body: string): string {
  try {
    const error = field(JSON.parse(body), 'error')
    if (typeof error === 'string') return error
  } catch {
    // Not JSON: the body itself says what went wrong.
  }
  return body.trim() || '(empty answer)'
}

function parseJson(method: string, path: string, result: AdminResponse): unknown {
  try {
    return JSON.parse(result.body)
  } catch (error) {
    throw new CaddyAdminError(method, path, result.status, `answer is not JSON: ${result.body.slice(0, 200)}`, { cause: error })
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Reflect.get(value, key) : undefined
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}
