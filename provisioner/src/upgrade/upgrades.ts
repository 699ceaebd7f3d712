import type { CatalogEntry } from '@commons/catalog'
import type { AvailableUpgrade, ErrorCode } from '../api/contract.ts'
import { BackupRefused, type Backups } from '../backup/backups.ts'
import type { Controller } from '../controller/controller.ts'
import { message } from '../controller/executors.ts'
import type { Logger } from '../log.ts'
import { secretNeeds, type Platform } from '../spec.ts'
import type { InstanceRow, InstanceStore } from '../store/instances.ts'
import type { UpgradeRow, UpgradeStore } from '../store/upgrades.ts'

// Upgrades: an instance moves to the recipe version in the catalog only when
// asked. One at a time: a checked backup first (refused without one), then the
// new version until the loop reports it ready; if it fails instead (health,
// a hook, an image), the old version comes back and then the backup's data,
// since the new version may have changed it (a database migration) before it
// failed.

export type UpgradesOptions = {
  store: UpgradeStore
  instances: InstanceStore
  controller: Controller
  /** Undefined when backups are off: then no upgrade runs. */
  backups: Backups | undefined
  catalog: ReadonlyMap<string, CatalogEntry>
  platform: Platform
  log: Logger
  /** The longest an upgrade (or the way back) may take to become ready. */
  readyTimeoutMs: number
  pollMs?: number
}

export type Refusal = { instanceId: string; code: ErrorCode; message: string }

export class Upgrades {
  #worker: Promise<void> | undefined
  #stopped = false

  constructor(readonly opts: UpgradesOptions) {}

  async start(): Promise<void> {
    for (const u of await this.opts.store.interrupted()) {
      this.opts.log.error('upgrade interrupted by a restart; the tool needs a look', { upgrade: u.id, instance: u.instanceId })
      await this.opts.controller.emit(u.instanceId, 'upgrade', 'failed', u.error ?? 'interrupted')
    }
    this.kick()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#worker
  }

