import { timingSafeEqual, createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import type { CatalogEntry } from '@commons/catalog'
import { BackupRefused, type Backups } from '../backup/backups.ts'
import type { Controller } from '../controller/controller.ts'
import { upgradeView } from '../store/upgrades.ts'
import { platformOverview } from './overview.ts'
import type { Upgrades } from '../upgrade/upgrades.ts'
import type { ContainerDriver } from '../docker/driver.ts'
import type { Logger } from '../log.ts'
import { METRICS_CONTENT_TYPE } from '../metrics.ts'
import { instanceUrl, secretNeeds, type Platform } from '../spec.ts'
import { backupView, restoreView } from '../store/backups.ts'
import { HostTakenError, InstanceRemovedError, OrganizationMismatchError, toView, type InstanceRow, type InstanceStore } from '../store/instances.ts'
import { InstanceId, PostBackupBody, PostRestoreBody, PostUpgradesBody, PutInstanceBody, type InstanceEvent } from './contract.ts'
import type { ProvisionerMetrics } from './metrics.ts'

export type ApiDeps = {
  token: string
  /** Opens GET /metrics only (Prometheus); undefined: only `token` opens it. */
  metricsToken: string | undefined
  metrics: ProvisionerMetrics
  store: InstanceStore
  controller: Controller
  driver: ContainerDriver
  /** Undefined when backups are off. */
  backups: Backups | undefined
  upgrades: Upgrades
  catalog: ReadonlyMap<string, CatalogEntry>
  platform: Platform
  graceDays: number
  log: Logger
  /** Milliseconds since the control loop last completed a sweep, or undefined before the first. */
  loopAge: () => number | undefined
  resyncMs: number
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const MAX_BODY = 64 * 1024

function send(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
  res.end(JSON.stringify(body))
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'invalid-body', 'send the body as application/json')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw new HttpError(413, 'invalid-body', 'the body is too large')
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'invalid-body', 'the body is not valid JSON')
  }
}

