import { PassThrough } from 'node:stream'
import type { CatalogEntry, HostableRecipe } from '@commons/catalog'
import type { BackupKind } from '../api/contract.ts'
import type { Controller } from '../controller/controller.ts'
import { message, StepError, type StepContext } from '../controller/executors.ts'
import type { ContainerDriver, HelperMount } from '../docker/driver.ts'
import type { Logger } from '../log.ts'
import { LABEL } from '../spec.ts'
import { isRestorable, type BackupRow, type BackupStore, type RestoreRow } from '../store/backups.ts'
import type { InstanceRow, InstanceStore } from '../store/instances.ts'
import { backupSummary, DAMAGED, plainResticError, ResticError, shellQuote, type Restic } from './restic.ts'

// Backups of tool instances: what a recipe's `backup` section names (volumes
// as they are, dumps made by a command in the running service), put in one
// encrypted restic snapshot per backup with a checksum manifest of every
// file. Each backup is then verified: restored into a scratch volume, every
// file checked against the manifest, and each dump opened by the recipe's
// own check (pg_restore --list). A restore takes a backup of the current
// state first and puts that back if the restore fails half-way.

export type Retention = { daily: number; weekly: number; monthly: number; within: string }

export type BackupsOptions = {
  store: BackupStore
  instances: InstanceStore
  controller: Controller
  driver: ContainerDriver
  restic: Restic
  catalog: ReadonlyMap<string, CatalogEntry>
  log: Logger
  owner: string
  /** Hours between scheduled backups of each running instance; 0: none. */
  scheduleHours: number
  retention: Retention
  /** Restore each backup into a scratch place and check it. */
  verify: boolean
  /** How often the schedule is looked at. */
  tickMs: number
}

/** Refused before anything was done, with what to tell the person who asked. */
export class BackupRefused extends Error {
  constructor(
    readonly code: 'busy' | 'not-running' | 'not-restorable' | 'not-found',
    plain: string,
  ) {
    super(plain)
    this.name = 'BackupRefused'
  }
}

const STAGING = '/backup'
const MANIFEST = 'MANIFEST.sha256'

export class Backups {
  #timer: NodeJS.Timeout | undefined
  #ticking = false
  #stopped = false
  /** The newest problem with the repository itself, in plain words (health page, metrics). */
  repositoryError: string | null = null
  readonly #tasks = new Set<Promise<unknown>>()

  constructor(readonly opts: BackupsOptions) {}

  async start(): Promise<void> {
    // A restore cut short left the tool half put back: it stays down (failed) until someone looks, with the way back named.
    for (const r of await this.opts.store.runningRestores()) {
      const row = await this.opts.instances.get(r.instanceId)
      if (!row) continue
      const plain = `A restore was cut short by a restart of the provisioner.${r.safetyBackupId ? ` The state before it is kept in backup ${r.safetyBackupId}.` : ''} The platform operator must look at it.`
      await this.opts.instances.markFailed(row.id, row.generation, 'restore', plain)
      this.opts.log.error('restore interrupted by a restart; the tool is marked failed', { instance: row.id, restore: r.id, safety: r.safetyBackupId })
    }
    const cleared = await this.opts.store.interrupted()
    if (cleared > 0) this.opts.log.warn('backups and restores interrupted by the last stop were marked failed', { count: cleared })
    await this.openRepository()
    // Also without a schedule: the backups of purged tools are forgotten on this tick.
    this.#timer = setInterval(() => void this.tick(), this.opts.tickMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await Promise.allSettled([...this.#tasks])
  }