  /** Waits until the queue is empty (tests). */
  async idle(): Promise<void> {
    while (this.#worker) await this.#worker
  }

  /** Instances whose recipe has another version in the catalog than the one they run. */
  async available(): Promise<AvailableUpgrade[]> {
    const list: AvailableUpgrade[] = []
    for (const row of await this.opts.instances.list()) {
      if (row.desired !== 'running') continue
      const to = this.targetOf(row)
      if (!to) continue
      list.push({ instanceId: row.id, organizationId: row.organizationId, recipe: row.recipe, fromVersion: row.recipeVersion, toVersion: to, ready: row.phase === 'ready' })
    }
    return list
  }

  private targetOf(row: InstanceRow): string | undefined {
    const entry = this.opts.catalog.get(row.recipe)
    if (!entry?.recipe.hostable || entry.recipe.version === row.recipeVersion) return undefined
    return entry.recipe.version
  }

  /** Queues an upgrade per instance that can have one; says why for the others. */
  async request(ids: string[], requestedBy?: string): Promise<{ queued: UpgradeRow[]; refused: Refusal[] }> {
    const queued: UpgradeRow[] = []
    const refused: Refusal[] = []
    const open = new Set((await this.opts.store.open()).map((u) => u.instanceId))
    for (const id of new Set(ids)) {
      const row = await this.opts.instances.get(id)
      const refuse = (code: ErrorCode, text: string) => refused.push({ instanceId: id, code, message: text })
      if (!row || row.purgedAt) refuse('not-found', 'no such instance')
      else if (!this.opts.backups) refuse('backups-unavailable', 'An upgrade needs a backup first, and backups are not set up on this server.')
      else if (open.has(id)) refuse('busy', 'An upgrade of this tool is already queued or under way.')
      else if (!this.targetOf(row)) refuse('up-to-date', `It already runs version ${row.recipeVersion}, the one in the catalog.`)
      else if (row.desired !== 'running' || row.phase !== 'ready') refuse('not-running', 'Only a tool that is running and ready can be upgraded.')
      else {
        const to = this.targetOf(row) ?? ''
        queued.push(await this.opts.store.queue({ instanceId: id, organizationId: row.organizationId, recipe: row.recipe, fromVersion: row.recipeVersion, toVersion: to, requestedBy }))
        open.add(id)
      }
    }
    if (queued.length > 0) this.kick()
    return { queued, refused }
  }

  private kick() {
    if (this.#worker || this.#stopped) return
    this.#worker = (async () => {
      try {
        for (;;) {
          if (this.#stopped) return
          const next = (await this.opts.store.open()).find((u) => u.status === 'queued')
          if (!next) return
          await this.run(next).catch((error: unknown) => this.opts.log.error('upgrade failed unexpectedly', { upgrade: next.id, err: message(error) }))
        }
      } finally {
        this.#worker = undefined
      }
    })()
  }

  /** One upgrade, start to end. */
  async run(u: UpgradeRow): Promise<void> {
    const { store, instances, controller, log } = this.opts
    const backups = this.opts.backups
    const id = u.instanceId
    const fail = async (status: 'failed' | 'rolled-back', plain: string, detail: string) => {
      await store.set(u.id, status, { error: { plain, detail: detail.slice(0, 4000) } })
      await controller.emit(id, 'upgrade', 'failed', plain)
    }
    const row = await instances.get(id)
    if (!backups || !row || row.desired !== 'running' || row.phase !== 'ready' || row.recipeVersion !== u.fromVersion) {
      return fail('failed', 'The tool was no longer running this version and ready when its turn came; nothing was changed.', `phase ${row?.phase}, version ${row?.recipeVersion}`)
    }
    await controller.emit(id, 'upgrade', 'started', `${u.fromVersion} → ${u.toVersion}`)

    // 1. A backup to go back to, checked.
    await store.set(u.id, 'backing-up')
    let backupId: string
    try {
      const { backup, problems } = await backups.backupAndCheck(id, 'pre-upgrade', u.requestedBy ?? undefined)
      await store.set(u.id, 'backing-up', { backupId: backup.id })
      if (problems.length > 0) return fail('failed', `The backup before the upgrade did not work, so nothing was changed. ${problems.join(' ')}`, problems.join(' '))
      backupId = backup.id
    } catch (error) {
      const plain = error instanceof BackupRefused ? error.message : 'The backup before the upgrade could not be made, so nothing was changed.'
      return fail('failed', plain, message(error))
    }

    // 2. The new version, until ready or given up.
    await store.set(u.id, 'upgrading')
    const target = this.opts.catalog.get(row.recipe)
    if (!target || target.recipe.version !== u.toVersion) return fail('failed', `Version ${u.toVersion} is no longer in the catalog; nothing was changed.`, 'catalog moved')
    await instances.addSecrets(id, secretNeeds(row, target, this.opts.platform))
    await controller.exclusive(id, () => instances.setRecipeVersion(id, u.toVersion, { upgrading: true }))
    void controller.enqueue(id).catch(() => undefined)
    const outcome = await this.untilSettled(id)
    if (outcome.ready) {
      await store.set(u.id, 'succeeded')
      await controller.emit(id, 'upgrade', 'succeeded', `now ${u.toVersion}`)
      log.info('instance upgraded', { instance: id, from: u.fromVersion, to: u.toVersion })
      return
    }

    // 3. Back: the old version, then the data from before.
    log.warn('upgrade failed; going back', { instance: id, to: u.toVersion, why: outcome.why })
    await store.set(u.id, 'rolling-back')
    await controller.emit(id, 'upgrade', 'retrying', `version ${u.toVersion} did not become ready (${outcome.why}); going back to ${u.fromVersion}`)
    await controller.exclusive(id, () => instances.setRecipeVersion(id, u.fromVersion, { upgrading: true }))
    void controller.enqueue(id).catch(() => undefined)
    const back = await this.untilSettled(id)
    const reason = `Version ${u.toVersion} did not start properly: ${outcome.why}`
    if (!back.ready) {
      const plain = `${reason} Going back to version ${u.fromVersion} did not work either; the data is kept in backup ${backupId}. The platform operator must look at it.`
      await fail('failed', plain, back.why)
      return
    }
    const restore = await backups.restoreAndWait(id, backupId, u.requestedBy ?? undefined)
    if (restore.status !== 'succeeded') {
      const plain = `${reason} Version ${u.fromVersion} runs again, but the data from before the upgrade could not be put back; it is kept in backup ${backupId}.`
      await fail('failed', plain, restore.errorDetail ?? restore.error ?? '')
      return
    }
    await this.untilSettled(id)
    await fail('rolled-back', `${reason} Version ${u.fromVersion} and the data from just before the upgrade are back.`, outcome.why)
  }

  /** Polls the instance until the loop has it ready, or gave up (failed), or the time is up. */
  private async untilSettled(id: string): Promise<{ ready: true } | { ready: false; why: string }> {
    const deadline = Date.now() + this.opts.readyTimeoutMs
    for (;;) {
      const row = await this.opts.instances.get(id)
      if (!row) return { ready: false, why: 'the instance is gone' }
      if (row.phase === 'ready') return { ready: true }
      if (row.phase === 'failed') return { ready: false, why: row.failureMessage ?? `the step ${row.failureStep ?? '?'} failed` }
      if (Date.now() > deadline) return { ready: false, why: `not ready within ${Math.round(this.opts.readyTimeoutMs / 1000)} seconds` }
      await new Promise((resolve) => setTimeout(resolve, this.opts.pollMs ?? 500))
    }
  }
}
