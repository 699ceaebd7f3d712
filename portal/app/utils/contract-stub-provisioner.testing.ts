import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  BackupProblems,
  PlatformOverview,
  BackupView,
  InstanceId,
  PostBackupBody,
  PostRestoreBody,
  PostUpgradesBody,
  PutInstanceBody,
  RestoreView,
  UpgradeView,
  type AvailableUpgrade,
  type InstanceEvent,
  type InstanceView,
  type Phase,
  type UpgradeStatus,
} from '@commons/provisioner/contract'
import type { UpgradeRefusal } from './provisioner.server'
import { ProvisionerClient } from './provisioner.server'

/**
 * A TEST DOUBLE, not the provisioner: a tiny real HTTP server that speaks the
 * provisioner's contract (provisioner/src/api/contract.ts) — bearer token,
 * request bodies checked with the contract's schemas, answers in its shapes —
 * and keeps instances, backups, restores and upgrades in memory. It
 * provisions, backs up and upgrades nothing; tests move an instance's phase
 * by hand (setPhase) and a backup's, restore's or upgrade's state likewise
 * (addBackup, updateBackup, finishRestore, offerUpgrade, moveUpgrade). The
 * portal's client, watcher and
 * request rules are tested against it; the path through the real
 * provisioner is tested end to end elsewhere.
 */
