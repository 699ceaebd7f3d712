import { z } from 'zod'
import { isSecretPlaceholder, parsePlaceholders, routeNamePattern, secretNamePattern, type Placeholder } from './placeholders.ts'

// A recipe describes one tool of the catalog: what it is (texts, values) and,
// when we host it, how to run it (services, volumes, SSO, hooks, backup).
// Recipes are data; the provisioner executes them. See ../README.md.

export const categories = [
  'realtime-chat-video',
  'async-discussion',
  'documents-files',
  'public-communication',
  'deliberation-decisions',
  'collaboration',
  'finance-administration',
  'sector-specific',
] as const

export const governanceModels = ['foundation', 'cooperative', 'company', 'steward-owned', 'community'] as const

const idPattern = /^[a-z][a-z0-9-]*$/
const semverPattern = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/
// SPDX license expression: ids joined by AND / OR / WITH, e.g. "AGPL-3.0-or-later" or "MIT OR Apache-2.0".
const spdxPattern = /^[A-Za-z0-9.+-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+-]+)*$/
const memoryPattern = /^\d+(?:\.\d+)?[kmg]$/

const nonEmpty = z.string().trim().min(1, 'must not be empty')

const Texts = z.strictObject({
  name: nonEmpty,
  summary: nonEmpty,
  purpose: nonEmpty,
})

const Values = z.strictObject({
  licence: z.string().regex(spdxPattern, 'must be an SPDX licence id or expression, e.g. "AGPL-3.0-or-later"'),
  governance: z.enum(governanceModels),
  openStandards: z.array(nonEmpty),
  dataLocation: nonEmpty,
})

/** Shared by listed and hostable recipes. */
const RecipeBase = {
  id: z.string().regex(idPattern, 'must be lowercase letters, digits and dashes'),
  version: z.string().regex(semverPattern, 'must be a semver version, e.g. "1.0.0"'),
  category: z.enum(categories),
  texts: z.strictObject({ nl: Texts, en: Texts }),
  values: Values,
  homepage: z.url().optional(),
}

/** Repository, optional registry and name, then `:tag` and/or `@sha256:…`. */
export function imageProblem(image: string): string | undefined {
  const [ref = '', digest] = image.split('@')
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) return `has a malformed digest: "${image}"`
  const slash = ref.lastIndexOf('/')
  const colon = ref.lastIndexOf(':')
  const name = colon > slash ? ref.slice(0, colon) : ref
  const tag = colon > slash ? ref.slice(colon + 1) : undefined
  if (!/^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\d+\/[a-z0-9._/-]+)?$/.test(name)) return `is not a valid image name: "${image}"`
  if (digest !== undefined) return undefined
  if (tag === undefined) return `must be pinned to a version, not untagged: "${image}"`
  if (tag === 'latest') return `must be pinned to a version, not "latest"`
  // At least major.minor: "17-alpine", "stable" or "apache" move under our feet.
  if (!/^v?\d+\.\d+(?:\.\d+)*(?:[-_.+][A-Za-z0-9._-]+)?$/.test(tag)) {
    return `must be pinned to an exact version tag (at least major.minor), not "${tag}"`
  }
  return undefined
}

