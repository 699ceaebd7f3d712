import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { PassThrough } from 'node:stream'
import Docker from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureDockerEngine } from '../../../scripts/docker-engine.ts'
import { ensureLocalImages, images } from '../../../scripts/images.ts'
import { ensureProxy, type Proxy } from '../../../scripts/proxy.ts'
import { CaddyAdminError, CaddyRoutes } from './caddy.ts'
import { InvalidRouteError } from './caddy-config.ts'

// Against the real thing: dockerd (started if none runs), the locally built
// images, the proxy container, and tool containers on their own networks.
// Everything made here carries the run's name and is removed afterwards; the
// engine stays up for other test files.

const httpPort = 18088 + Number(process.env.TEST_PORT_OFFSET ?? 0)
const run = `${process.pid}-${randomBytes(3).toString('hex')}`
const labels = { 'org.commons.test': 'proxy-caddy' }
const org = 'Groene Bakkerij & Co'

let docker: Docker
let proxy: Proxy
let routes: CaddyRoutes
const cleanups: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  const engine = await ensureDockerEngine()
  docker = new Docker({ socketPath: engine.socketPath })
  await ensureLocalImages(docker, { only: ['hello', 'caddy'] })
  proxy = await ensureProxy(docker, { name: `commons-test-proxy-${run}`, httpPort })
  cleanups.push(() => proxy.stop())
  routes = new CaddyRoutes(proxy.adminUrl)
}, 180_000)

afterAll(async () => {
  const failures: unknown[] = []
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => failures.push(error))
  if (failures.length > 0) throw new AggregateError(failures, 'cleanup failed')
}, 60_000)

async function network(name: string): Promise<Docker.Network> {
  const net = await docker.createNetwork({ Name: `commons-test-${name}-${run}`, Driver: 'bridge', Labels: labels })
  cleanups.push(() => net.remove())
  return net
}

/** A hello container (busybox httpd on 8080) on `net`, reachable there as `alias`. */
async function hello(name: string, net: Docker.Network, alias: string): Promise<Docker.Container> {
  const container = await docker.createContainer({
    name: `commons-test-${name}-${run}`,
    Image: images.hello,
    Cmd: ['httpd', '-f', '-v', '-p', '8080', '-h', '/www'],
    Env: [`HELLO_ORG=${org}`, 'HELLO_URL=http://hello-test.localhost'],
    Labels: labels,
    HostConfig: { NetworkMode: net.id },
    NetworkingConfig: { EndpointsConfig: { [net.id]: { Aliases: [alias] } } },
  })
  cleanups.push(() => container.remove({ force: true }))
  await container.start()
  return container
}

async function connectProxy(net: Docker.Network): Promise<void> {
  await net.connect({ Container: proxy.containerName })
  cleanups.push(() => net.disconnect({ Container: proxy.containerName, Force: true }))
}

async function exec(container: Docker.Container, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const execution = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true })
  const stream = await execution.start({})
  const chunks: Buffer[] = []
  const sink = new PassThrough()
  sink.on('data', (chunk: Buffer) => chunks.push(chunk))
  docker.modem.demuxStream(stream, sink, sink)
  await new Promise((resolve, reject) => stream.once('end', resolve).once('error', reject))
  const { ExitCode } = await execution.inspect()
  return { exitCode: ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') }
}

/** GET through the proxy's published port with a chosen Host (fetch may not set Host). */
function viaProxy(host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A fresh connection each time: Caddy closes idle ones when its config changes.
    const req = http.get({ host: '127.0.0.1', port: httpPort, path, headers: { Host: host }, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.once('error', reject)
  })
}

async function eventually<T>(attempt: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await attempt()
    if (ok(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** A raw admin API call, to change the config behind the client's back. */
function adminCall(method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: proxy.adminUrl.slice('unix:'.length), method, path, headers: { Host: 'localhost' } }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 0))
    })
    req.once('error', reject)
    req.end()
  })
}

describe('the proxy container', () => {
  it('is reused when ensured again', async () => {
    const before = await docker.getContainer(proxy.containerName).inspect()
    const again = await ensureProxy(docker, { name: proxy.containerName, httpPort })
    expect(again.adminUrl).toBe(proxy.adminUrl)
    const after = await docker.getContainer(proxy.containerName).inspect()
    expect(after.Id).toBe(before.Id)
    expect(after.Config.Labels['org.commons.role']).toBe('proxy')
  })

  it('answers a host without a route with 404', async () => {
    const response = await viaProxy('nobody-here.localhost')
    expect(response.status).toBe(404)
  })
})

