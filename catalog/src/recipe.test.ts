import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parsePlaceholders } from './placeholders.ts'
import { CatalogError, loadCatalog } from './load.ts'
import { imageProblem, looksLikeSecretName, restoreCommands, startOrder, validateRecipe, type HostableRecipe } from './recipe.ts'

const recipesDir = path.join(import.meta.dirname, '..', 'recipes')

/** A small valid hostable recipe; each test breaks one thing in a copy. */
function validRecipe() {
  return {
    id: 'demo',
    version: '1.0.0',
    category: 'collaboration',
    texts: {
      nl: { name: 'Demo', summary: 'Een demo.', purpose: 'Om te testen.' },
      en: { name: 'Demo', summary: 'A demo.', purpose: 'For testing.' },
    },
    values: { licence: 'MIT', governance: 'community', openStandards: ['HTTP'], dataLocation: 'In the instance.' },
    hostable: true,
    secrets: { DB_PASSWORD: { length: 32 } },
    services: [
      {
        name: 'db',
        image: 'postgres:17.6-alpine',
        env: { POSTGRES_PASSWORD: '${secret:DB_PASSWORD}' },
        volumes: [{ volume: 'db', path: '/var/lib/postgresql/data' }],
        healthCheck: { type: 'command', command: ['pg_isready'], intervalSeconds: 5, retries: 3 },
        resources: { memory: '256m', cpus: 0.5 },
      },
      {
        name: 'app',
        image: 'example/app:2.3.1',
        env: { DB_PASSWORD: '${secret:DB_PASSWORD}', URL: '${instance.url}', CLIENT_SECRET: '${oidc.clientSecret}' },
        dependsOn: ['db'],
        healthCheck: { type: 'http', path: '/health', port: 8080, intervalSeconds: 5, retries: 3 },
        resources: { memory: '512m', cpus: 1 },
      },
    ],
    volumes: [{ name: 'db' }],
    public: { service: 'app', port: 8080, urlPattern: '{tool}-{org}.{domain}' },
    sso: { protocol: 'oidc', redirectPaths: ['/callback'], scopes: ['openid'] },
    hooks: [{ name: 'setup', phase: 'post-install', service: 'app', command: ['app', 'setup'] }],
    backup: { volumes: ['db'] },
    requirements: { smtp: false, minMemory: '1g' },
  }
}

type Demo = ReturnType<typeof validRecipe>

function problemsOf(change: (r: Demo) => void): string[] {
  const recipe = validRecipe()
  change(recipe)
  return validateRecipe(recipe).problems
}

function service(r: Demo, name: string) {
  const s = r.services.find((x) => x.name === name)
  if (!s) throw new Error(`no service ${name}`)
  return s as typeof s & { env: Record<string, string> }
}

