import type http from 'node:http'
import { readFileSync } from 'node:fs'
import { loadCatalog, type CatalogEntry } from '@commons/catalog'
import Docker from 'dockerode'
import type pg from 'pg'
import { CaddyProxy, KeycloakIdentity } from './adapters.ts'
import { ProvisionerMetrics } from './api/metrics.ts'
import { createApi, listen } from './api/server.ts'
import { Backups } from './backup/backups.ts'
import { parseRepository, RepositoryError, Restic, type Repository } from './backup/restic.ts'
import { EnvError, type Env } from './config.ts'
import { Controller } from './controller/controller.ts'
import { SecretBox } from './crypto.ts'
import type { ContainerDriver } from './docker/driver.ts'
import { hostKeyVerifier, KnownHostsError } from './docker/known-hosts.ts'
import { LocalDockerDriver } from './docker/local.ts'
import { SwarmDriver } from './docker/swarm.ts'
import { KeycloakInstanceClients } from './keycloak/instance-clients.ts'
import type { Logger } from './log.ts'
import { CaddyRoutes } from './proxy/caddy.ts'
import type { Platform } from './spec.ts'
import { createPool, migrate } from './store/db.ts'
import { BackupStore } from './store/backups.ts'
import { InstanceStore } from './store/instances.ts'
import { UpgradeStore } from './store/upgrades.ts'
import { Upgrades } from './upgrade/upgrades.ts'
import { RecipeStore } from './store/recipes.ts'

export interface RunningProvisioner {
  port: number
  controller: Controller
  /** Undefined when backups are off (no BACKUP_PASSWORD). */
  backups: Backups | undefined
  upgrades: Upgrades
  pool: pg.Pool
  close(): Promise<void>
}

export function platformFrom(env: Env): Platform {
  return {
    owner: env.PROVISIONER_NAME,
    domain: env.INSTANCE_DOMAIN,
    scheme: env.PUBLIC_URL_SCHEME,
    port: env.PUBLIC_URL_PORT,
    keycloakPublicUrl: env.KEYCLOAK_PUBLIC_URL ?? env.KEYCLOAK_URL,
    realm: env.KEYCLOAK_REALM,
    smtp: { host: env.SMTP_HOST, port: env.SMTP_PORT, user: env.SMTP_USER, password: env.SMTP_PASSWORD, from: env.SMTP_FROM },
  }
}

/** Everything the process runs: the store, the control loop and the API. */
export async function startProvisioner(env: Env, log: Logger): Promise<RunningProvisioner> {
  // Settings that can be wrong are checked before anything is opened.
  const storage = env.BACKUP_PASSWORD ? backupStorage(env) : undefined
  const driver = driverFrom(env)
  const catalog = new Map((await loadCatalog(env.CATALOG_DIR)).map((e) => [e.recipe.id, e]))
  const pool = createPool(env.DATABASE_URL, env.DATABASE_SCHEMA)
  const applied = await migrate(pool, env.DATABASE_SCHEMA)
  if (applied.length > 0) log.info('database migrated', { applied })
  const store = new InstanceStore(pool, new SecretBox(env.SECRETS_KEY))
  const routes = new CaddyRoutes(env.CADDY_ADMIN_URL, env.CADDY_SERVER)
  await routes.ensureServer()
  const identity = new KeycloakIdentity(
    new KeycloakInstanceClients({ keycloakUrl: env.KEYCLOAK_URL, realm: env.KEYCLOAK_REALM, clientId: 'commons-provisioner', clientSecret: env.PROVISIONER_CLIENT_SECRET, owner: env.PROVISIONER_NAME }),
  )
  const platform = platformFrom(env)
  const recipes = new RecipeStore(pool)
  const metrics = new ProvisionerMetrics()
  const controller = new Controller({
    store,
    recipes,
    driver,
    identity,
    proxy: new CaddyProxy(routes),
    catalog,
    platform,
    log,
    retryBudget: env.RETRY_BUDGET,
    retryBaseMs: env.RETRY_BASE_MS,
    retryMaxMs: env.RETRY_MAX_MS,
    resyncMs: env.RESYNC_MS,
    crashAt: env.TEST_CRASH_AT,
    onPass: (_instanceId, seconds) => metrics.passTook(seconds),
  })
  metrics.watch(controller)
  const backups = storage ? backupsFrom(env, storage, { store, driver, controller, catalog, log, pool }) : undefined
  const upgrades = new Upgrades({
    store: new UpgradeStore(pool),
    instances: store,
    controller,
    backups,
    catalog,
    platform,
    log,
    readyTimeoutMs: env.UPGRADE_READY_TIMEOUT_MS,
  })
  if (!backups) log.warn('backups are off: set BACKUP_PASSWORD (and BACKUP_REPOSITORY) to turn them on')
  if (env.TEST_CRASH_AT) log.warn('fault injection is on: this process kills itself at a step', { at: env.TEST_CRASH_AT })
  const server: http.Server = createApi({
    token: env.PROVISIONER_API_TOKEN,
    metricsToken: env.METRICS_TOKEN,
    metrics,
    store,
    controller,
    driver,
    backups,
    upgrades,
    catalog,
    platform,
    graceDays: env.REMOVED_VOLUME_GRACE_DAYS,
    log,
    loopAge: () => (controller.lastSweepAt ? Date.now() - controller.lastSweepAt : undefined),
    resyncMs: env.RESYNC_MS,
  })
  const port = await listen(server, env.PORT, env.HOST)
  controller.start()
  await backups?.start()
  await upgrades.start()
  log.info('provisioner listening', { host: env.HOST, port, recipes: catalog.size })
  return {
    port,
    controller,
    backups,
    upgrades,
    pool,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
      await upgrades.stop()
      await backups?.stop()
      await controller.stop()
      await pool.end()
    },
  }
}

