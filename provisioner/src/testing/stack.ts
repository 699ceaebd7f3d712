import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { PassThrough } from 'node:stream'
import Docker from 'dockerode'
import pg from 'pg'
import { ensureDockerEngine } from '../../../scripts/docker-engine.ts'
import { ensureLocalImages } from '../../../scripts/images.ts'
import { ensureProxy } from '../../../scripts/proxy.ts'
import type { InstanceEvent, InstanceView } from '../api/contract.ts'
import { parseEnv, type Env } from '../config.ts'
import { LABEL } from '../spec.ts'

// The real parts a provisioner test stands on: the Docker engine (started if
// it is not running), the locally built images, a Caddy proxy container of
// the test's own, and the Postgres and Keycloak the test harness started.

export type TestStack = {
  docker: Docker
  proxy: { adminUrl: string; httpPort: number; containerName: string }
  env: (overrides?: Record<string, string>) => Env
  rawEnv: (overrides?: Record<string, string>) => Record<string, string>
  /** Names of the containers, networks and volumes labelled with this instance: [] once it is gone. */
  objectsOf(instanceId: string): Promise<string[]>
  dropSchema(schema: string): Promise<void>
  close(): Promise<void>
}

function required(name: string): string {
  const value = process.env[name]
  if (!value)
    throw new Error(`${name} is not set: run the provisioner's integration tests through the harness (npm test, or npx tsx test/run.ts unit provisioner)`)
  return value
}

/**
 * What every provisioner test's environment has: the harness's Postgres and
 * Keycloak, a schema and a name of its own (test files run side by side on
 * one engine and one realm), fresh tokens and keys, quick retries.
 */
export function harnessEnv(schema: string): Record<string, string> {
  return {
    PORT: '0',
    PROVISIONER_NAME: `commons-provisioner-${schema}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DATABASE_URL: required('DATABASE_URL'),
    DATABASE_SCHEMA: schema,
    PROVISIONER_API_TOKEN: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    INSTANCE_DOMAIN: 'localhost',
    PUBLIC_URL_SCHEME: 'http',
    KEYCLOAK_URL: required('KEYCLOAK_URL'),
    PROVISIONER_CLIENT_SECRET: required('PROVISIONER_CLIENT_SECRET'),
    // No registry is reachable here: a missing image fails at once instead of asking the internet.
    PULL_IMAGES: 'false',
    RETRY_BUDGET: '3',
    RETRY_BASE_MS: '200',
    RETRY_MAX_MS: '1000',
    RESYNC_MS: '1000',
  }
}

/** Drops a test's schema (its tables) from the harness's Postgres. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: required('DATABASE_URL') })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await client.end()
  }
}

/** `slot` keeps the proxies of test files that run at the same time apart (ports and names). */
export async function testStack(slot: number): Promise<TestStack> {
  const engine = await ensureDockerEngine()
  const docker = new Docker({ socketPath: engine.socketPath })
  await ensureLocalImages(docker)
  const offset = Number(process.env.TEST_PORT_OFFSET ?? 0)
  const httpPort = 18080 + offset * 10 + slot
  const proxy = await ensureProxy(docker, {
    name: `commons-test-proxy-${offset}-${slot}`,
    httpPort,
  })
  const rawEnv = (overrides: Record<string, string> = {}) => ({
    ...harnessEnv(`test_${slot}_${randomBytes(4).toString('hex')}`),
    PUBLIC_URL_PORT: String(httpPort),
    CADDY_ADMIN_URL: proxy.adminUrl,
    PROXY_CONTAINER: proxy.containerName,
    ...overrides,
  })
  return {
    docker,
    proxy: {
      adminUrl: proxy.adminUrl,
      httpPort,
      containerName: proxy.containerName,
    },
    rawEnv,
    env: (overrides) => parseEnv(rawEnv(overrides)),
    objectsOf: async (instanceId) => {
      const filters = { label: [`${LABEL.instance}=${instanceId}`] }
      return [
        ...(await docker.listContainers({ all: true, filters })).map((c) => c.Names[0] ?? c.Id),
        ...(await docker.listNetworks({ filters })).map((n) => n.Name),
        ...((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name),
      ]
    },
    dropSchema,
    close: () => proxy.stop(),
  }
}

/** A client for the provisioner's API, as the portal uses it. */
export function apiClient(port: number, token: string) {
  const base = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    return { status: res.status, body: (await res.json()) as unknown }
  }
  return {
    call,
    put: (id: string, body: unknown) => call('PUT', `/instances/${id}`, body),
    get: async (id: string) => (await call('GET', `/instances/${id}`)).body as InstanceView,
    events: async (id: string) =>
      (
        (await call('GET', `/instances/${id}/events`)).body as {
          events: InstanceEvent[]
        }
      ).events,
  }
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** GET through the proxy with a given Host header (fetch may not set Host). */
export function getThroughProxy(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A new connection every time, as a new visitor makes: Node's default agent
    // keeps connections alive, and Caddy lets a connection made before a config
    // change finish on the old config (its grace period), so a route just
    // removed could still answer on a reused one.
    const req = http.request({ host: '127.0.0.1', port, path, headers: { Host: host }, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Runs argv in a container (as `docker exec` does); returns its exit code and output (stdout and stderr). */
export async function execIn(docker: Docker, container: string, argv: string[], user?: string): Promise<{ exitCode: number; output: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: argv, User: user, AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({ hijack: true, stdin: false })
  const chunks: Buffer[] = []
  const sink = new PassThrough()
  sink.on('data', (c: Buffer) => chunks.push(c))
  docker.modem.demuxStream(stream, sink, sink)
  await new Promise<void>((resolve, reject) => {
    stream.once('end', resolve)
    stream.once('close', resolve)
    stream.once('error', reject)
  })
  return { exitCode: (await exec.inspect()).ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') }
}
