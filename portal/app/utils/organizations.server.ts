import { createHash, randomBytes } from 'node:crypto'
import type { z } from 'zod'
import { Prisma, type OrgRole } from '~/generated/prisma/client'
import { db } from './db.server'
import { enqueueMail } from './email.server'
import { env } from './env.server'
import type { invitationSchema, organizationDetailsSchema, organizationSchema } from './forms'
import { translator, type Language } from './i18n'
import { keycloakAdmin } from './keycloak.server'
import { logger } from './logger.server'

/** A failure the person can fix; `key` is the message shown to them. */
export class OrganizationError extends Error {
  constructor(
    readonly key:
      | 'org.error.slugTaken'
      | 'org.error.nameTaken'
      | 'org.error.keycloak'
      | 'org.error.lastAdmin'
      | 'org.error.notMember'
      | 'org.invite.alreadyMember'
      | 'invite.error.invalid'
      | 'invite.error.expired'
      | 'invite.error.used'
      | 'invite.error.revoked'
      | 'invite.error.otherEmail',
    readonly vars: Record<string, string> = {},
  ) {
    super(key)
  }
}

async function audit(actorId: string, action: string, targetType: string, targetId: string, data?: Prisma.InputJsonValue) {
  await db().auditEntry.create({ data: { actorId, action, targetType, targetId, data } })
}

/**
 * Creates the organisation in Keycloak first (so tokens and tool clients can
 * rely on it), then in our tables; if our side fails, the Keycloak
 * organization is removed again so nothing half-made stays behind.
 */
export async function createOrganization(userId: string, keycloakUserId: string, input: z.infer<typeof organizationSchema>) {
  if (await db().organization.findUnique({ where: { slug: input.slug } })) throw new OrganizationError('org.error.slugTaken')
  let keycloakOrganizationId: string
  try {
    keycloakOrganizationId = await keycloakAdmin().createOrganization({
      name: input.name,
      alias: input.slug,
      description: input.description.slice(0, 255),
      attributes: { sector: [input.sector], city: [input.city] },
    })
  } catch (error) {
    // The slug was free a moment ago, so a conflict in Keycloak is about the name.
    if ((error as { status?: number }).status === 409) throw new OrganizationError('org.error.nameTaken')
    logger.error({ err: error }, 'could not create the Keycloak organization')
    throw new OrganizationError('org.error.keycloak')
  }
  try {
    await keycloakAdmin().addOrganizationMember(keycloakOrganizationId, keycloakUserId)
    const organization = await db().$transaction(async (tx) => {
      const org = await tx.organization.create({ data: { ...input, keycloakOrganizationId } })
      await tx.membership.create({ data: { userId, organizationId: org.id, role: 'ADMIN' } })
      return org
    })
    await audit(userId, 'organization.create', 'organization', organization.id, { slug: organization.slug })
    return organization
  } catch (error) {
    await keycloakAdmin()
      .deleteOrganization(keycloakOrganizationId)
      .catch((cleanupError: unknown) => logger.error({ err: cleanupError }, 'could not remove the half-made Keycloak organization'))
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new OrganizationError('org.error.slugTaken')
    if ((error as { status?: number }).status) throw new OrganizationError('org.error.keycloak')
    throw error
  }
}

/** Changes the details; the Keycloak organization follows (name, description, attributes). */
export async function updateOrganization(
  actorId: string,
  organization: { id: string; keycloakOrganizationId: string | null },
  input: z.infer<typeof organizationDetailsSchema>,
) {
  if (organization.keycloakOrganizationId) {
    try {
      await keycloakAdmin().updateOrganization(organization.keycloakOrganizationId, {
        name: input.name,
        description: input.description.slice(0, 255),
        attributes: { sector: [input.sector], city: [input.city] },
      })
    } catch (error) {
      if ((error as { status?: number }).status === 409) throw new OrganizationError('org.error.nameTaken')
      logger.error({ err: error }, 'could not update the Keycloak organization')
      throw new OrganizationError('org.error.keycloak')
    }
  }
  await db().organization.update({
    where: { id: organization.id },
    data: {
      name: input.name,
      description: input.description,
      sector: input.sector,
      city: input.city,
      website: input.website ?? null,
      kvkNumber: input.kvkNumber ?? null,
    },
  })
  await audit(actorId, 'organization.update', 'organization', organization.id, { fields: Object.keys(input) })
}

export function hashToken(token: string) {
  return createHash('sha256').update(token).digest('hex')
}

export async function inviteMember(opts: {
  organization: { id: string; name: string }
  inviter: { id: string; name: string }
  input: z.infer<typeof invitationSchema>
  lang: Language
}) {
  const { organization, inviter, input, lang } = opts
  const existing = await db().membership.findFirst({ where: { organizationId: organization.id, user: { email: input.email } } })
  if (existing) throw new OrganizationError('org.invite.alreadyMember', { email: input.email })
  const token = randomBytes(32).toString('base64url')
  const expiresAt = new Date(Date.now() + env().INVITATION_TTL_HOURS * 3600_000)
  const t = translator(lang)
  const role = t(input.role === 'ADMIN' ? 'dashboard.role.ADMIN' : 'dashboard.role.MEMBER')
  const vars = {
    org: organization.name,
    inviter: inviter.name,
    role,
    date: expiresAt.toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Amsterdam' }),
    link: `${env().PORTAL_URL}/invitations/${token}`,
  }
  const invitation = await db().$transaction(async (tx) => {
    // A new invitation to the same address replaces the open one.
    await tx.invitation.updateMany({
      where: { organizationId: organization.id, email: input.email, acceptedAt: null, revokedAt: null },
      data: { revokedAt: new Date() },
    })
    const created = await tx.invitation.create({
      data: { organizationId: organization.id, email: input.email, role: input.role, tokenHash: hashToken(token), invitedById: inviter.id, expiresAt },
    })
    await enqueueMail({ to: input.email, subject: t('invite.mail.subject', vars), text: t('invite.mail.body', vars) }, tx)
    return created
  })
  await audit(inviter.id, 'invitation.create', 'organization', organization.id, { email: input.email, role: input.role })
  return invitation
}

