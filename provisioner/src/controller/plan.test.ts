import path from 'node:path'
import { loadCatalog, type CatalogEntry } from '@commons/catalog'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildSpec, type InstanceSpec, type Platform } from '../spec.ts'
import { plan, stepName, type Actual, type Desired } from './plan.ts'

const platform: Platform = {
  owner: 'commons-provisioner',
  domain: 'tools.example.coop',
  scheme: 'https',
  keycloakPublicUrl: 'https://auth.example.coop',
  realm: 'commons',
  smtp: { host: 'mail', port: 25, user: '', password: '', from: 'tools@example.coop' },
}
const identity = {
  id: 'matrix-kas',
  organizationId: 'org-1',
  organizationSlug: 'kas',
  organizationName: 'De Kas',
  recipe: 'matrix',
  recipeVersion: '1.0.0',
  adminEmail: 'admin@kas.example',
}

let matrix: CatalogEntry
let spec: InstanceSpec
beforeAll(async () => {
  const catalog = await loadCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
  const entry = catalog.find((e) => e.recipe.id === 'matrix')
  if (!entry) throw new Error('matrix recipe missing')
  matrix = entry
  spec = buildSpec(identity, matrix, platform, (name, length) => `${name}`.padEnd(length, 'x'))
})

function desired(overrides: Partial<Desired> = {}): Desired {
  return { state: 'running', spec, phase: 'provisioning', hooksDone: new Set(), restartPending: false, purgeDue: false, ...overrides }
}

function nothing(): Actual {
  return { network: { exists: false, proxyAttached: false }, volumes: new Set(), containers: [], routes: new Set(), clientExists: false, healthy: new Set() }
}

/** Everything of the spec in place and healthy. */
function converged(): Actual {
  return {
    network: { exists: true, proxyAttached: true },
    volumes: new Set(spec.volumes.map((v) => v.name)),
    containers: spec.containers.map((c, i) => ({ id: `id${i}`, name: c.name, instance: spec.id, service: c.service, running: true, hash: c.hash })),
    routes: new Set(spec.routes.map((r) => r.id)),
    clientExists: true,
    healthy: new Set(spec.containers.map((c) => c.service)),
  }
}

const names = (d: Desired, a: Actual) => plan(d, a).map(stepName)

describe('plan for a running instance', () => {
  it('builds from nothing in dependency order: network, volumes, client, then each service and its health, then the route', () => {
    expect(names(desired(), nothing())).toEqual([
      'network',
      'volume:matrix-kas-db',
      'volume:matrix-kas-synapse-data',
      'oidc-client',
      'container:db',
      'health:db',
      'container:synapse',
      'health:synapse',
      'container:element',
      'health:element',
      'route',
    ])
  })

  it('is empty once everything is in place and the phase is ready', () => {
    expect(plan(desired({ phase: 'ready' }), converged())).toEqual([])
    expect(names(desired({ phase: 'provisioning' }), converged())).toEqual(['ready'])
  })

  it('recreates a container whose configuration changed, and checks its health again', () => {
    const actual = converged()
    actual.containers = actual.containers.map((c) => (c.service === 'synapse' ? { ...c, hash: 'old' } : c))
    expect(names(desired({ phase: 'ready' }), actual)).toEqual(['container:synapse', 'health:synapse'])
  })

  it('starts a stopped container and re-attaches the proxy to the network', () => {
    const actual = converged()
    actual.network = { exists: true, proxyAttached: false }
    actual.containers = actual.containers.map((c) => (c.service === 'db' ? { ...c, running: false } : c))
    expect(names(desired({ phase: 'ready' }), actual)).toEqual(['network', 'container:db'])
  })

  it('removes leftovers: a hook container of an interrupted run, a route it no longer has', () => {
    const actual = converged()
    actual.containers.push({ id: 'h', name: 'matrix-kas-hook-x', instance: spec.id, hook: 'x', running: false })
    actual.routes = new Set([...actual.routes, 'instance.matrix-kas.old'])
    expect(names(desired({ phase: 'ready' }), actual)).toEqual(['remove-container:matrix-kas-hook-x', 'remove-route:instance.matrix-kas.old'])
  })

  it('restarts only when every container is up to date, then checks health again', () => {
    expect(names(desired({ phase: 'ready', restartPending: true }), converged())).toEqual(['restart'])
    const actual = nothing()
    expect(names(desired({ restartPending: true }), actual)).not.toContain('restart')
  })

  it('runs post-install hooks after every service is healthy and before the route, once', () => {
    const withHook: InstanceSpec = {
      ...spec,
      hooks: [{ name: 'setup', phase: 'post-install', service: 'synapse', command: ['true'], env: {}, containerName: 'matrix-kas-hook-setup' }],
    }
    const actual = converged()
    actual.routes = new Set()
    expect(names(desired({ spec: withHook }), actual)).toEqual(['hook:setup', 'route'])
    expect(names(desired({ spec: withHook, hooksDone: new Set(['setup']) }), actual)).toEqual(['route'])
  })

  it('runs an init hook after its dependencies and before its own service starts', () => {
    const withInit: InstanceSpec = {
      ...spec,
      hooks: [{ name: 'migrate', phase: 'init', service: 'synapse', command: ['migrate'], env: {}, containerName: 'matrix-kas-hook-migrate' }],
    }
    const steps = names(desired({ spec: withInit }), nothing())
    expect(steps.indexOf('hook:migrate')).toBeGreaterThan(steps.indexOf('health:db'))
    expect(steps.indexOf('hook:migrate')).toBeLessThan(steps.indexOf('container:synapse'))
  })
})

