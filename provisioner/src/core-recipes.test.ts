/**
 * The four core recipes (Nextcloud, Matrix, Loomio, Discourse) through the
 * real provisioner, Docker engine, Caddy and Keycloak, with one change: each
 * official image is replaced by its contract stand-in (images/contract-*,
 * `commons-contract/<name>:<tag>`), which refuses to start where the real
 * image would (missing env, no config, wrong database login, wrong folder or
 * user for a hook command) and records what it received. So this proves the
 * recipes' wiring (env, ports, health checks, volumes, hooks, routes, SSO
 * client), not that the tools themselves run. See docs/containers.md.
 */
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { images } from '../../scripts/images.ts'
import type { InstanceEvent } from './api/contract.ts'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import type { Env } from './config.ts'
import { KeycloakInstanceClients } from './keycloak/instance-clients.ts'
import { LABEL } from './spec.ts'
import { createLogger } from './log.ts'
import { apiClient, execIn as execInContainer, getThroughProxy, testStack, waitFor, type TestStack } from './testing/stack.ts'

const tools = ['nextcloud', 'matrix', 'loomio', 'discourse'] as const
type Tool = (typeof tools)[number]
const org = { id: 'org-contract-coop', slug: 'contract-coop', name: 'Contract Coop' }
const idOf = (tool: Tool) => `${tool}-contract-coop`
const hostOf = (tool: string) => `${tool}-contract-coop.localhost`
const smtp = { SMTP_HOST: 'smtp.contract.example', SMTP_PORT: '587', SMTP_USER: 'tools', SMTP_PASSWORD: 'smtp-password-for-the-test', SMTP_FROM: 'tools@contract.example' }

let stack: TestStack
let env: Env
let provisioner: RunningProvisioner
let api: ReturnType<typeof apiClient>
let clients: KeycloakInstanceClients
let catalogDir: string
let issuer: string
const backupVolume = `commons-test-core-backups-${randomBytes(4).toString('hex')}`
const url = (tool: string) => `http://${hostOf(tool)}:${stack.proxy.httpPort}`

type RecipeJson = {
  services: { name: string; image: string; healthCheck: { type: string; command?: string[] }; volumes?: { volume: string; path: string }[] }[]
  backup: { volumes: string[]; dumps: { name: string; service: string }[] }
  schedules?: { name: string; service: string; user?: string; command: string[] }[]
}
const recipes = new Map<Tool, RecipeJson>()
/** The instance of each tool that runs now (a new one after the restore into a new instance). */
const live = new Map<Tool, string>(tools.map((tool) => [tool, idOf(tool)]))

/** matrixdotorg/synapse:v1.138.0 → commons-contract/synapse:v1.138.0 */
function standIn(image: string): string {
  const [repository = '', tag = ''] = image.split(':')
  const name = `commons-contract/${repository.split('/').pop() ?? ''}:${tag}`
  if (!(Object.values(images) as string[]).includes(name)) throw new Error(`no contract stand-in for ${image} (expected ${name} in scripts/images.ts)`)
  return name
}

beforeAll(async () => {
  catalogDir = mkdtempSync(path.join(tmpdir(), 'catalog-core-'))
  for (const tool of tools) {
    const dir = path.join(catalogDir, tool)
    cpSync(path.resolve(import.meta.dirname, '../../catalog/recipes', tool), dir, { recursive: true })
    const recipe = JSON.parse(readFileSync(path.join(dir, 'recipe.json'), 'utf8')) as RecipeJson
    for (const service of recipe.services) service.image = standIn(service.image)
    writeFileSync(path.join(dir, 'recipe.json'), JSON.stringify(recipe, null, 2))
    recipes.set(tool, recipe)
  }
  stack = await testStack(5)
  env = stack.env({
    CATALOG_DIR: catalogDir,
    // Removed tools keep their data (and backups) for a day: a backup of one can go into a new instance.
    REMOVED_VOLUME_GRACE_DAYS: '1',
    ...smtp,
    BACKUP_PASSWORD: randomBytes(24).toString('base64'),
    BACKUP_REPOSITORY: `volume:${backupVolume}`,
    BACKUP_IMAGE: images.restic,
    BACKUP_SCHEDULE_HOURS: '0',
  })
  issuer = `${(env.KEYCLOAK_PUBLIC_URL ?? env.KEYCLOAK_URL).replace(/\/$/, '')}/realms/${env.KEYCLOAK_REALM}`
  provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
  api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
  clients = new KeycloakInstanceClients({ keycloakUrl: env.KEYCLOAK_URL, realm: env.KEYCLOAK_REALM, clientId: 'commons-provisioner', clientSecret: env.PROVISIONER_CLIENT_SECRET, owner: env.PROVISIONER_NAME })
}, 300_000)

