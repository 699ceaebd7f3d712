import { readingLanguage, textIn } from '@commons/academy/rules'
import { instanceIdPattern, type PutInstanceBody } from '@commons/provisioner/contract'
import { randomBytes } from 'node:crypto'
import type { DesiredState, Instance, Organization, Prisma } from '~/generated/prisma/client'
import { findRecipe } from './catalog.server'
import { db } from './db.server'
import { enqueueMail } from './email.server'
import { env } from './env.server'
import { isLanguage, translator, type Language, type MessageKey } from './i18n'
import { logger } from './logger.server'
import {
  provisioner,
  ProvisionerProtocolError,
  ProvisionerRefused,
  ProvisionerUnavailable,
  type InstanceView,
  type ProvisionerClient,
} from './provisioner.server'
import { completedBy, onboardingCoursesFor, type OnboardingCourse } from './academy/onboarding.server'
import { openFailureTicket } from './helpdesk/failure-ticket.server'
import { stepLabel } from './steps'
import { mailUpgradeEnded } from './upgrade-mails.server'
import { upgradeOutcome } from './upgrade-ends.server'

type Tx = Prisma.TransactionClient

/** Phases after which the provisioner has nothing more to do for an instance. */
const FINAL_PHASES = ['removed', 'purged']

/** Instances the provisioner may still have to act on: not taken on yet, or not finished. */
export const trackedInstances = { OR: [{ phase: null }, { phase: { notIn: FINAL_PHASES } }] } satisfies Prisma.InstanceWhereInput

/** A refusal about an instance the person can act on; `key` is the message shown to them. */
export class InstanceError extends Error {
  constructor(
    readonly key: Extract<MessageKey, `instance.error.${string}` | 'request.error.notOrgAdmin'>,
    readonly vars: Record<string, string> = {},
    readonly status = 409,
  ) {
    super(key)
    this.name = 'InstanceError'
  }
}

/** The instance's name for people: the recipe's name in their language, or its id for a recipe gone from the catalog. */
export function toolName(recipeId: string, lang: Language) {
  return findRecipe(recipeId)?.texts[lang].name ?? recipeId
}

/**
 * A DNS-safe id the provisioner accepts: `<tool>-<org>`, and a short random
 * suffix when that is taken (an earlier instance keeps its id after removal).
 */
export async function newInstanceId(recipeId: string, orgSlug: string, tx: Tx = db()): Promise<string> {
  const base = `${recipeId}-${orgSlug}`.slice(0, 63).replace(/-+$/, '')
  for (let attempt = 0; attempt < 8; attempt++) {
    const id = attempt === 0 ? base : `${base.slice(0, 57).replace(/-+$/, '')}-${randomBytes(4).toString('hex').slice(0, 5)}`
    if (!instanceIdPattern.test(id)) continue
    if (!(await tx.instance.findUnique({ where: { id }, select: { id: true } }))) return id
  }
  throw new Error(`no free instance id for ${recipeId} in ${orgSlug}`)
}

/** What the provisioner should have for a live instance. */
export function desiredForProvisioner(instance: Instance): PutInstanceBody['state'] | 'removed' {
  return instance.desiredState === 'REMOVED' ? 'removed' : instance.desiredState === 'SUSPENDED' ? 'suspended' : 'running'
}

export function putBody(instance: Instance, organization: Organization): PutInstanceBody {
  const state = desiredForProvisioner(instance)
  return {
    organization: { id: organization.id, slug: organization.slug, name: organization.name },
    recipe: instance.recipeId,
    adminEmail: instance.adminEmail,
    state: state === 'removed' ? 'suspended' : state,
  }
}

export type Delivery = { outcome: 'delivered'; view: InstanceView | null } | { outcome: 'unavailable' } | { outcome: 'refused'; code: string }

/**
 * Sends the portal's desired state of one instance to the provisioner (PUT,
 * or DELETE once removed) and records what came back. Never throws for the
 * provisioner's sake: an unreachable or refusing provisioner is written on
 * the instance (lastSyncError) and the watcher tries again.
 */
