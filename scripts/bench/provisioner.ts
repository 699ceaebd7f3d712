/**
 * Provisioner benchmarks, against the real parts (`npx tsx scripts/bench/provisioner.ts`):
 *
 * 1. Request → healthy for the three-container test recipe "trio", through
 *    the provisioner's API, against the raw `docker` CLI doing the same steps
 *    (network, volume, three containers each waited on for its health check
 *    from the proxy container, the post-install hook, proxy attached, route
 *    added), alternating, in the same run.
 * 2. One reconcile pass (observe everything, plan every instance) with 1000
 *    managed containers: 334 trio instances whose containers exist (created).
 *
 * Starts embedded Postgres and Keycloak (ports 5474/8320) the way the tests
 * do. Prints a Markdown table for docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Docker from 'dockerode'
import { startProvisioner } from '../../provisioner/src/app.ts'
import { parseEnv } from '../../provisioner/src/config.ts'
import { createLogger } from '../../provisioner/src/log.ts'
import { CaddyRoutes } from '../../provisioner/src/proxy/caddy.ts'
import { LABEL } from '../../provisioner/src/spec.ts'
import { ensureDockerEngine } from '../docker-engine.ts'
import { ensureLocalImages } from '../images.ts'
import { startDatabaseAndKeycloak } from '../local-stack.ts'
import { ensureProxy } from '../proxy.ts'
import { localSecrets } from '../secrets.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const runs = Number(process.env.BENCH_RUNS ?? 5)
const instancesForPass = Number(process.env.BENCH_PASS_INSTANCES ?? 334)
const dataDir = path.join(root, '.data', 'bench')
mkdirSync(dataDir, { recursive: true })
const stops: (() => Promise<void>)[] = []

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

/** The same steps by hand with the docker CLI, as an operator's script would do them. */
async function rawCli(name: string, proxyContainer: string, routes: CaddyRoutes): Promise<number> {
  const started = performance.now()
  const net = `${name}-net`
  docker('network', 'create', '--label', 'bench=raw', net)
  docker('network', 'connect', net, proxyContainer)
  docker('volume', 'create', '--label', 'bench=raw', `${name}-data`)
  const secret = randomBytes(12).toString('hex')
  const waitFor = async (cmd: string[]) => {
    for (;;) {
      try {
        execFileSync('docker', ['exec', proxyContainer, ...cmd], { stdio: 'ignore' })
        return
      } catch {
        await sleep(1000) // the recipe's interval
      }
    }
  }
  docker('run', '-d', '--name', `${name}-db`, '--label', 'bench=raw', '--network', net, '--network-alias', 'db', '-e', `TRIO_DB_PASSWORD=${secret}`, '-v', `${name}-data:/var/lib/trio`, '--memory', '32m', '--cpus', '0.1', 'commons-test/trio-db:1.0', 'trio-db')
  await waitFor(['nc', '-w', '2', `${name}-db`, '5432', '-e', 'true'])
  docker('run', '-d', '--name', `${name}-api`, '--label', 'bench=raw', '--network', net, '--network-alias', 'api', '-e', `TRIO_DB_PASSWORD=${secret}`, '-e', 'TRIO_DB_HOST=db', '--memory', '32m', '--cpus', '0.1', 'commons-test/trio-api:1.0', 'httpd', '-f', '-v', '-p', '8081', '-h', '/srv/api')
  await waitFor(['timeout', '2', 'wget', '-q', '-O', '/dev/null', `http://${name}-api:8081/health`])
  docker('run', '-d', '--name', `${name}-web`, '--label', 'bench=raw', '--network', net, '--network-alias', 'web', '-e', 'TRIO_ORG=Bench', '--memory', '32m', '--cpus', '0.1', 'commons-test/trio-web:1.0', 'httpd', '-f', '-v', '-p', '8080', '-h', '/srv/web')
  await waitFor(['timeout', '2', 'wget', '-q', '-O', '/dev/null', `http://${name}-web:8080/`])
  docker('exec', `${name}-db`, 'sh', '-c', 'date > /var/lib/trio/installed')
  await routes.ensureRoute({ id: `bench.${name}.main`, hosts: [`${name}.localhost`], upstreams: [{ pathPrefixes: ['/api/'], dial: `${name}-api:8081` }, { dial: `${name}-web:8080` }] })
  const seconds = (performance.now() - started) / 1000
  await routes.removeRoute(`bench.${name}.main`)
  docker('rm', '-f', `${name}-db`, `${name}-api`, `${name}-web`)
  docker('network', 'disconnect', '-f', net, proxyContainer)
  docker('network', 'rm', net)
  docker('volume', 'rm', `${name}-data`)
  return seconds
}

