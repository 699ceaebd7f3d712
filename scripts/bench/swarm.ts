/**
 * Swarm benchmarks, against the real parts (`npx tsx scripts/bench/swarm.ts`):
 *
 * 1. BENCH_INSTANCES "hello" tools requested at once from a provisioner on
 *    the local driver (the main Docker engine), until every one is ready
 *    behind the proxy: the baseline.
 * 2. The same on the Swarm driver, on a swarm of a manager and two workers
 *    made as the tests make it (provisioner/src/testing/swarm-cluster.ts),
 *    tools on the workers only; and how they were spread.
 * 3. A tool without volumes on the swarm: its host is lost (every process of
 *    it killed), until the tool answers through the proxy from the other
 *    host. BENCH_RUNS times, median.
 *
 * Starts embedded Postgres and Keycloak (ports 5476/8322) as the tests do.
 * Prints a Markdown table for docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Docker from 'dockerode'
import { startProvisioner, type RunningProvisioner } from '../../provisioner/src/app.ts'
import { parseEnv } from '../../provisioner/src/config.ts'
import { createLogger } from '../../provisioner/src/log.ts'
import { startSwarmCluster } from '../../provisioner/src/testing/swarm-cluster.ts'
import { ensureDockerEngine } from '../docker-engine.ts'
import { ensureLocalImages, images } from '../images.ts'
import { startDatabaseAndKeycloak } from '../local-stack.ts'
import { ensureProxy } from '../proxy.ts'
import { localSecrets } from '../secrets.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const count = Number(process.env.BENCH_INSTANCES ?? 10)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const dataDir = path.join(root, '.data', 'bench-swarm')
mkdirSync(dataDir, { recursive: true })
const stops: (() => Promise<void>)[] = []
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

function visit(address: string, port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: address, port, path: '/', headers: { Host: host }, agent: false, timeout: 2000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
    req.end()
  })
}

try {
  const secrets = localSecrets(path.join(dataDir, 'secrets.json'))
  process.env.EMBEDDED_POSTGRES_DIR = path.join(dataDir, 'postgres')
  process.env.EMBEDDED_POSTGRES_PORT = '5476'
  delete process.env.DATABASE_URL
  console.error('Starting Postgres, Keycloak, the Docker engine …')
  const { database } = await startDatabaseAndKeycloak({ dataDir, keycloakPort: 8322, portalUrl: 'http://127.0.0.1:3142', secrets, stops })
  const main = new Docker({ socketPath: (await ensureDockerEngine()).socketPath })
  await ensureLocalImages(main)

  const catalogDir = mkdtempSync(path.join(tmpdir(), 'catalog-bench-swarm-'))
  stops.push(async () => rmSync(catalogDir, { recursive: true, force: true }))
  cpSync(path.join(root, 'catalog/recipes/hello'), path.join(catalogDir, 'hello'), { recursive: true })
  const echo = JSON.parse(readFileSync(path.join(root, 'catalog/recipes/hello/recipe.json'), 'utf8')) as Record<string, unknown> & { services: Record<string, unknown>[] }
  Object.assign(echo, { id: 'echo', volumes: [], hooks: [], backup: { volumes: [], dumps: [], restore: [] } })
  echo.services[0]!.volumes = []
  mkdirSync(path.join(catalogDir, 'echo'))
  writeFileSync(path.join(catalogDir, 'echo', 'recipe.json'), JSON.stringify(echo))

  const envFor = (name: string, extra: Record<string, string>) =>
    parseEnv({
      PORT: '0',
      PROVISIONER_NAME: `commons-provisioner-bench-${name}`,
      LOG_LEVEL: 'error',
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: `bench_${name}_${randomBytes(3).toString('hex')}`,
      PROVISIONER_API_TOKEN: randomBytes(32).toString('hex'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      INSTANCE_DOMAIN: 'localhost',
      PUBLIC_URL_SCHEME: 'http',
      KEYCLOAK_URL: 'http://127.0.0.1:8322',
      PROVISIONER_CLIENT_SECRET: secrets.provisioner,
      CATALOG_DIR: catalogDir,
      PULL_IMAGES: 'false',
      REMOVED_VOLUME_GRACE_DAYS: '0',
      RESYNC_MS: '1000',
      RETRY_BASE_MS: '500',
      RETRY_MAX_MS: '2000',
      ...extra,
    })
  const client = (p: RunningProvisioner, token: string) => async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${p.port}${url}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined })
    return (await res.json()) as T
  }
  const ids = Array.from({ length: count }, (_, i) => `hello-bench-${i}`)
  /** Seconds from requesting every tool at once until every one is ready. */
  async function provisionAll(call: ReturnType<typeof client>): Promise<number> {
    const started = performance.now()
    await Promise.all(ids.map((id, i) => call('PUT', `/instances/${id}`, { organization: { id: `org-bench-${i}`, slug: `bench-${i}`, name: `Bench ${i}` }, recipe: 'hello', adminEmail: 'bench@example.coop' })))
    for (;;) {
      const { instances } = await call<{ instances: { phase: string }[] }>('GET', '/instances')
      if (instances.some((x) => x.phase === 'failed')) throw new Error('a tool failed')
      if (instances.filter((x) => x.phase === 'ready').length >= count) return (performance.now() - started) / 1000
      await sleep(100)
    }
  }
  async function removeAll(call: ReturnType<typeof client>) {
    const { instances } = await call<{ instances: { id: string }[] }>('GET', '/instances')
    for (const x of instances) await call('DELETE', `/instances/${x.id}`)
    for (;;) {
      const now = await call<{ instances: { phase: string }[] }>('GET', '/instances')
      if (now.instances.every((x) => x.phase === 'purged')) return
      await sleep(200)
    }
  }

  console.error(`Local driver: ${count} tools at once …`)
  const localProxy = await ensureProxy(main, { name: 'commons-bench-swarm-local-proxy', httpPort: 18182 })
  stops.push(localProxy.stop)
  const localEnv = envFor('local', { CADDY_ADMIN_URL: localProxy.adminUrl, PROXY_CONTAINER: localProxy.containerName, PUBLIC_URL_PORT: '18182' })
  const localProvisioner = await startProvisioner(localEnv, createLogger('error'))
  const localCall = client(localProvisioner, localEnv.PROVISIONER_API_TOKEN)
  const localSeconds = await provisionAll(localCall)
  await removeAll(localCall)
  await localProvisioner.close()

  console.error('Swarm: a manager and two workers …')
  const clusterStarted = performance.now()
  const cluster = await startSwarmCluster({ workers: 2, images: [images.hello, images.caddy, images.restic], offset: 9 })
  const clusterSeconds = (performance.now() - clusterStarted) / 1000
  stops.push(cluster.close)
  const proxy = await ensureProxy(cluster.manager.docker, { name: 'commons-bench-swarm-proxy', httpPort: 8080, hostIp: '0.0.0.0' })
  stops.push(proxy.stop)
  const workers = cluster.nodes.filter((n) => n.role === 'worker')
  const swarmEnv = envFor('swarm', {
    PROVISIONER_DRIVER: 'swarm',
    DOCKER_SOCKET: cluster.manager.socketPath,
    SWARM_NODE_ENGINES: workers.map((w) => `${w.name}=unix://${w.socketPath}`).join(','),
    SWARM_CONSTRAINTS: 'node.role==worker',
    SWARM_ENCRYPT_NETWORKS: 'false',
    CADDY_ADMIN_URL: proxy.adminUrl,
    PROXY_CONTAINER: proxy.containerName,
    PUBLIC_URL_PORT: '8080',
  })
  const provisioner = await startProvisioner(swarmEnv, createLogger('error'))
  stops.push(provisioner.close)
  const call = client(provisioner, swarmEnv.PROVISIONER_API_TOKEN)
  console.error(`Swarm driver: ${count} tools at once …`)
  const swarmSeconds = await provisionAll(call)
  const spread = new Map<string, number>()
  for (const id of ids) {
    const labels = ((await cluster.manager.docker.getNetwork(`${id}-net`).inspect()) as { Labels: Record<string, string> }).Labels
    const host = labels['org.commons.node'] ?? '?'
    spread.set(host, (spread.get(host) ?? 0) + 1)
  }
  await removeAll(call)

  console.error(`A lost host, ${runs} times …`)
  await call('PUT', '/instances/echo-bench', { organization: { id: 'org-bench-echo', slug: 'bench-echo', name: 'Echo' }, recipe: 'echo', adminEmail: 'bench@example.coop' })
  for (;;) {
    const view = await call<{ phase: string; failure: unknown }>('GET', '/instances/echo-bench')
    if (view.phase === 'ready') break
    if (view.phase === 'failed') throw new Error(`echo-bench failed: ${JSON.stringify(view.failure)}; events: ${JSON.stringify(await call('GET', '/instances/echo-bench/events'))}`)
    await sleep(100)
  }
  const moveSeconds: number[] = []
  for (let run = 0; run < runs; run++) {
    const tasks = (await cluster.manager.docker.listTasks({ filters: { service: ['echo-bench-web'], 'desired-state': ['running'] } })) as { NodeID: string; Status: { State: string } }[]
    const nodeId = tasks.find((t) => t.Status.State === 'running')?.NodeID
    const host = cluster.nodes.find((n) => n.id === nodeId)?.name
    if (!host) throw new Error('echo runs nowhere')
    const lost = performance.now()
    await cluster.loseNode(host)
    // Answering again, from a host that is not the lost one.
    for (;;) {
      if ((await visit(cluster.manager.address, 8080, 'echo-bench-echo.localhost')) === 200) break
      await sleep(100)
    }
    moveSeconds.push((performance.now() - lost) / 1000)
    await cluster.restoreNode(host)
  }
  const rss = Math.round(process.memoryUsage().rss / 1024 / 1024)
  await removeAll(call)

  console.log(`| what (${count} hello tools; a lost host ${runs} times, median) | seconds |`)
  console.log('| --- | ---: |')
  console.log(`| ${count} tools requested at once until all ready, local driver (one engine) | ${localSeconds.toFixed(1)} |`)
  console.log(`| the same on the Swarm driver (two workers) | ${swarmSeconds.toFixed(1)} |`)
  console.log(`| spread over the workers | ${[...spread].map(([h, n]) => `${h}: ${n}`).join(', ')} |`)
  console.log(`| a swarm of three engines in namespaces, made | ${clusterSeconds.toFixed(1)} |`)
  console.log(`| a tool without volumes answering again after its host was lost | ${median(moveSeconds).toFixed(1)} |`)
  console.log(`| RSS of the process (both provisioners in it) at the end | ${rss} MiB |`)
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined)
}
