import { EventEmitter } from 'node:events'
import type { CatalogEntry } from '@commons/catalog'
import type { InstanceEvent } from '../api/contract.ts'
import type { ContainerDriver, ObservedInstance } from '../docker/driver.ts'
import type { Logger } from '../log.ts'
import { buildSpec, MissingSecretError, routeIdFor, type InstanceSpec, type Platform } from '../spec.ts'
import type { InstanceRow, InstanceStore } from '../store/instances.ts'
import type { RecipeStore } from '../store/recipes.ts'
import { execute, message, StepError, type StepContext } from './executors.ts'
import { plan, stepName, type Actual, type Desired, type Step } from './plan.ts'
import type { IdentityPort, ProxyPort } from './ports.ts'

export type ControllerOptions = {
  store: InstanceStore
  /** The instances' copies of the recipe versions they run. */
  recipes: RecipeStore
  driver: ContainerDriver
  identity: IdentityPort
  proxy: ProxyPort
  catalog: ReadonlyMap<string, CatalogEntry>
  platform: Platform
  log: Logger
  /** Failed attempts of one step before the instance is `failed`. */
  retryBudget: number
  /** First retry delay; doubles per attempt up to `retryMaxMs`. */
  retryBaseMs: number
  retryMaxMs: number
  /** How often every instance is checked for drift, even with nothing queued. */
  resyncMs: number
  healthTimeScale?: number
  /**
   * Fault injection for the crash-safety test only: SIGKILL this process just
   * before (or just after) running the first step whose name starts with
   * `step`, after it was reported as started and before it is reported done.
   */
  crashAt?: { step: string; when: 'before' | 'after' }
  /** Told how long each reconcile pass of an instance took (the metrics' histogram). */
  onPass?: (instanceId: string, seconds: number) => void
}

/** Steps one pass may take before it yields to other instances (a guard against a plan that never converges). */
const MAX_STEPS_PER_PASS = 200

/**
 * The control loop: for each instance, observe → plan → run the first step →
 * repeat until the plan is empty. One queue per instance (passes for the same
 * instance never overlap; a request during a pass marks it dirty and it runs
 * once more after). A failing step is retried with capped exponential
 * backoff; after the retry budget the instance is `failed` until its desired
 * state changes.
 */
export class Controller {
  readonly events = new EventEmitter<{ event: [InstanceEvent] }>()
  readonly #running = new Map<string, Promise<void>>()
  readonly #dirty = new Set<string>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #healthy = new Map<string, string>()
  /** Failed instances whose data is on a host that was down: instance id → host and the failed generation. */
  #ticker: NodeJS.Timeout | undefined
  #stopped = false
  /** When the loop last completed a sweep; /healthz reports it. */
  lastSweepAt = 0

  constructor(readonly opts: ControllerOptions) {
    this.events.setMaxListeners(0)
  }