try {
  const secrets = localSecrets(path.join(dataDir, 'secrets.json'))
  process.env.EMBEDDED_POSTGRES_DIR = path.join(dataDir, 'postgres')
  process.env.EMBEDDED_POSTGRES_PORT = '5474'
  delete process.env.DATABASE_URL
  console.error('Starting Postgres, Keycloak, the Docker engine and the proxy …')
  const { database } = await startDatabaseAndKeycloak({ dataDir, keycloakPort: 8320, portalUrl: 'http://127.0.0.1:3140', secrets, stops })
  const engine = await ensureDockerEngine()
  const api = new Docker({ socketPath: engine.socketPath })
  await ensureLocalImages(api)
  const proxy = await ensureProxy(api, { name: 'commons-bench-proxy', httpPort: 18180 })
  stops.push(proxy.stop)

  const schema = `bench_${randomBytes(3).toString('hex')}`
  const env = parseEnv({
    PORT: '0',
    PROVISIONER_NAME: 'commons-provisioner-bench',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    DATABASE_SCHEMA: schema,
    PROVISIONER_API_TOKEN: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    INSTANCE_DOMAIN: 'localhost',
    PUBLIC_URL_SCHEME: 'http',
    PUBLIC_URL_PORT: '18180',
    KEYCLOAK_URL: 'http://127.0.0.1:8320',
    PROVISIONER_CLIENT_SECRET: secrets.provisioner,
    CADDY_ADMIN_URL: proxy.adminUrl,
    PROXY_CONTAINER: proxy.containerName,
    PULL_IMAGES: 'false',
    REMOVED_VOLUME_GRACE_DAYS: '0',
    // The sweep would start passes for the 334 instances of part 2: keep it out of the measurement.
    RESYNC_MS: String(24 * 3600_000),
  })
  const provisioner = await startProvisioner(env, createLogger('warn'))
  stops.push(provisioner.close)
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${provisioner.port}${url}`, {
      method,
      headers: { Authorization: `Bearer ${env.PROVISIONER_API_TOKEN}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    })
    return (await res.json()) as { phase?: string }
  }
  const routes = new CaddyRoutes(proxy.adminUrl)

  // Part 1, alternating so both see the same machine state.
  const ours: number[] = []
  const raw: number[] = []
  for (let i = 0; i < runs; i++) {
    const id = `trio-bench-${i}`
    const started = performance.now()
    await call('PUT', `/instances/${id}`, { organization: { id: `org-bench-${i}`, slug: `bench-${i}`, name: 'Bench' }, recipe: 'trio', adminEmail: 'bench@example.coop' })
    while ((await call('GET', `/instances/${id}`)).phase !== 'ready') await sleep(50)
    ours.push((performance.now() - started) / 1000)
    await call('DELETE', `/instances/${id}`)
    while ((await call('GET', `/instances/${id}`)).phase !== 'purged') await sleep(100)
    raw.push(await rawCli(`raw-bench-${i}`, proxy.containerName, routes))
    console.error(`run ${i + 1}/${runs}: provisioner ${ours.at(-1)?.toFixed(2)} s, docker CLI ${raw.at(-1)?.toFixed(2)} s`)
  }

  // Part 2: 1000 managed containers (334 × 3, created, not started).
  console.error(`Creating ${instancesForPass} trio instances (${instancesForPass * 3} containers) …`)
  await provisioner.controller.stop() // no passes: we only want the planning
  const { InstanceStore } = await import('../../provisioner/src/store/instances.ts')
  const { SecretBox } = await import('../../provisioner/src/crypto.ts')
  const { buildSpec, secretNeeds } = await import('../../provisioner/src/spec.ts')
  const { loadCatalog } = await import('../../catalog/src/load.ts')
  const { platformFrom } = await import('../../provisioner/src/app.ts')
  const trio = (await loadCatalog(path.join(root, 'catalog', 'recipes'))).find((e) => e.recipe.id === 'trio')
  if (!trio) throw new Error('trio recipe missing')
  const store = new InstanceStore(provisioner.pool, new SecretBox(env.SECRETS_KEY))
  const platform = platformFrom(env)
  for (let i = 0; i < instancesForPass; i++) {
    const id = `trio-pass-${i}`
    const body = { organization: { id: `org-pass-${i}`, slug: `pass-${i}`, name: `Pass ${i}` }, recipe: 'trio', adminEmail: 'bench@example.coop', state: 'running' as const }
    const identity = { id, organizationId: body.organization.id, organizationSlug: body.organization.slug, organizationName: body.organization.name, recipe: 'trio', recipeVersion: trio.recipe.version, adminEmail: body.adminEmail }
    await store.put(id, body, trio.recipe.version, secretNeeds(identity, trio, platform))
    const stored = await store.secrets(id)
    const spec = buildSpec(identity, trio, platform, (name) => stored.get(name) ?? '')
    await Promise.all(
      spec.containers.map((c) =>
        api.createContainer({ name: c.name, Image: c.image, Cmd: c.command, Labels: c.labels, HostConfig: { Memory: c.memoryBytes } }),
      ),
    )
    if (i % 50 === 49) console.error(`  ${(i + 1) * 3} containers`)
  }
  const { Controller } = await import('../../provisioner/src/controller/controller.ts')
  const controller: InstanceType<typeof Controller> = provisioner.controller
  const passes: number[] = []
  let steps = 0
  const rssBefore = process.memoryUsage().rss
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    const plans = await controller.planAll()
    passes.push((performance.now() - started) / 1000)
    steps = [...plans.values()].reduce((n, p) => n + p.length, 0)
  }
  const rssAfter = process.memoryUsage().rss
  const managed = (await api.listContainers({ all: true, filters: { label: [`${LABEL.managedBy}=${env.PROVISIONER_NAME}`] } })).length

  console.log(`\n| measure | value |\n| --- | --- |`)
  console.log(`| machine | ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB |`)
  console.log(`| trio request → ready, provisioner API (median of ${runs}) | ${median(ours).toFixed(2)} s (min ${Math.min(...ours).toFixed(2)}, max ${Math.max(...ours).toFixed(2)}) |`)
  console.log(`| same steps, raw docker CLI (median of ${runs}) | ${median(raw).toFixed(2)} s (min ${Math.min(...raw).toFixed(2)}, max ${Math.max(...raw).toFixed(2)}) |`)
  console.log(`| reconcile pass (observe + plan), ${managed} managed containers, ${instancesForPass} instances (median of 3) | ${median(passes).toFixed(2)} s; ${steps} steps planned |`)
  console.log(`| RSS of the process around the passes | ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB |`)

  console.error('Removing the benchmark containers …')
  const all = await api.listContainers({ all: true, filters: { label: [`${LABEL.recipe}=trio`] } })
  for (let i = 0; i < all.length; i += 20) await Promise.all(all.slice(i, i + 20).map((c) => api.getContainer(c.Id).remove({ force: true })))
  const client = new (await import('pg')).default.Client({ connectionString: database.url })
  await client.connect()
  await client.query(`DROP SCHEMA ${schema} CASCADE`)
  await client.end()
} finally {
  for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error('stop failed:', e))
}
process.exit(0)
