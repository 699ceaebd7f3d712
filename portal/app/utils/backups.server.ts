import type { Instance, Organization, Prisma } from '~/generated/prisma/client'
import { db } from './db.server'
import { InstanceError, requireAdminOf, type Actor } from './instances.server'
import { logger } from './logger.server'
import {
  provisioner,
  ProvisionerProtocolError,
  ProvisionerRefused,
  ProvisionerUnavailable,
  type BackupView,
  type ProvisionerClient,
  type RestoreView,
} from './provisioner.server'

/** A backup as the instance page lists it: `earlier` when it is of a removed instance of the same tool. */
export type ListedBackup = BackupView & { earlier: boolean }

/** The provisioner's refusals a person can do something about, in their words (the rest stay ProvisionerRefused). */
const refusals: Record<string, { key: InstanceError['key']; status: number }> = {
  busy: { key: 'instance.error.busy', status: 409 },
  'not-running': { key: 'instance.error.notRunning', status: 409 },
  'backups-unavailable': { key: 'instance.error.backupsUnavailable', status: 503 },
  'not-restorable': { key: 'instance.error.backupNotRestorable', status: 409 },
}

function explained(error: unknown): never {
  const refusal = error instanceof ProvisionerRefused ? refusals[error.code] : undefined
  if (refusal) throw new InstanceError(refusal.key, {}, refusal.status)
  throw error
}

/** As explained; a 404 while restoring means the backup is not one this instance may use. */
function explainedRestore(error: unknown): never {
  if (error instanceof ProvisionerRefused && error.status === 404) throw new InstanceError('instance.error.backupNotFound', {}, 404)
  explained(error)
}

/**
 * Backups of the organisation's removed instances of the same tool: the
 * contract lets an instance restore those too (a tool removed by mistake and
 * requested again). Both sides must agree: the portal knows the instance as
 * removed, and the provisioner lists the backup under the organisation.
 */
export async function earlierBackups(instance: Instance, client: ProvisionerClient = provisioner()): Promise<BackupView[]> {
  const removed = await db().instance.findMany({
    where: { organizationId: instance.organizationId, recipeId: instance.recipeId, desiredState: 'REMOVED', id: { not: instance.id } },
    select: { id: true },
  })
  if (removed.length === 0) return []
  const ids = new Set(removed.map((r) => r.id))
  const backups = await client.organizationBackups(instance.organizationId)
  return backups.filter((b) => ids.has(b.instanceId) && b.organizationId === instance.organizationId && b.recipe === instance.recipeId)
}

/** The instance's own backups and those of its removed predecessors, newest first, and its restores. */
export async function instanceBackups(instance: Instance, client: ProvisionerClient = provisioner()) {
  const own = await client.backups(instance.id)
  const earlier = await earlierBackups(instance, client)
  const backups: ListedBackup[] = [...own.backups.map((b) => ({ ...b, earlier: false })), ...earlier.map((b) => ({ ...b, earlier: true }))]
  backups.sort((a, b) => b.startedAt.localeCompare(a.startedAt))
  return { backups, restores: own.restores }
}

/** How many backups and restores the instance page lists; the provisioner keeps more. */
const SHOWN_BACKUPS = 30
const SHOWN_RESTORES = 5

/**
 * The backups part of the instance page: listed, or why not — the
 * provisioner is unreachable, backups are not set up on it (unavailable), or
 * it refused or answered out of contract (unreadable).
 */
export type PageBackups =
  | { state: 'listed'; backups: ListedBackup[]; total: number; restores: (RestoreView & { backupStartedAt: string | null })[] }
  | { state: 'unreachable' | 'unavailable' | 'unreadable' }

/** The backups part of the instance page; the page still renders when the provisioner cannot say. */
export async function backupsForPage(instance: Instance, client: ProvisionerClient = provisioner()): Promise<PageBackups> {
  try {
    const { backups, restores } = await instanceBackups(instance, client)
    const startedAt = new Map(backups.map((b) => [b.id, b.startedAt]))
    return {
      state: 'listed',
      backups: backups.slice(0, SHOWN_BACKUPS),
      total: backups.length,
      restores: restores.slice(0, SHOWN_RESTORES).map((r) => ({ ...r, backupStartedAt: startedAt.get(r.backupId) ?? null })),
    }
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return { state: 'unreachable' }
    if (error instanceof ProvisionerRefused && error.code === 'backups-unavailable') return { state: 'unavailable' }
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error, instanceId: instance.id }, 'could not read the backups from the provisioner')
      return { state: 'unreadable' }
    }
    throw error
  }
}

/** How the provisioner's records name the person who asked: an id the portal's audit log resolves, not their address. */
export function requestedBy(actor: Actor) {
  return `portal-user:${actor.userId}`
}

/** The live instance of the organisation that an admin acts on (404 for any other id). */
async function liveInstance(actor: Actor, organization: Organization, instanceId: string) {
  return db().$transaction(async (tx) => {
    await requireAdminOf(tx, actor, organization)
    const found = await tx.instance.findFirst({ where: { id: instanceId, organizationId: organization.id } })
    if (!found) throw new InstanceError('instance.error.notFound', {}, 404)
    if (found.desiredState === 'REMOVED') throw new InstanceError('instance.error.removed')
    if (found.phase === null) throw new InstanceError('instance.error.notProvisioned')
    return found
  })
}

async function audit(actor: Actor, action: string, instance: Instance, data: Prisma.InputJsonObject) {
  await db().auditEntry.create({
    data: { actorId: actor.userId, action, targetType: 'instance', targetId: instance.id, data: { organizationId: instance.organizationId, ...data } },
  })
}

/** Backs the instance up now. The provisioner refuses when it is not running, busy, or backups are not set up. */
export async function requestBackup(actor: Actor, organization: Organization, instanceId: string, client: ProvisionerClient = provisioner()): Promise<BackupView> {
  const instance = await liveInstance(actor, organization, instanceId)
  const backup = await client.backUp(instance.id, requestedBy(actor)).catch(explained)
  await audit(actor, 'backup.request', instance, { backupId: backup.id })
  return backup
}

/**
 * Puts a backup back into the instance. The backup must be one the
 * provisioner lists for this instance or for a removed one of the same tool
 * in the same organisation; any other id is a 404, whoever's it is, before
 * anything is asked of the provisioner beyond those lists.
 */
export async function restoreBackup(
  actor: Actor,
  organization: Organization,
  instanceId: string,
  backupId: string,
  client: ProvisionerClient = provisioner(),
): Promise<{ restore: RestoreView; backup: BackupView }> {
  const instance = await liveInstance(actor, organization, instanceId)
  const { backups } = await instanceBackups(instance, client).catch(explainedRestore)
  const backup = backups.find((b) => b.id === backupId)
  if (!backup) throw new InstanceError('instance.error.backupNotFound', {}, 404)
  if (!backup.restorable) throw new InstanceError('instance.error.backupNotRestorable')
  const restore = await client.restore(instance.id, backup.id, requestedBy(actor)).catch(explainedRestore)
  await audit(actor, 'backup.restore', instance, { backupId: backup.id, restoreId: restore.id, safetyBackupId: restore.safetyBackupId })
  return { restore, backup }
}
