// The reverse proxy's configuration as Caddy JSON: the whole document the
// proxy starts with, and the one route per instance entry point that the
// provisioner adds and removes through the admin API (caddy.ts).

/** Inside the proxy container. The admin API listens only here: see adminConfig. */
export const adminSocketDir = '/run/caddy-admin'
export const adminSocketPath = `${adminSocketDir}/admin.sock`
/** The Host header the admin API accepts (a unix socket has no host of its own). */
export const adminHost = 'localhost'
export const defaultServerName = 'commons'

export type CaddyMatcher = { host?: string[]; path?: string[] }
export type CaddyHandler =
  | { handler: 'reverse_proxy'; upstreams: { dial: string }[] }
  | { handler: 'subroute'; routes: CaddyRoute[] }
  | { handler: 'static_response'; status_code: number; body: string }
export type CaddyRoute = { '@id'?: string; match?: CaddyMatcher[]; handle: CaddyHandler[]; terminal?: boolean }
export type CaddyServer = { listen: string[]; routes: CaddyRoute[]; automatic_https?: { disable: boolean } }
export type CaddyConfig = {
  admin: { listen: string; origins: string[] }
  apps: {
    http: { grace_period: string; servers: Record<string, CaddyServer> }
    tls?: { automation: { policies: { issuers: { module: 'acme'; email?: string }[] }[] } }
  }
}

/**
 * `https: false` (tests, local): plain HTTP on :80. `https: true`
 * (production): :443 with Caddy's automatic HTTPS, which obtains a
 * certificate for every host a route matches and redirects :80 to it.
 */
export type ProxyTls = { https: false } | { https: true; acmeEmail?: string }

/**
 * The admin API listens on a unix socket in a folder the provisioner shares
 * (a bind mount or a volume), never on TCP: the proxy joins every instance
 * network, and a TCP admin port would let any tool container rewrite every
 * organisation's routes. Caddy still checks the Host header on a socket.
 */
export function proxyConfig(opts: { serverName?: string } & ProxyTls = { https: false }): CaddyConfig {
  const serverName = opts.serverName ?? defaultServerName
  const config: CaddyConfig = {
    admin: { listen: `unix/${adminSocketPath}`, origins: [adminHost] },
    apps: { http: { grace_period: httpGracePeriod, servers: { [serverName]: proxyServer(opts) } } },
  }
  if (opts.https && opts.acmeEmail) config.apps.tls = { automation: { policies: [{ issuers: [{ module: 'acme', email: opts.acmeEmail }] }] } }
  return config
}

// Every change through the admin API reloads the whole config, and Caddy
// waits for open requests before it stops the old servers: without a limit,
// one open websocket (Element, Loomio) would hold every route change.
export const httpGracePeriod = '5s'

export function proxyServer(tls: ProxyTls): CaddyServer {
  return tls.https ? { listen: [':443'], routes: [fallbackRoute] } : { listen: [':80'], routes: [fallbackRoute], automatic_https: { disable: true } }
}

/** Last in the list, so a host without a route gets a 404 rather than Caddy's empty 200. Routes are inserted before it. */
export const fallbackRoute: CaddyRoute = {
  handle: [{ handler: 'static_response', status_code: 404, body: 'No tool lives at this address.\n' }],
}

/** One public entry point of an instance. */
export type ProxyRoute = {
  /** Becomes the route's `@id`, e.g. `instance-abc` or `instance-abc-channels`. */
  id: string
  hosts: string[]
  /**
   * Where requests go: exactly one upstream without `pathPrefixes` (the
   * catch-all), plus any with path prefixes ("/_matrix/"), which win.
   * `dial` is host:port on a network the proxy shares, e.g. `inst-abc-web:8080`.
   */
  upstreams: { pathPrefixes?: string[]; dial: string }[]
}

export class InvalidRouteError extends Error {
  override name = 'InvalidRouteError'
}

const routeIdPattern = /^[a-z0-9][a-z0-9._-]*$/
const hostPattern = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/
const dialPattern = /^[A-Za-z0-9._-]+:\d{1,5}$/
const prefixPattern = /^\/(?:[A-Za-z0-9._~!$&'()+,;=:@%-]+\/)*$/

/** The Caddy route for an entry point; throws InvalidRouteError for input the proxy must not get. */
export function routeConfig(route: ProxyRoute): CaddyRoute {
  const problem = routeProblem(route)
  if (problem) throw new InvalidRouteError(`route ${JSON.stringify(route.id)}: ${problem}`)
  const proxyTo = (dial: string): CaddyHandler => ({ handler: 'reverse_proxy', upstreams: [{ dial }] })
  const catchAll = route.upstreams.find((u) => !u.pathPrefixes?.length)
  const byPrefix = route.upstreams.filter((u) => u.pathPrefixes?.length)
  if (!catchAll) throw new InvalidRouteError(`route ${JSON.stringify(route.id)}: needs one upstream without pathPrefixes`)
  const handle: CaddyHandler[] =
    byPrefix.length === 0
      ? [proxyTo(catchAll.dial)]
      : [
          {
            handler: 'subroute',
            routes: [
              ...byPrefix.map((u) => ({ match: [{ path: (u.pathPrefixes ?? []).map((p) => `${p}*`) }], handle: [proxyTo(u.dial)], terminal: true })),
              { handle: [proxyTo(catchAll.dial)] },
            ],
          },
        ]
  // Caddy sets X-Forwarded-For/-Proto/-Host on its own (and ignores the
  // client's, as no trusted proxies are configured); tools trust the proxy.
  return { '@id': route.id, match: [{ host: route.hosts }], handle, terminal: true }
}

function routeProblem(route: ProxyRoute): string | undefined {
  if (!routeIdPattern.test(route.id)) return 'id must be lowercase letters, digits, dots, dashes and underscores'
  if (route.hosts.length === 0) return 'needs at least one host'
  const badHost = route.hosts.find((h) => !hostPattern.test(h))
  if (badHost !== undefined) return `${JSON.stringify(badHost)} is not a lowercase host name`
  if (route.upstreams.filter((u) => !u.pathPrefixes?.length).length !== 1) return 'needs exactly one upstream without pathPrefixes (the catch-all)'
  for (const u of route.upstreams) {
    if (!dialPattern.test(u.dial)) return `dial ${JSON.stringify(u.dial)} must be host:port`
    const badPrefix = u.pathPrefixes?.find((p) => !prefixPattern.test(p) || p === '/')
    if (badPrefix !== undefined) return `path prefix ${JSON.stringify(badPrefix)} must start and end with / and not be / alone`
  }
  return undefined
}
