import type { Organization, Prisma, ToolRequest } from '~/generated/prisma/client'
import { findRecipe, type Recipe } from './catalog.server'
import { db } from './db.server'
import { enqueueMail } from './email.server'
import { env } from './env.server'
import { isLanguage, translator, type Language, type MessageKey } from './i18n'
import { deliverDesiredState, newInstanceId, toolName, type Delivery } from './instances.server'
import { provisioner, type ProvisionerClient } from './provisioner.server'

// The rules for asking for a tool, deciding on a request and voting for a
// tool we do not host yet. Every rule is checked here, on the server, and a
// refusal changes nothing: checks and changes run in one transaction that
// holds the organisation's row lock, so two requests at once cannot both
// pass the duplicate and quota checks.

type Tx = Prisma.TransactionClient

export type RequestErrorKey = Extract<
  MessageKey,
  | 'request.error.unknownTool'
  | 'request.error.notHostable'
  | 'request.error.alreadyRequested'
  | 'request.error.alreadyRunning'
  | 'request.error.overQuota'
  | 'request.error.notOrgAdmin'
  | 'request.error.notPending'
  | 'request.error.notFound'
  | 'catalog.demand.hosted'
>

/** A refusal the person can act on: `key` is the message, `status` the HTTP status of the page. */
export class RequestError extends Error {
  constructor(
    readonly key: RequestErrorKey,
    readonly vars: Record<string, string | number> = {},
    readonly status = 409,
  ) {
    super(key)
    this.name = 'RequestError'
  }
}

export type Actor = { userId: string }

/** A recipe that exists and that organisations may see (test recipes hidden unless enabled). */
function knownRecipe(recipeId: string): Recipe {
  const recipe = findRecipe(recipeId)
  if (!recipe) throw new RequestError('request.error.unknownTool', {}, 404)
  return recipe
}

function hostableRecipe(recipeId: string, lang: Language = 'nl'): Recipe {
  const recipe = knownRecipe(recipeId)
  if (!recipe.hostable) throw new RequestError('request.error.notHostable', { tool: recipe.texts[lang].name })
  return recipe
}

/** Whether requests for this tool wait for an operator: the operator's choice, else REQUESTS_NEED_APPROVAL. */
export async function needsApproval(recipeId: string, tx: Tx = db()): Promise<boolean> {
  const policy = await tx.catalogPolicy.findUnique({ where: { recipeId } })
  return policy?.needsApproval ?? env().REQUESTS_NEED_APPROVAL
}

/** Live instances plus pending requests: what counts against the organisation's quota. */
export async function quotaUsage(organizationId: string, tx: Tx = db()) {
  const [instances, pending] = await Promise.all([
    tx.instance.count({ where: { organizationId, removedAt: null } }),
    tx.toolRequest.count({ where: { organizationId, status: 'PENDING' } }),
  ])
  return instances + pending
}

async function lockOrganization(tx: Tx, organizationId: string) {
  await tx.$queryRaw`SELECT id FROM "Organization" WHERE id = ${organizationId} FOR UPDATE`
}

export type RequestOutcome =
  | { kind: 'pending'; request: ToolRequest }
  | { kind: 'approved'; request: ToolRequest; instanceId: string; delivery: Delivery }

/**
 * An organisation admin asks for a hosted tool. With approval needed the
 * request waits for an operator; otherwise it is approved at once and the
 * provisioner is told (an unreachable provisioner leaves the instance
 * waiting; the watcher delivers it later).
 */