export async function deliverDesiredState(instanceId: string, client: ProvisionerClient = provisioner()): Promise<Delivery> {
  const instance = await db().instance.findUniqueOrThrow({ where: { id: instanceId }, include: { organization: true } })
  try {
    let view: InstanceView | null
    if (instance.desiredState === 'REMOVED') {
      // Also when the portal never heard back from a PUT: the provisioner may have it all the same.
      view = await client.deleteInstance(instance.id).catch(nullOn404)
    } else {
      view = await client.putInstance(instance.id, putBody(instance, instance.organization))
    }
    await recordObservation(instance.id, view, client)
    return { outcome: 'delivered', view }
  } catch (error) {
    return recordSyncFailure([instance.id], error)
  }
}

function nullOn404(error: unknown): null {
  if (error instanceof ProvisionerRefused && error.status === 404) return null
  throw error
}

/** Writes why the provisioner could not be told; rethrows what is not the provisioner's doing. */
export async function recordSyncFailure(instanceIds: string[], error: unknown): Promise<Exclude<Delivery, { outcome: 'delivered' }>> {
  let message: string
  let result: Exclude<Delivery, { outcome: 'delivered' }>
  if (error instanceof ProvisionerUnavailable) {
    message = 'the tool service is not reachable'
    result = { outcome: 'unavailable' }
  } else if (error instanceof ProvisionerRefused) {
    message = `refused: ${error.code}: ${error.message}`
    result = { outcome: 'refused', code: error.code }
  } else if (error instanceof ProvisionerProtocolError) {
    message = error.message
    result = { outcome: 'refused', code: 'protocol' }
  } else {
    throw error
  }
  const text = message.slice(0, 500)
  const { count } = await db().instance.updateMany({
    where: { id: { in: instanceIds }, OR: [{ lastSyncError: null }, { lastSyncError: { not: text } }] },
    data: { lastSyncError: text },
  })
  // The watcher retries every few seconds: say it in the log when it is new, not on every try.
  if (count > 0 && result.outcome === 'refused') logger.warn({ err: error, instanceIds }, 'the provisioner refused the desired state')
  return result
}

/**
 * Stores what the provisioner reports (null: it does not know the instance,
 * which for a removed one means there is nothing left). A change of phase is
 * written with a compare-and-set on the old phase, so of two portal processes
 * only one sends the mail that goes with it.
 *
 * Leaving the upgrading phase ends an upgrade: the admins get the mail of
 * its outcome (from the upgrade's own record) instead of the ready or failed
 * mail. Until that record says it has finished, the phase stays upgrading
 * here and the next observation looks again: the provisioner passes through
 * ready, failed and restoring on its way back from a failed upgrade, and the
 * mail must tell the end, once. (An upgrade that ends with no phase change
 * is followed up by the watcher: followUpAnnouncedUpgrades.)
 */
