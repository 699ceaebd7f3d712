import { createHash } from 'node:crypto'
import {
  escapeFor,
  renderTemplate,
  startOrder,
  type CatalogEntry,
  type FixedPlaceholder,
  type HostableRecipe,
  type RenderValues,
  type Service,
} from '@commons/catalog'
import type { InstanceClientSpec } from './keycloak/instance-clients.ts'

// From one instance's desired state and its recipe to the concrete things the
// executors make: Docker names and labels, rendered env and config files, the
// proxy routes and the OIDC client. Pure: no I/O, the same input gives the same
// spec (and so the same config hashes) on every pass.

export const LABEL = {
  managedBy: 'org.commons.managed-by',
  instance: 'org.commons.instance',
  organization: 'org.commons.organization',
  recipe: 'org.commons.recipe',
  recipeVersion: 'org.commons.recipe-version',
  service: 'org.commons.service',
  hook: 'org.commons.hook',
  configHash: 'org.commons.config-hash',
} as const
/** The default owner name; several provisioners on one engine (tests) each use their own. */
export const MANAGED_BY = 'commons-provisioner'

/** Platform-wide values every instance shares, from the provisioner's environment. */
export type Platform = {
  /** Value of the managed-by label: a provisioner touches only objects carrying its own name. */
  owner: string
  /** Instances get `<tool>-<org>.<domain>`. */
  domain: string
  scheme: 'http' | 'https'
  /** Public port when it is not the scheme's default (local runs). */
  port?: number
  /** Keycloak as browsers and tools reach it, e.g. https://auth.example.coop */
  keycloakPublicUrl: string
  realm: string
  smtp: { host: string; port: number; user: string; password: string; from: string }
}

export type InstanceIdentity = {
  id: string
  organizationId: string
  organizationSlug: string
  organizationName: string
  recipe: string
  recipeVersion: string
  adminEmail: string
}

export type HealthSpec = Service['healthCheck']

export type ContainerSpec = {
  service: string
  name: string
  image: string
  command?: string[]
  user?: string
  env: Record<string, string>
  mounts: { volume: string; path: string; readOnly: boolean; owner?: string }[]
  files: { path: string; content: string }[]
  dependsOn: string[]
  health: HealthSpec
  memoryBytes: number
  nanoCpus: number
  labels: Record<string, string>
  /** Hash of everything that needs a new container when it changes. */
  hash: string
}

export type HookSpec = {
  name: string
  phase: 'init' | 'post-install'
  service: string
  command: string[]
  env: Record<string, string>
  user?: string
  workdir?: string
  /** Name of the one-off container of an init hook. */
  containerName: string
}

/** A step of a restore, after the volumes are back: a command in the running service, or a post-install hook again. */
export type RestoreStepSpec =
  | { hook: string }
  | { service: string; command: string[]; env: Record<string, string>; user?: string; workdir?: string; stdin?: string; healthy: boolean }

export type RouteSpec = { id: string; hosts: string[]; upstreams: { pathPrefixes?: string[]; dial: string }[] }

/** The instance's OIDC client, without its secret (that comes from the store). */
export type ClientSpec = Omit<InstanceClientSpec, 'secret'>

export type InstanceSpec = {
  id: string
  url: string
  host: string
  network: string
  labels: Record<string, string>
  volumes: { name: string; recipeName: string }[]
  /** The recipe allows its volumes on storage every host shares. */
  sharedStorage: boolean
  /** In start order: dependencies first. */
  containers: ContainerSpec[]
  hooks: HookSpec[]
  /** The recipe's restore steps, rendered for this instance. */
  restore: RestoreStepSpec[]
  routes: RouteSpec[]
  client: ClientSpec | null
}

export const OIDC_SECRET = 'oidc.clientSecret'

/** Names secrets are stored under: named recipe secrets, the OIDC client secret, and `pw:<where>#<n>` for `${password:N}`. */
export type SecretLookup = (name: string, length: number) => string

export class MissingSecretError extends Error {
  constructor(readonly secretName: string) {
    super(`secret ${secretName} has not been generated`)
    this.name = 'MissingSecretError'
  }
}

