import type { PlatformOverview } from './contract.ts'
import type { ContainerDriver } from '../docker/driver.ts'
import type { InstanceStore } from '../store/instances.ts'

/** Hosts, instances by phase, what failed: for the operators' health page. */
export async function platformOverview(deps: { store: InstanceStore; driver: ContainerDriver; lastSweepAt: number }): Promise<PlatformOverview> {
  let hosts: PlatformOverview['hosts']
  try {
    hosts = await deps.driver.hosts()
  } catch (error) {
    hosts = [
      {
        name: 'Docker engine',
        reachable: false,
        error: `The Docker engine does not answer: ${error instanceof Error ? error.message : String(error)}`,
        engineVersion: '',
        operatingSystem: '',
        cpus: 0,
        memoryBytes: 0,
        containersRunning: 0,
        containersStopped: 0,
        swarm: 'unknown',
      },
    ]
  }
  const rows = (await deps.store.list()).filter((r) => r.phase !== 'purged')
  const phases: Record<string, number> = {}
  for (const r of rows) phases[r.phase] = (phases[r.phase] ?? 0) + 1
  const failed = rows
    .filter((r) => r.phase === 'failed')
    .map((r) => ({ instanceId: r.id, organizationId: r.organizationId, recipe: r.recipe, step: r.failureStep ?? '', message: r.failureMessage ?? '', since: r.updatedAt.toISOString() }))
  return {
    hosts,
    phases,
    failed,
    recentFailures: await deps.store.recentFailures(24, 50),
    lastSweepAt: deps.lastSweepAt ? new Date(deps.lastSweepAt).toISOString() : null,
  }
}