describe('plan for a suspended instance', () => {
  it('drops the route first, then stops every container, then marks it suspended', () => {
    expect(names(desired({ state: 'suspended', phase: 'suspending' }), converged())).toEqual([
      'remove-route:instance.matrix-kas.main',
      'stop:db',
      'stop:synapse',
      'stop:element',
    ])
    const stopped = converged()
    stopped.routes = new Set()
    stopped.containers = stopped.containers.map((c) => ({ ...c, running: false }))
    expect(names(desired({ state: 'suspended', phase: 'suspending' }), stopped)).toEqual(['suspended'])
    expect(plan(desired({ state: 'suspended', phase: 'suspended' }), stopped)).toEqual([])
  })
})

describe('plan for a removed instance', () => {
  it('removes route, containers, client and network at once, and keeps the volumes', () => {
    expect(names(desired({ state: 'removed', phase: 'removing' }), converged())).toEqual([
      'remove-route:instance.matrix-kas.main',
      'remove-container:matrix-kas-db',
      'remove-container:matrix-kas-synapse',
      'remove-container:matrix-kas-element',
      'remove-oidc-client',
      'remove-network',
    ])
    const left = nothing()
    left.volumes = new Set(['matrix-kas-db', 'matrix-kas-synapse-data'])
    expect(names(desired({ state: 'removed', phase: 'removing' }), left)).toEqual(['removed'])
    expect(plan(desired({ state: 'removed', phase: 'removed' }), left)).toEqual([])
  })

  it('deletes the kept volumes once the grace period is over', () => {
    const left = nothing()
    left.volumes = new Set(['matrix-kas-db', 'matrix-kas-synapse-data'])
    expect(names(desired({ state: 'removed', phase: 'removed', purgeDue: true }), left)).toEqual([
      'remove-volume:matrix-kas-db',
      'remove-volume:matrix-kas-synapse-data',
    ])
    expect(names(desired({ state: 'removed', phase: 'removed', purgeDue: true }), nothing())).toEqual(['purged'])
    expect(plan(desired({ state: 'removed', phase: 'purged', purgeDue: true }), nothing())).toEqual([])
  })
})

describe('buildSpec', () => {
  it('names, labels and routes an instance from its tool and organisation', () => {
    expect(spec.url).toBe('https://matrix-kas.tools.example.coop')
    expect(spec.network).toBe('matrix-kas-net')
    expect(spec.routes).toEqual([
      {
        id: 'instance.matrix-kas.main',
        hosts: ['matrix-kas.tools.example.coop'],
        upstreams: [
          { pathPrefixes: ['/_matrix/', '/_synapse/client/', '/.well-known/matrix/'], dial: 'matrix-kas-synapse:8008' },
          { dial: 'matrix-kas-element:80' },
        ],
      },
    ])
    expect(spec.client).toMatchObject({
      clientId: 'instance-matrix-kas',
      organizationAlias: 'kas',
      redirectUris: ['https://matrix-kas.tools.example.coop/_synapse/client/oidc/callback'],
    })
    const synapse = spec.containers.find((c) => c.service === 'synapse')
    expect(synapse?.labels).toMatchObject({ 'org.commons.instance': 'matrix-kas', 'org.commons.organization': 'org-1', 'org.commons.recipe': 'matrix' })
    expect(synapse?.files[0]?.content).toContain('issuer: "https://auth.example.coop/realms/commons"')
  })

  it('gives the same hash for the same input and another when a secret changes', () => {
    const again = buildSpec(identity, matrix, platform, (name, length) => `${name}`.padEnd(length, 'x'))
    expect(again.containers.map((c) => c.hash)).toEqual(spec.containers.map((c) => c.hash))
    const rotated = buildSpec(identity, matrix, platform, (name, length) => (name === 'DB_PASSWORD' ? 'y'.repeat(length) : `${name}`.padEnd(length, 'x')))
    expect(rotated.containers.find((c) => c.service === 'db')?.hash).not.toBe(spec.containers.find((c) => c.service === 'db')?.hash)
  })
})