export function networkName(instanceId: string): string {
  return `${instanceId}-net`
}
export function volumeName(instanceId: string, volume: string): string {
  return `${instanceId}-${volume}`
}
export function containerName(instanceId: string, service: string): string {
  return `${instanceId}-${service}`
}
export function clientIdFor(instanceId: string): string {
  return `instance-${instanceId}`
}
/** `instance.<id>.<route>`: instance ids have no dots, so the id can be read back from any route id. */
export function routeIdFor(instanceId: string, route = 'main'): string {
  return `instance.${instanceId}.${route}`
}

export function hostFor(pattern: string, recipeId: string, orgSlug: string, domain: string): string {
  return pattern.replaceAll('{tool}', recipeId).replaceAll('{org}', orgSlug).replaceAll('{domain}', domain)
}

/** The public URL of an instance of this recipe for this organisation. */
export function instanceUrl(recipe: HostableRecipe, orgSlug: string, platform: Platform): string {
  return urlFor(platform, hostFor(recipe.public.urlPattern, recipe.id, orgSlug, platform.domain))
}

function urlFor(platform: Platform, host: string): string {
  const port = platform.port && platform.port !== (platform.scheme === 'https' ? 443 : 80) ? `:${platform.port}` : ''
  return `${platform.scheme}://${host}${port}`
}

const memoryUnits = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const
export function memoryBytes(size: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg])$/.exec(size)
  if (!match) throw new Error(`invalid memory size "${size}"`)
  return Math.round(Number(match[1]) * memoryUnits[match[2] as keyof typeof memoryUnits])
}