/** Removes the instances and purges them without waiting for the day of grace (as if it were over). */
async function removeAndPurge(ids: string[]): Promise<void> {
  for (const id of ids) await api.call('DELETE', `/instances/${id}`)
  await Promise.all(ids.map((id) => waitFor(async () => ['removed', 'purged'].includes((await api.get(id)).phase), `${id} removed`, 120_000)))
  const db = new pg.Client({ connectionString: env.DATABASE_URL })
  await db.connect()
  try {
    await db.query(`UPDATE "${env.DATABASE_SCHEMA}".instances SET purge_at = now() WHERE id = ANY($1)`, [ids])
  } finally {
    await db.end()
  }
  await Promise.all(ids.map((id) => waitFor(async () => (await api.get(id)).phase === 'purged', `${id} purged`, 180_000)))
}

afterAll(async () => {
  if (provisioner) {
    const left = ((await api.call('GET', '/instances')).body as { instances: { id: string; phase: string }[] }).instances.filter((i) => i.phase !== 'purged')
    // After a failed test the purge may not come: what is left of ours goes anyway, so the next run starts clean.
    const purged = await removeAndPurge(left.map((i) => i.id)).then(
      () => true,
      () => false,
    )
    await provisioner.close()
    if (!purged) {
      const filters = { label: [`${LABEL.managedBy}=${env.PROVISIONER_NAME}`] }
      for (const c of await stack.docker.listContainers({ all: true, filters })) await stack.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)
      for (const v of (await stack.docker.listVolumes({ filters })).Volumes ?? []) await stack.docker.getVolume(v.Name).remove().catch(() => undefined)
      for (const n of await stack.docker.listNetworks({ filters })) await stack.docker.getNetwork(n.Id).remove().catch(() => undefined)
    }
    await stack.dropSchema(env.DATABASE_SCHEMA)
  }
  await stack?.docker.getVolume(backupVolume).remove().catch(() => undefined)
  await stack?.close()
  rmSync(catalogDir, { recursive: true, force: true })
}, 300_000)

/** Runs argv in a container (as `docker exec` does); returns exit code and output. */
const execIn = (container: string, argv: string[], user?: string) => execInContainer(stack.docker, container, argv, user)

async function fileIn(container: string, file: string): Promise<string[]> {
  const { exitCode, output } = await execIn(container, ['cat', file])
  if (exitCode !== 0) throw new Error(`cat ${file} in ${container}: ${output}`)
  return output.split('\n').filter((l) => l !== '')
}

/** The stand-ins' "contract: …" lines per service, from the provisioner's logs API. */
async function contractLines(tool: Tool): Promise<Map<string, string[]>> {
  const { containers } = (await api.call('GET', `/instances/${idOf(tool)}/logs?tail=200`)).body as { containers: { service: string; lines: string[] }[] }
  // Lines carry a timestamp first (docker logs --timestamps).
  return new Map(containers.map((c) => [c.service, c.lines.map((l) => l.replace(/^\S+ /, '')).filter((l) => l.startsWith('contract: '))]))
}