describe('CaddyRoutes', () => {
  const id = `instance-hello-${run}`
  const host = 'hello-test.localhost'
  const alias = `inst-hello-${run}-web`

  beforeAll(async () => {
    const net = await network('hello')
    await hello('hello', net, alias)
    await connectProxy(net)
  }, 60_000)

  it('ensureServer creates the server when it is missing, and leaves it alone after', async () => {
    expect(await adminCall('DELETE', '/config/apps')).toBe(200)
    expect(await routes.ensureServer()).toBe('created')
    expect(await routes.ensureServer()).toBe('exists')
    expect((await viaProxy('nobody-here.localhost')).status).toBe(404)
  })

  it('routes a host to the tool container through the instance network', async () => {
    expect(await routes.ensureRoute({ id, hosts: [host], upstreams: [{ dial: `${alias}:8080` }] })).toBe('created')
    const response = await eventually(
      () => viaProxy(host),
      (r) => r.status === 200,
    )
    expect(response.status).toBe(200)
    expect(response.body).toContain('Hello, Groene Bakkerij &amp; Co')
  })

  it('keeps one route when ensured twice', async () => {
    expect(await routes.ensureRoute({ id, hosts: [host], upstreams: [{ dial: `${alias}:8080` }] })).toBe('unchanged')
    expect((await routes.listRoutes()).filter((r) => r.id === id)).toEqual([{ id, hosts: [host] }])
  })

  it('replaces a changed route in place; path prefixes win over the catch-all', async () => {
    const changed = {
      id,
      hosts: [host, 'hello-alt.localhost'],
      upstreams: [{ dial: `${alias}:8080` }, { pathPrefixes: ['/_elsewhere/'], dial: `no-such-service-${run}:8080` }],
    }
    expect(await routes.ensureRoute(changed)).toBe('replaced')
    expect(await routes.ensureRoute(changed)).toBe('unchanged')
    expect((await routes.listRoutes()).filter((r) => r.id === id)).toEqual([{ id, hosts: [host, 'hello-alt.localhost'] }])
    expect((await viaProxy('hello-alt.localhost')).status).toBe(200)
    // The prefix goes to its own upstream, which does not exist: the proxy says so.
    expect((await viaProxy(host, '/_elsewhere/x')).status).toBe(502)
    expect((await viaProxy(host, '/other/x')).status).toBe(404) // from busybox httpd: the catch-all
  })

  it('lists only routes with the given prefix', async () => {
    expect((await routes.listRoutes('instance-')).map((r) => r.id)).toContain(id)
    expect(await routes.listRoutes('someone-else-')).toEqual([])
  })

  it('removes a route; removing it again is fine', async () => {
    expect(await routes.removeRoute(id)).toBe(true)
    const response = await viaProxy(host)
    expect(response.status).toBe(404)
    expect(response.body).toContain('No tool lives at this address')
    expect(await routes.removeRoute(id)).toBe(false)
    expect((await routes.listRoutes()).map((r) => r.id)).not.toContain(id)
  })

  it('refuses routes the proxy must not get', async () => {
    await expect(routes.ensureRoute({ id: 'instance-x', hosts: ['Bad Host'], upstreams: [{ dial: 'a:80' }] })).rejects.toThrow(InvalidRouteError)
    await expect(routes.ensureRoute({ id: 'instance-x', hosts: ['x.localhost'], upstreams: [{ dial: 'a:80', pathPrefixes: ['/a/'] }] })).rejects.toThrow(/catch-all/)
    await expect(routes.ensureRoute({ id: 'instance-x', hosts: ['x.localhost'], upstreams: [{ dial: 'a:80' }, { dial: 'b:80', pathPrefixes: ['nope'] }] })).rejects.toThrow(
      InvalidRouteError,
    )
  })

  it('reports an unreachable admin API as a CaddyAdminError without status', async () => {
    const error: unknown = await new CaddyRoutes(`unix:/nonexistent-${run}/admin.sock`).listRoutes().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CaddyAdminError)
    expect(error instanceof CaddyAdminError && error.status).toBeUndefined()
  })
})

describe('instance networks', () => {
  it('keep containers of different instances apart, and the admin API out of reach', async () => {
    const [a, b] = [await network('iso-a'), await network('iso-b')]
    const a1 = await hello('iso-a1', a, 'a1')
    const a2 = await hello('iso-a2', a, 'a2')
    const b1 = await hello('iso-b1', b, 'b1')
    await connectProxy(a)
    const ipOf = async (container: Docker.Container, net: Docker.Network) => {
      const info = await container.inspect()
      const netName = (await net.inspect()).Name
      const ip = info.NetworkSettings.Networks[netName]?.IPAddress
      if (!ip) throw new Error(`no address on ${netName}`)
      return ip
    }
    // Not wget -T: Debian's busybox 1.35 wget crashes (SIGSEGV) with it.
    const wget = (from: Docker.Container, url: string) => exec(from, ['timeout', '2', 'wget', '-q', '-O', '-', url])

    // Same network: reachable by alias (the control).
    expect((await eventually(() => wget(a2, 'http://a1:8080/'), (r) => r.exitCode === 0)).exitCode).toBe(0)
    // Another network: neither its alias resolves nor its address answers, either way.
    expect((await wget(a2, 'http://b1:8080/')).exitCode).not.toBe(0)
    expect((await wget(a2, `http://${await ipOf(b1, b)}:8080/`)).exitCode).not.toBe(0)
    expect((await wget(b1, `http://${await ipOf(a1, a)}:8080/`)).exitCode).not.toBe(0)

    // The proxy shares the network, so its :80 is reachable from the tool;
    // its admin API (a unix socket) is not reachable over any network.
    const probe = (port: number) => exec(a1, ['nc', '-w', '2', proxy.containerName, String(port), '-e', 'true'])
    expect((await probe(80)).exitCode).toBe(0)
    expect((await probe(2019)).exitCode).not.toBe(0)
  }, 60_000)
})