const Image = z.string().superRefine((image, ctx) => {
  const problem = imageProblem(image)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

/** An argv array. A shell only when asked for by name: ["sh", "-c", "…"]. */
const Argv = z
  .array(z.string(), {
    error: (issue) =>
      typeof issue.input === 'string'
        ? 'must be an argv array, not a shell string (use ["sh", "-c", "…"] if a shell is really needed)'
        : undefined,
  })
  .min(1, 'must not be empty')
  .superRefine((argv, ctx) => {
    const [first = '', second] = argv
    const shells = ['sh', 'bash', '/bin/sh', '/bin/bash']
    if (shells.includes(first)) {
      if (second !== '-c' || argv.length !== 3) {
        ctx.addIssue({ code: 'custom', message: 'a shell must be called exactly as ["sh", "-c", "<script>"]' })
      }
      return
    }
    if (argv.length === 1 && /\s/.test(first)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an argv array, not a shell string in one element: "${first}"`,
      })
    }
  })

const Seconds = z.number().int().positive()

const port = z.number().int().min(1).max(65535)
const healthTiming = {
  intervalSeconds: Seconds,
  timeoutSeconds: Seconds.default(5),
  retries: z.number().int().min(1),
  /** Grace period after start during which failures do not count (first boot may migrate a database). */
  startPeriodSeconds: z.number().int().min(0).default(0),
}

// http and tcp checks are probed by the provisioner over the instance network
// (images need not contain curl); command checks run with `docker exec`.
const HealthCheck = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('http'), path: z.string().startsWith('/'), port, ...healthTiming }),
  z.strictObject({ type: z.literal('tcp'), port, ...healthTiming }),
  z.strictObject({ type: z.literal('command'), command: Argv, ...healthTiming }),
])

const Resources = z.strictObject({
  memory: z.string().regex(memoryPattern, 'must be a size like "512m" or "2g"'),
  cpus: z.number().positive(),
})

const Mount = z.strictObject({
  volume: z.string(),
  path: z.string().startsWith('/', 'must be an absolute path'),
  readOnly: z.boolean().default(false),
  /** "uid:gid" the volume's root must belong to before the first start (images that drop root). */
  owner: z.string().regex(/^\d+:\d+$/, 'must be "uid:gid"').optional(),
})

const ConfigFile = z.strictObject({
  /** Template file inside the recipe folder, e.g. "files/homeserver.yaml". */
  template: z.string().regex(/^files\/[A-Za-z0-9._-]+$/, 'must be a file under files/'),
  /** Where the rendered file is mounted (read-only) in the container. */
  path: z.string().startsWith('/', 'must be an absolute path'),
})

const Service = z.strictObject({
  name: z.string().regex(idPattern, 'must be lowercase letters, digits and dashes'),
  image: Image,
  command: Argv.optional(),
  user: z.string().optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string()).default({}),
  volumes: z.array(Mount).default([]),
  files: z.array(ConfigFile).default([]),
  dependsOn: z.array(z.string()).default([]),
  healthCheck: HealthCheck,
  resources: Resources,
})

const PublicUrlPattern = z
  .string()
  .regex(/^(?:[a-z0-9-]|\{tool\}|\{org\})+(?:\.(?:[a-z0-9-]|\{tool\}|\{org\})+)*\.\{domain\}$/, 'must be a host pattern of {tool}, {org} and letters, ending in .{domain}')
  .refine((p) => p.includes('{org}'), 'must contain {org}, or two organisations would share a host')

const Public = z.strictObject({
  service: z.string(),
  port,
  urlPattern: PublicUrlPattern,
})

/**
 * An extra public entry point: either its own host (`urlPattern`) or path
 * prefixes on the main host (`pathPrefixes`), which the proxy sends to this
 * service instead of the public one.
 */
const Route = z
  .strictObject({
    name: z.string().regex(routeNamePattern),
    service: z.string(),
    port,
    urlPattern: PublicUrlPattern.optional(),
    pathPrefixes: z.array(z.string().regex(/^\/.*\/$/, 'must start and end with /')).min(1).optional(),
  })
  .refine((r) => (r.urlPattern === undefined) !== (r.pathPrefixes === undefined), 'needs exactly one of urlPattern or pathPrefixes')

const UrlPath = z.string().startsWith('/', 'must be a path starting with /')

const Sso = z.strictObject({
  protocol: z.literal('oidc'),
  redirectPaths: z.array(UrlPath).min(1),
  postLogoutRedirectPaths: z.array(UrlPath).default([]),
  scopes: z.array(z.string().regex(/^[a-z_:.-]+$/)).refine((s) => s.includes('openid'), 'must include "openid"'),
})

const Hook = z.strictObject({
  name: z.string().regex(idPattern),
  /**
   * init: a one-off container of the service's image, env and volumes, run after
   * the service's dependencies are healthy and before the service starts.
   * post-install: `docker exec` in the running, healthy service.
   * Both run once per instance; the provisioner records that they ran.
   */
  phase: z.enum(['init', 'post-install']),
  service: z.string(),
  user: z.string().optional(),
  workdir: z.string().startsWith('/').optional(),
  /** Extra environment for this command only: keeps secrets out of argv. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  command: Argv,
})

const Schedule = z.strictObject({
  name: z.string().regex(idPattern),
  service: z.string(),
  user: z.string().optional(),
  /** Five-field cron expression, evaluated in UTC. */
  cron: z.string().regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron expression'),
  command: Argv,
})

/** A command run on restore in the service's container, rendered like a hook's. */
const RestoreCommand = z.strictObject({
  service: z.string(),
  command: Argv,
  stdin: z.string().optional(),
  user: z.string().optional(),
  workdir: z.string().startsWith('/').optional(),
  /** Extra environment for this command only: keeps secrets out of argv. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  /**
   * false: run as soon as the container runs, before its health check passes
   * (a setting the tool cannot be healthy without, such as its database
   * login). Default true: the service and those before it are healthy first.
   */
  healthy: z.boolean().default(true),
})

const Backup = z.strictObject({
  /** Volumes archived as they are (after the dumps ran). */
  volumes: z.array(z.string()),
  /** Commands whose stdout is stored as a named artifact, e.g. pg_dump. */
  dumps: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9._-]+$/),
        service: z.string(),
        command: Argv,
        /**
         * Checks a restored dump when a backup is verified: run in a one-off
         * container of the service's image, without network, with the dump's
         * path appended (e.g. `pg_restore --list`, which opens the archive).
         */
        verify: Argv.optional(),
      }),
    )
    .default([]),
  /**
   * Run in order on restore, after the volumes are back: commands (`stdin`
   * feeds a dump artifact), or a post-install hook again (`{ hook }`), for
   * what the tool keeps in its data that belongs to the instance it runs in
   * (its single sign-on client, after a restore into a new instance).
   */
  restore: z.array(z.union([RestoreCommand, z.strictObject({ hook: z.string().regex(idPattern) })])).default([]),
})

const Requirements = z.strictObject({
  smtp: z.boolean(),
  minMemory: z.string().regex(memoryPattern, 'must be a size like "512m" or "2g"'),
})

const Secret = z.strictObject({ length: z.number().int().min(16).max(256) })

const ListedRecipe = z.strictObject({ ...RecipeBase, hostable: z.literal(false) })

const HostableRecipe = z
  .strictObject({
    ...RecipeBase,
    hostable: z.literal(true),
    services: z.array(Service).min(1),
    volumes: z.array(z.strictObject({ name: z.string().regex(idPattern) })).default([]),
    secrets: z.record(z.string().regex(secretNamePattern, `must match ${secretNamePattern}`), Secret).default({}),
    public: Public,
    routes: z.array(Route).default([]),
    sso: Sso.optional(),
    hooks: z.array(Hook).default([]),
    /**
     * Its volumes may live on storage every host shares (an NFS mount): they
     * hold files, not database files that need a local disk. On a swarm with
     * shared storage (SWARM_SHARED_STORAGE) such a tool moves when its host
     * is lost; every other tool with volumes stays on its host.
     */
    sharedStorage: z.boolean().default(false),
    schedules: z.array(Schedule).default([]),
    backup: Backup,
    requirements: Requirements,
  })
  .superRefine(checkHostable)

export const Recipe = z.discriminatedUnion('hostable', [ListedRecipe, HostableRecipe])

export type Recipe = z.infer<typeof Recipe>
export type HostableRecipe = z.infer<typeof HostableRecipe>
export type ListedRecipe = z.infer<typeof ListedRecipe>
export type Service = HostableRecipe['services'][number]
export type RestoreStep = HostableRecipe['backup']['restore'][number]
export type RestoreCommandStep = Extract<RestoreStep, { command: string[] }>

/** The restore steps that are commands of their own (not a hook run again). */
export function restoreCommands(recipe: Pick<HostableRecipe, 'backup'>): RestoreCommandStep[] {
  return recipe.backup.restore.filter((r): r is RestoreCommandStep => !('hook' in r))
}
export type Category = (typeof categories)[number]

type Ctx = z.RefinementCtx
export type Path = (string | number)[]

// Cross-field rules: names that refer to each other must exist, start order
// must be a DAG, placeholders must be known and declared.
function checkHostable(recipe: HostableRecipe, ctx: Ctx): void {
  const issue = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message })
  const serviceNames = new Set<string>()
  recipe.services.forEach((s, i) => {
    if (serviceNames.has(s.name)) issue(['services', i, 'name'], `duplicate service "${s.name}"`)
    serviceNames.add(s.name)
  })
  const volumeNames = new Set(recipe.volumes.map((v) => v.name))
  const knownService = (name: string, path: Path) => {
    if (!serviceNames.has(name)) issue(path, `unknown service "${name}"`)
  }

  recipe.services.forEach((s, i) => {
    s.volumes.forEach((m, j) => {
      if (!volumeNames.has(m.volume)) issue(['services', i, 'volumes', j, 'volume'], `unknown volume "${m.volume}" (declare it in volumes)`)
    })
    s.dependsOn.forEach((d, j) => {
      if (d === s.name) issue(['services', i, 'dependsOn', j], 'a service cannot depend on itself')
      else knownService(d, ['services', i, 'dependsOn', j])
    })
  })
  const cycle = findCycle(recipe.services)
  if (cycle) {
    const i = recipe.services.findIndex((s) => s.name === cycle[0])
    issue(['services', i, 'dependsOn'], `start order has a cycle: ${cycle.join(' -> ')}`)
  }

  knownService(recipe.public.service, ['public', 'service'])
  const routeNames = new Set<string>()
  recipe.routes.forEach((r, i) => {
    knownService(r.service, ['routes', i, 'service'])
    if (routeNames.has(r.name)) issue(['routes', i, 'name'], `duplicate route "${r.name}"`)
    routeNames.add(r.name)
    if (r.urlPattern !== undefined && r.urlPattern === recipe.public.urlPattern) issue(['routes', i, 'urlPattern'], 'must differ from public.urlPattern')
  })
  recipe.hooks.forEach((h, i) => knownService(h.service, ['hooks', i, 'service']))
  recipe.schedules.forEach((h, i) => knownService(h.service, ['schedules', i, 'service']))
  recipe.backup.volumes.forEach((v, i) => {
    if (!volumeNames.has(v)) issue(['backup', 'volumes', i], `unknown volume "${v}"`)
  })
  const dumpNames = new Set<string>()
  recipe.backup.dumps.forEach((d, i) => {
    knownService(d.service, ['backup', 'dumps', i, 'service'])
    if (dumpNames.has(d.name)) issue(['backup', 'dumps', i, 'name'], `duplicate dump "${d.name}"`)
    dumpNames.add(d.name)
  })
  recipe.backup.restore.forEach((r, i) => {
    if ('hook' in r) {
      const hook = recipe.hooks.find((h) => h.name === r.hook)
      if (!hook) issue(['backup', 'restore', i, 'hook'], `unknown hook "${r.hook}"`)
      else if (hook.phase !== 'post-install') issue(['backup', 'restore', i, 'hook'], `hook "${r.hook}" is not a post-install hook: only those run in the running tool again`)
      return
    }
    knownService(r.service, ['backup', 'restore', i, 'service'])
    if (r.stdin !== undefined && !dumpNames.has(r.stdin)) issue(['backup', 'restore', i, 'stdin'], `unknown dump "${r.stdin}"`)
  })

  const used = new Set<string>()
  const check = (text: string, path: Path) => checkTemplate(recipe, text, path, issue, used)
  recipe.services.forEach((s, i) => {
    for (const [key, value] of Object.entries(s.env)) {
      check(value, ['services', i, 'env', key])
      if (looksLikeSecretName(key)) checkSecretValue(value, ['services', i, 'env', key], issue)
    }
    s.command?.forEach((arg, j) => check(arg, ['services', i, 'command', j]))
  })
  recipe.hooks.forEach((h, i) => {
    h.command.forEach((arg, j) => check(arg, ['hooks', i, 'command', j]))
    for (const [key, value] of Object.entries(h.env)) {
      check(value, ['hooks', i, 'env', key])
      if (looksLikeSecretName(key)) checkSecretValue(value, ['hooks', i, 'env', key], issue)
    }
  })
  recipe.schedules.forEach((h, i) => h.command.forEach((arg, j) => check(arg, ['schedules', i, 'command', j])))
  recipe.backup.dumps.forEach((d, i) => {
    d.command.forEach((arg, j) => check(arg, ['backup', 'dumps', i, 'command', j]))
    d.verify?.forEach((arg, j) => check(arg, ['backup', 'dumps', i, 'verify', j]))
  })
  recipe.backup.restore.forEach((d, i) => {
    if ('hook' in d) return
    d.command.forEach((arg, j) => check(arg, ['backup', 'restore', i, 'command', j]))
    for (const [key, value] of Object.entries(d.env)) {
      check(value, ['backup', 'restore', i, 'env', key])
      if (looksLikeSecretName(key)) checkSecretValue(value, ['backup', 'restore', i, 'env', key], issue)
    }
  })
  // Config file templates are checked by loadCatalog, which reads them; it also reports unused secrets.
}

/**
 * Checks the placeholders of one template (env value, argument or config file)
 * against the grammar and the recipe's declarations. `used` collects the
 * secrets that are referenced, so unused declarations can be reported.
 */
export function checkTemplate(
  recipe: Pick<HostableRecipe, 'secrets' | 'routes' | 'sso'>,
  text: string,
  path: Path,
  issue: (path: Path, message: string) => void,
  used?: Set<string>,
): Placeholder[] {
  const { placeholders, errors } = parsePlaceholders(text)
  for (const e of errors) issue(path, e)
  for (const p of placeholders) {
    if (p.kind === 'secret') {
      used?.add(p.name)
      if (!(p.name in recipe.secrets)) issue(path, `${p.raw}: secret "${p.name}" is not declared in secrets`)
    }
    if (p.kind === 'route' && !recipe.routes.some((r) => r.name === p.route)) {
      issue(path, `${p.raw}: route "${p.route}" is not declared in routes`)
    }
    if (p.kind === 'fixed' && p.name.startsWith('oidc.') && !recipe.sso) {
      issue(path, `${p.raw}: the recipe uses OIDC but has no sso section`)
    }
  }
  return placeholders
}

/** Env names that carry a credential. Their value must be placeholders only. */
export function looksLikeSecretName(key: string): boolean {
  // OAUTH_TOKEN_URL names where a token comes from, not a token.
  if (/_(URL|URI|PATH|FILE)$/i.test(key)) return false
  return /PASSWORD|SECRET|TOKEN|PASSPHRASE|PRIVATE_KEY/i.test(key)
}

function checkSecretValue(value: string, path: Path, issue: (path: Path, message: string) => void): void {
  const { placeholders, errors } = parsePlaceholders(value)
  if (errors.length > 0) return // already reported as a placeholder problem
  const onlyPlaceholders = placeholders.map((p) => p.raw).join('') === value
  if (!onlyPlaceholders || !placeholders.some(isSecretPlaceholder)) {
    issue(path, 'looks like a credential: its value must be a ${password:N}, ${secret:NAME}, ${oidc.clientSecret} or ${smtp.password} placeholder, never a literal')
  }
}

function findCycle(services: readonly { name: string; dependsOn: readonly string[] }[]): string[] | undefined {
  const byName = new Map(services.map((s) => [s.name, s]))
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name]
    state.set(name, 'visiting')
    stack.push(name)
    for (const dep of byName.get(name)?.dependsOn ?? []) {
      if (!byName.has(dep) || dep === name) continue
      const cycle = visit(dep)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(name, 'done')
    return undefined
  }
  for (const s of services) {
    const cycle = visit(s.name)
    if (cycle) return cycle
  }
  return undefined
}

/** Services in an order where every service comes after the ones it depends on. */
export function startOrder(recipe: HostableRecipe): Service[] {
  const done = new Set<string>()
  const order: Service[] = []
  const byName = new Map(recipe.services.map((s) => [s.name, s]))
  const visit = (s: Service) => {
    if (done.has(s.name)) return
    done.add(s.name)
    for (const d of s.dependsOn) {
      const dep = byName.get(d)
      if (dep) visit(dep)
    }
    order.push(s)
  }
  recipe.services.forEach(visit)
  return order
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out === '' ? '(recipe)' : out
}

/** Validates one recipe object; returns its problems as "field.path: message". */
export function validateRecipe(input: unknown): { recipe: Recipe; problems: [] } | { recipe?: undefined; problems: string[] } {
  const result = Recipe.safeParse(input)
  if (result.success) return { recipe: result.data, problems: [] }
  return { problems: result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) }
}