export function buildSpec(identity: InstanceIdentity, entry: CatalogEntry, platform: Platform, secret: SecretLookup): InstanceSpec {
  const recipe = entry.recipe
  if (!recipe.hostable) throw new Error(`recipe ${recipe.id} is not hostable`)
  const id = identity.id
  const host = hostFor(recipe.public.urlPattern, recipe.id, identity.organizationSlug, platform.domain)
  const url = urlFor(platform, host)
  const routeHosts = new Map<string, { url: string; host: string }>()
  for (const r of recipe.routes) {
    const h = r.urlPattern ? hostFor(r.urlPattern, recipe.id, identity.organizationSlug, platform.domain) : host
    routeHosts.set(r.name, { host: h, url: urlFor(platform, h) })
  }
  const issuer = `${platform.keycloakPublicUrl.replace(/\/$/, '')}/realms/${platform.realm}`
  const fixed: Record<FixedPlaceholder, string> = {
    'instance.url': url,
    'instance.host': host,
    'instance.id': id,
    'org.id': identity.organizationId,
    'org.name': identity.organizationName,
    'admin.email': identity.adminEmail,
    'oidc.issuer': issuer,
    'oidc.discoveryUrl': `${issuer}/.well-known/openid-configuration`,
    'oidc.authorizationUrl': `${issuer}/protocol/openid-connect/auth`,
    'oidc.tokenUrl': `${issuer}/protocol/openid-connect/token`,
    'oidc.userinfoUrl': `${issuer}/protocol/openid-connect/userinfo`,
    'oidc.endSessionUrl': `${issuer}/protocol/openid-connect/logout`,
    'oidc.clientId': clientIdFor(id),
    'oidc.clientSecret': recipe.sso ? secret(OIDC_SECRET, 48) : '',
    'smtp.host': platform.smtp.host,
    'smtp.port': String(platform.smtp.port),
    'smtp.user': platform.smtp.user,
    'smtp.password': platform.smtp.password,
    'smtp.from': platform.smtp.from,
    'smtp.fromLocalPart': platform.smtp.from.split('@')[0] ?? '',
    'smtp.fromDomain': platform.smtp.from.split('@')[1] ?? '',
  }
  const secrets = Object.fromEntries(Object.entries(recipe.secrets).map(([name, s]) => [name, secret(name, s.length)]))
  const values = (where: string): RenderValues => ({
    fixed,
    routes: Object.fromEntries(routeHosts),
    secrets,
    password: (length, n) => secret(`pw:${where}#${n}`, length),
  })
  const render = (text: string, where: string) => renderTemplate(text, values(where), where)
  const renderRecord = (record: Record<string, string>, where: string) =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, render(v, `${where}.${k}`)]))

  const labels = {
    [LABEL.managedBy]: platform.owner,
    [LABEL.instance]: id,
    [LABEL.organization]: identity.organizationId,
    [LABEL.recipe]: recipe.id,
    [LABEL.recipeVersion]: identity.recipeVersion,
  }

  const containers = startOrder(recipe).map((service): ContainerSpec => {
    const where = `services.${service.name}`
    const files = service.files.map((f) => {
      const template = entry.templates.get(f.template)
      if (template === undefined) throw new Error(`${where}: template ${f.template} was not loaded`)
      return { path: f.path, content: renderTemplate(template, values(`${where}.files.${f.template}`), `${where}.files.${f.template}`, escapeFor(f.template)) }
    })
    const body = {
      image: service.image,
      command: service.command?.map((a, i) => render(a, `${where}.command.${i}`)),
      user: service.user,
      env: renderRecord(service.env, `${where}.env`),
      mounts: service.volumes.map((m) => ({ volume: volumeName(id, m.volume), path: m.path, readOnly: m.readOnly, owner: m.owner })),
      files,
      health: service.healthCheck,
      memoryBytes: memoryBytes(service.resources.memory),
      nanoCpus: Math.round(service.resources.cpus * 1e9),
    }
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16)
    return {
      ...body,
      service: service.name,
      name: containerName(id, service.name),
      dependsOn: service.dependsOn,
      labels: { ...labels, [LABEL.service]: service.name, [LABEL.configHash]: hash },
      hash,
    }
  })

  const hooks = recipe.hooks.map(
    (h): HookSpec => ({
      name: h.name,
      phase: h.phase,
      service: h.service,
      command: h.command.map((a, i) => render(a, `hooks.${h.name}.command.${i}`)),
      env: renderRecord(h.env, `hooks.${h.name}.env`),
      user: h.user,
      workdir: h.workdir,
      containerName: `${id}-hook-${h.name}`,
    }),
  )

  const restore = recipe.backup.restore.map(
    (r, i): RestoreStepSpec =>
      'hook' in r
        ? { hook: r.hook }
        : {
            service: r.service,
            command: r.command.map((a, j) => render(a, `backup.restore.${i}.command.${j}`)),
            env: renderRecord(r.env, `backup.restore.${i}.env`),
            user: r.user,
            workdir: r.workdir,
            stdin: r.stdin,
            healthy: r.healthy,
          },
  )

  const dial = (service: string, port: number) => `${containerName(id, service)}:${port}`
  const mainUpstreams: RouteSpec['upstreams'] = recipe.routes
    .filter((r) => r.pathPrefixes)
    .map((r) => ({ pathPrefixes: r.pathPrefixes, dial: dial(r.service, r.port) }))
  mainUpstreams.push({ dial: dial(recipe.public.service, recipe.public.port) })
  const routes: RouteSpec[] = [{ id: routeIdFor(id), hosts: [host], upstreams: mainUpstreams }]
  for (const r of recipe.routes) {
    const own = routeHosts.get(r.name)
    if (r.urlPattern && own) routes.push({ id: routeIdFor(id, r.name), hosts: [own.host], upstreams: [{ dial: dial(r.service, r.port) }] })
  }

  return {
    id,
    url,
    host,
    network: networkName(id),
    labels,
    volumes: recipe.volumes.map((v) => ({ name: volumeName(id, v.name), recipeName: v.name })),
    sharedStorage: recipe.sharedStorage,
    containers,
    hooks,
    restore,
    routes,
    client: recipe.sso ? clientSpec(identity, recipe, url) : null,
  }
}

function clientSpec(identity: InstanceIdentity, recipe: HostableRecipe, url: string): ClientSpec {
  const sso = recipe.sso
  if (!sso) throw new Error('recipe has no sso')
  return {
    clientId: clientIdFor(identity.id),
    instanceId: identity.id,
    organizationAlias: identity.organizationSlug,
    name: `${recipe.texts.en.name} – ${identity.organizationName}`,
    rootUrl: url,
    redirectUris: sso.redirectPaths.map((p) => url + p),
    postLogoutRedirectUris: sso.postLogoutRedirectPaths.map((p) => url + p),
    webOrigins: [url],
  }
}

/**
 * Which secrets an instance of this recipe needs, with their lengths: found by
 * building the spec once with a lookup that records instead of failing.
 */
export function secretNeeds(identity: InstanceIdentity, entry: CatalogEntry, platform: Platform): Map<string, number> {
  const needs = new Map<string, number>()
  buildSpec(identity, entry, platform, (name, length) => {
    needs.set(name, length)
    return 'x'.repeat(length)
  })
  return needs
}
