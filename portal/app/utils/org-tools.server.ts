import type { Organization } from '~/generated/prisma/client'
import { db } from './db.server'
import { env } from './env.server'
import type { Language } from './i18n'
import { recordObservation, toolName, trackedInstances } from './instances.server'
import { logger } from './logger.server'
import { provisioner, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable, type ProvisionerClient } from './provisioner.server'
import { quotaUsage } from './requests.server'

/**
 * Asks the provisioner for the organisation's instances and stores what it
 * says, so a page shows the current phase rather than the watcher's last
 * look. Returns false when the provisioner cannot be reached; the page then
 * shows the stored state and says so.
 */
export async function refreshInstances(organizationId: string, client: ProvisionerClient = provisioner()): Promise<boolean> {
  const tracked = await db().instance.findMany({
    where: { organizationId, ...trackedInstances },
    select: { id: true },
  })
  if (tracked.length === 0) return true
  try {
    const views = new Map((await client.listInstances(organizationId)).map((v) => [v.id, v]))
    for (const { id } of tracked) {
      const view = views.get(id)
      if (view) await recordObservation(id, view)
    }
    return true
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return false
    // A wrong token or a contract mismatch is for the operators to fix; the page still shows what is stored.
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.error({ err: error, organizationId }, 'could not read the instances from the provisioner')
      return false
    }
    throw error
  }
}

/** The organisation's tools (live, and removed ones whose data is still kept) and its open or recently refused requests. */
export async function organisationTools(organization: Organization, lang: Language) {
  const reachable = await refreshInstances(organization.id)
  const keptSince = new Date(Date.now() - env().REMOVED_VOLUME_GRACE_DAYS * 86400_000)
  const instances = await db().instance.findMany({
    where: { organizationId: organization.id, OR: [{ removedAt: null }, { removedAt: { gt: keptSince } }] },
    orderBy: [{ removedAt: { sort: 'desc', nulls: 'first' } }, { createdAt: 'asc' }],
  })
  const requests = await db().toolRequest.findMany({
    where: {
      organizationId: organization.id,
      OR: [{ status: 'PENDING' }, { status: 'REJECTED', decidedAt: { gt: new Date(Date.now() - 30 * 86400_000) } }],
    },
    include: { requestedBy: { select: { name: true } } },
    orderBy: { createdAt: 'desc' },
  })
  return {
    reachable,
    usage: { used: await quotaUsage(organization.id), quota: organization.instanceQuota },
    instances: instances.map((i) => ({
      id: i.id,
      tool: toolName(i.recipeId, lang),
      phase: i.phase,
      desiredState: i.desiredState,
      url: i.url,
      removed: i.removedAt !== null,
      purgeAt: i.purgeAt?.toISOString() ?? null,
    })),
    requests: requests.map((r) => ({
      id: r.id,
      tool: toolName(r.recipeId, lang),
      status: r.status,
      reason: r.reason,
      requestedBy: r.requestedBy?.name ?? '',
      createdAt: r.createdAt.toISOString(),
    })),
  }
}
