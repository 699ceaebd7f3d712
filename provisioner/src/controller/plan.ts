import type { ObservedInstance } from '../docker/driver.ts'
import type { InstanceSpec } from '../spec.ts'

// The planner: from what should be (desired) and what is (actual) to the steps
// between them, in order. Pure and total: no I/O, no clock (the caller says
// whether a purge is due), so every case is a table test. The controller runs
// the first step, observes again and plans again, so a crash between any two
// steps only means the next pass plans from wherever things were left.

export type Desired = {
  state: 'running' | 'suspended' | 'removed'
  spec: InstanceSpec
  phase: string
  hooksDone: ReadonlySet<string>
  restartPending: boolean
  /** Removed and past its grace period: the kept volumes go too. */
  purgeDue: boolean
}

export type Actual = ObservedInstance & {
  /** Proxy route ids present for this instance. */
  routes: ReadonlySet<string>
  clientExists: boolean
  /** Services whose current container passed its health check. */
  healthy: ReadonlySet<string>
}

export type Step =
  | { kind: 'network' }
  | { kind: 'volume'; volume: string }
  | { kind: 'oidc-client' }
  | { kind: 'container'; service: string }
  | { kind: 'health'; service: string }
  | { kind: 'hook'; hook: string }
  | { kind: 'route' }
  | { kind: 'ready' }
  | { kind: 'restart' }
  | { kind: 'stop'; service: string }
  | { kind: 'suspended' }
  | { kind: 'remove-container'; container: string }
  | { kind: 'remove-route'; route: string }
  | { kind: 'remove-oidc-client' }
  | { kind: 'remove-network' }
  | { kind: 'remove-volume'; volume: string }
  | { kind: 'removed' }
  | { kind: 'purged' }

/** "container:web", "volume:hello-x-data", "ready": the name events carry. */
export function stepName(step: Step): string {
  switch (step.kind) {
    case 'volume':
    case 'remove-volume':
      return `${step.kind}:${step.volume}`
    case 'container':
    case 'health':
    case 'stop':
      return `${step.kind}:${step.service}`
    case 'hook':
      return `hook:${step.hook}`
    case 'remove-container':
      return `remove-container:${step.container}`
    case 'remove-route':
      return `remove-route:${step.route}`
    default:
      return step.kind
  }
}

export function plan(desired: Desired, actual: Actual): Step[] {
  switch (desired.state) {
    case 'running':
      return planRunning(desired, actual)
    case 'suspended':
      return planSuspended(desired, actual)
    case 'removed':
      return planRemoved(desired, actual)
  }
}

function planRunning(desired: Desired, actual: Actual): Step[] {
  const { spec } = desired
  const steps: Step[] = []
  const wanted = new Set(spec.containers.map((c) => c.name))
  // Leftovers first: a hook container from an interrupted run, or a service
  // the recipe no longer has.
  for (const c of actual.containers) if (!wanted.has(c.name)) steps.push({ kind: 'remove-container', container: c.name })
  if (!actual.network.exists || !actual.network.proxyAttached) steps.push({ kind: 'network' })
  for (const v of spec.volumes) if (!actual.volumes.has(v.name)) steps.push({ kind: 'volume', volume: v.name })
  if (spec.client && !actual.clientExists) steps.push({ kind: 'oidc-client' })

  const byName = new Map(actual.containers.map((c) => [c.name, c]))
  const allUpToDate = spec.containers.every((c) => {
    const current = byName.get(c.name)
    return current?.running && current.hash === c.hash
  })
  if (desired.restartPending && allUpToDate) steps.push({ kind: 'restart' })

  for (const c of spec.containers) {
    for (const hook of spec.hooks) {
      if (hook.phase === 'init' && hook.service === c.service && !desired.hooksDone.has(hook.name)) steps.push({ kind: 'hook', hook: hook.name })
    }
    const current = byName.get(c.name)
    if (!current || current.hash !== c.hash || !current.running) steps.push({ kind: 'container', service: c.service })
    if (!actual.healthy.has(c.service) || !current || current.hash !== c.hash) steps.push({ kind: 'health', service: c.service })
  }
  for (const hook of spec.hooks) {
    if (hook.phase === 'post-install' && !desired.hooksDone.has(hook.name)) steps.push({ kind: 'hook', hook: hook.name })
  }
  if (spec.routes.some((r) => !actual.routes.has(r.id))) steps.push({ kind: 'route' })
  const wantedRoutes = new Set(spec.routes.map((r) => r.id))
  for (const r of actual.routes) if (!wantedRoutes.has(r)) steps.push({ kind: 'remove-route', route: r })
  if (steps.length === 0 && desired.phase !== 'ready') steps.push({ kind: 'ready' })
  return steps
}

function planSuspended(desired: Desired, actual: Actual): Step[] {
  const steps: Step[] = []
  // The route goes first, so nobody reaches a half-stopped tool.
  for (const r of actual.routes) steps.push({ kind: 'remove-route', route: r })
  const services = new Set(desired.spec.containers.map((c) => c.service))
  for (const c of actual.containers) {
    if (c.service && services.has(c.service)) {
      if (c.running) steps.push({ kind: 'stop', service: c.service })
    } else {
      steps.push({ kind: 'remove-container', container: c.name })
    }
  }
  if (steps.length === 0 && desired.phase !== 'suspended') steps.push({ kind: 'suspended' })
  return steps
}

function planRemoved(desired: Desired, actual: Actual): Step[] {
  const steps: Step[] = []
  for (const r of actual.routes) steps.push({ kind: 'remove-route', route: r })
  for (const c of actual.containers) steps.push({ kind: 'remove-container', container: c.name })
  if (actual.clientExists) steps.push({ kind: 'remove-oidc-client' })
  if (actual.network.exists) steps.push({ kind: 'remove-network' })
  if (steps.length > 0) return steps
  if (desired.phase !== 'removed' && desired.phase !== 'purged') return [{ kind: 'removed' }]
  if (!desired.purgeDue) return []
  for (const v of [...actual.volumes].sort()) steps.push({ kind: 'remove-volume', volume: v })
  if (steps.length === 0 && desired.phase !== 'purged') steps.push({ kind: 'purged' })
  return steps
}
