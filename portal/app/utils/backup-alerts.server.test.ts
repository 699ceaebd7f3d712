import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { alertBackupProblems } from './backup-alerts.server'
import { initCatalog } from './catalog.server'
import { contractStubProvisioner } from './contract-stub-provisioner.testing'
import { db, disconnectDb } from './db.server'
import { env } from './env.server'
import { InstanceWatcher } from './instance-watcher.server'
import { deliverDesiredState } from './instances.server'

// Mails to the platform operators about backup problems, from what the
// provisioner reports at GET /backups/problems. Real Postgres from the test
// harness; the provisioner is contractStubProvisioner (a test double that
// speaks the contract, not the real provisioner).

const unique = Date.now().toString(36)
let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
let operatorNl: { email: string }
let operatorEn: { email: string }
let instanceId: string

const mailsTo = (email: string) => db().outboxMail.findMany({ where: { to: email }, orderBy: { createdAt: 'asc' } })

beforeAll(async () => {
  await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
  stub = await contractStubProvisioner()
  // Alerts of other test files' stubs are not this one's.
  await db().backupAlert.deleteMany({})
  operatorNl = await db().user.create({ data: { keycloakId: `alerts-op-nl-${unique}`, email: `op-nl-${unique}@alerts.test`, name: 'Beheer', locale: 'nl', realmRoles: ['platform-operator'] } })
  operatorEn = await db().user.create({ data: { keycloakId: `alerts-op-en-${unique}`, email: `op-en-${unique}@alerts.test`, name: 'Ops', locale: 'en', realmRoles: ['platform-operator'] } })
  await db().user.create({ data: { keycloakId: `alerts-agent-${unique}`, email: `agent-${unique}@alerts.test`, name: 'Agent', realmRoles: ['helpdesk-agent'] } })
  const organization = await db().organization.create({ data: { slug: `alerts-${unique}`, name: 'Zonnedak', description: 'x', sector: 'energy', city: 'Deventer' } })
  instanceId = `nextcloud-alerts-${unique}`
  await db().instance.create({ data: { id: instanceId, organizationId: organization.id, recipeId: 'nextcloud', adminEmail: `admin-${unique}@alerts.test` } })
  await deliverDesiredState(instanceId, stub.client())
  stub.setPhase(instanceId, 'ready')
})

afterAll(async () => {
  await db().backupAlert.deleteMany({})
  await stub?.stop()
  await disconnectDb()
})

beforeEach(() => stub.setBackups({ configured: true, repositoryError: null }))

