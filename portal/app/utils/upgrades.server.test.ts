import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCatalog } from './catalog.server'
import { contractStubProvisioner } from './contract-stub-provisioner.testing'
import { db, disconnectDb } from './db.server'
import { outbox } from './email.server'
import { InstanceWatcher } from './instance-watcher.server'
import { deliverDesiredState } from './instances.server'
import { requestUpgrades } from './upgrades.server'

// The mails after an upgrade, as the instance watcher sends them when it
// sees the instance leave the upgrading phase. Real Postgres from the test
// harness; the provisioner is contractStubProvisioner (a test double that
// speaks the contract, not the real provisioner).

const unique = Date.now().toString(36)
let n = 0
let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
let watcher: InstanceWatcher
let operator: { userId: string }

async function person(tag: string, locale: string) {
  return db().user.create({ data: { keycloakId: `after-${tag}-${unique}-${++n}`, email: `${tag}-${unique}-${n}@after-upgrade.test`, name: tag, locale } })
}

/** An organisation with an English and a Dutch admin and a member, and a tool that is ready and was mailed as such. */
async function readyTool(recipeId: string) {
  const slug = `after-${unique}-${++n}`
  const adminEn = await person('admin-en', 'en')
  const adminNl = await person('admin-nl', 'nl')
  const member = await person('member', 'en')
  const organization = await db().organization.create({ data: { slug, name: `Coop ${slug}`, description: 'x', sector: 'food', city: 'Zwolle' } })
  await db().membership.createMany({
    data: [
      { userId: adminEn.id, organizationId: organization.id, role: 'ADMIN' },
      { userId: adminNl.id, organizationId: organization.id, role: 'ADMIN' },
      { userId: member.id, organizationId: organization.id, role: 'MEMBER' },
    ],
  })
  const instance = await db().instance.create({ data: { id: `${recipeId}-${slug}`, organizationId: organization.id, recipeId, adminEmail: adminEn.email } })
  await deliverDesiredState(instance.id, stub.client())
  stub.setPhase(instance.id, 'ready')
  await watcher.pass()
  const mails = (user: { email: string }) => db().outboxMail.findMany({ where: { to: user.email }, orderBy: { createdAt: 'asc' } })
  expect((await mails(adminEn)).map((m) => m.subject)).toEqual([expect.stringMatching(/ is ready for /)])
  return { organization, instance, adminEn, adminNl, member, mails }
}

/** Starts an upgrade of the instance to `to`, as the operators' page does. */
async function upgrade(instanceId: string, to: string) {
  stub.offerUpgrade(instanceId, to)
  const started = await requestUpgrades(operator, [instanceId], stub.client())
  expect(started.refused).toEqual([])
  return started.queued[0]!
}

const phaseOf = async (id: string) => (await db().instance.findUniqueOrThrow({ where: { id } })).phase

beforeAll(async () => {
  await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
  stub = await contractStubProvisioner()
  watcher = new InstanceWatcher(() => stub.client())
  const op = await person('operator', 'en')
  operator = { userId: op.id }
})
afterAll(async () => {
  const mine = { organization: { slug: { startsWith: `after-${unique}-` } } }
  const instances = await db().instance.findMany({ where: mine, select: { id: true } })
  await db().auditEntry.deleteMany({ where: { OR: [{ actorId: operator.userId }, { targetType: 'upgrade', targetId: { in: stub.upgrades.map((u) => u.id) } }] } })
  await db().ticket.deleteMany({ where: mine })
  await db().outboxMail.deleteMany({ where: { to: { contains: `-${unique}-`, endsWith: '@after-upgrade.test' } } })
  await db().instance.deleteMany({ where: { id: { in: instances.map((i) => i.id) } } })
  await db().organization.deleteMany({ where: { slug: { startsWith: `after-${unique}-` } } })
  await db().user.deleteMany({ where: { email: { contains: `-${unique}-`, endsWith: '@after-upgrade.test' } } })
  await stub.stop()
  await outbox.stop()
  await disconnectDb()
})