export async function requestTool(opts: {
  actor: Actor
  organization: Organization
  recipeId: string
  lang?: Language
  client?: ProvisionerClient
}): Promise<RequestOutcome> {
  const { actor, organization, recipeId } = opts
  const lang = opts.lang ?? 'nl'
  const recipe = hostableRecipe(recipeId, lang)
  const tool = recipe.texts[lang].name
  const created = await db().$transaction(async (tx) => {
    await lockOrganization(tx, organization.id)
    const membership = await tx.membership.findUnique({
      where: { userId_organizationId: { userId: actor.userId, organizationId: organization.id } },
      include: { user: true },
    })
    if (membership?.role !== 'ADMIN') throw new RequestError('request.error.notOrgAdmin', { org: organization.name }, 403)
    const vars = { tool, org: organization.name }
    if (await tx.instance.findFirst({ where: { organizationId: organization.id, recipeId, removedAt: null } })) {
      throw new RequestError('request.error.alreadyRunning', vars)
    }
    if (await tx.toolRequest.findFirst({ where: { organizationId: organization.id, recipeId, status: 'PENDING' } })) {
      throw new RequestError('request.error.alreadyRequested', vars)
    }
    const quota = (await tx.organization.findUniqueOrThrow({ where: { id: organization.id } })).instanceQuota
    const used = await quotaUsage(organization.id, tx)
    if (used >= quota) throw new RequestError('request.error.overQuota', { ...vars, quota, used })

    const automatic = !(await needsApproval(recipeId, tx))
    const request = await tx.toolRequest.create({
      data: {
        organizationId: organization.id,
        recipeId,
        requestedById: actor.userId,
        ...(automatic ? { status: 'APPROVED' as const, decidedAt: new Date() } : {}),
      },
    })
    await tx.auditEntry.create({
      data: { actorId: actor.userId, action: 'tool-request.create', targetType: 'organization', targetId: organization.id, data: { requestId: request.id, recipeId, automatic } },
    })
    if (!automatic) return { request, instanceId: null }
    const instance = await createInstance(tx, request, organization, membership.user.email)
    return { request, instanceId: instance.id }
  })
  if (!created.instanceId) return { kind: 'pending', request: created.request }
  const delivery = await deliverDesiredState(created.instanceId, opts.client ?? provisioner())
  return { kind: 'approved', request: created.request, instanceId: created.instanceId, delivery }
}

async function createInstance(tx: Tx, request: ToolRequest, organization: Organization, adminEmail: string) {
  return tx.instance.create({
    data: {
      id: await newInstanceId(request.recipeId, organization.slug, tx),
      organizationId: organization.id,
      recipeId: request.recipeId,
      requestId: request.id,
      adminEmail,
    },
  })
}

async function pendingRequest(tx: Tx, requestId: string) {
  const request = await tx.toolRequest.findUnique({ where: { id: requestId }, include: { organization: true, requestedBy: true } })
  if (!request) throw new RequestError('request.error.notFound', {}, 404)
  if (request.status !== 'PENDING') throw new RequestError('request.error.notPending')
  return request
}

/** Claims a pending request for a decision; of two operators deciding at once, one wins. */
async function decide(tx: Tx, requestId: string, data: Prisma.ToolRequestUncheckedUpdateManyInput) {
  const { count } = await tx.toolRequest.updateMany({ where: { id: requestId, status: 'PENDING' }, data })
  if (count === 0) throw new RequestError('request.error.notPending')
}

/**
 * An operator approves: the request is approved and the instance recorded in
 * one transaction, then the provisioner is told. When it cannot be reached
 * the approval stands and the instance waits (phase null); the watcher
 * delivers it as soon as the provisioner answers.
 */
export async function approveRequest(operator: Actor, requestId: string, client: ProvisionerClient = provisioner()) {
  const { instanceId, request } = await db().$transaction(async (tx) => {
    const request = await pendingRequest(tx, requestId)
    hostableRecipe(request.recipeId)
    await lockOrganization(tx, request.organizationId)
    await decide(tx, request.id, { status: 'APPROVED', decidedById: operator.userId, decidedAt: new Date() })
    // The requester is the instance's admin address; when they are gone, the operator's stands in.
    const adminEmail = request.requestedBy?.email ?? (await tx.user.findUniqueOrThrow({ where: { id: operator.userId } })).email
    const instance = await createInstance(tx, request, request.organization, adminEmail)
    await tx.auditEntry.create({
      data: {
        actorId: operator.userId,
        action: 'tool-request.approve',
        targetType: 'organization',
        targetId: request.organizationId,
        data: { requestId: request.id, recipeId: request.recipeId, instanceId: instance.id },
      },
    })
    return { instanceId: instance.id, request }
  })
  const delivery = await deliverDesiredState(instanceId, client)
  return { instanceId, organization: request.organization, recipeId: request.recipeId, delivery }
}