describe('backup alerts', () => {
  it('mails each operator, in their language, the problems that are new, once', async () => {
    // The tool runs and has no good backup yet; the storage refuses the credentials; a backup failed.
    stub.setBackups({ repositoryError: 'The backup storage refuses the credentials. The platform operator must check BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY.' })
    const failed = stub.addBackup(instanceId, { status: 'failed', error: 'The backup storage is full. The platform operator must free space or add storage.' })

    const first = await alertBackupProblems(stub.client())
    expect(first.raised.sort()).toEqual([`backup:${failed.id}`, `overdue:${instanceId}:never`, 'repository'])
    const [nl] = await mailsTo(operatorNl.email)
    const [en] = await mailsTo(operatorEn.email)
    expect(en).toMatchObject({ subject: 'Backups need attention (new: 3)' })
    expect(en!.text).toContain('- The backup storage cannot be used: The backup storage refuses the credentials.')
    expect(en!.text).toContain(`- A backup of Nextcloud (${instanceId}) failed, backup ${failed.id}: The backup storage is full.`)
    expect(en!.text).toContain(`- Nextcloud (${instanceId}) runs and has no good backup yet.`)
    expect(en!.text).toContain('/operator/health')
    expect(nl).toMatchObject({ subject: 'Back-ups vragen aandacht (nieuw: 3)' })
    expect(nl!.text).toContain(`- Nextcloud (${instanceId}) draait en heeft nog geen goede back-up.`)
    // Not to helpdesk agents, and nothing twice.
    expect(await mailsTo(`agent-${unique}@alerts.test`)).toEqual([])
    expect(await alertBackupProblems(stub.client())).toEqual({ raised: [], resolved: [] })
    expect(await mailsTo(operatorEn.email)).toHaveLength(1)
  })

  it('marks what is no longer reported resolved, and mails it again when it comes back', async () => {
    // The storage works again (beforeEach): resolved, no mail.
    const quiet = await alertBackupProblems(stub.client())
    expect(quiet).toEqual({ raised: [], resolved: ['repository'] })
    expect(await db().backupAlert.findUniqueOrThrow({ where: { key: 'repository' } })).toMatchObject({ resolvedAt: expect.any(Date) })
    expect(await mailsTo(operatorEn.email)).toHaveLength(1)

    stub.setBackups({ repositoryError: 'The backup storage cannot be reached. The platform operator must check the connection.' })
    expect((await alertBackupProblems(stub.client())).raised).toEqual(['repository'])
    const mails = await mailsTo(operatorEn.email)
    expect(mails).toHaveLength(2)
    expect(mails[1]).toMatchObject({ subject: 'Backups need attention (new: 1)', text: expect.stringContaining('The backup storage cannot be reached.') })
    expect(await db().backupAlert.findUniqueOrThrow({ where: { key: 'repository' } })).toMatchObject({ resolvedAt: null })
  })

  it('a backup that failed its check is a problem of its own; a good backup ends the overdue one', async () => {
    const checked = stub.addBackup(instanceId, { status: 'succeeded' })
    stub.updateBackup(checked.id, { verification: { status: 'failed', message: 'N files do not match their checksum: data/x', at: new Date().toISOString() } })
    const { raised, resolved } = await alertBackupProblems(stub.client())
    expect(raised).toEqual([`verify:${checked.id}`])
    // The stub counts a succeeded backup as good, so the tool is no longer overdue; the storage works again (beforeEach).
    expect(resolved.sort()).toEqual([`overdue:${instanceId}:never`, 'repository'])
    expect((await mailsTo(operatorNl.email)).at(-1)?.text).toContain(`kwam niet door de controle, back-up ${checked.id}: N files do not match their checksum`)
  })

  it('the instance watcher looks at them on its pass (once a minute)', async () => {
    const failed = stub.addBackup(instanceId, { status: 'failed', error: 'The backup storage refuses to store anything.' })
    const watcher = new InstanceWatcher(() => stub.client())
    await watcher.pass()
    expect((await mailsTo(operatorEn.email)).at(-1)?.text).toContain(`backup ${failed.id}: The backup storage refuses to store anything.`)
    // The next pass within the minute does not ask again.
    const asked = stub.calls.filter((c) => c.includes('/backups/problems')).length
    await watcher.pass()
    expect(stub.calls.filter((c) => c.includes('/backups/problems')).length).toBe(asked)
  })

  it('without operators the mail goes to the helpdesk address; with backups off, nothing is looked at', async () => {
    await db().user.updateMany({ where: { email: { in: [operatorNl.email, operatorEn.email] } }, data: { realmRoles: [] } })
    const again = stub.addBackup(instanceId, { status: 'failed', error: 'The backup tool reported an error.' })
    expect((await alertBackupProblems(stub.client())).raised).toEqual([`backup:${again.id}`])
    // (Other test files' watchers mail the helpdesk address too: look for this one.)
    const helpdesk = await db().outboxMail.findMany({ where: { to: env().HELPDESK_ADDRESS, subject: { startsWith: 'Back-ups vragen aandacht' }, text: { contains: again.id } } })
    expect(helpdesk).toHaveLength(1)
    expect(helpdesk[0]!.text).toContain(`mislukt, back-up ${again.id}: The backup tool reported an error.`)

    stub.setBackups({ configured: false })
    expect(await alertBackupProblems(stub.client())).toEqual({ raised: [], resolved: [] })
  })
})