  /** Waits for every backup, check and restore under way (tests). */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks])
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.#tasks.add(task)
    void task.finally(() => this.#tasks.delete(task)).catch(() => undefined)
    return task
  }

  async openRepository(): Promise<boolean> {
    const { restic, log } = this.opts
    try {
      const how = await restic.ensureRepository()
      if (how === 'created') log.info('backup repository created', { repository: restic.opts.repository.describe })
      this.repositoryError = null
      return true
    } catch (error) {
      this.repositoryError = error instanceof ResticError ? error.plain : `The backup storage could not be opened: ${message(error)}`
      log.error('backup repository cannot be opened', { repository: restic.opts.repository.describe, err: message(error) })
      return false
    }
  }

  /** The recipe version the instance runs (which need not be the catalog's). */
  private async recipeOf(row: InstanceRow): Promise<HostableRecipe> {
    const recipe = await this.opts.controller.entryFor(row).then(
      (e) => e.recipe,
      () => undefined,
    )
    if (!recipe?.hostable) throw new BackupRefused('not-restorable', `The tool "${row.recipe}" is no longer in the catalog.`)
    return recipe
  }

  // --- Backing up ----------------------------------------------------------

  /**
   * Starts a backup of a running instance and answers at once with its row;
   * the work (and its check) goes on in the background.
   */
  async request(instanceId: string, kind: BackupKind, requestedBy?: string): Promise<BackupRow> {
    // Asked for while a backup of the tool is already being made (the schedule's first one, right after
    // the tool became ready): that one is the answer, not "busy". A restore under way is still busy.
    if (kind === 'manual') {
      const running = await this.opts.store.runningBackupOf(instanceId)
      if (running && !(await this.opts.store.restoreUnderWay(instanceId))) return running
    }
    const backup = await this.startFor(instanceId, kind, requestedBy)
    const work = this.opts.controller.exclusive(instanceId, async () => {
      const ctx = await this.opts.controller.stepContext(instanceId).catch(async (error: unknown) => {
        // The row must not stay "running": that would make the tool busy for good.
        await this.opts.store.failed(backup.id, 'The backup could not start.', message(error))
        throw error
      })
      await this.runBackup(backup, ctx)
    })
    void this.track(work.then(() => this.verifyInBackground(backup.id))).catch((error: unknown) => this.opts.log.error('backup failed', { backup: backup.id, err: message(error) }))
    return backup
  }

  /** The row of a new backup of a running, ready instance with nothing else under way, naming what its recipe version backs up. */
  private async startFor(instanceId: string, kind: BackupKind, requestedBy?: string): Promise<BackupRow> {
    const row = await this.opts.instances.get(instanceId)
    if (!row) throw new BackupRefused('not-found', 'no such instance')
    this.assertBackupable(row)
    if (await this.opts.store.underWay(instanceId)) throw new BackupRefused('busy', 'A backup or a restore of this tool is under way. Try again when it is done.')
    return this.startRow(row, kind, requestedBy)
  }

  private async startRow(row: InstanceRow, kind: BackupKind, requestedBy?: string): Promise<BackupRow> {
    const recipe = await this.recipeOf(row)
    return this.opts.store.start({
      instanceId: row.id,
      organizationId: row.organizationId,
      recipe: row.recipe,
      recipeVersion: row.recipeVersion,
      kind,
      volumes: recipe.backup.volumes,
      dumps: recipe.backup.dumps.map((d) => d.name),
      requestedBy,
    })
  }

  private assertBackupable(row: InstanceRow) {
    if (row.desired !== 'running' || row.phase !== 'ready')
      throw new BackupRefused('not-running', 'Only a tool that is running and ready can be backed up.')
  }

  private async verifyInBackground(backupId: string): Promise<void> {
    if (!this.opts.verify) return
    const row = await this.opts.store.get(backupId)
    // A backup that failed has nothing to check (it is marked "skipped").
    if (row?.status === 'succeeded') await this.verify(backupId)
  }

  /** Makes the dumps, then the snapshot; records the result. Runs inside the instance's exclusive slot. */
  private async runBackup(backup: BackupRow, ctx: StepContext): Promise<boolean> {
    const { controller, store, driver, restic, log } = this.opts
    const id = backup.instanceId
    const staging = `${id}-backup-staging`
    try {
      await controller.emit(id, 'backup', 'started', `${backup.kind} backup ${backup.id}`)
      const recipe = await this.recipeOf(ctx.row)
      await driver.removeVolume(staging, id)
      await driver.ensureVolume(staging, ctx.spec.labels)
      for (const dump of recipe.backup.dumps) {
        const service = ctx.spec.containers.find((c) => c.service === dump.service)
        if (!service) throw new StepError(`The recipe has no service "${dump.service}" to make the dump "${dump.name}".`, `unknown service ${dump.service}`)
        await this.dump(id, service.name, dump.command, staging, `dumps/${dump.name}`)
      }
      const mounts: HelperMount[] = [{ volume: staging, path: STAGING }]
      for (const v of recipe.backup.volumes) {
        const volume = ctx.spec.volumes.find((x) => x.recipeName === v)
        if (!volume) throw new StepError(`The recipe has no volume "${v}" to back up.`, `unknown volume ${v}`)
        mounts.push({ volume: volume.name, path: `${STAGING}/volumes/${v}`, readOnly: true })
      }
      const tags = [`commons-instance=${id}`, `commons-backup=${backup.id}`, `commons-kind=${backup.kind}`, `commons-recipe=${ctx.row.recipe}@${ctx.row.recipeVersion}`]
      const output = await restic.must(
        [
          'set -eu',
          `cd ${STAGING}`,
          // The manifest: a checksum of every file, so a check can prove the restored copy equal.
          `find . -path ./${MANIFEST} -prune -o -type f -print0 | xargs -0 -r sha256sum > ${MANIFEST}`,
          `restic backup --json --host commons ${tags.map((t) => `--tag ${shellQuote(t)}`).join(' ')} ${STAGING} | grep '"message_type":"summary"'`,
        ].join('\n'),
        { instanceId: id, purpose: 'backup', mounts },
      )
      const summary = backupSummary(output)
      if (!summary) throw new ResticError('The backup tool did not say which snapshot it made.', output, 0)
      await store.succeeded(backup.id, summary)
      await controller.emit(id, 'backup', 'succeeded', `${backup.id}: ${summary.fileCount} files, ${summary.sizeBytes} bytes, snapshot ${summary.snapshotId.slice(0, 8)}`)
      this.repositoryError = null
      return true
    } catch (error) {
      const plain = error instanceof ResticError || error instanceof StepError ? error.plain : 'The backup could not be made.'
      if (error instanceof ResticError && /storage/.test(plain)) this.repositoryError = plain
      await store.failed(backup.id, plain, message(error).slice(0, 4000))
      await controller.emit(id, 'backup', 'failed', `${backup.id}: ${plain} (${message(error).slice(0, 500)})`)
      log.warn('backup failed', { instance: id, backup: backup.id, err: message(error) })
      return false
    } finally {
      await driver.removeVolume(staging, id).catch(() => undefined)
    }
  }

  /** Streams a command's stdout in the running service into a file of the staging volume. */
  private async dump(instanceId: string, container: string, command: string[], staging: string, file: string) {
    const { driver, restic } = this.opts
    const pipe = new PassThrough()
    const writer = driver.runHelper({
      name: `${instanceId}-backup-dump`,
      instanceId,
      purpose: 'backup-dump',
      image: restic.opts.image,
      command: ['sh', '-c', `mkdir -p "$(dirname "$1")" && cat > "$1"`, 'sh', `${STAGING}/${file}`],
      mounts: [{ volume: staging, path: STAGING }],
      stdin: pipe,
    })
    const [dumped, written] = await Promise.all([driver.execStream(container, { command }, { stdout: pipe }), writer])
    if (dumped.exitCode !== 0) throw new StepError(`The dump "${file}" could not be made.`, `${command.join(' ')}: exit ${dumped.exitCode}: ${dumped.output.slice(-500)}`)
    if (written.exitCode !== 0) throw new StepError(`The dump "${file}" could not be stored for the backup.`, `exit ${written.exitCode}: ${written.output.slice(-500)}`)
  }

  // --- Verifying ------------------------------------------------------------

  /** Restores the backup into a scratch volume and checks it; records and returns the result. */
  async verify(backupId: string): Promise<{ passed: boolean; message: string }> {
    const backup = await this.opts.store.get(backupId)
    if (!backup?.snapshotId) throw new BackupRefused('not-restorable', 'This backup has no snapshot to check.')
    // Exclusive: the loop would take the check's helper containers for leftovers.
    return this.opts.controller.exclusive(backup.instanceId, () => this.verifyNow(backup))
  }

  private async verifyNow(backup: BackupRow): Promise<{ passed: boolean; message: string }> {
    const { store, controller, log } = this.opts
    const backupId = backup.id
    const instance = await this.opts.instances.get(backup.instanceId)
    if (!instance || instance.purgedAt) {
      // Its data is gone for good, and its backups go with it (forgetPurged).
      const text = 'Not checked: the tool was removed and its data deleted for good.'
      await store.skipped(backupId, text)
      return { passed: false, message: text }
    }
    await controller.emit(backup.instanceId, 'verify', 'started', backupId)
    const scratch = `${backup.instanceId}-backup-check`
    try {
      const { problems, files, dumpsOpened } = await this.restoreAndCheck(backup, scratch, backup.instanceId)
      const passed = problems.length === 0
      const text = passed
        ? `Restored into a scratch place: ${files} files matched their checksums${dumpsOpened ? `, and ${dumpsOpened === 1 ? 'the dump' : `${dumpsOpened} dumps`} opened with the tool's own check` : ''}.`
        : problems.join(' ')
      await store.verified(backupId, passed, text)
      await controller.emit(backup.instanceId, 'verify', passed ? 'succeeded' : 'failed', `${backupId}: ${text}`)
      if (!passed) log.error('backup failed its check', { backup: backupId, instance: backup.instanceId, problems })
      return { passed, message: text }
    } catch (error) {
      // The check could not run (storage away or busy): that says nothing against the backup, so it stays restorable.
      const plain = `The check could not run: ${error instanceof ResticError ? error.plain : message(error)}`
      await store.skipped(backupId, plain)
      await controller.emit(backup.instanceId, 'verify', 'failed', `${backupId}: ${plain}`)
      log.error('backup check could not run', { backup: backupId, err: message(error) })
      return { passed: false, message: plain }
    } finally {
      await this.opts.driver.removeVolume(scratch, backup.instanceId).catch(() => undefined)
    }
  }

  /**
   * Restores the snapshot into `scratch` (made here, left for the caller) and
   * returns what is wrong with it, in plain words: [] when every file matches
   * its checksum and every dump passes the recipe's check. The scratch volume
   * and the helpers belong to `workingFor`, the instance whose exclusive slot
   * this runs in (the loop of any other instance would take them for leftovers).
   */
  private async restoreAndCheck(backup: BackupRow, scratch: string, workingFor: string): Promise<{ problems: string[]; files: number; dumpsOpened: number }> {
    const { driver, restic } = this.opts
    const labels = await this.labelsFor(workingFor)
    await driver.removeVolume(scratch, workingFor)
    await driver.ensureVolume(scratch, labels)
    const result = await restic.run(
      [
        'set -u',
        `restic restore ${shellQuote(backup.snapshotId ?? '')} --target /scratch >/tmp/restore.log 2>&1 || { tail -n 20 /tmp/restore.log; echo "RESTORE-FAILED"; exit 0; }`,
        `cd /scratch${STAGING} || { echo "RESTORE-EMPTY"; exit 0; }`,
        `[ -f ${MANIFEST} ] || { echo "NO-MANIFEST"; exit 0; }`,
        // Only the files' lines: the closing WARNING line is no file.
        `sha256sum -c ${MANIFEST} 2>&1 | grep -E ': FAILED' | sed 's/^/MISMATCH /' | head -n 20`,
        `echo "FILES $(wc -l < ${MANIFEST})"`,
        'exit 0',
      ].join('\n'),
      { instanceId: workingFor, purpose: 'backup-check', mounts: [{ volume: scratch, path: '/scratch' }] },
    )
    const lines = result.output.split('\n')
    if (result.exitCode !== 0) throw new ResticError(plainResticError(result.output), result.output, result.exitCode)
    if (lines.includes('RESTORE-FAILED')) {
      const plain = plainResticError(result.output)
      // Damage is a finding; storage that is away or busy only means the check could not run now.
      if (plain === DAMAGED) return { problems: [plain], files: 0, dumpsOpened: 0 }
      throw new ResticError(plain, result.output, 0)
    }
    if (lines.includes('RESTORE-EMPTY')) return { problems: ['The backup holds no data.'], files: 0, dumpsOpened: 0 }
    if (lines.includes('NO-MANIFEST')) return { problems: ['The backup has no list of checksums, so it cannot be checked.'], files: 0, dumpsOpened: 0 }
    const mismatches = lines.filter((l) => l.startsWith('MISMATCH ')).map((l) => l.slice('MISMATCH '.length).replace(/^\.\//, ''))
    const problems: string[] = []
    if (mismatches.length > 0) problems.push(`${mismatches.length} ${mismatches.length === 1 ? 'file does' : 'files do'} not match ${mismatches.length === 1 ? 'its' : 'their'} checksum: ${mismatches.slice(0, 5).join('; ')}.`)
    const dumps = await this.checkDumps(backup, scratch, workingFor)
    problems.push(...dumps.problems)
    const files = Number(lines.find((l) => l.startsWith('FILES '))?.slice('FILES '.length) ?? 0)
    return { problems, files, dumpsOpened: dumps.opened }
  }

  /** Each dump with a `verify` command: run in a one-off container of its service's image, the restored dump's path appended. */
  private async checkDumps(backup: BackupRow, scratch: string, workingFor: string): Promise<{ problems: string[]; opened: number }> {
    // The recipe of the version the backup was made with.
    const kept = await this.opts.controller.opts.recipes.get(backup.instanceId, backup.recipeVersion)
    const recipe = (kept ?? this.opts.catalog.get(backup.recipe))?.recipe
    if (!recipe?.hostable) return { problems: [], opened: 0 }
    const ctx = await this.opts.controller.stepContext(backup.instanceId).catch(() => undefined)
    const problems: string[] = []
    let opened = 0
    for (const dump of recipe.backup.dumps) {
      if (!dump.verify || !backup.dumps.includes(dump.name)) continue
      const image = ctx?.spec.containers.find((c) => c.service === dump.service)?.image ?? recipe.services.find((s) => s.name === dump.service)?.image
      if (!image) continue
      const result = await this.opts.driver.runHelper({
        name: `${workingFor}-backup-check-dump`,
        instanceId: workingFor,
        purpose: 'backup-check-dump',
        image,
        command: [...dump.verify, `/scratch${STAGING}/dumps/${dump.name}`],
        mounts: [{ volume: scratch, path: '/scratch', readOnly: true }],
      })
      if (result.exitCode === 0) opened++
      else problems.push(`The dump "${dump.name}" does not open (${dump.verify.join(' ')}: ${result.output.split('\n').filter(Boolean).slice(-2).join(' ') || `exit ${result.exitCode}`}).`)
    }
    return { problems, opened }
  }

  private async labelsFor(instanceId: string): Promise<Record<string, string>> {
    const ctx = await this.opts.controller.stepContext(instanceId).catch(() => undefined)
    if (ctx) return ctx.spec.labels
    return { [LABEL.managedBy]: this.opts.owner, [LABEL.instance]: instanceId }
  }

  // --- Restoring ------------------------------------------------------------

  /**
   * Puts a backup back into a running instance: a backup of the current state
   * first, then the snapshot is restored into a scratch volume and checked
   * (the tool keeps running meanwhile), then the tool goes offline, its
   * volumes are replaced, the recipe's restore commands run (database dumps),
   * and the loop brings it back. If anything fails after the volumes were
   * touched, the state before is put back the same way.
   */
  async requestRestore(instanceId: string, backupId: string, requestedBy?: string): Promise<RestoreRow> {
    const { instances, store } = this.opts
    const target = await instances.get(instanceId)
    const backup = await store.get(backupId)
    if (!target) throw new BackupRefused('not-found', 'no such instance')
    // Only a backup of this instance, or of another one of the same organisation and tool.
    if (!backup || backup.organizationId !== target.organizationId || backup.recipe !== target.recipe) throw new BackupRefused('not-found', 'no such backup')
    if (!isRestorable(backup)) {
      const why =
        backup.status !== 'succeeded'
          ? 'This backup did not finish, so it cannot be restored.'
          : backup.forgottenAt
            ? 'This backup is no longer kept.'
            : 'This backup failed its check, so it is not restored. Choose another backup.'
      throw new BackupRefused('not-restorable', why)
    }
    if (target.desired !== 'running' || target.phase !== 'ready') throw new BackupRefused('not-running', 'Only a tool that is running and ready can be restored. Wait until it is ready.')
    if (await store.underWay(instanceId)) throw new BackupRefused('busy', 'A backup or a restore of this tool is under way. Try again when it is done.')
    const recipe = await this.recipeOf(target)
    const missing = backup.volumes.filter((v) => !recipe.volumes.some((x) => x.name === v))
    if (missing.length > 0) throw new BackupRefused('not-restorable', `This backup holds data (${missing.join(', ')}) that this version of the tool has no place for.`)
    const restore = await store.startRestore({ instanceId, backupId, requestedBy })
    const work = this.opts.controller.exclusive(instanceId, async () => {
      try {
        await this.runRestore(restore, backup)
      } catch (error) {
        // Whatever went wrong unforeseen: the row must not stay "running".
        const plain = 'The restore stopped on an unexpected error. The platform operator can find the details in the provisioner log.'
        await store.finishRestore(restore.id, 'failed', { plain, detail: message(error).slice(0, 4000) })
        await this.opts.controller.emit(instanceId, 'restore', 'failed', `${plain} (${message(error).slice(0, 300)})`)
        throw error
      }
    })
    void this.track(work).catch((error: unknown) => this.opts.log.error('restore failed', { restore: restore.id, err: message(error) }))
    return restore
  }

  private async runRestore(restore: RestoreRow, backup: BackupRow, opts: { safety: boolean } = { safety: true }): Promise<void> {
    const { controller, store, instances, log } = this.opts
    const id = restore.instanceId
    await controller.emit(id, 'restore', 'started', `restoring ${backup.id} from ${backup.startedAt.toISOString()}`)
    const ctx = await controller.stepContext(id)
    // 1. The way back: the state as it is now (not when going back from a failed upgrade: that state is what failed).
    let safety: BackupRow | undefined
    if (opts.safety) {
      safety = await this.startRow(ctx.row, 'pre-restore', restore.requestedBy ?? undefined)
      await store.setSafetyBackup(restore.id, safety.id)
      if (!(await this.runBackup(safety, ctx))) {
        const plain = 'The current state could not be backed up first, so nothing was restored. The tool is unchanged.'
        await store.finishRestore(restore.id, 'failed', { plain, detail: (await store.get(safety.id))?.errorDetail ?? '' })
        await controller.emit(id, 'restore', 'failed', plain)
        return
      }
    }
    // 2. Fetch and check the backup while the tool still runs.
    const scratch = `${id}-restore`
    try {
      const { problems } = await this.restoreAndCheck(backup, scratch, id)
      if (problems.length > 0) {
        const plain = `The backup did not pass its check, so nothing was restored. The tool is unchanged. ${problems.join(' ')}`
        await store.verified(backup.id, false, problems.join(' '))
        await store.finishRestore(restore.id, 'failed', { plain, detail: problems.join(' ') })
        await controller.emit(id, 'restore', 'failed', plain)
        return
      }
      // 3. Offline, replace, restore commands; the state before if that fails.
      await instances.setPhase(id, 'restoring')
      try {
        await this.putBack(ctx, backup, scratch)
      } catch (error) {
        if (!safety) {
          const plain = 'The backup could not be put back.'
          await store.finishRestore(restore.id, 'failed', { plain, detail: message(error).slice(0, 4000) })
          await controller.emit(id, 'restore', 'failed', `${plain} (${message(error).slice(0, 300)})`)
          return
        }
        log.error('restore failed; putting the state before back', { restore: restore.id, err: message(error) })
        await controller.emit(id, 'restore', 'retrying', `putting the state before back: ${message(error).slice(0, 300)}`)
        const detail = message(error).slice(0, 4000)
        try {
          const safetyRow = await store.get(safety.id)
          if (!safetyRow) throw new Error('the backup of the state before is missing')
          const { problems: back } = await this.restoreAndCheck(safetyRow, scratch, id)
          if (back.length > 0) throw new Error(back.join(' '))
          await this.putBack(ctx, safetyRow, scratch)
          const plain = 'The backup could not be put back, so the state from before the restore was put back. Nothing was lost.'
          await store.finishRestore(restore.id, 'rolled-back', { plain, detail })
          await controller.emit(id, 'restore', 'failed', plain)
        } catch (rollbackError) {
          const plain = `The restore failed and the state before could not be put back automatically. It is kept in backup ${safety.id}; the platform operator has been alerted.`
          await store.finishRestore(restore.id, 'failed', { plain, detail: `${detail}; rollback: ${message(rollbackError)}` })
          await instances.markFailed(id, ctx.row.generation, 'restore', plain)
          await controller.emit(id, 'restore', 'failed', plain)
          log.error('restore and rollback failed', { restore: restore.id, safety: safety.id, err: message(rollbackError) })
        }
        return
      }
      await store.finishRestore(restore.id, 'succeeded')
      await controller.emit(id, 'restore', 'succeeded', `restored ${backup.id}`)
    } finally {
      // The way back is checked like any backup, once this slot is free.
      if (safety) void this.track(Promise.resolve().then(() => this.verifyInBackground(safety.id))).catch(() => undefined)
      await this.opts.driver.removeVolume(scratch, id).catch(() => undefined)
      // The loop starts what is still stopped, puts the route back and marks it ready.
      void controller.enqueue(id).catch(() => undefined)
    }
  }

  /** The tool offline, its backed-up volumes replaced from `scratch`, then the recipe's restore steps. */
  private async putBack(ctx: StepContext, backup: BackupRow, scratch: string): Promise<void> {
    const { controller, driver, restic } = this.opts
    const id = ctx.row.id
    for (const route of ctx.spec.routes) await controller.runStep(ctx, { kind: 'remove-route', route: route.id })
    for (const c of [...ctx.spec.containers].reverse()) await controller.runStep(ctx, { kind: 'stop', service: c.service })
    const mounts: HelperMount[] = [{ volume: scratch, path: '/scratch', readOnly: true }]
    const copies: string[] = []
    for (const v of backup.volumes) {
      const volume = ctx.spec.volumes.find((x) => x.recipeName === v)
      if (!volume) throw new Error(`no volume ${v} in this instance`)
      await driver.ensureVolume(volume.name, ctx.spec.labels)
      mounts.push({ volume: volume.name, path: `/target/${v}` })
      copies.push(`find /target/${v} -mindepth 1 -maxdepth 1 -exec rm -rf {} +`, `cp -a /scratch${STAGING}/volumes/${v}/. /target/${v}/`)
    }
    if (copies.length > 0) await restic.must(['set -eu', ...copies].join('\n'), { instanceId: id, purpose: 'restore', mounts })
    // Restore steps in order; each needs its service (and what starts before it) running, and healthy unless it says not.
    for (const step of ctx.spec.restore) {
      const service = 'hook' in step ? ctx.spec.hooks.find((h) => h.name === step.hook)?.service : step.service
      const upTo = ctx.spec.containers.findIndex((c) => c.service === service)
      if (upTo < 0) throw new Error('hook' in step ? `no hook ${step.hook} for a restore step` : `no service ${step.service} for a restore command`)
      for (const [i, c] of ctx.spec.containers.slice(0, upTo + 1).entries()) {
        const observed = (await driver.observe(id)).containers.find((o) => o.name === c.name)
        if (!observed?.running) await controller.runStep(ctx, { kind: 'container', service: c.service })
        const mustBeHealthy = i < upTo || 'hook' in step || step.healthy
        if (mustBeHealthy && !ctx.healthy.has(c.name)) await controller.runStep(ctx, { kind: 'health', service: c.service })
      }
      if ('hook' in step) {
        // A setting of the instance kept in the tool's data (its single sign-on client), set again for this instance.
        await controller.runStep(ctx, { kind: 'hook', hook: step.hook })
        continue
      }
      const container = ctx.spec.containers[upTo]!.name
      if (step.stdin && !backup.dumps.includes(step.stdin)) throw new StepError(`The backup has no dump "${step.stdin}" for a restore command.`, `missing dump ${step.stdin}`)
      const stdin = step.stdin ? await driver.readVolumeFile(scratch, `${STAGING}/dumps/${step.stdin}`, id, restic.opts.image) : undefined
      const result = await driver.execStream(container, { command: step.command, user: step.user, workdir: step.workdir, env: step.env }, { stdin })
      if (result.exitCode !== 0) throw new StepError('A restore command of the tool failed.', `${step.command.join(' ')}: exit ${result.exitCode}: ${result.output.slice(-500)}`)
      await controller.emit(id, 'restore', 'succeeded', `${step.service}: ${step.command[0] ?? ''} done`)
    }
  }

  // --- For upgrades ---------------------------------------------------------

  /**
   * A backup made and checked now, waited for (an upgrade goes on only with a
   * backup it can go back to). Returns the row and what is wrong with it, if anything.
   */
  async backupAndCheck(instanceId: string, kind: BackupKind, requestedBy?: string): Promise<{ backup: BackupRow; problems: string[] }> {
    const backup = await this.startFor(instanceId, kind, requestedBy)
    return this.track(
      this.opts.controller.exclusive(instanceId, async () => {
        if (!(await this.runBackup(backup, await this.opts.controller.stepContext(instanceId)))) {
          const failed = (await this.opts.store.get(backup.id)) ?? backup
          return { backup: failed, problems: [failed.error ?? 'The backup could not be made.'] }
        }
        const made = (await this.opts.store.get(backup.id)) ?? backup
        const verdict = await this.verifyNow(made)
        return { backup: (await this.opts.store.get(backup.id)) ?? made, problems: verdict.passed ? [] : [verdict.message] }
      }),
    )
  }

  /** Puts a backup back without a backup of the state before (going back from a failed upgrade); waited for. */
  async restoreAndWait(instanceId: string, backupId: string, requestedBy?: string): Promise<RestoreRow> {
    const { store } = this.opts
    const backup = await store.get(backupId)
    if (!backup || backup.instanceId !== instanceId) throw new BackupRefused('not-found', 'no such backup')
    const restore = await store.startRestore({ instanceId, backupId, requestedBy })
    await this.track(this.opts.controller.exclusive(instanceId, () => this.runRestore(restore, backup, { safety: false })))
    return (await store.getRestore(restore.id)) ?? restore
  }

  // --- Schedule and retention ----------------------------------------------

  /** Backs up every running instance whose last good backup is older than the schedule; then applies retention. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return
    this.#ticking = true
    try {
      const due = this.opts.scheduleHours > 0 ? await this.due() : []
      for (const row of due) {
        if (this.#stopped) break
        try {
          const backup = await this.request(row.id, 'scheduled')
          await this.idleFor(backup.id)
          await this.applyRetention(row.id)
        } catch (error) {
          if (!(error instanceof BackupRefused)) this.opts.log.error('scheduled backup failed', { instance: row.id, err: message(error) })
        }
      }
      await this.forgetPurged()
    } finally {
      this.#ticking = false
    }
  }

  /** Running, ready instances whose last good backup is older than the schedule. */
  async due(now = Date.now()): Promise<InstanceRow[]> {
    const rows = (await this.opts.instances.list()).filter((r) => r.desired === 'running' && r.phase === 'ready')
    const last = await this.opts.store.lastGood()
    const tried = await this.opts.store.lastAttempt()
    const period = this.opts.scheduleHours * 3600_000
    // After a failed attempt, wait before the next one (an hour at most), not every tick.
    const pause = Math.min(period, 3600_000)
    return rows.filter((r) => {
      const at = last.get(r.id)
      const attempt = tried.get(r.id)
      if (attempt && now - attempt.getTime() < pause) return false
      return !at || now - at.getTime() >= period
    })
  }

  private async idleFor(backupId: string) {
    // A backup and its check of a large tool take long; a day is beyond any of them.
    const deadline = Date.now() + 24 * 3600_000
    while (Date.now() < deadline) {
      const row = await this.opts.store.get(backupId)
      if (!row || (row.status !== 'running' && row.verification !== 'pending') || (row.status === 'succeeded' && !this.opts.verify)) return
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }

  /** restic forget with the retention policy, for one instance; rows of forgotten snapshots are marked. */
  async applyRetention(instanceId: string): Promise<number> {
    const { restic, store, retention: r } = this.opts
    const output = await restic.must(
      `restic forget --json --tag ${shellQuote(`commons-instance=${instanceId}`)} --keep-within ${shellQuote(r.within)} --keep-daily ${r.daily} --keep-weekly ${r.weekly} --keep-monthly ${r.monthly} | grep '^\\['`,
      // No instance label: the loop of the instance would take it for a leftover of its own.
      { instanceId: '', purpose: 'backup-retention' },
    )
    const removed = new Set<string>()
    try {
      const groups = JSON.parse(output.trim().split('\n').pop() ?? '[]') as { remove?: { id: string; short_id?: string }[] | null }[]
      // `restic backup` (0.14) names a snapshot by its short id, forget by both.
      for (const g of groups) for (const s of g.remove ?? []) removed.add(s.id).add(s.short_id ?? s.id.slice(0, 8))
    } catch (error) {
      throw new Error(`restic forget answered something that is not JSON: ${message(error)}`)
    }
    const kept = await store.kept(instanceId)
    const forgotten = kept.filter((b) => b.snapshotId && removed.has(b.snapshotId)).map((b) => b.id)
    await store.forgotten(forgotten)
    if (removed.size > 0) await restic.must('restic prune >/dev/null', { instanceId: '', purpose: 'backup-prune' })
    return forgotten.length
  }

  /** The backups of an instance whose data was purged go with it. */
  async forgetPurged(): Promise<number> {
    const { store, restic, instances } = this.opts
    const purged = new Set((await instances.list()).filter((r) => r.purgedAt !== null).map((r) => r.id))
    const rows = (await store.kept()).filter((b) => purged.has(b.instanceId))
    if (rows.length === 0) return 0
    const ids = rows.map((b) => shellQuote(b.snapshotId ?? '')).join(' ')
    await restic.must(`restic forget ${ids} >/dev/null && restic prune >/dev/null`, { instanceId: '', purpose: 'backup-forget' })
    await store.forgotten(rows.map((b) => b.id))
    return rows.length
  }
}
