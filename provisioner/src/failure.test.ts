/**
 * Failure: a step that keeps failing is retried with backoff, then the
 * instance is `failed` with the step and a reason in plain words; removing it
 * leaves nothing behind. Recipes here are copies of the hello test recipe,
 * broken on purpose in a catalog folder of the test's own.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import type { Env } from './config.ts'
import { createLogger } from './log.ts'
import { apiClient, testStack, waitFor, type TestStack } from './testing/stack.ts'

let stack: TestStack
let env: Env
let provisioner: RunningProvisioner
let api: ReturnType<typeof apiClient>
let catalogDir: string

function brokenCopy(id: string, change: (recipe: { id: string; services: { image: string; healthCheck: { path?: string } }[] }) => void) {
  const dir = path.join(catalogDir, id)
  cpSync(path.resolve(import.meta.dirname, '../../catalog/recipes/hello'), dir, { recursive: true })
  const recipe = JSON.parse(readFileSync(path.join(dir, 'recipe.json'), 'utf8')) as { id: string; services: { image: string; healthCheck: { path?: string } }[] }
  recipe.id = id
  change(recipe)
  writeFileSync(path.join(dir, 'recipe.json'), JSON.stringify(recipe))
}

beforeAll(async () => {
  catalogDir = mkdtempSync(path.join(tmpdir(), 'catalog-'))
  brokenCopy('absent', (r) => {
    const web = r.services[0]
    if (web) web.image = 'commons-test/absent:1.0'
  })
  brokenCopy('sick', (r) => {
    const web = r.services[0]
    if (web) web.healthCheck.path = '/no-such-page'
  })
  stack = await testStack(3)
  env = stack.env({ CATALOG_DIR: catalogDir, REMOVED_VOLUME_GRACE_DAYS: '0', RETRY_BUDGET: '3', RETRY_BASE_MS: '100', RETRY_MAX_MS: '400' })
  provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
  api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
}, 300_000)

afterAll(async () => {
  await provisioner?.close()
  if (stack) {
    await stack.dropSchema(env.DATABASE_SCHEMA)
    await stack.close()
  }
  rmSync(catalogDir, { recursive: true, force: true })
}, 60_000)


describe('a step that keeps failing', () => {
  it.each([
    ['absent', 'container:web', /The software for "web" \(commons-test\/absent:1\.0\) is not available on the server\./],
    ['sick', 'health:web', /"web" did not answer its health check within \d+ seconds\./],
  ])('%s: retried, then failed at %s with a plain reason; removal leaves nothing', async (recipe, step, reason) => {
    const id = `${recipe}-fail-coop`
    const put = await api.put(id, { organization: { id: `org-${recipe}`, slug: 'fail-coop', name: 'Fail Coop' }, recipe, adminEmail: 'admin@fail.example' })
    expect(put.status).toBe(202)
    const failed = await waitFor(async () => {
      const view = await api.get(id)
      return view.phase === 'failed' ? view : undefined
    }, `${id} failed`, 120_000)
    expect(failed.failure?.step).toBe(step)
    expect(failed.failure?.message).toMatch(reason)

    const events = await api.events(id)
    const attempts = events.filter((e) => e.step === step && (e.status === 'retrying' || e.status === 'failed'))
    expect(attempts.map((e) => e.status)).toEqual(['retrying', 'retrying', 'failed'])
    expect(attempts[0]?.message).toMatch(/attempt 1 of 3/)

    // Failed stays failed: the loop does not keep hammering.
    const count = events.length
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect((await api.events(id)).length).toBe(count)

    expect((await api.call('DELETE', `/instances/${id}`)).status).toBe(202)
    await waitFor(async () => (await api.get(id)).phase === 'purged', `${id} purged`, 60_000)
    expect(await stack.objectsOf(id)).toEqual([])
  }, 180_000)
})
