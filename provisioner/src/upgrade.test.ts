/**
 * Upgrades for real: the "hello" recipe gets a new version in the catalog (a
 * new image tag, a new setting) and the provisioner is restarted with it, as
 * a new release of the platform would be. The instance stays on its version
 * until an upgrade is asked for; the upgrade backs up first, and a version
 * that does not become healthy (after changing data in an init hook) is
 * undone: old version, old data.
 */
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { images } from '../../scripts/images.ts'
import type { AvailableUpgrade, BackupView, UpgradeView } from './api/contract.ts'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import type { Env } from './config.ts'
import { createLogger } from './log.ts'
import { LABEL } from './spec.ts'
import { apiClient, testStack, waitFor, type TestStack } from './testing/stack.ts'

let stack: TestStack
let env: Env
let provisioner: RunningProvisioner | undefined
let api: ReturnType<typeof apiClient>
let catalogDir: string
const repositoryVolume = `commons-test-upgrade-backups-${randomBytes(4).toString('hex')}`
const newImage = 'commons-test/hello:1.1-upgrade'
const org = { id: 'org-buurtkeuken', slug: 'buurtkeuken', name: 'Buurtkeuken' }
const id = 'hello-buurtkeuken'
const recipeFile = () => path.join(catalogDir, 'hello', 'recipe.json')

type RecipeJson = {
  version: string
  services: { image: string; env: Record<string, string>; healthCheck: Record<string, unknown> }[]
  hooks: { name: string; phase: string; service: string; command: string[] }[]
}

function editRecipe(change: (r: RecipeJson) => void) {
  const recipe = JSON.parse(readFileSync(recipeFile(), 'utf8')) as RecipeJson
  change(recipe)
  writeFileSync(recipeFile(), JSON.stringify(recipe, null, 2))
}

/** A new release of the platform: the provisioner restarts with the catalog as it now is. */
async function restart() {
  await provisioner?.close()
  provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
  api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
}

beforeAll(async () => {
  catalogDir = mkdtempSync(path.join(tmpdir(), 'catalog-upgrade-'))
  cpSync(path.resolve(import.meta.dirname, '../../catalog/recipes/hello'), path.join(catalogDir, 'hello'), { recursive: true })
  stack = await testStack(9)
  // The new version's image: the same program under a new tag (no registry here).
  const [repo = '', tag = ''] = newImage.split(':')
  await stack.docker.getImage(images.hello).tag({ repo, tag })
  env = stack.env({
    CATALOG_DIR: catalogDir,
    REMOVED_VOLUME_GRACE_DAYS: '0',
    BACKUP_PASSWORD: randomBytes(24).toString('base64'),
    BACKUP_REPOSITORY: `volume:${repositoryVolume}`,
    BACKUP_IMAGE: images.restic,
    BACKUP_SCHEDULE_HOURS: '0',
  })
  await restart()
}, 300_000)

afterAll(async () => {
  if (provisioner) {
    await provisioner.upgrades.idle()
    await api.call('DELETE', `/instances/${id}`)
    await waitFor(async () => (await api.get(id)).phase === 'purged', `${id} purged`, 60_000).catch(() => undefined)
    await provisioner.close()
    await stack.dropSchema(env.DATABASE_SCHEMA)
  }
  await stack?.docker.getVolume(repositoryVolume).remove().catch(() => undefined)
  await stack?.docker.getImage(newImage).remove().catch(() => undefined)
  await stack?.close()
  rmSync(catalogDir, { recursive: true, force: true })
}, 180_000)

async function sh(script: string): Promise<string> {
  const exec = await stack.docker.getContainer(`${id}-web`).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true, Tty: true })
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true })
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  await new Promise((resolve) => stream.on('end', resolve))
  return Buffer.concat(chunks).toString('utf8').trim()
}

const container = () => stack.docker.getContainer(`${id}-web`).inspect()
const data = () => sh('cd /data && find . -type f | sort | xargs sha256sum')

async function upgraded(upgradeId: string): Promise<UpgradeView> {
  return waitFor(
    async () => {
      const list = ((await api.call('GET', `/instances/${id}/upgrades`)).body as { upgrades: UpgradeView[] }).upgrades
      const u = list.find((x) => x.id === upgradeId)
      return u && ['succeeded', 'rolled-back', 'failed'].includes(u.status) ? u : undefined
    },
    `upgrade ${upgradeId} finished`,
    180_000,
  )
}

let before: string