function envNames(lines: string[] | undefined): string[] {
  const line = lines?.find((l) => / started; env: /.test(l) || /; env: /.test(l)) ?? ''
  return (line.split('env: ')[1] ?? '').split(' ')
}

function valuesOf(lines: string[] | undefined): Record<string, string> {
  const line = [...(lines ?? [])].reverse().find((l) => l.includes(': values: ')) ?? ''
  const text = line.slice(line.indexOf(': values: ') + ': values: '.length)
  // NAME=value pairs; a value may hold spaces (OAUTH_SCOPE), so split before each NAME=.
  return Object.fromEntries(text.split(/ (?=[A-Z][A-Z0-9_]*=)/).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]))
}

describe('contract stand-ins', () => {
  it('refuse to start without what the real images require', async () => {
    const cases: [string, RegExp][] = [
      [images.contractPostgres, /REFUSED: POSTGRES_PASSWORD is required/],
      [images.contractNextcloud, /REFUSED: NEXTCLOUD_ADMIN_USER is required/],
      [images.contractSynapse, /REFUSED: Config file '\/data\/homeserver.yaml' does not exist/],
      [images.contractElementWeb, /REFUSED: \/app\/config.json is missing/],
      [images.contractLoomio, /REFUSED: RAILS_ENV is required/],
      [images.contractLoomioChannels, /REFUSED: APP_URL is required/],
      [images.contractDiscourse, /REFUSED: DISCOURSE_HOST is required/],
    ]
    await Promise.all(
      cases.map(async ([image, refusal], i) => {
        const container = await stack.docker.createContainer({ Image: image, name: `contract-refusal-${process.pid}-${i}` })
        try {
          await container.start()
          const { StatusCode } = (await container.wait()) as { StatusCode: number }
          const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8')
          expect({ image, StatusCode, logs }).toMatchObject({ StatusCode: 1, logs: expect.stringMatching(refusal) })
        } finally {
          await container.remove({ force: true })
        }
      }),
    )
  }, 60_000)
})