/** The container engine: one Docker host, or a Swarm through its manager. */
export function driverFrom(env: Env): ContainerDriver {
  const docker = new Docker({ socketPath: env.DOCKER_SOCKET })
  if (env.PROVISIONER_DRIVER === 'local') return new LocalDockerDriver(docker, env.PROXY_CONTAINER, env.PROVISIONER_NAME, env.PULL_IMAGES)
  const engines = new Map<string, Docker>()
  for (const [host, url] of env.SWARM_NODE_ENGINES ?? []) engines.set(host, engineAt(url, env.SWARM_SSH_KEY_FILE, env.SWARM_SSH_KNOWN_HOSTS_FILE))
  return new SwarmDriver(docker, {
    proxyContainer: env.PROXY_CONTAINER,
    owner: env.PROVISIONER_NAME,
    pullImages: env.PULL_IMAGES,
    engines,
    constraints: env.SWARM_CONSTRAINTS,
    encrypted: env.SWARM_ENCRYPT_NETWORKS,
    sharedStorage: env.SWARM_SHARED_STORAGE,
    taskTimeoutMs: env.SWARM_TASK_TIMEOUT_MS,
  })
}

/** The Docker engine at `unix:///path` or `ssh://user@host[:port]` (the Docker CLI's own way to reach a remote engine). */
export function engineAt(url: string, keyFile: string | undefined, knownHostsFile: string | undefined): Docker {
  if (url.startsWith('unix://')) return new Docker({ socketPath: url.slice('unix://'.length) })
  const parsed = new URL(url)
  if (!keyFile) throw new EnvError(`Invalid environment:\n  SWARM_SSH_KEY_FILE: must be set to reach ${url}`)
  if (!knownHostsFile) throw new EnvError(`Invalid environment:\n  SWARM_SSH_KNOWN_HOSTS_FILE: must be set to reach ${url} (the host keys of the workers, as ssh-keyscan prints them)`)
  const host = parsed.hostname
  const port = parsed.port ? Number(parsed.port) : 22
  const read = (file: string, name: string) => {
    try {
      return readFileSync(file)
    } catch (error) {
      throw new EnvError(`Invalid environment:\n  ${name}: ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
    }
  }
  let verify: (key: Buffer) => boolean
  try {
    verify = hostKeyVerifier(read(knownHostsFile, 'SWARM_SSH_KNOWN_HOSTS_FILE').toString('utf8'), host, port)
  } catch (error) {
    if (error instanceof KnownHostsError) throw new EnvError(`Invalid environment:\n  SWARM_SSH_KNOWN_HOSTS_FILE: ${knownHostsFile}: ${error.message}`)
    throw error
  }
  return new Docker({
    protocol: 'ssh',
    host,
    port,
    username: decodeURIComponent(parsed.username) || 'commons',
    sshOptions: { privateKey: read(keyFile, 'SWARM_SSH_KEY_FILE'), hostVerifier: verify },
  } as Docker.DockerOptions)
}

/** Where the backups go and the S3 credentials for it, from the environment; an EnvError says what is wrong. */
function backupStorage(env: Env): { repository: Repository; s3?: { accessKeyId: string; secretAccessKey: string } } {
  let repository
  try {
    repository = parseRepository(env.BACKUP_REPOSITORY, env.BACKUP_NETWORK)
  } catch (error) {
    if (error instanceof RepositoryError) throw new EnvError(`Invalid environment:\n  BACKUP_REPOSITORY: ${error.message}`)
    throw error
  }
  const { BACKUP_S3_ACCESS_KEY_ID: accessKeyId, BACKUP_S3_SECRET_ACCESS_KEY: secretAccessKey } = env
  if (env.BACKUP_REPOSITORY.startsWith('s3:') && (!accessKeyId || !secretAccessKey))
    throw new EnvError('Invalid environment:\n  BACKUP_S3_ACCESS_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY: an s3: repository needs both (the key of an account of the storage that may write its bucket)')
  if (/[\r\n]/.test(`${accessKeyId ?? ''}${secretAccessKey ?? ''}`)) throw new EnvError('Invalid environment:\n  BACKUP_S3_ACCESS_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY: must be one line each')
  return { repository, s3: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined }
}

function backupsFrom(
  env: Env,
  storage: ReturnType<typeof backupStorage>,
  deps: { store: InstanceStore; driver: ContainerDriver; controller: Controller; catalog: Map<string, CatalogEntry>; log: Logger; pool: pg.Pool },
): Backups {
  const restic = new Restic({ driver: deps.driver, image: env.BACKUP_IMAGE, repository: storage.repository, password: env.BACKUP_PASSWORD ?? '', owner: env.PROVISIONER_NAME, s3: storage.s3 })
  return new Backups({
    store: new BackupStore(deps.pool),
    instances: deps.store,
    controller: deps.controller,
    driver: deps.driver,
    restic,
    catalog: deps.catalog,
    log: deps.log,
    owner: env.PROVISIONER_NAME,
    scheduleHours: env.BACKUP_SCHEDULE_HOURS,
    retention: { within: env.BACKUP_KEEP_WITHIN, daily: env.BACKUP_KEEP_DAILY, weekly: env.BACKUP_KEEP_WEEKLY, monthly: env.BACKUP_KEEP_MONTHLY },
    verify: env.BACKUP_VERIFY,
    tickMs: env.BACKUP_TICK_MS,
  })
}