describe('the catalog in recipes/', () => {
  it('loads every recipe, each one in a folder named after its id', async () => {
    const catalog = await loadCatalog(recipesDir)
    const ids = catalog.map((e) => e.recipe.id)
    expect(ids).toEqual(
      expect.arrayContaining(['nextcloud', 'matrix', 'loomio', 'discourse', 'hello', 'jitsi', 'bigbluebutton', 'wordpress', 'wikijs', 'mastodon', 'peertube', 'decidim', 'wekan', 'odoo', 'dolibarr']),
    )
    for (const e of catalog) expect(path.basename(e.dir)).toBe(e.recipe.id)
  })

  it('hosts the core tools and lists the others as "we want this too"', async () => {
    const catalog = await loadCatalog(recipesDir)
    const hostable = catalog.filter((e) => e.recipe.hostable).map((e) => e.recipe.id).sort()
    expect(hostable).toEqual(['discourse', 'hello', 'loomio', 'matrix', 'nextcloud', 'trio'])
  })

  it('never contains a literal secret: credential-like values are placeholders only', async () => {
    const catalog = await loadCatalog(recipesDir)
    const offenders: string[] = []
    for (const { recipe, templates } of catalog) {
      if (!recipe.hostable) continue
      const envs = [
        ...recipe.services.map((s) => [`services.${s.name}`, s.env] as const),
        ...recipe.hooks.map((h) => [`hooks.${h.name}`, h.env] as const),
        ...restoreCommands(recipe).map((r, i) => [`backup.restore.${i}`, r.env] as const),
      ]
      for (const [where, env] of envs) {
        for (const [key, value] of Object.entries(env)) {
          const { placeholders } = parsePlaceholders(value)
          if (looksLikeSecretName(key) && placeholders.map((p) => p.raw).join('') !== value) offenders.push(`${recipe.id} ${where}.${key}`)
          if (looksLikeRandomLiteral(value)) offenders.push(`${recipe.id} ${where}.${key}`)
        }
      }
      const args = [...recipe.hooks, ...recipe.schedules, ...recipe.backup.dumps, ...restoreCommands(recipe)].flatMap((h) => h.command)
      for (const arg of args) if (looksLikeRandomLiteral(arg)) offenders.push(`${recipe.id} argument ${arg}`)
      for (const [name, text] of templates) {
        for (const line of text.split('\n')) {
          if (/(password|secret|pass|key)\s*[:=]/i.test(line) && !/\$\{/.test(line) && !/_path\s*:/.test(line)) offenders.push(`${recipe.id} ${name}: ${line.trim()}`)
        }
      }
    }
    expect(offenders).toEqual([])
  })

  it('has an image for every service pinned to an exact version', async () => {
    for (const { recipe } of await loadCatalog(recipesDir)) {
      if (!recipe.hostable) continue
      for (const s of recipe.services) expect(imageProblem(s.image), `${recipe.id} ${s.name}`).toBeUndefined()
    }
  })

  it('gives the test recipe the locally built busybox image and an http health check', async () => {
    const hello = (await loadCatalog(recipesDir)).find((e) => e.recipe.id === 'hello')?.recipe
    if (!hello?.hostable) throw new Error('hello must be hostable')
    expect(hello.services[0]?.image).toBe('commons-test/hello:1.0')
    expect(hello.services[0]?.healthCheck.type).toBe('http')
    expect(hello.texts.en.purpose).toMatch(/busybox/)
  })

  it('starts services after the ones they depend on', async () => {
    const matrix = (await loadCatalog(recipesDir)).find((e) => e.recipe.id === 'matrix')?.recipe as HostableRecipe
    expect(startOrder(matrix).map((s) => s.name)).toEqual(['db', 'synapse', 'element'])
  })
})

/** A run of 20+ letters and digits outside a placeholder: a pasted key or password. */
function looksLikeRandomLiteral(value: string): boolean {
  const outside = value.replace(/\$\{[^}]*\}/g, ' ')
  return /[A-Za-z0-9+/=_-]{20,}/.test(outside) && /\d/.test(outside) && /[A-Z]/.test(outside) && /[a-z]/.test(outside)
}