export async function recordObservation(instanceId: string, view: InstanceView | null, client: ProvisionerClient = provisioner()) {
  const before = await db().instance.findUnique({ where: { id: instanceId } })
  if (!before) return
  const now = new Date()
  if (!view) {
    if (before.desiredState === 'REMOVED' && before.phase !== 'removed') {
      await db().instance.updateMany({ where: { id: instanceId, phase: before.phase }, data: { phase: 'removed', lastSyncError: null, lastSyncAt: now } })
    }
    return
  }
  const data = {
    phase: view.phase,
    url: view.url || null,
    failureStep: view.failure?.step ?? null,
    failureMessage: view.failure?.message ?? null,
    purgeAt: view.purgeAt ? new Date(view.purgeAt) : null,
    lastSyncError: null,
    lastSyncAt: now,
  }
  if (before.phase === view.phase) {
    await db().instance.update({ where: { id: instanceId }, data })
    return
  }
  const upgrade = before.phase === 'upgrading' ? await upgradeOutcome(instanceId, client) : null
  if (upgrade?.state === 'pending') {
    await db().instance.update({ where: { id: instanceId }, data: { ...data, phase: before.phase } })
    return
  }
  const ended = upgrade?.state === 'ended' ? upgrade : null
  await db().$transaction(async (tx) => {
    const { count } = await tx.instance.updateMany({ where: { id: instanceId, phase: before.phase }, data })
    if (count === 0) return
    // Back from an upgrade is not "ready for the first time": that mail went long ago.
    if (view.phase === 'ready' && !before.readyMailedAt && before.phase !== 'upgrading') {
      await tx.instance.update({ where: { id: instanceId }, data: { readyMailedAt: now } })
      await mailAdmins(tx, before, 'ready', { url: view.url })
    }
    let ticket: { id: string; number: number } | null = null
    if (view.phase === 'failed') {
      ticket = await openFailureTicket(tx, before, view.failure, ended?.upgrade)
      // A failed upgrade has a mail of its own, which names the ticket.
      if (ended?.upgrade.status !== 'failed') await mailAdmins(tx, before, 'failed', { failure: view.failure, ticket })
    }
    if (ended) await mailUpgradeEnded(tx, before, ended, { phase: view.phase, url: view.url, ticket })
  })
}

async function mailAdmins(
  tx: Tx,
  instance: Instance,
  kind: 'ready' | 'failed',
  detail: { url?: string; failure?: InstanceView['failure']; ticket?: { id: string; number: number } },
) {
  const organization = await tx.organization.findUniqueOrThrow({ where: { id: instance.organizationId } })
  const admins = await tx.membership.findMany({ where: { organizationId: organization.id, role: 'ADMIN' }, include: { user: true } })
  // A ready tool with an onboarding course: offered to whoever has not completed it yet.
  const course = kind === 'ready' ? (await onboardingCoursesFor([instance.recipeId], tx)).get(instance.recipeId) : undefined
  const done = course ? await completedBy(course.course.id, admins.map((a) => a.user.id), tx) : new Set<string>()
  for (const { user } of admins) {
    const lang: Language = isLanguage(user.locale) ? user.locale : 'nl'
    const t = translator(lang)
    const vars = {
      tool: toolName(instance.recipeId, lang),
      org: organization.name,
      url: detail.url ?? '',
      link: `${env().PORTAL_URL}/organisations/${organization.slug}/instances/${instance.id}`,
      reason: detail.failure ? t('instance.failure.body', { step: stepLabel(detail.failure.step, t), message: detail.failure.message }) : '',
    }
    await enqueueMail(
      kind === 'ready'
        ? {
            to: user.email,
            subject: t('mail.instance.ready.subject', vars),
            text: [
              t('mail.instance.ready.body', vars),
              ...(course && !done.has(user.id) ? ['', t('insights.mail.ready.course', { ...courseVars(course, lang), org: organization.name })] : []),
            ].join('\n'),
          }
        : {
            to: user.email,
            subject: t('mail.instance.failed.subject', vars),
            text: [
              t('mail.instance.failed.body', vars),
              ...(detail.ticket ? ['', t('helpdesk.failure.mailLine', { number: String(detail.ticket.number), link: `${env().PORTAL_URL}/tickets/${detail.ticket.id}` })] : []),
            ].join('\n'),
          },
      tx,
    )
  }
  if (course) await offerCourseToMembers(tx, instance, organization, course, detail.url ?? '')
}

/** The title of an onboarding course in the reader's language (or the course's first) and its page. */
function courseVars(course: OnboardingCourse, lang: Language) {
  const { parsed } = course.version
  return { title: textIn(parsed.title, readingLanguage(parsed, lang), parsed.languages), link: `${env().PORTAL_URL}/academy/${course.course.slug}` }
}

/**
 * Members who are not admins get no ready mail (its link is to the instance's
 * admin page); when the tool has an onboarding course, they get a mail of
 * their own offering it, unless they completed it already.
 */
