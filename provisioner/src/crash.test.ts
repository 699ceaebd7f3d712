/**
 * Crash safety: the provisioner process is killed with SIGKILL at every step
 * of provisioning and of removal — just before a step runs, or just after it
 * did its work and before that was recorded (TEST_CRASH_AT, a fault-injection
 * switch of the controller). Started again, it must converge to the desired
 * state, leaving no orphaned container, network, volume, route or Keycloak
 * client.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeycloakInstanceClients } from './keycloak/instance-clients.ts'
import { CaddyRoutes } from './proxy/caddy.ts'
import { LABEL } from './spec.ts'
import { apiClient, getThroughProxy, testStack, waitFor, type TestStack } from './testing/stack.ts'

const provisionerDir = path.resolve(import.meta.dirname, '..')
let stack: TestStack
let env: Record<string, string>
let child: ChildProcess | undefined
let port = 0

const org = { id: 'org-crash', slug: 'crash', name: 'Crash Coop' }
const provisionSteps = ['network', 'volume:', 'oidc-client', 'container:web', 'health:web', 'hook:mark-installed', 'route', 'ready']
const removalSteps = ['remove-route:', 'remove-container:', 'remove-oidc-client', 'remove-network', 'removed', 'remove-volume:', 'purged']

beforeAll(async () => {
  stack = await testStack(2)
  env = stack.rawEnv({ REMOVED_VOLUME_GRACE_DAYS: '0' })
}, 300_000)

afterAll(async () => {
  child?.kill('SIGKILL')
  if (stack) {
    await stack.dropSchema(env.DATABASE_SCHEMA ?? '')
    await stack.close()
  }
}, 60_000)

/** Starts `node src/main.ts` (optionally armed to kill itself at a step) and waits for its "listening" line. */
async function startProcess(crashAt?: string): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: provisionerDir,
    // info: the "listening" line names the port.
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'info', ...(crashAt ? { TEST_CRASH_AT: crashAt } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  child = proc
  port = await new Promise<number>((resolve, reject) => {
    let buffered = ''
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      for (const line of buffered.split('\n').slice(0, -1)) {
        const entry = JSON.parse(line) as { msg: string; port?: number }
        if (entry.msg === 'provisioner listening' && entry.port) resolve(entry.port)
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1)
    })
    proc.once('exit', (code) => reject(new Error(`provisioner exited with ${code} before listening`)))
  })
}

/** Resolves when the process ended; says how. */
function exited(proc: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.signalCode ?? proc.exitCode)
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? code)))
}

async function stopProcess(): Promise<void> {
  if (!child) return
  const done = exited(child)
  child.kill('SIGTERM')
  await done
}

async function leftovers(instanceId: string) {
  const filters = { label: [`${LABEL.instance}=${instanceId}`] }
  const routes = new CaddyRoutes(stack.proxy.adminUrl)
  const clients = new KeycloakInstanceClients({ keycloakUrl: env.KEYCLOAK_URL ?? '', realm: 'commons', clientId: 'commons-provisioner', clientSecret: env.PROVISIONER_CLIENT_SECRET ?? '', owner: env.PROVISIONER_NAME })
  return {
    containers: (await stack.docker.listContainers({ all: true, filters })).map((c) => `${c.Names[0]}:${c.State}`),
    networks: (await stack.docker.listNetworks({ filters })).map((n) => n.Name),
    volumes: ((await stack.docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name),
    routes: (await routes.listRoutes(`instance.${instanceId}.`)).map((r) => r.id),
    clients: (await clients.listInstanceClients()).filter((c) => c.instanceId === instanceId).map((c) => c.clientId),
  }
}

describe('killed with SIGKILL at every step, the provisioner converges', () => {
  provisionSteps.forEach((step, k) => {
    const when = k % 2 === 0 ? 'after' : 'before'
    const removal = removalSteps[k % removalSteps.length] ?? 'removed'
    const removalWhen = k % 2 === 0 ? 'before' : 'after'
    it(`killed ${when} "${step}" while provisioning and ${removalWhen} "${removal}" while removing`, async () => {
      const id = `hello-crash-${k}`
      const api = () => apiClient(port, env.PROVISIONER_API_TOKEN ?? '')
      await startProcess(`${step}@${when}`)
      const put = await api().put(id, { organization: { ...org, id: `${org.id}-${k}`, slug: `crash-${k}` }, recipe: 'hello', adminEmail: 'admin@crash.example' })
      expect(put.status).toBe(202)
      expect(await exited(child as ChildProcess)).toBe('SIGKILL')

      await startProcess()
      await waitFor(async () => (await api().get(id)).phase === 'ready', `${id} ready after the restart`, 120_000)
      expect(await leftovers(id)).toEqual({
        containers: [`/${id}-web:running`],
        networks: [`${id}-net`],
        volumes: [`${id}-data`],
        routes: [`instance.${id}.main`],
        clients: [`instance-${id}`],
      })
      expect((await getThroughProxy(stack.proxy.httpPort, `hello-crash-${k}.localhost`)).status).toBe(200)
      await stopProcess()

      await startProcess(`${removal}@${removalWhen}`)
      expect((await api().call('DELETE', `/instances/${id}`)).status).toBe(202)
      expect(await exited(child as ChildProcess)).toBe('SIGKILL')
      await startProcess()
      await waitFor(async () => (await api().get(id)).phase === 'purged', `${id} purged after the restart`, 120_000)
      expect(await leftovers(id)).toEqual({ containers: [], networks: [], volumes: [], routes: [], clients: [] })
      await stopProcess()
    }, 240_000)
  })
})