  start(): void {
    const tick = () => {
      this.sweep().then(
        () => (this.lastSweepAt = Date.now()),
        (error: unknown) => this.opts.log.error('sweep failed', { err: message(error) }),
      )
    }
    tick()
    this.#ticker = setInterval(tick, this.opts.resyncMs)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#ticker)
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    await Promise.allSettled([...this.#running.values()])
  }

  /** Queues a pass for the instance; a pass already queued absorbs this one. */
  enqueue(id: string): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    const running = this.#running.get(id)
    if (running) {
      this.#dirty.add(id)
      return running
    }
    const pass = (async () => {
      try {
        do {
          this.#dirty.delete(id)
          const started = performance.now()
          await this.reconcile(id)
          this.opts.onPass?.(id, (performance.now() - started) / 1000)
        } while (this.#dirty.has(id) && !this.#stopped)
      } finally {
        this.#running.delete(id)
      }
    })()
    this.#running.set(id, pass)
    return pass
  }

  /**
   * Runs `work` while no pass of this instance runs (a backup or a restore
   * must not have the loop start or remove containers under it). A pass asked
   * for meanwhile runs once `work` is done.
   */
  async exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    for (let running = this.#running.get(id); running; running = this.#running.get(id)) await running.catch(() => undefined)
    const op = work()
    const done = op.then(
      () => undefined,
      () => undefined,
    )
    this.#running.set(id, done)
    void done.finally(() => {
      if (this.#running.get(id) === done) this.#running.delete(id)
      if (this.#dirty.has(id)) void this.enqueue(id).catch((error: unknown) => this.opts.log.error('pass failed', { instance: id, err: message(error) }))
    })
    return op
  }

  /** Whether a pass or an exclusive task of this instance is under way. */
  busy(id: string): boolean {
    return this.#running.has(id)
  }

  /** Passes under way or waiting: running (exclusive tasks too), asked for again while running, or scheduled for a retry. */
  queueDepth(): number {
    return this.#running.size + this.#dirty.size + this.#timers.size
  }

  /** What a step of this instance runs with, for tasks outside the loop (restore). */
  async stepContext(id: string): Promise<StepContext> {
    const row = await this.opts.store.get(id)
    if (!row) throw new Error(`no instance ${id}`)
    const secrets = await this.opts.store.secrets(id)
    return this.context(row, await this.specFor(row, secrets), secrets)
  }

  /** Runs one step outside the loop, reported as the loop reports its own. */
  async runStep(ctx: StepContext, step: Step): Promise<string> {
    await this.emit(ctx.row.id, stepName(step), 'started', '')
    const detail = await execute(ctx, step)
    await this.emit(ctx.row.id, stepName(step), 'succeeded', detail)
    return detail
  }

  /** Waits until no pass is running or queued (tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()])
  }

  /** Every active instance gets a pass; objects of unknown instances are removed. */
  async sweep(): Promise<void> {
    await this.retryWhereHostsAreBack()
    const rows = await this.opts.store.active()
    const now = Date.now()
    for (const row of rows) {
      if (row.nextAttemptAt && row.nextAttemptAt.getTime() > now) this.schedule(row.id, row.nextAttemptAt.getTime() - now)
      else void this.enqueue(row.id).catch((error: unknown) => this.opts.log.error('pass failed', { instance: row.id, err: message(error) }))
    }
    await this.removeOrphans()
  }

  /**
   * A tool that failed because the host with its data was down is tried
   * again by itself once that host answers (as "Restart" would), so a host
   * that reboots at night does not leave its tools failed until morning.
   */
  private async retryWhereHostsAreBack(): Promise<void> {
    // Kept with the instance, so a restart of the provisioner forgets nothing.
    const waiting = await this.opts.store.waitingForHosts()
    if (waiting.length === 0) return
    const reachable = new Set((await this.opts.driver.hosts()).filter((h) => h.reachable).map((h) => h.name))
    for (const { id, host, generation } of waiting) {
      if (!reachable.has(host)) continue
      if (await this.opts.store.retryFailed(id, generation)) {
        this.opts.log.info('the host of a failed tool is back; trying again', { instance: id, host })
        await this.emit(id, 'retry', 'started', `host ${host} is back`)
      }
    }
  }

  private schedule(id: string, delayMs: number) {
    if (this.#timers.has(id) || this.#stopped) return
    const timer = setTimeout(() => {
      this.#timers.delete(id)
      void this.enqueue(id).catch((error: unknown) => this.opts.log.error('pass failed', { instance: id, err: message(error) }))
    }, delayMs)
    timer.unref()
    this.#timers.set(id, timer)
  }

  /**
   * The recipe the instance runs: the catalog's while it has the instance's
   * version (kept as the instance's copy), otherwise the copy kept of the
   * version it runs, so a newer catalog changes nothing until an upgrade.
   * An instance from before copies were kept follows the catalog, as then.
   */
  async entryFor(row: InstanceRow): Promise<CatalogEntry> {
    const current = this.opts.catalog.get(row.recipe)
    if (current && current.recipe.version === row.recipeVersion) {
      await this.opts.recipes.keep(row.id, current)
      return current
    }
    const kept = await this.opts.recipes.get(row.id, row.recipeVersion)
    if (kept) return kept
    if (!current) throw new StepError(`The tool "${row.recipe}" is no longer in the catalog.`, `unknown recipe ${row.recipe}`)
    await this.opts.store.setRecipeVersion(row.id, current.recipe.version, { upgrading: false })
    await this.opts.recipes.keep(row.id, current)
    this.opts.log.warn('instance had no copy of its recipe version; it follows the catalog', { instance: row.id, from: row.recipeVersion, to: current.recipe.version })
    return current
  }

  async specFor(row: InstanceRow, secrets: ReadonlyMap<string, string>): Promise<InstanceSpec> {
    const entry = await this.entryFor(row)
    return buildSpec(row, entry, this.opts.platform, (name) => {
      const value = secrets.get(name)
      if (value === undefined) throw new MissingSecretError(name)
      return value
    })
  }

  async observe(row: InstanceRow, spec: InstanceSpec, observed?: ObservedInstance, clients?: Map<string, string>, routes?: string[]): Promise<Actual> {
    const docker = observed ?? (await this.opts.driver.observe(row.id))
    const routeIds = routes ?? (await this.opts.proxy.listRouteIds(routeIdFor(row.id, '')))
    const clientExists = spec.client
      ? clients
        ? clients.has(row.id)
        : await this.opts.identity.clientExists(spec.client.clientId, row.id)
      : false
    const healthy = new Set<string>()
    for (const c of docker.containers) if (c.service && this.#healthy.get(c.name) === c.id) healthy.add(c.service)
    return { ...docker, routes: new Set(routeIds), clientExists, healthy }
  }

  desired(row: InstanceRow, spec: InstanceSpec, hooksDone: ReadonlySet<string>): Desired {
    return {
      state: row.desired,
      spec,
      phase: row.phase,
      hooksDone,
      restartPending: row.restartRequested > row.restartDone,
      purgeDue: row.purgeAt !== null && row.purgeAt.getTime() <= Date.now(),
    }
  }

  private async reconcile(id: string): Promise<void> {
    const { store, log } = this.opts
    for (let n = 0; n < MAX_STEPS_PER_PASS && !this.#stopped; n++) {
      const row = await store.get(id)
      if (!row || row.purgedAt || row.failedGeneration === row.generation) return
      if (row.nextAttemptAt && row.nextAttemptAt.getTime() > Date.now()) {
        this.schedule(id, row.nextAttemptAt.getTime() - Date.now())
        return
      }
      let step: Step | undefined
      try {
        const secrets = await store.secrets(id)
        const spec = await this.specFor(row, secrets)
        const actual = await this.observe(row, spec)
        step = plan(this.desired(row, spec, await store.hooksDone(id)), actual)[0]
        if (!step) {
          await store.clearAttempts(id)
          return
        }
        await this.emit(id, stepName(step), 'started', '')
        this.crashIfAsked(step, 'before')
        const detail = await execute(this.context(row, spec, secrets), step)
        this.crashIfAsked(step, 'after')
        await this.emit(id, stepName(step), 'succeeded', detail)
      } catch (error) {
        await this.failed(row, step, error)
        return
      }
    }
    if (!this.#stopped) log.warn('pass stopped after too many steps; the next sweep continues', { instance: id })
  }

  private crashIfAsked(step: Step, when: 'before' | 'after') {
    const crash = this.opts.crashAt
    if (crash && crash.when === when && stepName(step).startsWith(crash.step)) process.kill(process.pid, 'SIGKILL')
  }

  private context(row: InstanceRow, spec: InstanceSpec, secrets: ReadonlyMap<string, string>): StepContext {
    return {
      row,
      spec,
      secrets,
      driver: this.opts.driver,
      identity: this.opts.identity,
      proxy: this.opts.proxy,
      store: this.opts.store,
      healthy: this.#healthy,
      healthTimeScale: this.opts.healthTimeScale ?? 1,
    }
  }

  private async failed(row: InstanceRow, step: Step | undefined, error: unknown) {
    const { store, log, retryBudget, retryBaseMs, retryMaxMs } = this.opts
    const name = step ? stepName(step) : 'plan'
    const detail = message(error)
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** row.attempts)
    const attempts = await store.recordFailure(row.id, row.generation, new Date(Date.now() + delay))
    log.warn('step failed', { instance: row.id, step: name, attempt: attempts, err: detail })
    if (attempts >= retryBudget) {
      const plain = error instanceof StepError ? error.plain : `The step "${name}" kept failing.`
      await store.markFailed(row.id, row.generation, name, plain, error instanceof StepError ? (error.waitsFor ?? null) : null)
      await this.emit(row.id, name, 'failed', detail)
      return
    }
    await this.emit(row.id, name, 'retrying', `${detail} (attempt ${attempts} of ${retryBudget}; next in ${Math.round(delay / 1000)} s)`)
    this.schedule(row.id, delay)
  }

  async emit(instanceId: string, step: string, status: InstanceEvent['status'], msg: string) {
    const event = await this.opts.store.appendEvent({ instanceId, step, status, message: msg })
    this.events.emit('event', event)
  }

  /**
   * One observation of everything (three Docker list calls, one proxy call,
   * one Keycloak call) and the plan of every active instance against it:
   * what a full reconcile pass decides, without running any step.
   */
  async planAll(): Promise<Map<string, Step[]>> {
    const { store, driver, proxy, identity } = this.opts
    const [rows, observed, routes, clients] = await Promise.all([store.active(), driver.observeAll(), proxy.listRouteIds('instance.'), identity.listInstanceClients()])
    const routesByInstance = new Map<string, string[]>()
    for (const r of routes) {
      const id = r.split('.')[1] ?? ''
      routesByInstance.set(id, [...(routesByInstance.get(id) ?? []), r])
    }
    const plans = new Map<string, Step[]>()
    for (const row of rows) {
      const secrets = await store.secrets(row.id)
      const spec = await this.specFor(row, secrets)
      const empty = { network: { exists: false, proxyAttached: false }, volumes: new Set<string>(), containers: [] }
      const actual = await this.observe(row, spec, observed.get(row.id) ?? empty, clients, routesByInstance.get(row.id) ?? [])
      plans.set(row.id, plan(this.desired(row, spec, await store.hooksDone(row.id)), actual))
    }
    return plans
  }

  /**
   * Docker objects, routes and clients whose instance the store does not know
   * (or knows as purged) are removed. The store is written before any object
   * is made, so these only come from outside hands or a lost database.
   */
  async removeOrphans(): Promise<void> {
    const { store, driver, proxy, identity, log } = this.opts
    const known = new Map((await store.list()).map((r) => [r.id, r]))
    const alive = (id: string) => {
      const row = known.get(id)
      return row !== undefined && row.purgedAt === null
    }
    const [observed, routes, clients] = await Promise.all([driver.observeAll(), proxy.listRouteIds('instance.'), identity.listInstanceClients()])
    for (const [id, o] of observed) {
      if (alive(id)) continue
      for (const c of o.containers) await driver.removeContainer(c.name, id)
      if (o.network.exists) await driver.removeNetwork(`${id}-net`, id)
      for (const v of o.volumes) await driver.removeVolume(v, id)
      log.warn('removed orphaned objects', { instance: id, containers: o.containers.length, volumes: o.volumes.size })
    }
    for (const routeId of routes) {
      const id = routeId.split('.')[1] ?? ''
      if (alive(id)) continue // live instances add and drop their own routes in their passes
      await proxy.removeRoute(routeId)
      log.warn('removed orphaned route', { route: routeId })
    }
    for (const [id, clientId] of clients) {
      if (alive(id)) continue
      await identity.deleteClient(clientId, id)
      log.warn('removed orphaned client', { client: clientId })
    }
  }
}