/** An operator rejects with a reason; the admins see it on the organisation page and the requester gets a mail. */
export async function rejectRequest(operator: Actor, requestId: string, reason: string) {
  return db().$transaction(async (tx) => {
    const request = await pendingRequest(tx, requestId)
    await decide(tx, request.id, { status: 'REJECTED', decidedById: operator.userId, decidedAt: new Date(), reason })
    await tx.auditEntry.create({
      data: {
        actorId: operator.userId,
        action: 'tool-request.reject',
        targetType: 'organization',
        targetId: request.organizationId,
        data: { requestId: request.id, recipeId: request.recipeId, reason },
      },
    })
    if (request.requestedBy) {
      const lang: Language = isLanguage(request.requestedBy.locale) ? request.requestedBy.locale : 'nl'
      const t = translator(lang)
      const vars = {
        tool: toolName(request.recipeId, lang),
        org: request.organization.name,
        reason,
        link: `${env().PORTAL_URL}/organisations/${request.organization.slug}`,
      }
      await enqueueMail({ to: request.requestedBy.email, subject: t('mail.request.rejected.subject', vars), text: t('mail.request.rejected.body', vars) }, tx)
    }
    return request
  })
}

/** An organisation admin withdraws a pending request of their organisation. */
export async function cancelRequest(actor: Actor, organization: Organization, requestId: string) {
  await db().$transaction(async (tx) => {
    const membership = await tx.membership.findUnique({
      where: { userId_organizationId: { userId: actor.userId, organizationId: organization.id } },
    })
    if (membership?.role !== 'ADMIN') throw new RequestError('request.error.notOrgAdmin', { org: organization.name }, 403)
    const request = await tx.toolRequest.findFirst({ where: { id: requestId, organizationId: organization.id } })
    if (!request) throw new RequestError('request.error.notFound', {}, 404)
    if (request.status !== 'PENDING') throw new RequestError('request.error.notPending')
    await decide(tx, request.id, { status: 'CANCELLED', decidedById: actor.userId, decidedAt: new Date() })
    await tx.auditEntry.create({
      data: { actorId: actor.userId, action: 'tool-request.cancel', targetType: 'organization', targetId: organization.id, data: { requestId, recipeId: request.recipeId } },
    })
  })
}

/** "We want this too", once per person per tool we do not host; `want: false` takes the vote back. */
export async function setDemand(actor: Actor, recipeId: string, want: boolean, lang: Language = 'nl') {
  const recipe = knownRecipe(recipeId)
  if (recipe.hostable) throw new RequestError('catalog.demand.hosted', { tool: recipe.texts[lang].name })
  if (want) {
    await db().toolDemand.upsert({
      where: { recipeId_userId: { recipeId, userId: actor.userId } },
      create: { recipeId, userId: actor.userId },
      update: {},
    })
  } else {
    await db().toolDemand.deleteMany({ where: { recipeId, userId: actor.userId } })
  }
}

/** Votes per tool, and the tools this person voted for. */
export async function demandSummary(userId?: string) {
  const counts = await db().toolDemand.groupBy({ by: ['recipeId'], _count: { _all: true } })
  const mine = userId ? await db().toolDemand.findMany({ where: { userId }, select: { recipeId: true } }) : []
  return {
    counts: new Map(counts.map((c) => [c.recipeId, c._count._all])),
    mine: new Set(mine.map((m) => m.recipeId)),
  }
}

/** An operator decides whether requests for a hosted tool wait for approval. */
export async function setApprovalPolicy(operator: Actor, recipeId: string, required: boolean) {
  hostableRecipe(recipeId)
  await db().$transaction(async (tx) => {
    await tx.catalogPolicy.upsert({
      where: { recipeId },
      create: { recipeId, needsApproval: required, updatedById: operator.userId },
      update: { needsApproval: required, updatedById: operator.userId },
    })
    await tx.auditEntry.create({
      data: { actorId: operator.userId, action: 'catalog-policy.set', targetType: 'recipe', targetId: recipeId, data: { needsApproval: required } },
    })
  })
}

/** An operator sets how many tools an organisation may have (live tools plus open requests). */
export async function setInstanceQuota(operator: Actor, organizationId: string, quota: number) {
  await db().$transaction(async (tx) => {
    const before = await tx.organization.findUniqueOrThrow({ where: { id: organizationId } })
    await tx.organization.update({ where: { id: organizationId }, data: { instanceQuota: quota } })
    await tx.auditEntry.create({
      data: { actorId: operator.userId, action: 'organization.quota', targetType: 'organization', targetId: organizationId, data: { from: before.instanceQuota, to: quota } },
    })
  })
}
