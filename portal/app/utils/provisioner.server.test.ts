import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contractStubProvisioner, unreachableProvisioner } from './contract-stub-provisioner.testing'
import { ProvisionerClient, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable, type InstanceEvent } from './provisioner.server'

// The client against contractStubProvisioner: a test double that speaks the
// provisioner's contract over real HTTP. It is not the provisioner.

let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
const org = { id: 'org-1', slug: 'groene-bakkerij', name: 'Groene Bakkerij' }

beforeAll(async () => {
  stub = await contractStubProvisioner()
})
afterAll(() => stub.stop())

/** A server that answers every request with `status` and `body`. */
async function answering(status: number, body: string) {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' })
    res.end(body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    client: new ProvisionerClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'x'.repeat(20) }),
    close: () => new Promise((r) => server.close(r)),
  }
}

describe('ProvisionerClient', () => {
  it('sends the desired state with the bearer token and reads the instance back', async () => {
    const client = stub.client()
    const view = await client.putInstance('nextcloud-groene-bakkerij', { organization: org, recipe: 'nextcloud', adminEmail: 'anouk@example.org' })
    expect(view).toMatchObject({ id: 'nextcloud-groene-bakkerij', organizationId: 'org-1', desired: 'running', phase: 'provisioning' })
    expect(await client.listInstances('org-1')).toHaveLength(1)
    expect(await client.listInstances('someone-else')).toEqual([])
    expect(await client.getInstance('nextcloud-groene-bakkerij')).toMatchObject({ recipe: 'nextcloud' })
    expect(await client.getInstance('never-heard-of')).toBeNull()
    expect((await client.restartInstance('nextcloud-groene-bakkerij')).id).toBe('nextcloud-groene-bakkerij')
    expect((await client.events('nextcloud-groene-bakkerij')).map((e) => e.step)).toEqual(['secrets', 'restart'])
    expect((await client.logs('nextcloud-groene-bakkerij')).containers[0]?.lines).toContain('listening on 8080')
    const removed = await client.deleteInstance('nextcloud-groene-bakkerij')
    expect(removed).toMatchObject({ desired: 'removed', phase: 'removing' })
    expect(removed.purgeAt).not.toBeNull()
  })

  it('turns the contract’s error answers into ProvisionerRefused with the code', async () => {
    await expect(stub.client({ token: 'wrong-token-0123456789' }).listInstances('org-1')).rejects.toMatchObject({
      name: 'ProvisionerRefused',
      status: 401,
      code: 'unauthorized',
    })
    await stub.client().putInstance('loomio-a', { organization: org, recipe: 'loomio', adminEmail: 'a@example.org' })
    const mismatch = stub.client().putInstance('loomio-a', { organization: { ...org, id: 'org-2' }, recipe: 'loomio', adminEmail: 'a@example.org' })
    await expect(mismatch).rejects.toBeInstanceOf(ProvisionerRefused)
    await expect(mismatch).rejects.toMatchObject({ code: 'organization-mismatch' })
  })

  it('checks our own body against the contract before sending it', async () => {
    const calls = stub.calls.length
    await expect(stub.client().putInstance('Bad Id', { organization: org, recipe: 'loomio', adminEmail: 'not-an-address' })).rejects.toThrow()
    expect(stub.calls.length).toBe(calls)
  })

  it('says ProvisionerUnavailable when nothing listens, or a proxy answers 502-504', async () => {
    const down = await unreachableProvisioner()
    await expect(down.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerUnavailable)
    await expect(down.listInstances('org-1')).rejects.toMatchObject({ key: 'provisioner.unavailable' })
    const gateway = await answering(502, '<html>Bad Gateway</html>')
    await expect(gateway.client.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerUnavailable)
    await gateway.close()
  })

  it('refuses answers that are not in the contract’s shape', async () => {
    const wrong = await answering(200, JSON.stringify({ instances: [{ id: 'x' }] }))
    await expect(wrong.client.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerProtocolError)
    await wrong.close()
    const noErrorBody = await answering(500, 'oops')
    await expect(noErrorBody.client.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerProtocolError)
    await noErrorBody.close()
  })

  it('streams events as they happen, from after the last one seen', async () => {
    const client = stub.client()
    await client.putInstance('hello-stream', { organization: org, recipe: 'hello', adminEmail: 'a@example.org' })
    stub.addEvent('hello-stream', 'network', 'succeeded')
    const first = (await client.events('hello-stream'))[0]!
    const abort = new AbortController()
    const stream = await client.eventStream('hello-stream', { lastEventId: String(first.seq), signal: abort.signal })
    const seen: InstanceEvent[] = []
    setTimeout(() => stub.addEvent('hello-stream', 'container:web', 'started', 'abc123'), 50)
    for await (const event of stream) {
      seen.push(event)
      if (event.step === 'container:web') break
    }
    abort.abort()
    expect(seen.map((e) => `${e.step} ${e.status}`)).toEqual(['network succeeded', 'container:web started'])
  })
})

