import { requestedBy } from './backups.server'
import { db } from './db.server'
import type { Language } from './i18n'
import { toolName, type Actor } from './instances.server'
import { logger } from './logger.server'
import {
  provisioner,
  ProvisionerProtocolError,
  ProvisionerRefused,
  ProvisionerUnavailable,
  type AvailableUpgrade,
  type ProvisionerClient,
  type UpgradeOverview,
  type UpgradesStarted,
  type UpgradeStatus,
  type UpgradeView,
} from './provisioner.server'
import { mailUpgradeAhead } from './upgrade-mails.server'
import { isFinished } from './upgrade-status'

// Upgrades of instances to their recipe's newer version: what operators see
// and start, and how the portal learns that one has ended. The provisioner
// does the work (a checked backup, the new version, a roll-back if it is not
// healthy); the portal chooses, audits and tells the organisations' admins.

/** Which organisation and tool a row is about, with the names the portal knows them by. */
export type UpgradePlace = {
  instanceId: string
  organizationId: string
  org: { name: string; slug: string } | null
  recipe: string
  tool: string
}

export type AvailableRow = UpgradePlace & { from: string; to: string; ready: boolean; underWay: UpgradeStatus | null }
export type RecentRow = UpgradePlace & { id: string; from: string; to: string; status: UpgradeStatus; error: string | null; createdAt: string; finishedAt: string | null }

/** Names each upgrade or refusal's organisation (when the portal knows it) and tool. */
export async function placesOf(list: { organizationId: string }[], lang: Language) {
  const organizations = await db().organization.findMany({
    where: { id: { in: [...new Set(list.map((u) => u.organizationId))] } },
    select: { id: true, name: true, slug: true },
  })
  const known = new Map(organizations.map((o) => [o.id, { name: o.name, slug: o.slug }]))
  return (u: { instanceId: string; organizationId: string; recipe: string }): UpgradePlace => ({
    instanceId: u.instanceId,
    organizationId: u.organizationId,
    org: known.get(u.organizationId) ?? null,
    recipe: u.recipe,
    tool: toolName(u.recipe, lang),
  })
}

/** How many of the recent upgrades the operators' page lists. */
const SHOWN_RECENT = 50

/** The status of the instance's upgrade that has not finished yet, if one is queued or running. */
function underWay(overview: UpgradeOverview, instanceId: string): UpgradeStatus | null {
  return overview.upgrades.find((u) => u.instanceId === instanceId && !isFinished(u.status))?.status ?? null
}

/** Available upgrades that can start now: the instance is ready and no upgrade of it is queued or running. */
export function upgradable(overview: UpgradeOverview): AvailableUpgrade[] {
  return overview.available.filter((a) => a.ready && underWay(overview, a.instanceId) === null)
}

/**
 * The operators' page: the available upgrades (by tool, then organisation),
 * the tools with several of them, and the recent upgrades, with the portal's
 * names for organisations and tools.
 */
export async function upgradesForOperator(lang: Language, client: ProvisionerClient = provisioner()) {
  const overview = await client.upgrades()
  const place = await placesOf([...overview.available, ...overview.upgrades], lang)
  const available: AvailableRow[] = overview.available
    .map((a) => ({ ...place(a), from: a.fromVersion, to: a.toVersion, ready: a.ready, underWay: underWay(overview, a.instanceId) }))
    .sort((a, b) => a.tool.localeCompare(b.tool) || (a.org?.name ?? a.organizationId).localeCompare(b.org?.name ?? b.organizationId))
  const ready = upgradable(overview)
  const tools = [...new Set(available.map((a) => a.recipe))]
  return {
    available,
    readyCount: ready.length,
    /** Tools with several available upgrades, for "Upgrade all of <tool>": how many of them can start now. */
    groups: tools
      .map((recipe) => ({ recipe, tool: toolName(recipe, lang), listed: available.filter((a) => a.recipe === recipe).length, count: ready.filter((a) => a.recipe === recipe).length }))
      .filter((g) => g.listed > 1 && g.count > 0)
      .map(({ recipe, tool, count }) => ({ recipe, tool, count })),
    recent: overview.upgrades.slice(0, SHOWN_RECENT).map(
      (u): RecentRow => ({
        ...place(u),
        id: u.id,
        from: u.fromVersion,
        to: u.toVersion,
        status: u.status,
        error: u.error,
        createdAt: u.createdAt,
        finishedAt: u.finishedAt,
      }),
    ),
    running: overview.upgrades.some((u) => !isFinished(u.status)),
  }
}

/** What an operator asked for on the page. */
export type UpgradeChoice = { kind: 'selected'; instanceIds: string[] } | { kind: 'all' } | { kind: 'tool'; recipe: string }

/**
 * The instances a choice comes to: the chosen ones (the form checked them
 * against the available ones), or for "all" and "all of a tool" those that
 * can start now.
 */
export function resolveChoice(choice: UpgradeChoice, overview: UpgradeOverview): string[] {
  if (choice.kind === 'selected') return [...new Set(choice.instanceIds)]
  return upgradable(overview)
    .filter((a) => choice.kind === 'all' || a.recipe === choice.recipe)
    .map((a) => a.instanceId)
}

/**
 * Asks the provisioner to upgrade these instances, then, in one
 * transaction, audits the request and mails the admins of every queued
 * instance that its tool will be upgraded. Refusals come back per instance.
 */
export async function requestUpgrades(operator: Actor, instanceIds: string[], client: ProvisionerClient = provisioner()): Promise<UpgradesStarted> {
  const started = await client.startUpgrades(instanceIds, requestedBy(operator))
  await db().$transaction(async (tx) => {
    await tx.auditEntry.create({
      data: {
        actorId: operator.userId,
        action: 'upgrade.request',
        targetType: 'platform',
        targetId: 'upgrades',
        data: {
          instanceIds,
          queued: started.queued.map((u) => ({ instanceId: u.instanceId, upgradeId: u.id, from: u.fromVersion, to: u.toVersion })),
          refused: started.refused.map((r) => ({ instanceId: r.instanceId, code: r.code })),
        },
      },
    })
    for (const upgrade of started.queued) await mailUpgradeAhead(tx, upgrade)
  })
  return started
}

/** How many upgrades the instance page lists. */
const SHOWN_ON_PAGE = 5

/** The upgrades part of the instance page: the latest few, or why they cannot be shown. */
export type PageUpgrades = { state: 'listed'; upgrades: UpgradeView[]; total: number } | { state: 'unreachable' | 'unreadable' }

/** The instance's upgrades for its page; the page still renders when the provisioner cannot say. */
export async function upgradesForPage(instanceId: string, client: ProvisionerClient = provisioner()): Promise<PageUpgrades> {
  try {
    const { upgrades } = await client.instanceUpgrades(instanceId)
    return { state: 'listed', upgrades: upgrades.slice(0, SHOWN_ON_PAGE), total: upgrades.length }
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return { state: 'unreachable' }
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error, instanceId }, 'could not read the upgrades of an instance from the provisioner')
      return { state: 'unreadable' }
    }
    throw error
  }
}