describe('a recipe with a mistake fails with a message naming the field', () => {
  it('accepts the valid example', () => {
    expect(problemsOf(() => {})).toEqual([])
  })

  it.each([
    ['postgres:latest', 'must be pinned to a version, not "latest"'],
    ['postgres', 'must be pinned to a version, not untagged'],
    ['postgres:17-alpine', 'must be pinned to an exact version tag (at least major.minor), not "17-alpine"'],
    ['loomio/loomio:stable', 'not "stable"'],
  ])('refuses the image %s', (image, message) => {
    const problems = problemsOf((r) => {
      service(r, 'app').image = image
    })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('services[1].image: ')
    expect(problems[0]).toContain(message)
  })

  it('accepts an image pinned by digest or with a registry port', () => {
    expect(imageProblem(`ghcr.io/example/app@sha256:${'a'.repeat(64)}`)).toBeUndefined()
    expect(imageProblem('registry.local:5000/commons-test/hello:1.0')).toBeUndefined()
  })

  it('refuses an unknown placeholder', () => {
    expect(
      problemsOf((r) => {
        service(r, 'app').env.URL = '${instance.link}'
      }),
    ).toEqual(['services[1].env.URL: unknown placeholder ${instance.link}'])
  })

  it('refuses a secret that is not declared, and a password that is too short', () => {
    expect(
      problemsOf((r) => {
        service(r, 'app').env.DB_PASSWORD = '${secret:OTHER}'
        service(r, 'app').env.TOKEN = '${password:8}'
      }),
    ).toEqual([
      'services[1].env.DB_PASSWORD: ${secret:OTHER}: secret "OTHER" is not declared in secrets',
      'services[1].env.TOKEN: ${password:8}: password length must be between 16 and 256',
    ])
  })

  it('refuses a literal secret', () => {
    const problems = problemsOf((r) => {
      service(r, 'db').env.POSTGRES_PASSWORD = 'hunter2hunter2'
    })
    expect(problems).toEqual([expect.stringMatching(/^services\[0\]\.env\.POSTGRES_PASSWORD: looks like a credential/)])
  })

  it('refuses a dependsOn cycle', () => {
    const problems = problemsOf((r) => {
      service(r, 'db').dependsOn = ['app']
    })
    expect(problems).toEqual([expect.stringMatching(/^services\[\d\]\.dependsOn: start order has a cycle: (db -> app -> db|app -> db -> app)$/)])
  })

  it('refuses a dependsOn on a service that does not exist', () => {
    expect(
      problemsOf((r) => {
        service(r, 'app').dependsOn = ['db', 'cache']
      }),
    ).toEqual(['services[1].dependsOn[1]: unknown service "cache"'])
  })

  it('refuses a public service that does not exist, and a missing public section', () => {
    expect(
      problemsOf((r) => {
        r.public.service = 'web'
      }),
    ).toEqual(['public.service: unknown service "web"'])
    const missing = problemsOf((r) => {
      delete (r as Partial<Demo>).public
    })
    expect(missing).toEqual([expect.stringMatching(/^public: /)])
  })

  it('refuses a recipe without Dutch texts', () => {
    const problems = problemsOf((r) => {
      delete (r.texts as Partial<Demo['texts']>).nl
    })
    expect(problems).toEqual([expect.stringMatching(/^texts\.nl: /)])
    expect(
      problemsOf((r) => {
        r.texts.nl.summary = ' '
      }),
    ).toEqual(['texts.nl.summary: must not be empty'])
  })

  it('refuses a hook given as a shell string', () => {
    expect(
      problemsOf((r) => {
        ;(r.hooks[0] as { command: unknown }).command = 'php occ app:install user_oidc'
      }),
    ).toEqual(['hooks[0].command: must be an argv array, not a shell string (use ["sh", "-c", "…"] if a shell is really needed)'])
    expect(
      problemsOf((r) => {
        r.hooks[0]!.command = ['php occ app:install user_oidc']
      }),
    ).toEqual(['hooks[0].command: must be an argv array, not a shell string in one element: "php occ app:install user_oidc"'])
  })

  it('accepts a shell only when called as ["sh", "-c", script]', () => {
    expect(problemsOf((r) => (r.hooks[0]!.command = ['sh', '-c', 'echo ok > /tmp/x']))).toEqual([])
    expect(problemsOf((r) => (r.hooks[0]!.command = ['sh', 'script.sh']))).toEqual([
      'hooks[0].command: a shell must be called exactly as ["sh", "-c", "<script>"]',
    ])
  })

  it('refuses OIDC placeholders in a recipe without an sso section', () => {
    expect(
      problemsOf((r) => {
        delete (r as Partial<Demo>).sso
      }),
    ).toEqual(['services[1].env.CLIENT_SECRET: ${oidc.clientSecret}: the recipe uses OIDC but has no sso section'])
  })

  it('refuses a volume mount or backup of an undeclared volume', () => {
    expect(
      problemsOf((r) => {
        r.backup.volumes = ['data']
        service(r, 'app').volumes = [{ volume: 'data', path: '/data' }]
      }),
    ).toEqual(['services[1].volumes[0].volume: unknown volume "data" (declare it in volumes)', 'backup.volumes[0]: unknown volume "data"'])
  })

  it('checks restore steps: a hook run again must be a post-install hook, a command its service, dump and placeholders', () => {
    const restore = (r: Demo, steps: unknown[]) => Object.assign(r.backup, { restore: steps })
    expect(problemsOf((r) => restore(r, [{ hook: 'setup' }, { service: 'app', command: ['fix', '${instance.url}'], env: { DB_PASSWORD: '${secret:DB_PASSWORD}' }, healthy: false }]))).toEqual([])
    expect(
      problemsOf((r) => {
        r.hooks.push({ name: 'migrate', phase: 'init', service: 'app', command: ['app', 'migrate'] })
        restore(r, [
          { hook: 'nope' },
          { hook: 'migrate' },
          { service: 'web', command: ['x'] },
          { service: 'app', command: ['x'], stdin: 'missing.dump' },
          { service: 'app', command: ['${secret:NOPE}'] },
          { service: 'app', command: ['x'], env: { API_TOKEN: 'literal-token' } },
        ])
      }),
    ).toEqual([
      'backup.restore[0].hook: unknown hook "nope"',
      'backup.restore[1].hook: hook "migrate" is not a post-install hook: only those run in the running tool again',
      expect.stringMatching(/^backup\.restore\[2\]\.service: unknown service "web"/),
      'backup.restore[3].stdin: unknown dump "missing.dump"',
      expect.stringMatching(/^backup\.restore\[4\]\.command\[0\]: \$\{secret:NOPE\}: secret "NOPE" is not declared/),
      expect.stringMatching(/^backup\.restore\[5\]\.env\.API_TOKEN: /),
    ])
    // Neither both forms at once nor a command without a service.
    expect(problemsOf((r) => restore(r, [{ hook: 'setup', command: ['x'] }])).length).toBeGreaterThan(0)
  })

  it('refuses an unknown category, licence that is not SPDX, and bad semver', () => {
    expect(
      problemsOf((r) => {
        r.category = 'chat'
        r.values.licence = 'GNU Affero'
        r.version = '1.0'
      }),
    ).toEqual([
      'version: must be a semver version, e.g. "1.0.0"',
      expect.stringMatching(/^category: /),
      'values.licence: must be an SPDX licence id or expression, e.g. "AGPL-3.0-or-later"',
    ])
  })

  it('accepts a listed recipe without any hosting fields, and refuses hosting fields on it', () => {
    const { hostable: _, services: __, volumes: ___, secrets: ____, public: _____, sso: ______, hooks: _______, backup: ________, requirements: _________, ...base } = validRecipe()
    expect(validateRecipe({ ...base, hostable: false }).problems).toEqual([])
    expect(validateRecipe({ ...base, hostable: false, services: [] }).problems).toEqual(['(recipe): Unrecognized key: "services"'])
  })
})