describe('ProvisionerClient and backups', () => {
  const coop = { id: 'org-backups', slug: 'backup-coop', name: 'Backup Coop' }
  const passed = { status: 'passed' as const, message: null, at: '2025-03-01T04:00:00.000Z' }

  async function readyInstance(id: string, organization = coop) {
    await stub.client().putInstance(id, { organization, recipe: 'nextcloud', adminEmail: 'a@example.org' })
    stub.setPhase(id, 'ready')
  }

  it('backs up, lists newest first, restores, and lists the organisation’s backups', async () => {
    const client = stub.client()
    await readyInstance('nextcloud-backup-coop')
    const old = stub.addBackup('nextcloud-backup-coop', { startedAt: '2025-03-01T03:00:00.000Z', verification: passed })
    const started = await client.backUp('nextcloud-backup-coop', 'portal-user:u1')
    expect(started).toMatchObject({ instanceId: 'nextcloud-backup-coop', kind: 'manual', status: 'running', requestedBy: 'portal-user:u1', restorable: false })
    expect(started.id).toMatch(/^b-[a-z0-9]{10,40}$/)
    expect(stub.calls.at(-1)).toBe('POST /instances/nextcloud-backup-coop/backups')
    stub.updateBackup(started.id, { status: 'succeeded', sizeBytes: 12_400_000, finishedAt: new Date().toISOString(), verification: passed })

    const list = await client.backups('nextcloud-backup-coop')
    expect(list.backups.map((b) => b.id)).toEqual([started.id, old.id])
    expect(list.backups[0]).toMatchObject({ restorable: true, sizeBytes: 12_400_000 })
    expect(list.restores).toEqual([])

    const restore = await client.restore('nextcloud-backup-coop', old.id, 'portal-user:u1')
    expect(restore).toMatchObject({ instanceId: 'nextcloud-backup-coop', backupId: old.id, status: 'running', requestedBy: 'portal-user:u1' })
    expect(restore.safetyBackupId).toMatch(/^b-/)
    expect((await client.getInstance('nextcloud-backup-coop'))?.phase).toBe('restoring')
    await expect(client.backUp('nextcloud-backup-coop')).rejects.toMatchObject({ status: 409, code: 'busy' })
    stub.finishRestore(restore.id, 'rolled-back', 'the database did not start from the backup')
    expect((await client.backups('nextcloud-backup-coop')).restores[0]).toMatchObject({ status: 'rolled-back', error: 'the database did not start from the backup' })
    expect((await client.getInstance('nextcloud-backup-coop'))?.phase).toBe('ready')

    const kinds = (await client.organizationBackups(coop.id)).map((b) => b.kind)
    expect(kinds).toEqual(expect.arrayContaining(['manual', 'scheduled', 'pre-restore']))
    expect(await client.organizationBackups('nobody')).toEqual([])
  })

  it('carries the backup refusals as ProvisionerRefused with their codes, the 503 of backups-unavailable too', async () => {
    const client = stub.client()
    await client.putInstance('loomio-backup-coop', { organization: coop, recipe: 'loomio', adminEmail: 'a@example.org' })
    await expect(client.backUp('loomio-backup-coop')).rejects.toMatchObject({ name: 'ProvisionerRefused', status: 409, code: 'not-running' })
    stub.setPhase('loomio-backup-coop', 'ready')
    const broken = stub.addBackup('loomio-backup-coop', { verification: { status: 'failed', message: 'config.php differs', at: new Date().toISOString() } })
    expect(broken.restorable).toBe(false)
    await expect(client.restore('loomio-backup-coop', broken.id)).rejects.toMatchObject({ status: 409, code: 'not-restorable' })
    await readyInstance('loomio-elsewhere', { id: 'org-elsewhere', slug: 'elsewhere', name: 'Elsewhere' })
    const theirs = stub.addBackup('loomio-elsewhere')
    await expect(client.restore('loomio-backup-coop', theirs.id)).rejects.toMatchObject({ status: 404, code: 'not-found' })

    stub.setBackups({ configured: false })
    try {
      const refused = client.backUp('loomio-backup-coop')
      await expect(refused).rejects.toBeInstanceOf(ProvisionerRefused)
      await expect(refused).rejects.toMatchObject({ status: 503, code: 'backups-unavailable' })
    } finally {
      stub.setBackups({ configured: true })
    }
    // Without the contract's error body a 503 is still a proxy saying the provisioner is down.
    const gateway = await answering(503, '<html>Service Unavailable</html>')
    await expect(gateway.client.backups('loomio-backup-coop')).rejects.toBeInstanceOf(ProvisionerUnavailable)
    await gateway.close()
  })

  it('checks a backup id against the contract before sending it', async () => {
    const calls = stub.calls.length
    await expect(stub.client().restore('loomio-backup-coop', '../../etc')).rejects.toThrow()
    expect(stub.calls.length).toBe(calls)
  })

  it('reads the backup problems for the operators', async () => {
    const client = stub.client()
    await readyInstance('jitsi-backup-coop')
    const failed = stub.addBackup('jitsi-backup-coop', { status: 'failed', error: 'The disk of the backup repository is full.', verification: { status: 'skipped', message: null, at: null } })
    stub.setBackups({ repositoryError: 'The backup repository cannot be written.' })
    try {
      const problems = await client.backupProblems()
      expect(problems).toMatchObject({ configured: true, repositoryError: 'The backup repository cannot be written.' })
      expect(problems.failedBackups.map((b) => b.id)).toContain(failed.id)
      expect(problems.failedVerifications.every((b) => b.verification.status === 'failed')).toBe(true)
      expect(problems.overdue).toContainEqual({ instanceId: 'jitsi-backup-coop', organizationId: coop.id, recipe: 'nextcloud', lastBackupAt: null })
    } finally {
      stub.setBackups({ repositoryError: null })
    }
    const shaped = await answering(200, JSON.stringify({ configured: true }))
    await expect(shaped.client.backupProblems()).rejects.toBeInstanceOf(ProvisionerProtocolError)
    await shaped.close()
  })
})