describe('the core recipes with contract stand-ins', () => {
  it('provisions all four for one organisation until ready, every step succeeding', async () => {
    for (const tool of tools) {
      const put = await api.put(idOf(tool), { organization: org, recipe: tool, adminEmail: 'admin@contract-coop.example' })
      expect(put.status).toBe(202)
    }
    const views = await Promise.all(
      tools.map((tool) =>
        waitFor(async () => {
          const view = await api.get(idOf(tool))
          if (view.phase === 'failed') throw new Error(`${tool} failed at ${view.failure?.step}: ${view.failure?.message}\n${JSON.stringify(await api.events(idOf(tool)), null, 1)}`)
          return view.phase === 'ready' ? view : undefined
        }, `${tool} ready`, 240_000),
      ),
    )
    for (const view of views) expect(view.failure).toBeNull()
    for (const tool of tools) {
      const events: InstanceEvent[] = await api.events(idOf(tool))
      // A stand-in that refused, or a hook that failed, shows as a retry of its step. Transport
      // hiccups of the platform's own parts (the Caddy admin socket under load) may be retried.
      expect(events.filter((e) => e.status === 'failed'), tool).toEqual([])
      expect(events.filter((e) => e.status === 'retrying' && /^(container|health|hook):/.test(e.step)), tool).toEqual([])
      const succeeded = events.filter((e) => e.status === 'succeeded').map((e) => e.step)
      for (const service of recipes.get(tool)?.services ?? []) expect(succeeded, tool).toEqual(expect.arrayContaining([`container:${service.name}`, `health:${service.name}`]))
      expect(succeeded.slice(-2), tool).toEqual(['route', 'ready'])
      // No stand-in refused anything, not even once before a retry.
      for (const [service, lines] of await contractLines(tool)) expect(lines.filter((l) => l.includes('REFUSED')), `${tool}/${service}`).toEqual([])
    }
  }, 300_000)

  it('nextcloud: auto-install env present, occ hooks ran as www-data with the rendered OIDC provider', async () => {
    const id = idOf('nextcloud')
    const lines = await contractLines('nextcloud')
    expect(envNames(lines.get('app'))).toEqual(
      expect.arrayContaining(['POSTGRES_HOST', 'POSTGRES_DB', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'NEXTCLOUD_ADMIN_USER', 'NEXTCLOUD_ADMIN_PASSWORD', 'NEXTCLOUD_TRUSTED_DOMAINS', 'REDIS_HOST']),
    )
    expect(valuesOf(lines.get('app'))).toMatchObject({
      NEXTCLOUD_TRUSTED_DOMAINS: hostOf('nextcloud'),
      OVERWRITEHOST: hostOf('nextcloud'),
      OVERWRITECLIURL: url('nextcloud'),
      MAIL_FROM_ADDRESS: 'tools',
      MAIL_DOMAIN: 'contract.example',
    })
    expect(lines.get('db')?.[0]).toMatch(/initialised .*: role nextcloud, database nextcloud/)
    expect(await fileIn(`${id}-app`, '/var/www/html/data/contract-occ.log')).toEqual([
      'php occ\tapp:install\tuser_oidc\tuid=33',
      [
        'php occ\tuser_oidc:provider\tcommons',
        `--clientid=instance-${id}`,
        '--clientsecret=(48 chars)',
        `--discoveryuri=${issuer}/.well-known/openid-configuration`,
        '--scope=openid email profile',
        '--unique-uid=0',
        'uid=33',
      ].join('\t'),
      'php occ\tbackground:cron\tuid=33',
    ])
    const page = await getThroughProxy(stack.proxy.httpPort, hostOf('nextcloud'))
    expect(page).toMatchObject({ status: 200, body: expect.stringContaining('Nextcloud contract stand-in') })
    expect((await getThroughProxy(stack.proxy.httpPort, hostOf('nextcloud'), '/status.php')).body).toContain('"installed":true')
  })

  it('matrix: Synapse runs its rendered config as 991, Element has its config; /_matrix/ goes to Synapse', async () => {
    const lines = await contractLines('matrix')
    expect(lines.get('synapse')?.find((l) => l.includes(' started as '))).toContain(
      `started as 991:991 with /config/homeserver.yaml; server_name=${hostOf('matrix')} public_baseurl=${url('matrix')}/ issuer=${issuer} client_id=instance-${idOf('matrix')}; database login ok`,
    )
    expect(lines.get('element')?.find((l) => l.includes(' started; '))).toContain(`config /app/config.json base_url=${url('matrix')}`)
    expect(lines.get('db')?.[0]).toMatch(/role synapse, database synapse, initdb args: --encoding=UTF8 --lc-collate=C --lc-ctype=C/)
    const element = await getThroughProxy(stack.proxy.httpPort, hostOf('matrix'))
    expect(element).toMatchObject({ status: 200, body: expect.stringContaining('Element contract stand-in') })
    const versions = await getThroughProxy(stack.proxy.httpPort, hostOf('matrix'), '/_matrix/client/versions')
    expect(versions).toMatchObject({ status: 200, body: expect.stringContaining('"contract_stand_in":"synapse"') })
  })

  it('loomio: rake db:setup ran before the app, OAuth and SMTP env rendered, both channel servers on 5000', async () => {
    const id = idOf('loomio')
    const lines = await contractLines('loomio')
    expect(await fileIn(`${id}-app`, '/loomio/storage/contract-rake.log')).toEqual(['rake\tdb:setup\tcwd=/loomio'])
    expect(envNames(lines.get('app'))).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'DEVISE_SECRET', 'SECRET_COOKIE_TOKEN', 'SMTP_SERVER', 'OAUTH_APP_KEY', 'OAUTH_APP_SECRET']))
    expect(valuesOf(lines.get('app'))).toEqual({
      CANONICAL_HOST: hostOf('loomio'),
      PUBLIC_APP_URL: url('loomio'),
      CHANNELS_URL: `wss://${hostOf('channels-loomio')}`,
      HOCUSPOCUS_URL: `wss://${hostOf('hocuspocus-loomio')}`,
      OAUTH_AUTH_URL: `${issuer}/protocol/openid-connect/auth`,
      OAUTH_TOKEN_URL: `${issuer}/protocol/openid-connect/token`,
      OAUTH_PROFILE_URL: `${issuer}/protocol/openid-connect/userinfo`,
      OAUTH_SCOPE: 'openid email profile',
      OAUTH_APP_KEY: `instance-${id}`,
      OAUTH_APP_SECRET: '(48 chars)',
      SMTP_SERVER: smtp.SMTP_HOST,
      SMTP_USERNAME: smtp.SMTP_USER,
      SMTP_PASSWORD: `(${smtp.SMTP_PASSWORD.length} chars)`,
    })
    expect(lines.get('worker')?.some((l) => l.includes('worker started'))).toBe(true)
    expect(lines.get('channels')?.some((l) => l.includes('start listening on 5000'))).toBe(true)
    expect(lines.get('hocuspocus')?.some((l) => l.includes('hocuspocus listening on 5000'))).toBe(true)
    expect(await getThroughProxy(stack.proxy.httpPort, hostOf('loomio'))).toMatchObject({ status: 200, body: expect.stringContaining('Loomio contract stand-in') })
    expect(await getThroughProxy(stack.proxy.httpPort, hostOf('channels-loomio'))).toMatchObject({ status: 200, body: expect.stringContaining('channel server') })
    expect(await getThroughProxy(stack.proxy.httpPort, hostOf('hocuspocus-loomio'))).toMatchObject({ status: 200 })
  })

  it('discourse: Bitnami env validated, rails runner hook ran in the app folder with the rendered OIDC settings', async () => {
    const id = idOf('discourse')
    const lines = await contractLines('discourse')
    for (const service of ['web', 'sidekiq']) {
      expect(envNames(lines.get(service)), service).toEqual(
        expect.arrayContaining(['DISCOURSE_HOST', 'DISCOURSE_DATABASE_HOST', 'DISCOURSE_DATABASE_PASSWORD', 'DISCOURSE_REDIS_HOST', 'DISCOURSE_PASSWORD', 'DISCOURSE_SMTP_HOST']),
      )
    }
    expect(valuesOf(lines.get('web'))).toMatchObject({ DISCOURSE_HOST: hostOf('discourse'), DISCOURSE_SITE_NAME: org.name, DISCOURSE_SMTP_HOST: smtp.SMTP_HOST })
    const rails = await fileIn(`${id}-web`, '/bitnami/discourse/contract-rails.log')
    expect(rails[0]).toMatch(/^contract: discourse-rails: runner as uid 0 in \/opt\/bitnami\/discourse, RAILS_ENV=production: SiteSetting.openid_connect_discovery_document = ENV.fetch\('OIDC_DISCOVERY_URL'\);.* SiteSetting.openid_connect_enabled = true$/)
    expect(valuesOf(rails)).toEqual({
      OIDC_CLIENT_ID: `instance-${id}`,
      OIDC_CLIENT_SECRET: '(48 chars)',
      OIDC_DISCOVERY_URL: `${issuer}/.well-known/openid-configuration`,
    })
    expect(await getThroughProxy(stack.proxy.httpPort, hostOf('discourse'))).toMatchObject({ status: 200, body: expect.stringContaining('Discourse contract stand-in') })
    expect((await getThroughProxy(stack.proxy.httpPort, hostOf('discourse'), '/srv/status')).body.trim()).toBe('ok')
  })

  it('the sidekiq health checks look for sidekiq, not for themselves', async () => {
    // The check must fail where no sidekiq runs (the web app's container) and pass in the worker.
    for (const [tool, worker, app] of [['loomio', 'worker', 'app'], ['discourse', 'sidekiq', 'web']] as const) {
      const command = recipes.get(tool)?.services.find((s) => s.name === worker)?.healthCheck.command ?? []
      expect(command.length, tool).toBeGreaterThan(0)
      expect((await execIn(`${idOf(tool)}-${worker}`, command)).exitCode, `${tool} ${worker}`).toBe(0)
      expect((await execIn(`${idOf(tool)}-${app}`, command)).exitCode, `${tool} ${app}`).not.toBe(0)
    }
  })

  it('runs the recipes\' scheduled commands in their services (as the schedule would, with docker exec)', async () => {
    for (const tool of tools) {
      for (const schedule of recipes.get(tool)?.schedules ?? []) {
        const result = await execIn(`${idOf(tool)}-${schedule.service}`, schedule.command, schedule.user)
        expect({ tool, schedule: schedule.name, ...result }).toMatchObject({ exitCode: 0 })
      }
    }
    expect((await fileIn(`${idOf('nextcloud')}-app`, '/var/www/html/data/contract-occ.log')).at(-1)).toBe('php -f\t/var/www/html/cron.php\tuid=33')
    expect((await fileIn(`${idOf('loomio')}-app`, '/loomio/storage/contract-rake.log')).at(-1)).toBe('rake\tloomio:hourly_tasks\tcwd=/loomio')
  })

  it('gave each instance its own Keycloak client for the organisation', async () => {
    const all = await clients.listInstanceClients()
    for (const tool of tools) expect(all.find((c) => c.instanceId === idOf(tool))).toEqual({ clientId: `instance-${idOf(tool)}`, instanceId: idOf(tool), organizationAlias: org.slug })
  })

  describe('backups', () => {
    const fingerprints = new Map<Tool, string>()
    const backupIds = new Map<Tool, string>()

    /** Where the tool's data is: its database's rows (the stand-in keeps them as files) and each backed-up volume, as mounted in a service. */
    function places(tool: Tool, id = idOf(tool)): { service: string; container: string; folder: string }[] {
      const recipe = recipes.get(tool)!
      const db = recipe.backup.dumps[0]!.service
      const list = [{ service: db, container: `${id}-${db}`, folder: '/var/lib/postgresql/data/tables' }]
      for (const volume of recipe.backup.volumes) {
        const service = recipe.services.find((s) => s.volumes?.some((v) => v.volume === volume))!
        list.push({ service: service.name, container: `${id}-${service.name}`, folder: service.volumes!.find((v) => v.volume === volume)!.path })
      }
      return list
    }

    /** Every file of those places with its checksum (not the stand-ins' records), by service and folder. */
    async function fingerprint(tool: Tool, id = idOf(tool)): Promise<string> {
      const parts = []
      for (const { service, container, folder } of places(tool, id)) {
        const { exitCode, output } = await execIn(container, ['sh', '-c', `mkdir -p ${folder} && cd ${folder} && find . -type f ! -name 'contract*' | sort | xargs -r sha256sum`], 'root')
        if (exitCode !== 0) throw new Error(`${container}: ${output}`)
        parts.push(`${service}:${folder}\n${output}`)
      }
      return parts.join('\n')
    }

    it('backs up each core tool with its database dump and volumes, and each backup passes its check', async () => {
      await Promise.all(
        tools.map(async (tool) => {
          for (const [i, { container, folder }] of places(tool).entries()) {
            const write = `mkdir -p ${folder}/leden && echo "${tool} rij ${i}: Coöperatie Zonnedak" > ${folder}/leden/rij-${i} && head -c 50000 /dev/urandom > ${folder}/leden/bijlage-${i}`
            const { exitCode, output } = await execIn(container, ['sh', '-c', write], 'root')
            expect(exitCode, `${container}: ${output}`).toBe(0)
          }
          fingerprints.set(tool, await fingerprint(tool))
          const res = await api.call('POST', `/instances/${idOf(tool)}/backups`, { requestedBy: 'beheer@contract.example' })
          expect(res.status, tool).toBe(202)
          const id = (res.body as { id: string }).id
          backupIds.set(tool, id)
          const done = await waitFor(
            async () => {
              const list = ((await api.call('GET', `/instances/${idOf(tool)}/backups`)).body as { backups: { id: string; status: string; verification: { status: string; message: string } }[] }).backups
              const b = list.find((x) => x.id === id)
              return b && b.status !== 'running' && b.verification.status !== 'pending' ? b : undefined
            },
            `${tool} backup checked`,
            120_000,
          )
          expect(done, tool).toMatchObject({ status: 'succeeded', verification: { status: 'passed' } })
          // The dump was opened by the recipe's own check (pg_restore --list).
          expect(done.verification.message, tool).toMatch(/the dump opened/)
        }),
      )
    }, 300_000)

    it('after the data is destroyed, restoring the backup brings back exactly what was there', async () => {
      await Promise.all(
        tools.map(async (tool) => {
          for (const { container, folder } of places(tool)) {
            const { exitCode, output } = await execIn(container, ['sh', '-c', `rm -rf ${folder}/leden && echo lost > ${folder}/verloren`], 'root')
            expect(exitCode, `${container}: ${output}`).toBe(0)
          }
          expect(await fingerprint(tool), tool).not.toBe(fingerprints.get(tool))
          const res = await api.call('POST', `/instances/${idOf(tool)}/restore`, { backupId: backupIds.get(tool) })
          expect(res.status, `${tool}: ${JSON.stringify(res.body)}`).toBe(202)
          const restoreId = (res.body as { id: string }).id
          const done = await waitFor(
            async () => {
              const r = ((await api.call('GET', `/instances/${idOf(tool)}/backups`)).body as { restores: { id: string; status: string; error: string | null }[] }).restores.find((x) => x.id === restoreId)
              return r && r.status !== 'running' ? r : undefined
            },
            `${tool} restored`,
            180_000,
          )
          expect(done, tool).toMatchObject({ status: 'succeeded', error: null })
          await waitFor(async () => (await api.get(idOf(tool))).phase === 'ready', `${tool} ready again`, 120_000)
          expect(await fingerprint(tool), tool).toBe(fingerprints.get(tool))
          expect((await getThroughProxy(stack.proxy.httpPort, hostOf(tool))).status, tool).not.toBe(404)
        }),
      )
      // Nextcloud's restore ends with its own command, as www-data in the app folder.
      expect(await fileIn(`${idOf('nextcloud')}-app`, '/var/www/html/data/contract-occ.log')).toEqual(expect.arrayContaining([expect.stringMatching(/maintenance:data-fingerprint/)]))
    }, 300_000)

    let oldPassword = ''
    it('restores each into a new instance after the first was removed: the data comes back, and the tool works with the new instance\'s database login and SSO client', async () => {
      await Promise.all(
        tools.map(async (tool) => {
          const first = idOf(tool)
          const second = `${first}-2`
          if (tool === 'nextcloud') oldPassword = (await execIn(`${first}-db`, ['sh', '-c', 'echo -n "$POSTGRES_PASSWORD"'])).output
          expect((await api.call('DELETE', `/instances/${first}`)).status, tool).toBe(202)
          await waitFor(async () => (await api.get(first)).phase === 'removed', `${tool} removed`, 120_000)
          // One organisation has one instance of a tool: the new one gets the same address.
          expect((await api.put(second, { organization: org, recipe: tool, adminEmail: 'admin@contract-coop.example' })).status, tool).toBe(202)
          await waitFor(
            async () => {
              const view = await api.get(second)
              if (view.phase === 'failed') throw new Error(`${second} failed at ${view.failure?.step}: ${view.failure?.message}`)
              return view.phase === 'ready'
            },
            `${second} ready`,
            240_000,
          )
          live.set(tool, second)
          expect(await fingerprint(tool, second), tool).not.toBe(fingerprints.get(tool))
          const res = await api.call('POST', `/instances/${second}/restore`, { backupId: backupIds.get(tool) })
          expect(res.status, `${tool}: ${JSON.stringify(res.body)}`).toBe(202)
          const restoreId = (res.body as { id: string }).id
          const done = await waitFor(
            async () => {
              const r = ((await api.call('GET', `/instances/${second}/backups`)).body as { restores: { id: string; status: string; error: string | null }[] }).restores.find((x) => x.id === restoreId)
              return r && r.status !== 'running' ? r : undefined
            },
            `${tool} restored into ${second}`,
            240_000,
          )
          expect(done, `${tool}: ${JSON.stringify(await api.events(second))}`).toMatchObject({ status: 'succeeded', error: null })
          await waitFor(async () => (await api.get(second)).phase === 'ready', `${second} ready again`, 120_000)
          // Nextcloud's config.php is the old one but for its database login (below).
          const withoutConfig = (text: string | undefined) => (text ?? '').split('\n').filter((l) => !l.endsWith(' ./config/config.php')).join('\n')
          expect(withoutConfig(await fingerprint(tool, second)), tool).toBe(withoutConfig(fingerprints.get(tool)))
          expect((await getThroughProxy(stack.proxy.httpPort, hostOf(tool))).status, tool).toBe(200)
        }),
      )
      const nextcloud = `${idOf('nextcloud')}-2-app`
      // The restored config.php logs in with the new instance's database password, so Nextcloud is healthy…
      const login = await execIn(nextcloud, ['sh', '-c', `grep -c "^  'dbpassword' => '$POSTGRES_PASSWORD',$" config/config.php`], 'www-data')
      expect(login).toEqual({ exitCode: 0, output: '1\n' })
      expect((await getThroughProxy(stack.proxy.httpPort, hostOf('nextcloud'), '/status.php')).body).toContain('"installed":true')
      // …and the old instance's password is not the new one's (the check above could not pass by chance).
      const newPassword = (await execIn(`${idOf('nextcloud')}-2-db`, ['sh', '-c', 'echo -n "$POSTGRES_PASSWORD"'])).output
      expect(oldPassword).toHaveLength(32)
      expect(newPassword).toHaveLength(32)
      expect(newPassword).not.toBe(oldPassword)
      // The SSO settings the tools keep in their database were set again for the new instance's client.
      const occ = await fileIn(nextcloud, '/var/www/html/data/contract-occ.log')
      expect(occ.filter((l) => l.includes('user_oidc:provider')).at(-1)).toContain(`--clientid=instance-${idOf('nextcloud')}-2\t`)
      expect(occ.filter((l) => l.includes('user_oidc:provider')).length).toBe(2)
      expect(occ.filter((l) => l.startsWith('REFUSED'))).toEqual([])
      const rails = await fileIn(`${idOf('discourse')}-2-web`, '/bitnami/discourse/contract-rails.log')
      expect(valuesOf(rails)).toMatchObject({ OIDC_CLIENT_ID: `instance-${idOf('discourse')}-2` })
      expect(rails.filter((l) => l.includes(': runner as ')).length).toBe(2)
    }, 600_000)
  })

  it('removes and purges all of them, leaving nothing behind', async () => {
    const all = tools.flatMap((tool) => [...new Set([idOf(tool), live.get(tool)!])])
    await removeAndPurge(all)
    for (const id of all) expect(await stack.objectsOf(id), id).toEqual([])
    for (const tool of tools) expect((await getThroughProxy(stack.proxy.httpPort, hostOf(tool))).status, tool).toBe(404)
    const clientsLeft = await clients.listInstanceClients()
    for (const id of all) expect(clientsLeft.find((c) => c.instanceId === id)).toBeUndefined()
  }, 240_000)
})
