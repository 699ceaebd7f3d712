import { db } from './db.server'
import { logger } from './logger.server'
import { provisioner, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable, type ProvisionerClient, type UpgradeView } from './provisioner.server'
import { mailUpgradeEnded, UPGRADE_ANNOUNCED, UPGRADE_MAILED } from './upgrade-mails.server'
import { isFinished } from './upgrade-status'

// How the portal learns that an upgrade has ended, to tell the admins how it
// went: when an instance leaves the upgrading phase (recordObservation asks
// upgradeOutcome), and, for an upgrade whose end no phase showed, from the
// watcher's follow-up of the upgrades the admins were told of.

/**
 * How an instance's latest upgrade stands, asked when the instance leaves
 * the upgrading phase: ended (with when its backup was made, for the mail
 * after a roll-back), pending (not finished by its own record yet, or the
 * provisioner cannot say now: look again on the next observation), or none.
 */
export type UpgradeOutcome = { state: 'ended'; upgrade: UpgradeView; backupAt: string | null } | { state: 'pending' } | { state: 'none' }

export async function upgradeOutcome(instanceId: string, client: ProvisionerClient = provisioner()): Promise<UpgradeOutcome> {
  try {
    // A queued one has not begun: the phase is about the latest that has.
    const latest = (await client.instanceUpgrades(instanceId)).upgrades.find((u) => u.status !== 'queued')
    if (!latest) return { state: 'none' }
    if (!isFinished(latest.status)) return { state: 'pending' }
    return { state: 'ended', upgrade: latest, backupAt: latest.status === 'rolled-back' ? await backupTime(instanceId, latest, client) : null }
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return { state: 'pending' }
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error, instanceId }, 'could not read the upgrades of an instance from the provisioner')
      return { state: 'pending' }
    }
    throw error
  }
}

/** How long the portal keeps asking how an announced upgrade ended. */
const FOLLOW_UP_DAYS = 30

/**
 * Mails how an upgrade ended when the portal did not see its instance leave
 * the upgrading phase: it failed before anything changed (the backup did not
 * work, the catalog moved on), or it was over between two looks. Only
 * upgrades the admins were told of and not yet told the end of; only once
 * the instance's phase here is past upgrading (recordObservation has taken
 * the end in, with the ticket of a failure). Asks the provisioner only while
 * there is such an upgrade.
 */
export async function followUpAnnouncedUpgrades(client: ProvisionerClient = provisioner()) {
  const since = new Date(Date.now() - FOLLOW_UP_DAYS * 86_400_000)
  const announced = await db().auditEntry.findMany({
    where: { targetType: 'upgrade', action: UPGRADE_ANNOUNCED, createdAt: { gte: since } },
    select: { targetId: true, data: true },
  })
  if (announced.length === 0) return
  const mailed = await db().auditEntry.findMany({
    where: { targetType: 'upgrade', action: UPGRADE_MAILED, targetId: { in: announced.map((a) => a.targetId) } },
    select: { targetId: true },
  })
  const done = new Set(mailed.map((m) => m.targetId))
  const owed = announced.filter((a) => !done.has(a.targetId)).map((a) => ({ upgradeId: a.targetId, instanceId: instanceIdOf(a.data) }))
  const instances = new Map(
    (await db().instance.findMany({ where: { id: { in: owed.flatMap((o) => (o.instanceId ? [o.instanceId] : [])) }, phase: { not: 'upgrading' } } })).map((i) => [i.id, i]),
  )
  const due = owed.filter((o) => o.instanceId && instances.has(o.instanceId))
  if (due.length === 0) return
  try {
    const recent = new Map((await client.upgrades()).upgrades.map((u) => [u.id, u]))
    for (const { upgradeId, instanceId } of due) {
      const instance = instances.get(instanceId!)!
      const upgrade = recent.get(upgradeId) ?? (await client.instanceUpgrades(instance.id)).upgrades.find((u) => u.id === upgradeId)
      if (!upgrade || !isFinished(upgrade.status)) continue
      const backupAt = upgrade.status === 'rolled-back' ? await backupTime(instance.id, upgrade, client) : null
      const ticket = instance.phase === 'failed' && instance.failureTicketId ? await db().ticket.findUnique({ where: { id: instance.failureTicketId }, select: { id: true, number: true } }) : null
      await db().$transaction((tx) => mailUpgradeEnded(tx, instance, { upgrade, backupAt }, { phase: instance.phase, url: instance.url ?? '', ticket }))
    }
  } catch (error) {
    // The next pass asks again; the watcher says when the provisioner is away.
    if (error instanceof ProvisionerUnavailable) return
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error }, 'could not read the upgrades from the provisioner to follow them up')
      return
    }
    throw error
  }
}

function instanceIdOf(data: unknown): string | null {
  const id = data && typeof data === 'object' && 'instanceId' in data ? data.instanceId : null
  return typeof id === 'string' ? id : null
}

/** When the upgrade's backup was made; the upgrade's start when the backup cannot be read (it was made right then). */
async function backupTime(instanceId: string, upgrade: UpgradeView, client: ProvisionerClient) {
  try {
    const { backups } = await client.backups(instanceId)
    return backups.find((b) => b.id === upgrade.backupId)?.startedAt ?? upgrade.startedAt
  } catch (error) {
    if (error instanceof ProvisionerUnavailable || error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) return upgrade.startedAt
    throw error
  }
}