export async function contractStubProvisioner(options: { token?: string } = {}) {
  const token = options.token ?? 'contract-stub-token-0123456789abcdef0123'
  const instances = new Map<string, InstanceView>()
  const events = new Map<string, InstanceEvent[]>()
  const streams = new Map<string, Set<http.ServerResponse>>()
  const calls: string[] = []
  const backups: BackupView[] = []
  const restores: RestoreView[] = []
  const upgrades: UpgradeView[] = []
  /** The recipe version the catalog has for an instance, when newer than the one it runs (offerUpgrade). */
  const catalogVersions = new Map<string, string>()
  const backupSettings = { configured: true, repositoryError: null as string | null }
  let seq = 0

  const now = () => new Date().toISOString()
  const error = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { error: { code, message } })

  function addEvent(instanceId: string, step: string, status: InstanceEvent['status'], message = '') {
    const event: InstanceEvent = { seq: ++seq, instanceId, step, status, message, at: now() }
    events.set(instanceId, [...(events.get(instanceId) ?? []), event])
    for (const res of streams.get(instanceId) ?? []) res.write(`id: ${event.seq}\nevent: step\ndata: ${JSON.stringify(event)}\n\n`)
    return event
  }

  const newestFirst = <T extends { startedAt: string }>(list: T[]) => list.toReversed().sort((a, b) => b.startedAt.localeCompare(a.startedAt))
  const newId = (prefix: 'b' | 'r' | 'u') => `${prefix}-${randomBytes(10).toString('hex')}`

  /** A backup as the provisioner would list it; `restorable` follows from the rest unless given. */
  function backupView(instance: InstanceView, fields: Partial<BackupView>): BackupView {
    const view: BackupView = {
      id: newId('b'),
      instanceId: instance.id,
      organizationId: instance.organizationId,
      recipe: instance.recipe,
      recipeVersion: instance.recipeVersion,
      kind: 'scheduled',
      status: 'succeeded',
      error: null,
      sizeBytes: 12_400_000,
      fileCount: 120,
      volumes: ['data'],
      dumps: [],
      verification: { status: 'passed', message: null, at: now() },
      restorable: false,
      forgottenAt: null,
      requestedBy: null,
      startedAt: now(),
      finishedAt: now(),
      ...fields,
    }
    if (fields.restorable === undefined) {
      view.restorable = view.status === 'succeeded' && view.forgottenAt === null && view.verification.status !== 'failed'
    }
    return BackupView.parse(view)
  }

  function addBackup(instanceId: string, fields: Partial<BackupView> = {}) {
    const instance = instances.get(instanceId)
    if (!instance) throw new Error(`stub: unknown instance ${instanceId}`)
    const view = backupView(instance, fields)
    backups.push(view)
    return view
  }

  function updateBackup(id: string, fields: Partial<BackupView>) {
    const index = backups.findIndex((b) => b.id === id)
    if (index === -1) throw new Error(`stub: unknown backup ${id}`)
    const { restorable: _, ...before } = backups[index]!
    const instance = instances.get(before.instanceId)
    if (!instance) throw new Error(`stub: unknown instance ${before.instanceId}`)
    backups[index] = backupView(instance, { ...before, ...fields })
    return backups[index]
  }

  /** A backup as it begins: kind and who asked, nothing known yet. */
  const starting = (kind: BackupView['kind'], requestedBy: string | undefined): Partial<BackupView> => ({
    kind,
    status: 'running',
    requestedBy: requestedBy ?? null,
    sizeBytes: null,
    fileCount: null,
    finishedAt: null,
    verification: { status: 'pending', message: null, at: null },
  })

  /** Something is already running for the instance: a backup, a restore, or the restore's phase. */
  const busy = (instance: InstanceView) =>
    instance.phase === 'restoring' ||
    backups.some((b) => b.instanceId === instance.id && b.status === 'running') ||
    restores.some((r) => r.instanceId === instance.id && r.status === 'running')

  /** Why a backup or restore cannot start now, as the error's status, code and message; null when it can. */
  function backupRefusal(instance: InstanceView): [number, string, string] | null {
    if (busy(instance)) return [409, 'busy', 'a backup or restore is running']
    if (instance.phase !== 'ready') return [409, 'not-running', 'the instance is not running']
    return null
  }

  const finished = (status: UpgradeStatus) => status === 'succeeded' || status === 'rolled-back' || status === 'failed'
  const upgradesNewestFirst = (list: UpgradeView[]) => list.toReversed().sort((a, b) => b.createdAt.localeCompare(a.createdAt))

  /** The version the catalog has for the instance when it is another than the one it runs. */
  function targetOf(instance: InstanceView) {
    const to = catalogVersions.get(instance.id)
    return to !== undefined && to !== instance.recipeVersion ? to : undefined
  }

  /** Instances meant to run whose recipe has another version in the catalog, as GET /upgrades lists them. */
  function available(): AvailableUpgrade[] {
    return [...instances.values()]
      .map((instance) => ({ instance, toVersion: targetOf(instance) }))
      .filter((a): a is { instance: InstanceView; toVersion: string } => a.instance.desired === 'running' && a.toVersion !== undefined)
      .map(({ instance, toVersion }) => ({
        instanceId: instance.id,
        organizationId: instance.organizationId,
        recipe: instance.recipe,
        fromVersion: instance.recipeVersion,
        toVersion,
        ready: instance.phase === 'ready',
      }))
  }

  /** Why an instance cannot be upgraded now, as a refusal (in the provisioner's order of checks); null when it can. */
  function upgradeRefusal(instanceId: string): UpgradeRefusal | null {
    const refuse = (code: UpgradeRefusal['code'], message: string) => ({ instanceId, code, message })
    const instance = instances.get(instanceId)
    if (!instance) return refuse('not-found', 'no such instance')
    if (!backupSettings.configured) return refuse('backups-unavailable', 'An upgrade needs a backup first, and backups are not set up on this server.')
    if (upgrades.some((u) => u.instanceId === instanceId && !finished(u.status))) return refuse('busy', 'An upgrade of this tool is already queued or under way.')
    if (!targetOf(instance)) return refuse('up-to-date', `It already runs version ${instance.recipeVersion}, the one in the catalog.`)
    if (instance.desired !== 'running' || instance.phase !== 'ready') return refuse('not-running', 'Only a tool that is running and ready can be upgraded.')
    return null
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub')
    calls.push(`${req.method} ${url.pathname}${url.search}`)
    if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' })
    if (req.headers.authorization !== `Bearer ${token}`) return error(res, 401, 'unauthorized', 'missing or wrong token')
    const parts = url.pathname.split('/').filter(Boolean)
    // As the provisioner: without a backup repository every backup endpoint but the problems says so.
    const unconfigured = () => error(res, 503, 'backups-unavailable', 'no backup repository is configured')
    if (req.method === 'GET' && url.pathname === '/backups') {
      if (!backupSettings.configured) return unconfigured()
      const org = url.searchParams.get('organization')
      return json(res, 200, { backups: newestFirst(backups.filter((b) => b.organizationId === org)) })
    }
    if (req.method === 'GET' && url.pathname === '/overview') {
      // One made-up host; phases and failures from the instances in memory.
      const all = [...instances.values()].filter((i) => i.phase !== 'purged')
      const phases: Record<string, number> = {}
      for (const i of all) phases[i.phase] = (phases[i.phase] ?? 0) + 1
      return json(
        res,
        200,
        PlatformOverview.parse({
          hosts: [{ name: 'stub-host', reachable: true, error: null, engineVersion: '20.10.24', operatingSystem: 'Debian GNU/Linux 12 (bookworm)', cpus: 2, memoryBytes: 4 * 1024 ** 3, containersRunning: all.length, containersStopped: 0, swarm: 'inactive' }],
          phases,
          failed: all
            .filter((i) => i.phase === 'failed')
            .map((i) => ({ instanceId: i.id, organizationId: i.organizationId, recipe: i.recipe, step: i.failure?.step ?? '', message: i.failure?.message ?? '', since: i.updatedAt })),
          recentFailures: [...events.values()]
            .flat()
            .filter((e) => e.status === 'retrying' || e.status === 'failed')
            .reverse()
            .slice(0, 50)
            .map((e) => ({ instanceId: e.instanceId, step: e.step, status: e.status as 'retrying' | 'failed', message: e.message, at: e.at })),
          lastSweepAt: new Date().toISOString(),
        }),
      )
    }
    if (req.method === 'GET' && url.pathname === '/backups/problems') {
      if (!backupSettings.configured) {
        return json(res, 200, BackupProblems.parse({ configured: false, repositoryError: null, failedBackups: [], failedVerifications: [], overdue: [] }))
      }
      const good = new Map<string, string>()
      for (const b of backups) if (b.status === 'succeeded' && (good.get(b.instanceId) ?? '') < b.startedAt) good.set(b.instanceId, b.startedAt)
      const problems: BackupProblems = {
        configured: backupSettings.configured,
        repositoryError: backupSettings.repositoryError,
        failedBackups: newestFirst(backups.filter((b) => b.status === 'failed')),
        failedVerifications: newestFirst(backups.filter((b) => b.verification.status === 'failed' && !b.forgottenAt)),
        overdue: [...instances.values()]
          .filter((i) => i.phase === 'ready' && !good.has(i.id))
          .map((i) => ({ instanceId: i.id, organizationId: i.organizationId, recipe: i.recipe, lastBackupAt: null })),
      }
      return json(res, 200, BackupProblems.parse(problems))
    }
    if (req.method === 'GET' && url.pathname === '/upgrades') {
      return json(res, 200, { available: available(), upgrades: upgradesNewestFirst(upgrades) })
    }
    if (req.method === 'POST' && url.pathname === '/upgrades') {
      const body = PostUpgradesBody.safeParse(JSON.parse((await readBody(req)) || 'null'))
      if (!body.success) return error(res, 400, 'invalid-body', body.error.issues.map((i) => i.message).join('; '))
      const queued: UpgradeView[] = []
      const refused: UpgradeRefusal[] = []
      for (const instanceId of new Set(body.data.instances)) {
        const refusal = upgradeRefusal(instanceId)
        if (refusal) {
          refused.push(refusal)
          continue
        }
        const instance = instances.get(instanceId)!
        const upgrade = UpgradeView.parse({
          id: newId('u'),
          instanceId,
          organizationId: instance.organizationId,
          recipe: instance.recipe,
          fromVersion: instance.recipeVersion,
          toVersion: catalogVersions.get(instanceId)!,
          status: 'queued',
          backupId: null,
          error: null,
          requestedBy: body.data.requestedBy ?? null,
          createdAt: now(),
          startedAt: null,
          finishedAt: null,
        } satisfies UpgradeView)
        upgrades.push(upgrade)
        queued.push(upgrade)
      }
      return json(res, 202, { queued, refused })
    }
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
    if (req.method === 'GET' && action === 'backups') {
      if (!backupSettings.configured) return unconfigured()
      return json(res, 200, {
        backups: newestFirst(backups.filter((b) => b.instanceId === instance.id)),
        restores: newestFirst(restores.filter((r) => r.instanceId === instance.id)),
      })
    }
    if (req.method === 'POST' && action === 'backups') {
      if (!backupSettings.configured) return unconfigured()
      const body = PostBackupBody.safeParse(JSON.parse((await readBody(req)) || 'null'))
      if (!body.success) return error(res, 400, 'invalid-body', body.error.issues.map((i) => i.message).join('; '))
      // As the provisioner: a backup being made already (no restore under way) is the answer.
      const running = backups.findLast((b) => b.instanceId === instance.id && b.status === 'running')
      if (running && instance.phase !== 'restoring' && !restores.some((r) => r.instanceId === instance.id && r.status === 'running')) return json(res, 202, running)
      const refusal = backupRefusal(instance)
      if (refusal) return error(res, ...refusal)
      const view = addBackup(instance.id, starting('manual', body.data.requestedBy))
      addEvent(instance.id, 'backup', 'started')
      return json(res, 202, view)
    }
    if (req.method === 'POST' && action === 'restore') {
      if (!backupSettings.configured) return unconfigured()
      const body = PostRestoreBody.safeParse(JSON.parse((await readBody(req)) || 'null'))
      if (!body.success) return error(res, 400, 'invalid-body', body.error.issues.map((i) => i.message).join('; '))
      const backup = backups.find((b) => b.id === body.data.backupId)
      const from = backup ? instances.get(backup.instanceId) : undefined
      const allowed =
        backup?.instanceId === instance.id ||
        (from !== undefined && from.desired === 'removed' && from.organizationId === instance.organizationId && from.recipe === instance.recipe)
      if (!backup || !allowed) return error(res, 404, 'not-found', 'no such backup for this instance')
      if (!backup.restorable) return error(res, 409, 'not-restorable', 'this backup cannot be restored')
      const refusal = backupRefusal(instance)
      if (refusal) return error(res, ...refusal)
      const safety = addBackup(instance.id, starting('pre-restore', body.data.requestedBy))
      const restore = RestoreView.parse({
        id: newId('r'),
        instanceId: instance.id,
        backupId: backup.id,
        safetyBackupId: safety.id,
        status: 'running',
        error: null,
        requestedBy: body.data.requestedBy ?? null,
        startedAt: now(),
        finishedAt: null,
      } satisfies RestoreView)
      restores.push(restore)
      instances.set(instance.id, { ...instance, phase: 'restoring', updatedAt: now() })
      addEvent(instance.id, `restore:${backup.id}`, 'started')
      return json(res, 202, restore)
    }
    if (req.method === 'GET' && action === 'upgrades') {
      return json(res, 200, { upgrades: upgradesNewestFirst(upgrades.filter((u) => u.instanceId === instance.id)) })
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
    backups,
    restores,
    /** Adds a backup of an instance (succeeded and checked, unless told otherwise). */
    addBackup,
    /** Moves a backup on (its check, a failure, forgetting it), checked against the contract. */
    updateBackup,
    /** Ends a restore as the provisioner would: the instance is ready again, whatever the outcome. */
    finishRestore(id: string, status: Exclude<RestoreView['status'], 'running'>, error: string | null = null) {
      const index = restores.findIndex((r) => r.id === id)
      if (index === -1) throw new Error(`stub: unknown restore ${id}`)
      const restore = RestoreView.parse({ ...restores[index]!, status, error, finishedAt: now() })
      restores[index] = restore
      // The backup of the state before was taken first, whatever came after.
      const safety = backups.find((b) => b.id === restore.safetyBackupId)
      if (safety?.status === 'running') updateBackup(safety.id, { status: 'succeeded', sizeBytes: 12_400_000, fileCount: 120, finishedAt: now() })
      const instance = instances.get(restore.instanceId)
      if (instance) instances.set(instance.id, { ...instance, phase: 'ready', updatedAt: now() })
      addEvent(restore.instanceId, `restore:${restore.backupId}`, status === 'succeeded' ? 'succeeded' : 'failed', error ?? '')
      return restore
    },
    upgrades,
    /** The catalog ships a newer recipe version for this instance: GET /upgrades lists it. */
    offerUpgrade(instanceId: string, toVersion: string) {
      if (!instances.has(instanceId)) throw new Error(`stub: unknown instance ${instanceId}`)
      catalogVersions.set(instanceId, toVersion)
    },
    /**
     * Moves an upgrade on as the provisioner would: backing-up makes its
     * pre-upgrade backup (done from upgrading on; the instance stays ready
     * meanwhile); upgrading and rolling-back make the instance upgrading;
     * succeeded and rolled-back make it ready again, on the new version or on
     * the old one; failed leaves it failed once it was changed, and as it was
     * when the upgrade failed before (at the backup).
     */
    moveUpgrade(id: string, status: Exclude<UpgradeStatus, 'queued'>, error: string | null = null) {
      const index = upgrades.findIndex((u) => u.id === id)
      if (index === -1) throw new Error(`stub: unknown upgrade ${id}`)
      const before = upgrades[index]!
      const instance = instances.get(before.instanceId)
      if (!instance) throw new Error(`stub: unknown instance ${before.instanceId}`)
      let backupId = before.backupId
      if (!backupId) backupId = addBackup(instance.id, starting('pre-upgrade', before.requestedBy ?? undefined)).id
      if (status !== 'backing-up') {
        const backup = backups.find((b) => b.id === backupId)
        if (backup?.status === 'running') updateBackup(backupId, { status: 'succeeded', sizeBytes: 12_400_000, fileCount: 120, finishedAt: now(), verification: { status: 'passed', message: null, at: now() } })
      }
      const upgrade = UpgradeView.parse({
        ...before,
        status,
        backupId,
        error: finished(status) && status !== 'succeeded' ? (error ?? 'the new version did not become healthy') : null,
        startedAt: before.startedAt ?? now(),
        finishedAt: finished(status) ? now() : null,
      } satisfies UpgradeView)
      upgrades[index] = upgrade
      if (!before.startedAt) addEvent(instance.id, 'upgrade', 'started', `${upgrade.fromVersion} → ${upgrade.toVersion}`)
      if (status === 'rolling-back') addEvent(instance.id, 'upgrade', 'retrying', error ?? 'rolling back')
      const changed = before.status === 'upgrading' || before.status === 'rolling-back'
      if (status === 'backing-up') {
        // The backup runs beside the tool, which stays as it is.
      } else if (!finished(status)) {
        instances.set(instance.id, { ...instance, phase: 'upgrading', updatedAt: now() })
      } else if (status === 'succeeded') {
        instances.set(instance.id, { ...instance, phase: 'ready', recipeVersion: upgrade.toVersion, failure: null, updatedAt: now() })
        addEvent(instance.id, 'upgrade', 'succeeded')
      } else if (status === 'rolled-back') {
        instances.set(instance.id, { ...instance, phase: 'ready', recipeVersion: upgrade.fromVersion, failure: null, updatedAt: now() })
        addEvent(instance.id, 'upgrade', 'failed', upgrade.error ?? '')
      } else if (changed) {
        const failure = { step: 'upgrade', message: upgrade.error ?? '' }
        instances.set(instance.id, { ...instance, phase: 'failed', failure, updatedAt: now() })
        addEvent(instance.id, 'upgrade', 'failed', failure.message)
      } else {
        addEvent(instance.id, 'upgrade', 'failed', upgrade.error ?? '')
      }
      return upgrade
    },
    /** Whether a backup repository is set up, and whether it works (for backups-unavailable and the health page). */
    setBackups(settings: { configured?: boolean; repositoryError?: string | null }) {
      Object.assign(backupSettings, settings)
    },
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