describe('loadCatalog', () => {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  async function catalogWith(recipes: Record<string, unknown>): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'catalog-'))
    dirs.push(dir)
    for (const [folder, recipe] of Object.entries(recipes)) {
      await cp(path.join(recipesDir, 'hello'), path.join(dir, folder), { recursive: true })
      await writeFile(path.join(dir, folder, 'recipe.json'), typeof recipe === 'string' ? recipe : JSON.stringify(recipe))
    }
    return dir
  }

  async function problems(dir: string): Promise<readonly string[]> {
    const error = await loadCatalog(dir).then(
      () => undefined,
      (e: unknown) => e,
    )
    if (!(error instanceof CatalogError)) throw new Error('expected a CatalogError')
    return error.problems
  }

  it('refuses a recipe whose id is not its folder name', async () => {
    const dir = await catalogWith({ nextcloud2: { ...validRecipe(), id: 'demo' } })
    expect(await problems(dir)).toEqual(['nextcloud2: id: must equal the folder name "nextcloud2", not "demo"'])
  })

  it('lists every problem of every recipe in one error', async () => {
    const broken = validRecipe()
    broken.services[1]!.image = 'example/app:latest'
    const dir = await catalogWith({ demo: broken, other: '{ not json', good: { ...validRecipe(), id: 'good' } })
    const error = await loadCatalog(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CatalogError)
    const { problems: list, message } = error as CatalogError
    expect(list).toEqual([
      'demo: services[1].image: must be pinned to a version, not "latest"',
      expect.stringMatching(/^other: recipe\.json: not valid JSON/),
    ])
    expect(message).toContain('The catalog has 2 problems')
    expect(message).toContain('demo: services[1].image')
  })

  it('checks the placeholders in config file templates and reports unused secrets', async () => {
    const recipe = validRecipe()
    Object.assign(recipe.secrets, { UNUSED: { length: 32 } })
    Object.assign(service(recipe, 'app'), { files: [{ template: 'files/app.conf', path: '/etc/app.conf' }] })
    const dir = await catalogWith({ demo: recipe })
    await cp(path.join(recipesDir, 'matrix', 'files'), path.join(dir, 'demo', 'files'), { recursive: true })
    await writeFile(path.join(dir, 'demo', 'files', 'app.conf'), 'url = ${instance.url}\nkey = ${secret:MISSING}\n')
    expect(await problems(dir)).toEqual([
      'demo: services[1].files[0].template(files/app.conf): ${secret:MISSING}: secret "MISSING" is not declared in secrets',
      'demo: secrets.UNUSED: declared but never used',
    ])
  })

  it('refuses a config file template that does not exist', async () => {
    const recipe = validRecipe()
    Object.assign(service(recipe, 'app'), { files: [{ template: 'files/missing.yaml', path: '/etc/x.yaml' }] })
    const dir = await catalogWith({ demo: recipe })
    expect(await problems(dir)).toEqual(['demo: services[1].files[0].template: template file "files/missing.yaml" does not exist'])
  })

  it('reads the matrix templates it mounts', async () => {
    const matrix = (await loadCatalog(recipesDir)).find((e) => e.recipe.id === 'matrix')
    const homeserver = matrix?.templates.get('files/homeserver.yaml') ?? ''
    expect(homeserver).toBe(await readFile(path.join(recipesDir, 'matrix', 'files', 'homeserver.yaml'), 'utf8'))
    expect(homeserver).toContain('public_baseurl: "${instance.url}/"')
    expect(homeserver).toContain('issuer: "${oidc.issuer}"')
  })
})