describe('upgrading an instance to a new recipe version', { timeout: 300_000 }, () => {
  it('a new version in the catalog changes nothing until the upgrade is asked for', async () => {
    expect((await api.put(id, { organization: org, recipe: 'hello', adminEmail: 'keuken@buurtkeuken.example' })).status).toBe(202)
    await waitFor(async () => (await api.get(id)).phase === 'ready', `${id} ready`, 90_000)
    await sh('echo "Menu van de week: linzensoep" > /data/menu.txt')
    before = await data()
    const started = (await container()).Id

    editRecipe((r) => {
      r.version = '1.1.0'
      r.services[0]!.image = newImage
      r.services[0]!.env.HELLO_GREETING = 'Welkom terug'
    })
    await restart()
    await provisioner!.controller.sweep()
    await provisioner!.controller.idle()
    expect((await container()).Id).toBe(started)
    expect(await api.get(id)).toMatchObject({ recipeVersion: '1.0.0', phase: 'ready' })
    const overview = (await api.call('GET', '/upgrades')).body as { available: AvailableUpgrade[] }
    expect(overview.available).toEqual([{ instanceId: id, organizationId: org.id, recipe: 'hello', fromVersion: '1.0.0', toVersion: '1.1.0', ready: true }])
  })

  it('upgrades with a checked backup first: new image, new setting, the data as it was', async () => {
    const res = await api.call('POST', '/upgrades', { instances: [id, 'hello-nobody'], requestedBy: 'operator@commons.example' })
    expect(res.status).toBe(202)
    const { queued, refused } = res.body as { queued: UpgradeView[]; refused: { instanceId: string; code: string }[] }
    expect(queued).toMatchObject([{ instanceId: id, fromVersion: '1.0.0', toVersion: '1.1.0', status: 'queued' }])
    expect(refused).toEqual([{ instanceId: 'hello-nobody', code: 'not-found', message: 'no such instance' }])

    const done = await upgraded(queued[0]!.id)
    expect(done).toMatchObject({ status: 'succeeded', error: null })
    const info = await container()
    expect(info.Config.Image).toBe(newImage)
    expect(info.Config.Env).toContain('HELLO_GREETING=Welkom terug')
    expect(info.Config.Labels[LABEL.recipeVersion]).toBe('1.1.0')
    expect(await api.get(id)).toMatchObject({ recipeVersion: '1.1.0', phase: 'ready' })
    expect(await data()).toBe(before)

    const backups = ((await api.call('GET', `/instances/${id}/backups`)).body as { backups: BackupView[] }).backups
    const first = backups.find((b) => b.id === done.backupId)
    expect(first).toMatchObject({ kind: 'pre-upgrade', status: 'succeeded', recipeVersion: '1.0.0', verification: { status: 'passed' } })
    const steps = (await api.events(id)).map((e) => `${e.step}:${e.status}`)
    const upgrade = steps.slice(steps.indexOf('upgrade:started'))
    expect(upgrade.indexOf('backup:succeeded')).toBeLessThan(upgrade.indexOf('container:web:succeeded'))
    expect(upgrade.at(-1)).toBe('upgrade:succeeded')

    // Nothing left to do: asked again, it says so.
    const again = await api.call('POST', '/upgrades', { instances: [id] })
    expect((again.body as { refused: { code: string }[] }).refused).toMatchObject([{ code: 'up-to-date' }])
  })

  it('a version that does not become healthy is undone: the old version and the data from before', async () => {
    editRecipe((r) => {
      r.version = '1.2.0'
      // It changes the data first (as a database migration would), then never answers its health check.
      r.hooks.push({ name: 'migrate-v2', phase: 'init', service: 'web', command: ['sh', '-c', 'echo migrated > /data/schema-v2 && rm -f /data/menu.txt'] })
      r.services[0]!.healthCheck = { type: 'http', path: '/no-such-health', port: 8080, intervalSeconds: 1, timeoutSeconds: 1, retries: 2 }
    })
    await restart()
    const res = await api.call('POST', '/upgrades', { instances: [id] })
    const { queued } = res.body as { queued: UpgradeView[] }
    expect(queued).toHaveLength(1)
    const done = await upgraded(queued[0]!.id)
    expect(done.status).toBe('rolled-back')
    expect(done.error).toMatch(/Version 1\.2\.0 did not start properly.*Version 1\.1\.0 and the data from just before the upgrade are back/)
    await waitFor(async () => (await api.get(id)).phase === 'ready', `${id} ready again`, 60_000)
    expect(await api.get(id)).toMatchObject({ recipeVersion: '1.1.0' })
    expect((await container()).Config.Image).toBe(newImage)
    expect(await data()).toBe(before)
    const steps = (await api.events(id)).map((e) => `${e.step}:${e.status}`)
    const last = steps.slice(steps.lastIndexOf('upgrade:started'))
    expect(last).toEqual(expect.arrayContaining(['hook:migrate-v2:succeeded', 'upgrade:retrying', 'restore:succeeded', 'upgrade:failed']))
  })
})