/** A POST whose body may be left out: no body is `{}`. */
async function readOptionalJson(req: http.IncomingMessage): Promise<unknown> {
  if (!req.headers['content-type'] && (req.headers['content-length'] === undefined || req.headers['content-length'] === '0')) return {}
  return readJson(req)
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new HttpError(400, 'invalid-body', parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '))
  return parsed.data
}

function unauthorized(res: http.ServerResponse): never {
  res.setHeader('WWW-Authenticate', 'Bearer')
  throw new HttpError(401, 'unauthorized', 'a valid bearer token is required')
}

function sameToken(given: string, expected: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export function createApi(deps: ApiDeps): http.Server {
  const { store, controller, log } = deps

  const view = (row: InstanceRow) => {
    const entry = deps.catalog.get(row.recipe)
    // A recipe that left the catalog has no URL to show; the instance stays listed.
    return toView(row, entry?.recipe.hostable ? instanceUrl(entry.recipe, row.organizationSlug, deps.platform) : '')
  }

  /** The desired state is stored and answered; the loop picks it up from here (a failed pass retries on its own). */
  function kick(id: string) {
    controller.enqueue(id).catch((error: unknown) => log.error('pass failed', { instance: id, err: error instanceof Error ? error.message : String(error) }))
  }

  async function instance(idText: string): Promise<InstanceRow> {
    const id = InstanceId.safeParse(idText)
    if (!id.success) throw new HttpError(404, 'not-found', 'no such instance')
    const row = await store.get(id.data)
    if (!row) throw new HttpError(404, 'not-found', 'no such instance')
    return row
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://provisioner')
    const parts = url.pathname.split('/').filter(Boolean)
    const method = req.method ?? 'GET'

    if (url.pathname === '/healthz') {
      const age = deps.loopAge()
      // The loop sweeps every resyncMs; three missed sweeps mean it is stuck.
      const turning = age !== undefined && age < deps.resyncMs * 3 + 10_000
      return send(res, turning ? 200 : 503, { status: turning ? 'ok' : 'stalled', lastSweepMsAgo: age ?? null })
    }

    const auth = req.headers.authorization ?? ''
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : undefined
    const apiToken = given !== undefined && sameToken(given, deps.token)
    if (url.pathname === '/metrics') {
      const metricsToken = given !== undefined && deps.metricsToken !== undefined && sameToken(given, deps.metricsToken)
      if (!apiToken && !metricsToken) unauthorized(res)
      if (method !== 'GET') throw new HttpError(405, 'not-found', 'no such endpoint')
      const text = await deps.metrics.text(deps)
      res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' })
      res.end(text)
      return
    }
    if (!apiToken) unauthorized(res)

    if (parts[0] === 'backups' && method === 'GET') {
      if (parts[1] === 'problems' && parts.length === 2) {
        if (!deps.backups) return send(res, 200, { configured: false, repositoryError: null, failedBackups: [], failedVerifications: [], overdue: [] })
        return send(res, 200, await problems(deps.backups))
      }
      const backups = needBackups()
      if (parts.length !== 1) throw new HttpError(404, 'not-found', 'no such endpoint')
      const organization = url.searchParams.get('organization')
      if (!organization) throw new HttpError(400, 'invalid-body', 'say whose backups: ?organization=<id>')
      return send(res, 200, { backups: (await backups.opts.store.forOrganization(organization)).map(backupView) })
    }
    if (url.pathname === '/overview' && method === 'GET') {
      return send(res, 200, await platformOverview({ store, driver: deps.driver, lastSweepAt: controller.lastSweepAt }))
    }
    if (parts[0] === 'upgrades' && parts.length === 1) {
      if (method === 'GET') return send(res, 200, { available: await deps.upgrades.available(), upgrades: (await deps.upgrades.opts.store.recent()).map(upgradeView) })
      if (method === 'POST') {
        const body = parse(PostUpgradesBody, await readJson(req))
        const { queued, refused } = await deps.upgrades.request(body.instances, body.requestedBy)
        return send(res, 202, { queued: queued.map(upgradeView), refused })
      }
    }
    if (parts[0] !== 'instances') throw new HttpError(404, 'not-found', 'no such endpoint')

    if (parts.length === 1 && method === 'GET') {
      const organization = url.searchParams.get('organization') ?? undefined
      return send(res, 200, { instances: (await store.list({ organizationId: organization })).map(view) })
    }
    const idText = parts[1] ?? ''
    const sub = parts.slice(2).join('/')

    if (sub === '' && method === 'PUT') {
      const id = InstanceId.safeParse(idText)
      if (!id.success) throw new HttpError(400, 'invalid-body', `instance id ${id.error.issues[0]?.message ?? 'is invalid'}`)
      const parsed = PutInstanceBody.safeParse(await readJson(req))
      if (!parsed.success) {
        throw new HttpError(400, 'invalid-body', parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '))
      }
      const body = parsed.data
      const entry = deps.catalog.get(body.recipe)
      if (!entry) throw new HttpError(422, 'unknown-recipe', `the catalog has no tool "${body.recipe}"`)
      if (!entry.recipe.hostable) throw new HttpError(422, 'recipe-not-hostable', `"${body.recipe}" is listed but not hostable yet`)
      const identity = {
        id: id.data,
        organizationId: body.organization.id,
        organizationSlug: body.organization.slug,
        organizationName: body.organization.name,
        recipe: body.recipe,
        recipeVersion: entry.recipe.version,
        adminEmail: body.adminEmail,
      }
      try {
        const row = await store.put(id.data, body, entry.recipe.version, secretNeeds(identity, entry, deps.platform))
        send(res, 202, view(row))
        return kick(row.id)
      } catch (error) {
        if (error instanceof HostTakenError) throw new HttpError(409, 'host-taken', error.message)
        if (error instanceof OrganizationMismatchError) throw new HttpError(409, 'organization-mismatch', error.message)
        if (error instanceof InstanceRemovedError) throw new HttpError(409, 'removed', error.message)
        throw error
      }
    }

    const row = await instance(idText)
    if (sub === '' && method === 'GET') return send(res, 200, view(row))
    if (sub === '' && method === 'DELETE') {
      await store.remove(row.id, deps.graceDays)
      send(res, 202, view((await store.get(row.id)) ?? row))
      return kick(row.id)
    }
    if (sub === 'restart' && method === 'POST') {
      if (row.desired !== 'running') throw new HttpError(409, 'removed', 'only a running instance can be restarted')
      await store.requestRestart(row.id)
      send(res, 202, view((await store.get(row.id)) ?? row))
      return kick(row.id)
    }
    if (sub === 'events' && method === 'GET') {
      const after = Number(url.searchParams.get('after') ?? 0)
      return send(res, 200, { events: await store.events(row.id, Number.isFinite(after) ? after : 0) })
    }
    if (sub === 'events/stream' && method === 'GET') return stream(req, res, row.id)
    if (sub === 'logs' && method === 'GET') {
      const tail = Math.min(1000, Math.max(1, Number(url.searchParams.get('tail') ?? 200) || 200))
      const observed = await deps.driver.observe(row.id)
      const containers = []
      for (const c of observed.containers) {
        if (!c.service) continue
        containers.push({ service: c.service, container: c.name, lines: await deps.driver.logs(c.name, tail) })
      }
      return send(res, 200, { containers })
    }
    if (sub === 'backups' && method === 'GET') {
      const backups = needBackups()
      return send(res, 200, {
        backups: (await backups.opts.store.forInstance(row.id)).map(backupView),
        restores: (await backups.opts.store.restoresFor(row.id)).map(restoreView),
      })
    }
    if (sub === 'backups' && method === 'POST') {
      const backups = needBackups()
      const body = parse(PostBackupBody, await readOptionalJson(req))
      const started = await refusals(() => backups.request(row.id, 'manual', body.requestedBy))
      return send(res, 202, backupView(started))
    }
    if (sub === 'restore' && method === 'POST') {
      const backups = needBackups()
      const body = parse(PostRestoreBody, await readJson(req))
      const started = await refusals(() => backups.requestRestore(row.id, body.backupId, body.requestedBy))
      return send(res, 202, restoreView(started))
    }
    if (sub === 'upgrades' && method === 'GET') return send(res, 200, { upgrades: (await deps.upgrades.opts.store.forInstance(row.id)).map(upgradeView) })
    if (sub === 'export' && method === 'GET') {
      if (row.phase === 'purged') throw new HttpError(410, 'export-unavailable', 'the data of this instance has been deleted for good')
      const observed = await deps.driver.observe(row.id)
      const volumes = [...observed.volumes].sort()
      if (volumes.length === 0) throw new HttpError(404, 'export-unavailable', 'this instance has no data to export')
      const archive = await deps.driver.exportVolumes(volumes, row.id)
      res.writeHead(200, {
        'Content-Type': 'application/x-tar',
        'Content-Disposition': `attachment; filename="${row.id}-data.tar"`,
        'Cache-Control': 'no-store',
      })
      await pipeline(archive, res)
      return
    }
    throw new HttpError(method === 'GET' || method === 'PUT' || method === 'POST' || method === 'DELETE' ? 404 : 405, 'not-found', 'no such endpoint')
  }

  function needBackups(): Backups {
    if (!deps.backups) throw new HttpError(503, 'backups-unavailable', 'backups are not set up on this provisioner (BACKUP_PASSWORD is not set)')
    return deps.backups
  }

  async function refusals<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof BackupRefused) throw new HttpError(error.code === 'not-found' ? 404 : 409, error.code, error.message)
      throw error
    }
  }

  async function problems(backups: Backups) {
    const { failedBackups, failedVerifications } = await backups.opts.store.problems()
    const hours = backups.opts.scheduleHours
    const overdue = []
    if (hours > 0) {
      const last = await backups.opts.store.lastGood()
      const limit = Date.now() - 2 * hours * 3600_000
      for (const r of await store.list()) {
        if (r.desired !== 'running' || r.phase !== 'ready') continue
        const at = last.get(r.id)
        // A tool younger than the limit has had no chance to be backed up yet.
        if ((at && at.getTime() < limit) || (!at && r.createdAt.getTime() < limit))
          overdue.push({ instanceId: r.id, organizationId: r.organizationId, recipe: r.recipe, lastBackupAt: at?.toISOString() ?? null })
      }
    }
    return {
      configured: true,
      repositoryError: backups.repositoryError,
      failedBackups: failedBackups.map(backupView),
      failedVerifications: failedVerifications.map(backupView),
      overdue,
    }
  }

  async function stream(req: http.IncomingMessage, res: http.ServerResponse, id: string) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' })
    let last = Number(req.headers['last-event-id'] ?? new URL(req.url ?? '/', 'http://p').searchParams.get('after') ?? 0) || 0
    const write = (e: InstanceEvent) => {
      if (e.seq <= last) return
      last = e.seq
      res.write(`id: ${e.seq}\nevent: step\ndata: ${JSON.stringify(e)}\n\n`)
    }
    // Subscribe first, then replay from the store, so nothing falls between.
    const pending: InstanceEvent[] = []
    let replaying = true
    const listener = (e: InstanceEvent) => {
      if (e.instanceId !== id) return
      if (replaying) pending.push(e)
      else write(e)
    }
    controller.events.on('event', listener)
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
    req.on('close', () => {
      clearInterval(keepAlive)
      controller.events.off('event', listener)
    })
    for (const e of await store.events(id, last, 10_000)) write(e)
    replaying = false
    for (const e of pending) write(e)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy()
        log.error('response failed after headers', { url: req.url, err: error instanceof Error ? error.message : String(error) })
        return
      }
      if (error instanceof HttpError) return send(res, error.status, { error: { code: error.code, message: error.message } })
      log.error('request failed', { method: req.method, url: req.url, err: error instanceof Error ? error.message : String(error) })
      send(res, 500, { error: { code: 'internal', message: 'the provisioner hit an unexpected error; see its log' } })
    })
  })
  // Longer than any client's idle keep-alive (undici: 4 s, nginx/Caddy: 60 s),
  // so the server never closes a socket a client is about to reuse (ECONNRESET).
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  return server
}

export async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}