async function offerCourseToMembers(tx: Tx, instance: Instance, organization: Organization, course: OnboardingCourse, url: string) {
  const members = await tx.membership.findMany({ where: { organizationId: organization.id, role: 'MEMBER' }, include: { user: true } })
  const done = await completedBy(course.course.id, members.map((m) => m.user.id), tx)
  for (const { user } of members) {
    if (done.has(user.id)) continue
    const lang: Language = isLanguage(user.locale) ? user.locale : 'nl'
    const t = translator(lang)
    const vars = { tool: toolName(instance.recipeId, lang), org: organization.name, url, ...courseVars(course, lang) }
    await enqueueMail({ to: user.email, subject: t('insights.mail.offer.subject', vars), text: t('insights.mail.offer.body', vars) }, tx)
  }
}

async function audit(tx: Tx, actorId: string, action: string, instance: Instance, data?: Prisma.InputJsonValue) {
  await tx.auditEntry.create({ data: { actorId, action, targetType: 'instance', targetId: instance.id, data: data ?? { organizationId: instance.organizationId } } })
}

/** The instance with that id in that organisation, or a 404: an id in a URL never reaches another organisation's instance. */
export async function instanceOf(organizationId: string, instanceId: string | undefined) {
  const instance = instanceId ? await db().instance.findFirst({ where: { id: instanceId, organizationId } }) : null
  if (!instance) throw new Response('Not Found', { status: 404 })
  return instance
}

export type Actor = { userId: string }

/** Checked again inside the change itself: a role taken away a moment ago counts. */
export async function requireAdminOf(tx: Tx, actor: Actor, organization: Organization) {
  const membership = await tx.membership.findUnique({
    where: { userId_organizationId: { userId: actor.userId, organizationId: organization.id } },
  })
  if (membership?.role !== 'ADMIN') throw new InstanceError('request.error.notOrgAdmin', { org: organization.name }, 403)
}

/**
 * Changes what the portal wants for an instance (running, suspended,
 * removed), audited, then tells the provisioner. The change stays even when
 * the provisioner is unreachable: the watcher delivers it later.
 */
export async function setDesiredState(
  actor: Actor,
  organization: Organization,
  instanceId: string,
  desired: DesiredState,
  client: ProvisionerClient = provisioner(),
): Promise<Delivery> {
  await db().$transaction(async (tx) => {
    await requireAdminOf(tx, actor, organization)
    const instance = await tx.instance.findFirst({ where: { id: instanceId, organizationId: organization.id } })
    if (!instance) throw new InstanceError('instance.error.notFound', {}, 404)
    if (instance.desiredState === 'REMOVED') throw new InstanceError('instance.error.removed')
    if (instance.desiredState === desired) return
    await tx.instance.update({
      where: { id: instance.id },
      data: { desiredState: desired, ...(desired === 'REMOVED' ? { removedAt: new Date() } : {}) },
    })
    const action = desired === 'REMOVED' ? 'instance.remove' : desired === 'SUSPENDED' ? 'instance.suspend' : 'instance.resume'
    await audit(tx, actor.userId, action, instance)
  })
  return deliverDesiredState(instanceId, client)
}

/** Restarts the containers. Not a desired state: when the provisioner is unreachable, nothing is kept for later. */
export async function restartInstance(actor: Actor, organization: Organization, instanceId: string, client: ProvisionerClient = provisioner()) {
  const instance = await db().$transaction(async (tx) => {
    await requireAdminOf(tx, actor, organization)
    const found = await tx.instance.findFirst({ where: { id: instanceId, organizationId: organization.id } })
    if (!found) throw new InstanceError('instance.error.notFound', {}, 404)
    if (found.desiredState === 'REMOVED') throw new InstanceError('instance.error.removed')
    if (found.phase === null) throw new InstanceError('instance.error.notProvisioned')
    return found
  })
  const view = await client.restartInstance(instance.id)
  await db().auditEntry.create({ data: { actorId: actor.userId, action: 'instance.restart', targetType: 'instance', targetId: instance.id, data: { organizationId: organization.id } } })
  await recordObservation(instance.id, view, client)
  return view
}