/** The invitation behind a token from a mail, or a reason why it cannot be used. */
export async function findInvitation(token: string) {
  const invitation = /^[A-Za-z0-9_-]{43}$/.test(token)
    ? await db().invitation.findUnique({ where: { tokenHash: hashToken(token) }, include: { organization: true, invitedBy: true } })
    : null
  if (!invitation) throw new OrganizationError('invite.error.invalid')
  if (invitation.acceptedAt) throw new OrganizationError('invite.error.used')
  if (invitation.revokedAt) throw new OrganizationError('invite.error.revoked')
  if (invitation.expiresAt < new Date()) throw new OrganizationError('invite.error.expired')
  return invitation
}

export async function acceptInvitation(token: string, user: { id: string; email: string; keycloakId: string }) {
  const invitation = await findInvitation(token)
  if (invitation.email !== user.email.toLowerCase()) {
    throw new OrganizationError('invite.error.otherEmail', { email: invitation.email, current: user.email })
  }
  // Claim the invitation first: of two concurrent accepts only one succeeds.
  const claimed = await db().invitation.updateMany({
    where: { id: invitation.id, acceptedAt: null, revokedAt: null },
    data: { acceptedAt: new Date(), acceptedById: user.id },
  })
  if (claimed.count === 0) throw new OrganizationError('invite.error.used')
  try {
    if (invitation.organization.keycloakOrganizationId) {
      await keycloakAdmin().addOrganizationMember(invitation.organization.keycloakOrganizationId, user.keycloakId)
    }
    await db().membership.upsert({
      where: { userId_organizationId: { userId: user.id, organizationId: invitation.organizationId } },
      create: { userId: user.id, organizationId: invitation.organizationId, role: invitation.role },
      update: {},
    })
  } catch (error) {
    await db().invitation.update({ where: { id: invitation.id }, data: { acceptedAt: null, acceptedById: null } })
    logger.error({ err: error }, 'could not add the member')
    throw new OrganizationError('org.error.keycloak')
  }
  await audit(user.id, 'invitation.accept', 'organization', invitation.organizationId, { invitationId: invitation.id })
  return invitation.organization
}

async function adminCount(organizationId: string) {
  return db().membership.count({ where: { organizationId, role: 'ADMIN' } })
}

async function membershipIn(organizationId: string, membershipId: string) {
  const membership = await db().membership.findFirst({ where: { id: membershipId, organizationId }, include: { user: true } })
  if (!membership) throw new OrganizationError('org.error.notMember')
  return membership
}

export async function setMemberRole(actorId: string, organizationId: string, membershipId: string, role: OrgRole) {
  const membership = await membershipIn(organizationId, membershipId)
  if (membership.role === 'ADMIN' && role !== 'ADMIN' && (await adminCount(organizationId)) <= 1) {
    throw new OrganizationError('org.error.lastAdmin')
  }
  await db().membership.update({ where: { id: membership.id }, data: { role } })
  await audit(actorId, 'membership.role', 'organization', organizationId, { userId: membership.userId, role })
}

/** Removes a member (or lets a member leave): out of Keycloak's organization, then out of ours. */
export async function removeMember(actorId: string, organization: { id: string; keycloakOrganizationId: string | null }, membershipId: string) {
  const membership = await membershipIn(organization.id, membershipId)
  if (membership.role === 'ADMIN' && (await adminCount(organization.id)) <= 1) throw new OrganizationError('org.error.lastAdmin')
  if (organization.keycloakOrganizationId) {
    try {
      await keycloakAdmin().removeOrganizationMember(organization.keycloakOrganizationId, membership.user.keycloakId)
    } catch (error) {
      logger.error({ err: error }, 'could not remove the Keycloak organization member')
      throw new OrganizationError('org.error.keycloak')
    }
  }
  await db().$transaction([
    db().membership.delete({ where: { id: membership.id } }),
    db().session.updateMany({
      where: { userId: membership.userId, activeOrganizationId: organization.id },
      data: { activeOrganizationId: null },
    }),
  ])
  await audit(actorId, actorId === membership.userId ? 'membership.leave' : 'membership.remove', 'organization', organization.id, {
    userId: membership.userId,
  })
}

export async function revokeInvitation(actorId: string, organizationId: string, invitationId: string) {
  const { count } = await db().invitation.updateMany({
    where: { id: invitationId, organizationId, acceptedAt: null, revokedAt: null },
    data: { revokedAt: new Date() },
  })
  if (count === 0) throw new OrganizationError('invite.error.invalid')
  await audit(actorId, 'invitation.revoke', 'organization', organizationId, { invitationId })
}
