import type { Controller } from '../controller/controller.ts'
import { MetricsRegistry } from '../metrics.ts'
import type { BackupStore } from '../store/backups.ts'
import type { InstanceRow } from '../store/instances.ts'
import { stepKinds } from './contract.ts'

/** What GET /metrics reads at scrape time (the store, the loop, the backups), and no more. */
export type MetricSources = {
  store: { list(): Promise<Pick<InstanceRow, 'id' | 'recipe' | 'phase' | 'desired'>[]> }
  controller: Pick<Controller, 'queueDepth' | 'lastSweepAt'>
  /** Undefined when backups are off. */
  backups: { repositoryError: string | null; opts: { store: BackupSource } } | undefined
}

type BackupSource = Pick<BackupStore, 'lastGood'> & {
  problems(limit: number): Promise<{ failedBackups: { instanceId: string }[]; failedVerifications: unknown[] }>
}

/** A pass is a few Docker and database calls, or a health check waiting up to minutes. */
const PASS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

/**
 * The provisioner's metrics (docs/configuration.md, "Metrics"). The pass
 * histogram and the failure counter are counted as things happen; everything
 * else is read from the store and the loop at each scrape, so a restart loses
 * nothing but the counts.
 */
export class ProvisionerMetrics {
  readonly #registry = new MetricsRegistry()
  readonly #instances = this.#registry.gauge('commons_provisioner_instances', 'Instances by phase and recipe (purged instances left out).', ['phase', 'recipe'])
  readonly #failed = this.#registry.gauge('commons_provisioner_instances_failed', 'Instances that are failed: their retry budget ran out until their desired state changes.')
  readonly #passes = this.#registry.histogram('commons_provisioner_reconcile_duration_seconds', 'How long one reconcile pass of an instance took.', PASS_BUCKETS)
  readonly #stepFailures = this.#registry.counter('commons_provisioner_step_failures_total', 'Failed steps by kind (the part of the step before ":"), retried or given up, since the process started.', ['step'])
  readonly #queue = this.#registry.gauge('commons_provisioner_queue_depth', 'Reconcile passes running, asked for again while running, or scheduled for a retry.')
  readonly #sweepAge = this.#registry.gauge('commons_provisioner_last_sweep_age_seconds', 'Seconds since the control loop last completed a sweep of every instance; +Inf before the first.')
  readonly #backupsConfigured = this.#registry.gauge('commons_provisioner_backups_configured', 'Whether backups are on (BACKUP_PASSWORD is set): 1 or 0.')
  readonly #repositoryOk = this.#registry.gauge('commons_provisioner_backup_repository_ok', 'Whether the backup repository could be opened and written at the last try: 1 or 0. Only with backups on.')
  readonly #lastSuccess = this.#registry.gauge(
    'commons_provisioner_backup_last_success_timestamp_seconds',
    'When the newest successful backup of a running instance was started (Unix time); 0 when it has none. Only with backups on.',
    ['instance', 'recipe'],
  )
  readonly #backupsFailed = this.#registry.gauge(
    'commons_provisioner_backups_failed',
    'Whether the latest backup of the instance failed: 1 or 0 (running instances, and any instance whose latest backup failed). Only with backups on.',
    ['instance'],
  )
  readonly #verificationsFailed = this.#registry.gauge('commons_provisioner_backup_verifications_failed', 'Kept backups that failed their check (restored and compared). Only with backups on.')

  constructor() {
    // The kinds are known: each series exists from the start, so rate() has a 0 to start from.
    for (const step of [...stepKinds, 'plan']) this.#stepFailures.init({ step })
  }

  /** Counts the loop's failed steps from its events. */
  watch(controller: Pick<Controller, 'events'>): void {
    controller.events.on('event', (event) => {
      if (event.status === 'retrying' || event.status === 'failed') this.#stepFailures.inc({ step: event.step.split(':')[0] ?? event.step })
    })
  }

  passTook(seconds: number): void {
    this.#passes.observe(seconds)
  }

  async text({ store, controller, backups }: MetricSources): Promise<string> {
    // Read everything first, then fill the gauges in one go: two scrapes at once never mix.
    const rows = (await store.list()).filter((r) => r.phase !== 'purged')
    const backupState = backups
      ? {
          lastGood: await backups.opts.store.lastGood(),
          // No limit worth the name: a gauge that stopped at 50 would say less than the truth.
          problems: await backups.opts.store.problems(100_000),
          repositoryOk: backups.repositoryError === null,
        }
      : undefined

    this.#instances.reset()
    const byPhase = new Map<string, { phase: string; recipe: string; count: number }>()
    for (const r of rows) {
      const key = `${r.phase}\n${r.recipe}`
      const entry = byPhase.get(key) ?? { phase: r.phase, recipe: r.recipe, count: 0 }
      entry.count += 1
      byPhase.set(key, entry)
    }
    for (const { phase, recipe, count } of byPhase.values()) this.#instances.set({ phase, recipe }, count)
    this.#failed.set(rows.filter((r) => r.phase === 'failed').length)
    this.#queue.set(controller.queueDepth())
    this.#sweepAge.set(controller.lastSweepAt ? (Date.now() - controller.lastSweepAt) / 1000 : Infinity)

    this.#backupsConfigured.set(backupState ? 1 : 0)
    this.#lastSuccess.reset()
    this.#backupsFailed.reset()
    this.#repositoryOk.reset()
    this.#verificationsFailed.reset()
    if (backupState) {
      this.#repositoryOk.set(backupState.repositoryOk ? 1 : 0)
      const failing = new Set(backupState.problems.failedBackups.map((b) => b.instanceId))
      // Running as the backup schedule and /backups/problems count it: asked to run, and ready.
      for (const r of rows.filter((x) => x.desired === 'running' && x.phase === 'ready')) {
        const at = backupState.lastGood.get(r.id)
        this.#lastSuccess.set({ instance: r.id, recipe: r.recipe }, at ? at.getTime() / 1000 : 0)
        this.#backupsFailed.set({ instance: r.id }, failing.has(r.id) ? 1 : 0)
      }
      for (const id of failing) this.#backupsFailed.set({ instance: id }, 1)
      this.#verificationsFailed.set(backupState.problems.failedVerifications.length)
    }
    return this.#registry.text()
  }
}
