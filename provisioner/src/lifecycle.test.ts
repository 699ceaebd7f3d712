/**
 * The provisioner for real: a Docker engine, locally built images, a Caddy
 * container, the harness's Postgres and Keycloak. One organisation's "hello"
 * instance goes through its whole life: request, ready behind the proxy,
 * suspend, resume, restart, remove (volumes kept, data exportable), purge.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InstanceEvent } from './api/contract.ts'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import { createLogger } from './log.ts'
import { KeycloakInstanceClients } from './keycloak/instance-clients.ts'
import { LABEL } from './spec.ts'
import { apiClient, getThroughProxy, testStack, waitFor, type TestStack } from './testing/stack.ts'
import type { Env } from './config.ts'

let stack: TestStack
let env: Env
let provisioner: RunningProvisioner
let api: ReturnType<typeof apiClient>
let clients: KeycloakInstanceClients

const org = { id: 'org-groene-bakkerij', slug: 'groene-bakkerij', name: 'De "Groene" Bakkerij' }
const id = 'hello-groene-bakkerij'
const host = 'hello-groene-bakkerij.localhost'

beforeAll(async () => {
  stack = await testStack(1)
  env = stack.env({ REMOVED_VOLUME_GRACE_DAYS: '0' })
  provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
  api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
  clients = new KeycloakInstanceClients({ keycloakUrl: env.KEYCLOAK_URL, realm: 'commons', clientId: 'commons-provisioner', clientSecret: env.PROVISIONER_CLIENT_SECRET, owner: env.PROVISIONER_NAME })
}, 300_000)

afterAll(async () => {
  // Whatever a failed assertion left behind goes: remove, then purge (grace 0 days).
  if (provisioner) {
    for (const instance of ((await api.call('GET', '/instances')).body as { instances: { id: string }[] }).instances) {
      await api.call('DELETE', `/instances/${instance.id}`)
      await waitFor(async () => (await api.get(instance.id)).phase === 'purged', `${instance.id} purged`, 60_000)
    }
    await provisioner.close()
    await stack.dropSchema(env.DATABASE_SCHEMA)
  }
  await stack?.close()
}, 120_000)

/** Reads the SSE stream until `done` says so; returns "step:status" in arrival order. */
async function readStream(instance: string, done: (steps: string[]) => boolean): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${provisioner.port}/instances/${instance}/events/stream`, {
    headers: { Authorization: `Bearer ${env.PROVISIONER_API_TOKEN}`, Accept: 'text/event-stream' },
  })
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough<string>(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader()
  const steps: string[] = []
  let buffer = ''
  while (!done(steps)) {
    const { value, done: ended } = await reader.read()
    if (ended) break
    buffer += value
    const frames = buffer.split('\n\n')
    buffer = frames.pop() ?? ''
    for (const frame of frames) {
      const data = frame.split('\n').find((l) => l.startsWith('data: '))
      if (!data) continue
      const event = JSON.parse(data.slice(6)) as InstanceEvent
      steps.push(`${event.step}:${event.status}`)
    }
  }
  await reader.cancel()
  return steps
}

async function managed(kind: 'containers' | 'networks' | 'volumes') {
  const filters = { label: [`${LABEL.instance}=${id}`] }
  if (kind === 'containers') return (await stack.docker.listContainers({ all: true, filters })).map((c) => ({ name: c.Names[0], state: c.State }))
  if (kind === 'networks') return (await stack.docker.listNetworks({ filters })).map((n) => n.Name)
  return ((await stack.docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name)
}

describe('a hello instance from request to purge', () => {
  it('refuses requests without the token and bodies that do not validate, and changes nothing', async () => {
    const anonymous = await fetch(`http://127.0.0.1:${provisioner.port}/instances`)
    expect(anonymous.status).toBe(401)
    expect((await api.put(id, { organization: org, recipe: 'hello' })).status).toBe(400)
    expect((await api.put(id, { organization: org, recipe: 'no-such-tool', adminEmail: 'a@b.coop' })).body).toMatchObject({ error: { code: 'unknown-recipe' } })
    expect((await api.put(id, { organization: org, recipe: 'jitsi', adminEmail: 'a@b.coop' })).body).toMatchObject({ error: { code: 'recipe-not-hostable' } })
    expect((await api.put('Bad_Id', { organization: org, recipe: 'hello', adminEmail: 'a@b.coop' })).status).toBe(400)
    expect(((await api.call('GET', '/instances')).body as { instances: unknown[] }).instances).toEqual([])
  })

  it('provisions it: every step reported, reachable through the proxy, with its own OIDC client', async () => {
    const put = await api.put(id, { organization: org, recipe: 'hello', adminEmail: 'anouk@groene-bakkerij.example' })
    expect(put.status).toBe(202)
    expect(put.body).toMatchObject({ id, phase: 'provisioning', desired: 'running', url: `http://${host}:${stack.proxy.httpPort}` })
    const streamed = readStream(id, (steps) => steps.includes('ready:succeeded'))

    const ready = await waitFor(async () => {
      const view = await api.get(id)
      return view.phase === 'ready' ? view : undefined
    }, 'the instance to be ready', 120_000)
    expect(ready.failure).toBeNull()

    const steps = (await api.events(id)).filter((e) => e.status === 'succeeded').map((e) => e.step)
    expect(steps).toEqual(['network', `volume:${id}-data`, 'oidc-client', 'container:web', 'health:web', 'hook:mark-installed', 'route', 'ready'])
    // The event stream (SSE) carried the same steps, in order, live.
    expect((await streamed).filter((s) => s.endsWith(':succeeded'))).toEqual(steps.map((s) => `${s}:succeeded`))

    const page = await getThroughProxy(stack.proxy.httpPort, host)
    expect(page.status).toBe(200)
    expect(page.body).toContain('De &quot;Groene&quot; Bakkerij')

    const client = (await clients.listInstanceClients()).find((c) => c.instanceId === id)
    expect(client).toEqual({ clientId: `instance-${id}`, instanceId: id, organizationAlias: org.slug })

    // A second PUT with the same desired state is a no-op: no new steps.
    const before = (await api.events(id)).length
    expect((await api.put(id, { organization: org, recipe: 'hello', adminEmail: 'anouk@groene-bakkerij.example' })).status).toBe(202)
    await provisioner.controller.enqueue(id)
    expect((await api.events(id)).length).toBe(before)
  }, 180_000)

  it('refuses a second instance of the same tool for the organisation', async () => {
    const twin = await api.put('hello-groene-bakkerij-2', { organization: org, recipe: 'hello', adminEmail: 'a@b.coop' })
    expect(twin).toMatchObject({ status: 409, body: { error: { code: 'host-taken' } } })
  })

  it('suspends (route gone, containers stopped, data kept) and resumes', async () => {
    await api.put(id, { organization: org, recipe: 'hello', adminEmail: 'anouk@groene-bakkerij.example', state: 'suspended' })
    await waitFor(async () => (await api.get(id)).phase === 'suspended', 'suspended')
    expect((await getThroughProxy(stack.proxy.httpPort, host)).status).not.toBe(200)
    expect(await managed('containers')).toEqual([{ name: `/${id}-web`, state: 'exited' }])

    await api.put(id, { organization: org, recipe: 'hello', adminEmail: 'anouk@groene-bakkerij.example', state: 'running' })
    await waitFor(async () => (await api.get(id)).phase === 'ready', 'ready again')
    expect((await getThroughProxy(stack.proxy.httpPort, host)).status).toBe(200)
    // Health was proven again before the route came back.
    const resumed = (await api.events(id)).map((e) => `${e.step}:${e.status}`)
    const sinceResume = resumed.slice(resumed.lastIndexOf('suspended:succeeded'))
    expect(sinceResume.filter((s) => s.endsWith(':succeeded'))).toEqual(['suspended:succeeded', 'container:web:succeeded', 'health:web:succeeded', 'route:succeeded', 'ready:succeeded'])
    // The post-install hook ran once, not again on resume.
    expect((await api.events(id)).filter((e) => e.step === 'hook:mark-installed' && e.status === 'succeeded')).toHaveLength(1)
  }, 120_000)

  it('restarts its containers on request and checks their health again', async () => {
    const before = (await stack.docker.getContainer(`${id}-web`).inspect()).State.StartedAt
    expect((await api.call('POST', `/instances/${id}/restart`)).status).toBe(202)
    await waitFor(async () => (await api.get(id)).phase === 'ready', 'ready after restart')
    expect((await stack.docker.getContainer(`${id}-web`).inspect()).State.StartedAt).not.toBe(before)
    const last = (await api.events(id)).map((e) => `${e.step}:${e.status}`).slice(-6)
    expect(last).toEqual(['restart:started', 'restart:succeeded', 'health:web:started', 'health:web:succeeded', 'ready:started', 'ready:succeeded'])
  }, 120_000)

  it('shows recent logs per container', async () => {
    const logs = (await api.call('GET', `/instances/${id}/logs?tail=20`)).body as { containers: { service: string; lines: string[] }[] }
    expect(logs.containers.map((c) => c.service)).toEqual(['web'])
    expect(logs.containers[0]?.lines.length).toBeGreaterThan(0)
  })

  it('exports the data as a tar archive of its volumes', async () => {
    const res = await fetch(`http://127.0.0.1:${provisioner.port}/instances/${id}/export`, { headers: { Authorization: `Bearer ${env.PROVISIONER_API_TOKEN}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/x-tar')
    const names: string[] = []
    const extract = tar.extract()
    extract.on('entry', (header, stream, next) => {
      names.push(header.name)
      stream.resume()
      stream.on('end', next)
    })
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), extract)
    expect(names).toContain(`export/${id}-data/installed`)
  })

  it('deprovisions: containers, route, client and network go at once; the data stays exportable until purged', async () => {
    expect((await api.call('DELETE', `/instances/${id}`)).status).toBe(202)
    await waitFor(async () => ['removed', 'purged'].includes((await api.get(id)).phase), 'removed')
    expect(await managed('containers')).toEqual([])
    expect(await managed('networks')).toEqual([])
    expect((await clients.listInstanceClients()).find((c) => c.instanceId === id)).toBeUndefined()
    expect((await getThroughProxy(stack.proxy.httpPort, host)).status).not.toBe(200)
  }, 120_000)

  it('purges the kept volumes after the grace period (0 days here)', async () => {
    await waitFor(async () => (await api.get(id)).phase === 'purged', 'purged', 60_000)
    expect(await managed('volumes')).toEqual([])
    const gone = await api.call('GET', `/instances/${id}/export`)
    expect(gone).toMatchObject({ status: 410, body: { error: { code: 'export-unavailable' } } })
  }, 120_000)
})
