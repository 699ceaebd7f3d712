import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  InstanceId,
  PutInstanceBody,
  type InstanceEvent,
  type InstanceView,
  type Phase,
} from '@commons/provisioner/contract'
import { ProvisionerClient } from './provisioner.server'

/**
 * A TEST DOUBLE, not the provisioner: a tiny real HTTP server that speaks the
 * provisioner's contract (provisioner/src/api/contract.ts) — bearer token,
 * request bodies checked with the contract's schemas, answers in its shapes —
 * and keeps instances in memory. It provisions nothing; tests move an
 * instance's phase by hand (setPhase). The portal's client, watcher and
 * request rules are tested against it; the path through the real
 * provisioner is tested end to end elsewhere.
 */
export async function contractStubProvisioner(options: { token?: string } = {}) {
  const token = options.token ?? 'contract-stub-token-0123456789abcdef0123'
  const instances = new Map<string, InstanceView>()
  const events = new Map<string, InstanceEvent[]>()
  const streams = new Map<string, Set<http.ServerResponse>>()
  const calls: string[] = []
  let seq = 0

  const now = () => new Date().toISOString()
  const error = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { error: { code, message } })

  function addEvent(instanceId: string, step: string, status: InstanceEvent['status'], message = '') {
    const event: InstanceEvent = { seq: ++seq, instanceId, step, status, message, at: now() }
    events.set(instanceId, [...(events.get(instanceId) ?? []), event])
    for (const res of streams.get(instanceId) ?? []) res.write(`id: ${event.seq}\nevent: step\ndata: ${JSON.stringify(event)}\n\n`)
    return event
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub')
    calls.push(`${req.method} ${url.pathname}${url.search}`)
    if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' })
    if (req.headers.authorization !== `Bearer ${token}`) return error(res, 401, 'unauthorized', 'missing or wrong token')
    const parts = url.pathname.split('/').filter(Boolean)
    if (parts[0] !== 'instances') return error(res, 404, 'not-found', 'no such endpoint')
    if (parts.length === 1 && req.method === 'GET') {
      const org = url.searchParams.get('organization')
      return json(res, 200, { instances: [...instances.values()].filter((i) => !org || i.organizationId === org) })
    }
    const id = InstanceId.safeParse(parts[1])
    if (!id.success) return error(res, 400, 'invalid-body', 'bad instance id')
    const instance = instances.get(id.data)
    const action = parts.slice(2).join('/')
    if (req.method === 'PUT' && action === '') {
      const body = PutInstanceBody.safeParse(JSON.parse((await readBody(req)) || 'null'))
      if (!body.success) return error(res, 400, 'invalid-body', body.error.issues.map((i) => i.message).join('; '))
      if (instance && instance.organizationId !== body.data.organization.id) return error(res, 409, 'organization-mismatch', 'another organisation')
      if (instance?.desired === 'removed') return error(res, 409, 'removed', 'removed')
      const view: InstanceView = instance
        ? { ...instance, desired: body.data.state, phase: body.data.state === 'suspended' ? 'suspending' : instance.phase, updatedAt: now() }
        : {
            id: id.data,
            organizationId: body.data.organization.id,
            recipe: body.data.recipe,
            recipeVersion: '1.0.0',
            desired: body.data.state,
            phase: 'provisioning',
            url: `https://${body.data.recipe}-${body.data.organization.slug}.stub.test`,
            failure: null,
            purgeAt: null,
            createdAt: now(),
            updatedAt: now(),
          }
      instances.set(id.data, view)
      if (!instance) addEvent(id.data, 'secrets', 'started')
      return json(res, 202, view)
    }
    if (!instance) return error(res, 404, 'not-found', 'unknown instance')
    if (req.method === 'GET' && action === '') return json(res, 200, instance)
    if (req.method === 'POST' && action === 'restart') {
      addEvent(instance.id, 'restart', 'started')
      return json(res, 202, instance)
    }
    if (req.method === 'DELETE' && action === '') {
      const view: InstanceView = { ...instance, desired: 'removed', phase: 'removing', purgeAt: new Date(Date.now() + 30 * 86400_000).toISOString(), updatedAt: now() }
      instances.set(instance.id, view)
      return json(res, 202, view)
    }
    if (req.method === 'GET' && action === 'events') {
      const after = Number(url.searchParams.get('after') ?? 0)
      return json(res, 200, { events: (events.get(instance.id) ?? []).filter((e) => e.seq > after) })
    }
    if (req.method === 'GET' && action === 'events/stream') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
      const after = Number(req.headers['last-event-id'] ?? 0)
      for (const e of events.get(instance.id) ?? []) if (e.seq > after) res.write(`id: ${e.seq}\nevent: step\ndata: ${JSON.stringify(e)}\n\n`)
      res.write(': connected\n\n')
      const set = streams.get(instance.id) ?? new Set()
      set.add(res)
      streams.set(instance.id, set)
      req.on('close', () => set.delete(res))
      return
    }
    if (req.method === 'GET' && action === 'logs') {
      return json(res, 200, { containers: [{ service: 'web', container: `${instance.id}-web`, lines: ['listening on 8080', 'GET / 200'] }] })
    }
    if (req.method === 'GET' && action === 'export') {
      res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Content-Disposition': `attachment; filename="${instance.id}.tar"` })
      res.end(Buffer.alloc(1024))
      return
    }
    return error(res, 404, 'not-found', 'no such endpoint')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    token,
    calls,
    instances,
    client: (overrides: { token?: string } = {}) => new ProvisionerClient({ baseUrl: url, token: overrides.token ?? token, timeoutMs: 2_000 }),
    /** Moves an instance on, as the real controller would, with an event for the step. */
    setPhase(id: string, phase: Phase, failure: InstanceView['failure'] = null) {
      const instance = instances.get(id)
      if (!instance) throw new Error(`stub: unknown instance ${id}`)
      instances.set(id, { ...instance, phase, failure, updatedAt: now() })
      if (phase === 'ready') addEvent(id, 'ready', 'succeeded')
      if (phase === 'failed' && failure) addEvent(id, failure.step, 'failed', failure.message)
    },
    addEvent,
    /** Forgets an instance, as a provisioner that lost or never had it. */
    forget(id: string) {
      instances.delete(id)
    },
    async stop() {
      for (const set of streams.values()) for (const res of set) res.end()
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function readBody(req: http.IncomingMessage) {
  let text = ''
  for await (const chunk of req) text += chunk
  return text
}

/** A base URL where nothing listens: a port that was free a moment ago. */
export async function unreachableProvisioner() {
  const server = http.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  server.close()
  await once(server, 'close')
  return new ProvisionerClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'unused-token-0123456789', timeoutMs: 2_000 })
}