describe('the mails after an upgrade', () => {
  it('says the new version runs, once, in each admin’s language, and does not send the ready mail again', async () => {
    const { instance, adminEn, adminNl, member, mails } = await readyTool('nextcloud')
    // Even for a tool whose ready mail the portal has no record of: back from an upgrade is not "ready".
    await db().instance.update({ where: { id: instance.id }, data: { readyMailedAt: null } })
    const queued = await upgrade(instance.id, '1.1.0')
    expect((await mails(adminEn)).map((m) => m.subject).at(-1)).toMatch(/will be upgraded to version 1\.1\.0$/)

    stub.moveUpgrade(queued.id, 'backing-up')
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('ready')
    stub.moveUpgrade(queued.id, 'upgrading')
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('upgrading')
    stub.moveUpgrade(queued.id, 'succeeded')
    await watcher.pass()
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('ready')

    const en = (await mails(adminEn)).map((m) => m.subject)
    expect(en.slice(1)).toEqual([expect.stringMatching(/will be upgraded/), expect.stringMatching(/ now runs version 1\.1\.0$/)])
    const after = (await mails(adminEn)).at(-1)!
    expect(after.text).toContain('it now runs version 1.1.0')
    expect(after.text).toContain(`https://${instance.id}.stub.test`)
    expect((await mails(adminNl)).at(-1)!.subject).toMatch(/ draait nu versie 1\.1\.0$/)
    expect((await mails(member)).filter((m) => /version|versie/.test(m.subject))).toEqual([])
    expect(await db().auditEntry.count({ where: { action: 'upgrade.mailed', targetType: 'upgrade', targetId: queued.id } })).toBe(1)

    // The same end seen again (a second portal process, a stale phase): no second mail.
    await db().instance.update({ where: { id: instance.id }, data: { phase: 'upgrading' } })
    await watcher.pass()
    expect((await mails(adminEn)).map((m) => m.subject)).toEqual(en)
  })

  it('says the old version and the data of the backup are back after a roll-back, with the backup’s time', async () => {
    const { instance, adminEn, adminNl, mails } = await readyTool('nextcloud')
    const queued = await upgrade(instance.id, '2.0.0')
    stub.moveUpgrade(queued.id, 'backing-up')
    await watcher.pass()
    const backupId = stub.upgrades.find((u) => u.id === queued.id)!.backupId!
    stub.updateBackup(backupId, { startedAt: '2025-06-02T01:30:00.000Z' })
    stub.moveUpgrade(queued.id, 'upgrading')
    await watcher.pass()
    // The new version gives up: the provisioner says failed a moment before it goes back. Not the end yet.
    stub.setPhase(instance.id, 'failed', { step: 'health:web', message: 'no answer on port 80' })
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('upgrading')
    expect(await db().ticket.count({ where: { instanceId: instance.id } })).toBe(0)
    stub.moveUpgrade(queued.id, 'rolling-back', 'health:web never answered')
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('upgrading')
    stub.moveUpgrade(queued.id, 'rolled-back', 'health:web never answered')
    await watcher.pass()
    await watcher.pass()

    const [before, after, ...more] = (await mails(adminEn)).slice(1)
    expect(before!.subject).toMatch(/will be upgraded to version 2\.0\.0$/)
    expect(more).toEqual([])
    expect(after!.subject).toMatch(/did not work; version 1\.0\.0 is back$/)
    expect(after!.text).toContain('Version 1.0.0 and your data from 2 Jun 2025, 03:30 are back')
    expect(after!.text).toContain('There is nothing for you to do')
    const nl = (await mails(adminNl)).at(-1)!
    expect(nl.subject).toMatch(/werkte niet; versie 1\.0\.0 is terug$/)
    expect(nl.text).toContain('je gegevens van 2 jun 2025, 03:30 zijn terug')
    // Neither the intermediate failure nor the way back sent anything else: no set-up failure mail, no ticket.
    expect(await db().ticket.count({ where: { instanceId: instance.id } })).toBe(0)
  })

  it('follows up an upgrade that failed at its backup, when the tool never left ready: it did not go through, once', async () => {
    const { instance, adminEn, adminNl, mails } = await readyTool('nextcloud')
    const queued = await upgrade(instance.id, '2.5.0')
    stub.moveUpgrade(queued.id, 'backing-up')
    await watcher.pass()
    stub.moveUpgrade(queued.id, 'failed', 'The backup before the upgrade did not work, so nothing was changed.')
    await watcher.pass()
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('ready')
    const [, after, ...more] = (await mails(adminEn)).slice(1)
    expect(more).toEqual([])
    expect(after!.subject).toMatch(/^The upgrade of Nextcloud of .* did not go through$/)
    expect(after!.text).toContain('Nextcloud runs version 1.0.0.')
    expect(after!.text).toContain('What the tool service said: The backup before the upgrade did not work, so nothing was changed.')
    expect((await mails(adminNl)).at(-1)!.subject).toMatch(/ is niet doorgegaan$/)
    expect(await db().ticket.count({ where: { instanceId: instance.id } })).toBe(0)
  })

  it('says a failed upgrade is being looked into, with the helpdesk ticket, instead of the set-up failure mail', async () => {
    const { instance, adminEn, mails } = await readyTool('nextcloud')
    const queued = await upgrade(instance.id, '3.0.0')
    stub.moveUpgrade(queued.id, 'upgrading')
    await watcher.pass()
    stub.moveUpgrade(queued.id, 'failed', 'the old version did not start again')
    await watcher.pass()
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('failed')

    const subjects = (await mails(adminEn)).map((m) => m.subject)
    expect(subjects.slice(1)).toEqual([expect.stringMatching(/will be upgraded/), expect.stringMatching(/^The upgrade of Nextcloud of .* failed$/)])
    const ticket = await db().ticket.findFirstOrThrow({ where: { instanceId: instance.id } })
    expect(ticket.subject).toBe('The upgrade of Nextcloud failed')
    expect(ticket.tags).toEqual(['upgrade'])
    const after = (await mails(adminEn)).at(-1)!
    expect(after.text).toContain('The helpdesk and the platform operators are on it')
    expect(after.text).toContain(`ticket #${ticket.number}`)
  })

  it('waits for the upgrade’s own record to finish before it counts the upgrade as over', async () => {
    const { instance, adminEn, mails } = await readyTool('nextcloud')
    const queued = await upgrade(instance.id, '4.0.0')
    stub.moveUpgrade(queued.id, 'upgrading')
    await watcher.pass()
    // The instance answers ready a moment before its upgrade is marked done.
    stub.setPhase(instance.id, 'ready')
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('upgrading')
    const mailed = (await mails(adminEn)).length
    stub.moveUpgrade(queued.id, 'succeeded')
    await watcher.pass()
    expect(await phaseOf(instance.id)).toBe('ready')
    const after = await mails(adminEn)
    expect(after).toHaveLength(mailed + 1)
    expect(after.at(-1)!.subject).toMatch(/ now runs version 4\.0\.0$/)
  })
})
