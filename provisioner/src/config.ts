import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

const here = path.dirname(fileURLToPath(import.meta.url))
const portMessage = 'must be a port number (0-65535; 0 picks a free port)'
const port = z.string().regex(/^\d{1,5}$/, portMessage).transform(Number).pipe(z.number().max(65535, portMessage))
const int = (min: number) => z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().min(min))

const envSchema = z.object({
  PORT: port.default(3001),
  // Loopback unless told otherwise (as the portal); the container sets 0.0.0.0 for the backend network.
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * This provisioner's name, written on everything it makes (Docker labels,
   * Keycloak client attribute). It touches nothing carrying another name, so
   * two provisioners can share an engine and a realm.
   */
  PROVISIONER_NAME: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lowercase letters, digits, dots, dashes and underscores').default('commons-provisioner'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  /** Schema of the provisioner's tables (tests use one per run). */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lowercase SQL identifier').default('provisioner'),
  PROVISIONER_API_TOKEN: z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)'),
  /** A second token that opens GET /metrics and nothing else, for Prometheus; the API token opens it too. */
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').optional(),
  SECRETS_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)'),
  CATALOG_DIR: z.string().default(path.resolve(here, '../../catalog/recipes')),
  INSTANCE_DOMAIN: z.string().regex(/^[a-z0-9.-]+$/, 'must be a domain name, e.g. tools.example.coop').default('localhost'),
  PUBLIC_URL_SCHEME: z.enum(['http', 'https']).default('https'),
  PUBLIC_URL_PORT: port.optional(),
  KEYCLOAK_URL: z.url(),
  /** Keycloak as browsers and the tools reach it, when not the same as KEYCLOAK_URL. */
  KEYCLOAK_PUBLIC_URL: z.url().optional(),
  KEYCLOAK_REALM: z.string().min(1).default('commons'),
  PROVISIONER_CLIENT_SECRET: z.string().min(1),
  DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
  /**
   * `local`: one Docker engine, a container per service. `swarm`: the engine
   * at DOCKER_SOCKET is a Swarm manager; a Swarm service per recipe service,
   * spread over the swarm's hosts (docs/swarm.md).
   */
  PROVISIONER_DRIVER: z.enum(['local', 'swarm']).default('local'),
  /**
   * Swarm: how to reach the Docker engine of each other host, as
   * `hostname=ssh://commons@10.0.0.2,hostname2=unix:///path/docker.sock`
   * (exec, volumes and backups run on a host's own engine).
   */
  SWARM_NODE_ENGINES: z
    .string()
    .regex(
      /^[A-Za-z0-9._-]+=(unix:\/\/\/|ssh:\/\/)[^,\s]+(,[A-Za-z0-9._-]+=(unix:\/\/\/|ssh:\/\/)[^,\s]+)*$/,
      'must be hostname=unix:///path/docker.sock or hostname=ssh://user@address, separated by commas',
    )
    .transform((v) => new Map(v.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const)))
    .optional(),
  /** Swarm: the key the provisioner signs in with on the hosts in SWARM_NODE_ENGINES (ssh://). */
  SWARM_SSH_KEY_FILE: z.string().optional(),
  /**
   * Swarm: the host keys of the hosts in SWARM_NODE_ENGINES (ssh://), in
   * OpenSSH's known_hosts format. A host whose key is not in it is not
   * connected to: without it the provisioner could be talking to anyone.
   */
  SWARM_SSH_KNOWN_HOSTS_FILE: z.string().optional(),
  /** Swarm: placement constraints every tool gets, comma-separated, e.g. node.labels.commons.tools==true */
  SWARM_CONSTRAINTS: z
    .string()
    .regex(/^[\w.-]+\s*(==|!=)\s*[^,\s]+(\s*,\s*[\w.-]+\s*(==|!=)\s*[^,\s]+)*$/, 'must be constraints like node.labels.commons.tools==true, separated by commas')
    .transform((v) => v.split(',').map((c) => c.trim()))
    .default([]),
  /**
   * Swarm: a folder that is the same storage on every host (an NFS mount at
   * this path everywhere). The volumes of tools whose recipe allows it live
   * there, so those tools move when their host is lost.
   */
  SWARM_SHARED_STORAGE: z.string().regex(/^\/[^,\s]*[^/,\s]$/, 'must be an absolute folder path, e.g. /srv/commons/shared').optional(),
  /** Swarm: encrypt instance networks between hosts (IPsec). */
  SWARM_ENCRYPT_NETWORKS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** Swarm: the longest a service may take to have a running task. */
  SWARM_TASK_TIMEOUT_MS: int(1000).default(180_000),
  /** Pull missing images from their registry; `false` where none is reachable (local runs, tests). */
  PULL_IMAGES: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** http://host:2019, or unix:/path/admin.sock when the admin API listens on a socket. */
  CADDY_ADMIN_URL: z.string().regex(/^(https?:\/\/\S+|unix:\/\S+)$/, 'must be an http:// URL or unix:/path/to/admin.sock'),
  /** The Caddy server (apps.http.servers.<name>) the routes go in; made if missing. */
  CADDY_SERVER: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a Caddy server name').default('commons'),
  /** The reverse proxy's container: it joins every instance network. */
  PROXY_CONTAINER: z.string().min(1),
  REMOVED_VOLUME_GRACE_DAYS: int(0).default(30),
  RETRY_BUDGET: int(1).default(5),
  RETRY_BASE_MS: int(10).default(2000),
  RETRY_MAX_MS: int(100).default(60_000),
  RESYNC_MS: int(100).default(30_000),
  /** Crash-safety tests only: "<step name prefix>@before|after" kills the process at that step. */
  TEST_CRASH_AT: z
    .string()
    .regex(/^[a-z:.-]+@(before|after)$/, 'must be "<step>@before" or "<step>@after"')
    .transform((v) => {
      const [step = '', when] = v.split('@')
      return { step, when: when === 'before' ? ('before' as const) : ('after' as const) }
    })
    .optional(),
  /**
   * Where backups go: `volume:<name>` (a Docker volume on the engine), an
   * absolute folder on the Docker host, or a restic URL (`s3:https://host/bucket`).
   * Backups are off until BACKUP_PASSWORD is set.
   */
  BACKUP_REPOSITORY: z.string().min(1).default('volume:commons-backups'),
  /** Encrypts the backup repository (restic). Keep a copy off the server: without it no backup can be read. */
  BACKUP_PASSWORD: z.string().min(16, 'must be at least 16 characters (openssl rand -base64 32)').optional(),
  /** The restic image the backup helpers run. */
  BACKUP_IMAGE: z.string().min(1).default('restic/restic:0.18.0'),
  /** Hours between the scheduled backups of each running tool; 0 turns the schedule off (backups on request still work). */
  BACKUP_SCHEDULE_HOURS: int(0).default(24),
  // restic knows y, m, d and h (not w).
  BACKUP_KEEP_WITHIN: z.string().regex(/^(\d+[ymdh])+$/, 'must be a restic duration such as 2d, 36h or 1m15d').default('2d'),
  BACKUP_KEEP_DAILY: int(0).default(7),
  BACKUP_KEEP_WEEKLY: int(0).default(5),
  BACKUP_KEEP_MONTHLY: int(0).default(12),
  /** Restore every new backup into a scratch place and check it. */
  BACKUP_VERIFY: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** How often the schedule is looked at. */
  BACKUP_TICK_MS: int(1000).default(60_000),
  /** Credentials for S3-compatible backup storage (handed to restic only, as a file). */
  BACKUP_S3_ACCESS_KEY_ID: z.string().optional(),
  BACKUP_S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** The Docker network the backup helpers join to reach remote storage (a restic URL); local storage needs none. */
  BACKUP_NETWORK: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be the name of a Docker network').default('bridge'),
  /** The longest an upgrade (and the way back from a failed one) may take to become ready. */
  UPGRADE_READY_TIMEOUT_MS: int(1000).default(20 * 60_000),
  /** Mail settings handed to the tools (Loomio and Discourse need SMTP). */
  SMTP_HOST: z.string().default('localhost'),
  SMTP_PORT: port.default(25),
  SMTP_USER: z.string().default(''),
  SMTP_PASSWORD: z.string().default(''),
  SMTP_FROM: z.email().default('tools@localhost.localdomain'),
})

export type Env = z.infer<typeof envSchema>

export class EnvError extends Error {}

/** Parses the environment once; a bad value is refused with a message that names the variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Compose passes unset optional settings as empty strings: those mean "the default".
  const given = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''))
  const result = envSchema.safeParse(given)
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`)
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`)
  }
  return result.data
}