describe('ProvisionerClient and upgrades', () => {
  const coop = { id: 'org-upgrades', slug: 'upgrade-coop', name: 'Upgrade Coop' }

  /** A ready instance of the recipe its id starts with. */
  async function readyInstance(id: string) {
    await stub.client().putInstance(id, { organization: coop, recipe: id.split('-')[0]!, adminEmail: 'a@example.org' })
    stub.setPhase(id, 'ready')
  }

  it('lists the available upgrades, queues some, refuses others per instance, and follows one to its end', async () => {
    const client = stub.client()
    await readyInstance('nextcloud-upgrade-coop')
    await readyInstance('loomio-upgrade-coop')
    await readyInstance('discourse-upgrade-coop')
    stub.offerUpgrade('nextcloud-upgrade-coop', '1.1.0')
    stub.offerUpgrade('loomio-upgrade-coop', '2.0.0')
    stub.setPhase('loomio-upgrade-coop', 'suspended')

    const overview = await client.upgrades()
    expect(overview.available).toEqual(
      expect.arrayContaining([
        { instanceId: 'nextcloud-upgrade-coop', organizationId: coop.id, recipe: 'nextcloud', fromVersion: '1.0.0', toVersion: '1.1.0', ready: true },
        { instanceId: 'loomio-upgrade-coop', organizationId: coop.id, recipe: 'loomio', fromVersion: '1.0.0', toVersion: '2.0.0', ready: false },
      ]),
    )

    const started = await client.startUpgrades(['nextcloud-upgrade-coop', 'loomio-upgrade-coop', 'discourse-upgrade-coop', 'never-heard-of'], 'portal-user:op')
    expect(stub.calls.at(-1)).toBe('POST /upgrades')
    expect(started.queued).toEqual([
      expect.objectContaining({ instanceId: 'nextcloud-upgrade-coop', fromVersion: '1.0.0', toVersion: '1.1.0', status: 'queued', requestedBy: 'portal-user:op', backupId: null }),
    ])
    expect(started.refused.map((r) => [r.instanceId, r.code])).toEqual([
      ['loomio-upgrade-coop', 'not-running'],
      ['discourse-upgrade-coop', 'up-to-date'],
      ['never-heard-of', 'not-found'],
    ])
    const [upgrade] = started.queued
    // A second request for the same instance while the first is queued: busy.
    expect((await client.startUpgrades(['nextcloud-upgrade-coop'])).refused).toEqual([expect.objectContaining({ code: 'busy' })])

    stub.moveUpgrade(upgrade!.id, 'backing-up')
    // The backup runs beside the tool; the new version makes it upgrading.
    expect((await client.getInstance('nextcloud-upgrade-coop'))?.phase).toBe('ready')
    stub.moveUpgrade(upgrade!.id, 'upgrading')
    expect((await client.getInstance('nextcloud-upgrade-coop'))?.phase).toBe('upgrading')
    stub.moveUpgrade(upgrade!.id, 'succeeded')
    const after = await client.instanceUpgrades('nextcloud-upgrade-coop')
    expect(after.upgrades).toEqual([expect.objectContaining({ id: upgrade!.id, status: 'succeeded', error: null })])
    expect(after.upgrades[0]!.backupId).toMatch(/^b-/)
    expect(after.upgrades[0]!.finishedAt).not.toBeNull()
    expect(await client.getInstance('nextcloud-upgrade-coop')).toMatchObject({ phase: 'ready', recipeVersion: '1.1.0' })
    expect((await client.backups('nextcloud-upgrade-coop')).backups[0]).toMatchObject({ id: after.upgrades[0]!.backupId, kind: 'pre-upgrade', status: 'succeeded' })
    expect((await client.events('nextcloud-upgrade-coop')).filter((e) => e.step === 'upgrade').map((e) => `${e.status} ${e.message}`)).toEqual([
      'started 1.0.0 → 1.1.0',
      'succeeded ',
    ])
    // Up to date now: no longer listed.
    expect((await client.upgrades()).available.map((a) => a.instanceId)).not.toContain('nextcloud-upgrade-coop')
    expect((await client.upgrades()).upgrades.map((u) => u.id)).toContain(upgrade!.id)
    expect(await client.instanceUpgrades('discourse-upgrade-coop')).toEqual({ upgrades: [] })
  })

  it('rolls back to the old version, and says the instance failed when even that did not work', async () => {
    const client = stub.client()
    await readyInstance('matrix-upgrade-coop')
    stub.offerUpgrade('matrix-upgrade-coop', '1.2.0')
    const first = (await client.startUpgrades(['matrix-upgrade-coop'])).queued[0]!
    stub.moveUpgrade(first.id, 'rolling-back', 'health:web never answered')
    expect((await client.getInstance('matrix-upgrade-coop'))?.phase).toBe('upgrading')
    stub.moveUpgrade(first.id, 'rolled-back', 'health:web never answered')
    expect(await client.getInstance('matrix-upgrade-coop')).toMatchObject({ phase: 'ready', recipeVersion: '1.0.0' })
    expect((await client.upgrades()).available.map((a) => a.instanceId)).toContain('matrix-upgrade-coop')

    const second = (await client.startUpgrades(['matrix-upgrade-coop'])).queued[0]!
    stub.moveUpgrade(second.id, 'rolling-back', 'health:web never answered')
    stub.moveUpgrade(second.id, 'failed', 'the old version did not start again')
    expect(await client.getInstance('matrix-upgrade-coop')).toMatchObject({ phase: 'failed', failure: { step: 'upgrade', message: 'the old version did not start again' } })
    expect((await client.instanceUpgrades('matrix-upgrade-coop')).upgrades.map((u) => u.status)).toEqual(['failed', 'rolled-back'])

    // Failed at its backup, before anything changed: the tool stays as it was.
    stub.setPhase('matrix-upgrade-coop', 'ready')
    const third = (await client.startUpgrades(['matrix-upgrade-coop'])).queued[0]!
    stub.moveUpgrade(third.id, 'backing-up')
    stub.moveUpgrade(third.id, 'failed', 'The backup before the upgrade did not work, so nothing was changed.')
    expect(await client.getInstance('matrix-upgrade-coop')).toMatchObject({ phase: 'ready', recipeVersion: '1.0.0' })
  })

  it('checks the instance ids against the contract before sending them', async () => {
    const calls = stub.calls.length
    await expect(stub.client().startUpgrades([])).rejects.toThrow()
    await expect(stub.client().startUpgrades(['Not An Id'])).rejects.toThrow()
    expect(stub.calls.length).toBe(calls)
  })
})
