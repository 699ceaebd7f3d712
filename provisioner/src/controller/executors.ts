import { setTimeout as sleep } from 'node:timers/promises'
import { HostError, ImageUnavailableError, type ContainerDriver } from '../docker/driver.ts'
import { OIDC_SECRET, type InstanceSpec } from '../spec.ts'
import type { InstanceRow, InstanceStore } from '../store/instances.ts'
import type { Step } from './plan.ts'
import type { IdentityPort, ProxyPort } from './ports.ts'

export type StepContext = {
  row: InstanceRow
  spec: InstanceSpec
  secrets: ReadonlyMap<string, string>
  driver: ContainerDriver
  identity: IdentityPort
  proxy: ProxyPort
  store: InstanceStore
  /** Container name → id of the container that passed its health check. */
  healthy: Map<string, string>
  /** Scales health waits down in tests (1 = the recipe's timings). */
  healthTimeScale: number
}

/** A step failed for a reason the organisation's admin can understand. */
export class StepError extends Error {
  constructor(
    readonly plain: string,
    detail: string,
    /** A host the step waits for: when it fails for good, it is tried again once that host is back. */
    readonly waitsFor?: string,
  ) {
    super(detail)
    this.name = 'StepError'
  }
}

type Executor<K extends Step['kind']> = (ctx: StepContext, step: Extract<Step, { kind: K }>) => Promise<string | void>

function serviceSpec(ctx: StepContext, service: string) {
  const spec = ctx.spec.containers.find((c) => c.service === service)
  if (!spec) throw new Error(`the recipe has no service ${service}`)
  return spec
}

const executors: { [K in Step['kind']]: Executor<K> } = {
  network: async (ctx) => {
    const containers = ctx.spec.containers
    await ctx.driver.ensureNetwork(ctx.spec.network, ctx.spec.labels, {
      memoryBytes: containers.reduce((sum, c) => sum + c.memoryBytes, 0),
      nanoCpus: containers.reduce((sum, c) => sum + c.nanoCpus, 0),
      stateful: ctx.spec.volumes.length > 0,
      sharedStorage: ctx.spec.sharedStorage,
    })
  },
  volume: async (ctx, step) => {
    await ctx.driver.ensureVolume(step.volume, ctx.spec.labels)
  },
  'oidc-client': async (ctx) => {
    const client = ctx.spec.client
    const secret = ctx.secrets.get(OIDC_SECRET)
    if (!client || !secret) throw new Error('the recipe has no single sign-on, or its client secret is missing')
    try {
      await ctx.identity.ensureClient(client, secret)
    } catch (error) {
      throw new StepError('Single sign-on could not be set up for this tool.', message(error))
    }
  },
  container: async (ctx, step) => {
    const spec = serviceSpec(ctx, step.service)
    try {
      const id = await ctx.driver.ensureContainer(spec, ctx.spec.network)
      // Started again (or anew): its health must be proven again before the route goes up.
      ctx.healthy.delete(spec.name)
      return `container ${spec.name} (${id.slice(0, 12)}) is running`
    } catch (error) {
      if (error instanceof ImageUnavailableError) {
        throw new StepError(`The software for "${step.service}" (${spec.image}) is not available on the server.`, error.message)
      }
      throw error
    }
  },
  health: async (ctx, step) => {
    const spec = serviceSpec(ctx, step.service)
    const h = spec.health
    const interval = h.intervalSeconds * 1000 * ctx.healthTimeScale
    const deadline = Date.now() + (h.startPeriodSeconds * 1000 + h.retries * h.intervalSeconds * 1000) * ctx.healthTimeScale
    const observed = await ctx.driver.observe(ctx.row.id)
    const current = observed.containers.find((c) => c.name === spec.name)
    if (!current?.running) throw new Error(`container ${spec.name} is not running`)
    for (;;) {
      if (await ctx.driver.probe(spec.name, h)) {
        ctx.healthy.set(spec.name, current.id)
        return `${step.service} is healthy`
      }
      if (Date.now() >= deadline) break
      await sleep(interval)
    }
    const seconds = Math.round((h.startPeriodSeconds + h.retries * h.intervalSeconds) * ctx.healthTimeScale)
    const lastLines = (await ctx.driver.logs(spec.name, 5)).join(' | ')
    throw new StepError(
      `"${step.service}" did not answer its health check within ${seconds} seconds.`,
      `health check ${describeHealth(h)} kept failing; last log lines: ${lastLines || '(none)'}`,
    )
  },
  hook: async (ctx, step) => {
    const hook = ctx.spec.hooks.find((h) => h.name === step.hook)
    if (!hook) throw new Error(`the recipe has no hook ${step.hook}`)
    const result =
      hook.phase === 'init'
        ? await ctx.driver.runOnce(hook, serviceSpec(ctx, hook.service), ctx.spec.network)
        : await ctx.driver.exec(serviceSpec(ctx, hook.service).name, hook)
    if (result.exitCode !== 0) {
      throw new StepError(`The setup step "${hook.name}" failed.`, `exit code ${result.exitCode}: ${result.output.slice(-500)}`)
    }
    await ctx.store.recordHook(ctx.row.id, hook.name)
  },
  route: async (ctx) => {
    for (const route of ctx.spec.routes) await ctx.proxy.ensureRoute(route)
    return ctx.spec.url
  },
  ready: async (ctx) => {
    await ctx.store.setPhase(ctx.row.id, 'ready')
    return ctx.spec.url
  },
  restart: async (ctx) => {
    const upTo = ctx.row.restartRequested
    for (const c of ctx.spec.containers) {
      await ctx.driver.restartContainer(c.name, ctx.row.id)
      ctx.healthy.delete(c.name)
    }
    await ctx.store.markRestartDone(ctx.row.id, upTo)
  },
  stop: async (ctx, step) => {
    const name = serviceSpec(ctx, step.service).name
    await ctx.driver.stopContainer(name, ctx.row.id)
    ctx.healthy.delete(name)
  },
  suspended: async (ctx) => {
    await ctx.store.setPhase(ctx.row.id, 'suspended')
  },
  'remove-container': async (ctx, step) => {
    await ctx.driver.removeContainer(step.container, ctx.row.id)
    ctx.healthy.delete(step.container)
  },
  'remove-route': async (ctx, step) => {
    await ctx.proxy.removeRoute(step.route)
  },
  'remove-oidc-client': async (ctx) => {
    if (ctx.spec.client) await ctx.identity.deleteClient(ctx.spec.client.clientId, ctx.row.id)
  },
  'remove-network': async (ctx) => {
    await ctx.driver.removeNetwork(ctx.spec.network, ctx.row.id)
  },
  'remove-volume': async (ctx, step) => {
    await ctx.driver.removeVolume(step.volume, ctx.row.id)
  },
  removed: async (ctx) => {
    await ctx.store.setPhase(ctx.row.id, 'removed')
  },
  purged: async (ctx) => {
    await ctx.store.setPhase(ctx.row.id, 'purged')
  },
}

/** Runs one step; returns a detail for its `succeeded` event. */
export async function execute(ctx: StepContext, step: Step): Promise<string> {
  const run = executors[step.kind] as Executor<Step['kind']>
  try {
    return (await run(ctx, step)) ?? ''
  } catch (error) {
    if (error instanceof HostError) throw new StepError(error.plain, error.message, error.waitsFor)
    throw error
  }
}

function describeHealth(h: InstanceSpec['containers'][number]['health']): string {
  switch (h.type) {
    case 'http':
      return `GET :${h.port}${h.path}`
    case 'tcp':
      return `tcp :${h.port}`
    case 'command':
      return h.command.join(' ')
  }
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
