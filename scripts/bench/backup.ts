/**
 * Backup benchmarks, against the real parts (`npx tsx scripts/bench/backup.ts`):
 * one "hello" instance whose volume holds BENCH_MB megabytes of random data
 * (incompressible, the worst case) in 1000 small files and one large one;
 * then, BENCH_RUNS times each:
 *
 * 1. A backup through the provisioner's API until it succeeded (dump,
 *    manifest, restic snapshot), and its check (restore into a scratch
 *    volume, every checksum, dump checks), apart.
 * 2. The same data backed up by restic alone in a container (the floor: what
 *    the backup costs without our manifest and bookkeeping), into its own
 *    repository.
 * 3. A restore through the API (backup of the state before, fetch and check,
 *    offline copy, the loop bringing the tool back) until the tool is ready.
 *
 * BENCH_STORAGE=s3 puts both repositories on an S3 server (Versity S3
 * Gateway, images/versitygw) in a container on a network of the benchmark's
 * own, instead of Docker volumes (the default, BENCH_STORAGE=volume).
 *
 * Starts embedded Postgres and Keycloak (ports 5475/8321) as the tests do.
 * Prints a Markdown table for docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Docker from 'dockerode'
import { startProvisioner } from '../../provisioner/src/app.ts'
import { parseEnv } from '../../provisioner/src/config.ts'
import { createLogger } from '../../provisioner/src/log.ts'
import { LABEL } from '../../provisioner/src/spec.ts'
import { ensureDockerEngine } from '../docker-engine.ts'
import { ensureLocalImages, images } from '../images.ts'
import { startDatabaseAndKeycloak } from '../local-stack.ts'
import { ensureProxy } from '../proxy.ts'
import { localSecrets } from '../secrets.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const runs = Number(process.env.BENCH_RUNS ?? 3)
const megabytes = Number(process.env.BENCH_MB ?? 200)
const dataDir = path.join(root, '.data', 'bench-backup')
mkdirSync(dataDir, { recursive: true })
const stops: (() => Promise<void>)[] = []
const storage = process.env.BENCH_STORAGE ?? 'volume'
if (storage !== 'volume' && storage !== 's3') throw new Error('BENCH_STORAGE must be volume or s3')
const repository = `commons-bench-backups-${randomBytes(3).toString('hex')}`
const rawRepository = `${repository}-raw`
// S3: a server of the benchmark's own, its account and the network the helpers join.
const s3 = { server: `${repository}-s3`, network: `${repository}-net`, accessKeyId: `bench${randomBytes(4).toString('hex')}`, secretAccessKey: randomBytes(18).toString('base64url') }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

try {
  const secrets = localSecrets(path.join(dataDir, 'secrets.json'))
  process.env.EMBEDDED_POSTGRES_DIR = path.join(dataDir, 'postgres')
  process.env.EMBEDDED_POSTGRES_PORT = '5475'
  delete process.env.DATABASE_URL
  console.error('Starting Postgres, Keycloak, the Docker engine and the proxy …')
  const { database } = await startDatabaseAndKeycloak({ dataDir, keycloakPort: 8321, portalUrl: 'http://127.0.0.1:3141', secrets, stops })
  const engine = await ensureDockerEngine()
  const api = new Docker({ socketPath: engine.socketPath })
  await ensureLocalImages(api)
  const proxy = await ensureProxy(api, { name: 'commons-bench-backup-proxy', httpPort: 18181 })
  stops.push(proxy.stop)
  if (storage === 's3') {
    docker('network', 'create', s3.network)
    docker('run', '-d', '--name', s3.server, '--network', s3.network, '-e', `ROOT_ACCESS_KEY=${s3.accessKeyId}`, '-e', `ROOT_SECRET_KEY=${s3.secretAccessKey}`, images.s3)
    for (let i = 0; !docker('exec', s3.server, 'sh', '-c', 'wget -q -O /dev/null http://127.0.0.1:7070/ 2>&1; true').includes('403'); i++) {
      if (i > 100) throw new Error('the S3 server does not answer')
      await sleep(100)
    }
  }
  const location = (name: string) => (storage === 's3' ? `s3:http://${s3.server}:7070/${name}` : `volume:${name}`)
  const password = randomBytes(24).toString('base64')
  const env = parseEnv({
    PORT: '0',
    PROVISIONER_NAME: 'commons-provisioner-bench-backup',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    DATABASE_SCHEMA: `bench_backup_${randomBytes(3).toString('hex')}`,
    PROVISIONER_API_TOKEN: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    INSTANCE_DOMAIN: 'localhost',
    PUBLIC_URL_SCHEME: 'http',
    PUBLIC_URL_PORT: '18181',
    KEYCLOAK_URL: 'http://127.0.0.1:8321',
    PROVISIONER_CLIENT_SECRET: secrets.provisioner,
    CADDY_ADMIN_URL: proxy.adminUrl,
    PROXY_CONTAINER: proxy.containerName,
    PULL_IMAGES: 'false',
    REMOVED_VOLUME_GRACE_DAYS: '0',
    BACKUP_PASSWORD: password,
    BACKUP_REPOSITORY: location(repository),
    ...(storage === 's3' ? { BACKUP_S3_ACCESS_KEY_ID: s3.accessKeyId, BACKUP_S3_SECRET_ACCESS_KEY: s3.secretAccessKey, BACKUP_NETWORK: s3.network } : {}),
    BACKUP_IMAGE: images.restic,
    BACKUP_SCHEDULE_HOURS: '0',
  })
  const provisioner = await startProvisioner(env, createLogger('warn'))
  stops.push(provisioner.close)
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${provisioner.port}${url}`, {
      method,
      headers: { Authorization: `Bearer ${env.PROVISIONER_API_TOKEN}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    })
    return (await res.json()) as T
  }
  type Backup = { id: string; status: string; sizeBytes: number | null; fileCount: number | null; verification: { status: string; at: string | null }; startedAt: string; finishedAt: string | null }
  type Restore = { id: string; status: string }
  const id = 'hello-bench-backup'
  await call('PUT', `/instances/${id}`, { organization: { id: 'org-bench-backup', slug: 'bench-backup', name: 'Bench' }, recipe: 'hello', adminEmail: 'bench@example.coop' })
  while ((await call<{ phase: string }>('GET', `/instances/${id}`)).phase !== 'ready') await sleep(100)
  console.error(`Writing ${megabytes} MB of random data into the instance's volume …`)
  docker('exec', `${id}-web`, 'sh', '-c', `mkdir -p /data/small && for i in $(seq 1 1000); do head -c 4096 /dev/urandom > /data/small/$i; done && head -c ${megabytes * 1024 * 1024 - 4096 * 1000} /dev/urandom > /data/large.bin`)
  const volume = `${id}-data`

  const backupSeconds: number[] = []
  const checkSeconds: number[] = []
  const rawSeconds: number[] = []
  const restoreSeconds: number[] = []
  let size = 0
  for (let run = 0; run < runs; run++) {
    // Each run changes 10 % of the data, as a day of use might.
    if (run > 0) docker('exec', `${id}-web`, 'sh', '-c', `head -c ${Math.round(megabytes * 0.1 * 1024 * 1024)} /dev/urandom > /data/changed-${run}.bin`)
    const started = performance.now()
    const backup = await call<Backup>('POST', `/instances/${id}/backups`, {})
    let row: Backup | undefined
    let backedUpAt = 0
    for (;;) {
      row = (await call<{ backups: Backup[] }>('GET', `/instances/${id}/backups`)).backups.find((b) => b.id === backup.id)
      if (row?.status !== 'running' && !backedUpAt) backedUpAt = performance.now()
      if (row && row.status !== 'running' && row.verification.status !== 'pending') break
      await sleep(100)
    }
    if (row.status !== 'succeeded' || row.verification.status !== 'passed') throw new Error(`backup ${row.id}: ${row.status}, check ${row.verification.status}`)
    backupSeconds.push((backedUpAt - started) / 1000)
    checkSeconds.push((performance.now() - backedUpAt) / 1000)
    size = row.sizeBytes ?? 0

    // The floor: restic alone, same data, same image, a repository of its own.
    const rawStarted = performance.now()
    const target =
      storage === 's3'
        ? ['--network', s3.network, '-e', `RESTIC_REPOSITORY=${location(rawRepository)}`, '-e', `AWS_ACCESS_KEY_ID=${s3.accessKeyId}`, '-e', `AWS_SECRET_ACCESS_KEY=${s3.secretAccessKey}`]
        : ['--network', 'none', '-e', 'RESTIC_REPOSITORY=/repo', '-v', `${rawRepository}:/repo`]
    docker(
      'run', '--rm', ...target, '-e', 'RESTIC_PASSWORD=bench-password-0123456789',
      '-v', `${volume}:/backup/volumes/data:ro`, images.restic,
      'sh', '-c', `${run === 0 ? 'restic init >/dev/null; ' : ''}restic backup --quiet --host bench /backup`,
    )
    rawSeconds.push((performance.now() - rawStarted) / 1000)

    const restoreStarted = performance.now()
    const restore = await call<Restore>('POST', `/instances/${id}/restore`, { backupId: backup.id })
    for (;;) {
      const r = (await call<{ restores: Restore[] }>('GET', `/instances/${id}/backups`)).restores.find((x) => x.id === restore.id)
      if (r && r.status !== 'running' && (await call<{ phase: string }>('GET', `/instances/${id}`)).phase === 'ready') {
        if (r.status !== 'succeeded') throw new Error(`restore ${r.id}: ${r.status}`)
        break
      }
      await sleep(100)
    }
    restoreSeconds.push((performance.now() - restoreStarted) / 1000)
    await provisioner.backups?.idle()
  }
  const rss = Math.round(process.memoryUsage().rss / 1024 / 1024)
  console.log(`| what (${megabytes} MB random data, ${runs} runs, median; repository on ${storage === 's3' ? 'S3 (versitygw in a container)' : 'a Docker volume'}) | seconds |`)
  console.log('| --- | ---: |')
  console.log(`| backup through the API (dump, manifest, restic snapshot), last ${Math.round(size / 1024 / 1024)} MB | ${median(backupSeconds).toFixed(1)} |`)
  console.log(`| restic alone on the same data (the floor) | ${median(rawSeconds).toFixed(1)} |`)
  console.log(`| its check (restore into scratch, every checksum) | ${median(checkSeconds).toFixed(1)} |`)
  console.log(`| restore through the API until ready (incl. the backup of the state before) | ${median(restoreSeconds).toFixed(1)} |`)
  console.log(`| RSS of the process (provisioner in it) at the end | ${rss} MiB |`)
  console.error(`all: backup ${backupSeconds.map((s) => s.toFixed(1)).join(' ')}; raw ${rawSeconds.map((s) => s.toFixed(1)).join(' ')}; check ${checkSeconds.map((s) => s.toFixed(1)).join(' ')}; restore ${restoreSeconds.map((s) => s.toFixed(1)).join(' ')}`)
  await call('DELETE', `/instances/${id}`)
  while ((await call<{ phase: string }>('GET', `/instances/${id}`)).phase !== 'purged') await sleep(200)
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined)
  for (const args of [['volume', 'rm', repository], ['volume', 'rm', rawRepository], ['rm', '-f', '-v', s3.server], ['network', 'rm', s3.network]]) {
    try {
      docker(...args)
    } catch {
      // not made
    }
  }
  const api = new Docker({ socketPath: '/var/run/docker.sock' })
  for (const v of (await api.listVolumes({ filters: { label: [`${LABEL.managedBy}=commons-provisioner-bench-backup`] } })).Volumes ?? []) await api.getVolume(v.Name).remove().catch(() => undefined)
}
