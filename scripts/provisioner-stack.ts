import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Docker from 'dockerode'
import { ensureDockerEngine } from './docker-engine.ts'
import { ensureLocalImages, images } from './images.ts'
import { ensureProxy } from './proxy.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

type ProvisionerSecrets = { apiToken: string; secretsKey: string; backupPassword: string; backupVolume: string }

/**
 * The API token, the sealing key and the backup password, made once per data
 * folder (sealed secrets and backups must stay readable across restarts).
 */
function provisionerSecrets(file: string): ProvisionerSecrets {
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<ProvisionerSecrets>) : {}
  const secrets = {
    apiToken: known.apiToken ?? randomBytes(32).toString('hex'),
    secretsKey: known.secretsKey ?? randomBytes(32).toString('base64'),
    // Folders made before backups existed get one now.
    backupPassword: known.backupPassword ?? randomBytes(32).toString('base64'),
    // The repository's volume goes with its password: a volume outlives the data folder
    // (a new clone, a wiped .data), and another folder's password would not open it.
    backupVolume: known.backupVolume ?? `commons-backups-${randomBytes(6).toString('hex')}`,
  }
  if (known.backupPassword === undefined || known.backupVolume === undefined) {
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 })
  }
  return secrets
}

/**
 * What tool instances need locally, for `npm run dev` and the end-to-end
 * tests: the Docker engine (started if needed), the locally built images, the
 * Caddy proxy container (instances at http://<tool>-<org>.localhost:<httpPort>;
 * browsers resolve *.localhost to this machine), and the provisioner process
 * itself. Each started part adds its stop to `stops`.
 */
export async function startProvisionerStack(opts: {
  dataDir: string
  databaseUrl: string
  keycloakUrl: string
  provisionerClientSecret: string
  port: number
  httpPort: number
  proxyName: string
  stops: (() => Promise<void>)[]
  env?: Record<string, string>
  log?: (line: string) => void
  /** Remove the backup repository's volume at the end (test runs); kept by default (npm run dev). */
  dropBackupsOnStop?: boolean
}): Promise<{ url: string; apiToken: string; instanceOrigin: (host: string) => string }> {
  const log = opts.log ?? (() => {})
  log('Starting the Docker engine and building the local images …')
  const engine = await ensureDockerEngine({ log })
  const docker = new Docker({ socketPath: engine.socketPath })
  await ensureLocalImages(docker, { log })
  const proxy = await ensureProxy(docker, { name: opts.proxyName, httpPort: opts.httpPort, log })
  opts.stops.push(proxy.stop)

  const secrets = provisionerSecrets(path.join(opts.dataDir, 'provisioner-secrets.json'))
  const logFile = path.join(opts.dataDir, 'provisioner.log')
  mkdirSync(opts.dataDir, { recursive: true })
  const out = createWriteStream(logFile, { flags: 'a' })
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.join(root, 'provisioner'),
    env: {
      ...process.env,
      PORT: String(opts.port),
      DATABASE_URL: opts.databaseUrl,
      PROVISIONER_API_TOKEN: secrets.apiToken,
      SECRETS_KEY: secrets.secretsKey,
      INSTANCE_DOMAIN: 'localhost',
      PUBLIC_URL_SCHEME: 'http',
      PUBLIC_URL_PORT: String(opts.httpPort),
      KEYCLOAK_URL: opts.keycloakUrl,
      PROVISIONER_CLIENT_SECRET: opts.provisionerClientSecret,
      CADDY_ADMIN_URL: proxy.adminUrl,
      PROXY_CONTAINER: proxy.containerName,
      // Images are built locally (scripts/images.ts); nothing is pulled from a registry.
      PULL_IMAGES: 'false',
      // Backups in a Docker volume of this data folder's own, with Debian's restic.
      BACKUP_PASSWORD: secrets.backupPassword,
      BACKUP_REPOSITORY: `volume:${secrets.backupVolume}`,
      BACKUP_IMAGE: images.restic,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.pipe(out)
  child.stderr.pipe(out)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  if (opts.dropBackupsOnStop) {
    // Runs after the provisioner's own stop (stops run last first).
    opts.stops.push(async () => {
      await docker
        .getVolume(secrets.backupVolume)
        .remove()
        .catch(() => undefined)
    })
  }
  opts.stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  })

  const url = `http://127.0.0.1:${opts.port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The provisioner stopped during start-up (exit ${child.exitCode}); see ${logFile}`)
    const healthy = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    )
    if (healthy) break
    if (Date.now() > deadline) throw new Error(`The provisioner did not become healthy within 60 s; see ${logFile}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  log(`Provisioner at ${url}; tool instances at http://<tool>-<organisation>.localhost:${opts.httpPort}`)
  return { url, apiToken: secrets.apiToken, instanceOrigin: (host) => `http://${host}:${opts.httpPort}` }
}
