import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db, disconnectDb } from './db.server'
import { keycloakAdmin } from './keycloak.server'
import {
  acceptInvitation,
  createOrganization,
  findInvitation,
  hashToken,
  inviteMember,
  removeMember,
  setMemberRole,
  updateOrganization,
} from './organizations.server'
import { outbox } from './email.server'

// Real Postgres and the real Keycloak started by `npm test` (test/run.ts).
const unique = Date.now().toString(36)
let admin: { id: string; keycloakId: string; email: string; name: string }
let member: { id: string; keycloakId: string; email: string; name: string }

async function demoUser(email: string) {
  const kc = await keycloakAdmin().findUserByEmail(email)
  if (!kc) throw new Error(`demo user ${email} missing in Keycloak`)
  return db().user.upsert({
    where: { keycloakId: kc.id },
    create: { keycloakId: kc.id, email, name: email.split('@')[0]! },
    update: {},
  })
}

beforeAll(async () => {
  admin = await demoUser('admin@demo.commons.local')
  member = await demoUser('member@demo.commons.local')
})
afterAll(async () => {
  // What these tests made goes again, here and in Keycloak: later tests (and
  // the end-to-end ones) must not find the demo people admin of test coops.
  const made = await db().organization.findMany({ where: { slug: { endsWith: `-${unique}` } } })
  for (const org of made) {
    if (org.keycloakOrganizationId) await keycloakAdmin().deleteOrganization(org.keycloakOrganizationId)
  }
  await db().organization.deleteMany({ where: { id: { in: made.map((o) => o.id) } } })
  await outbox.stop()
  await disconnectDb()
})

const input = (slug: string) => ({ name: `Coop ${slug}`, slug, description: 'Test coop', sector: 'energy' as const, city: 'Utrecht' })

async function tokenFor(invitationId: string) {
  // The token only exists in the mail; read it back from the outbox row.
  const invitation = await db().invitation.findUniqueOrThrow({ where: { id: invitationId } })
  const mail = await db().outboxMail.findFirstOrThrow({ where: { to: invitation.email }, orderBy: { createdAt: 'desc' } })
  const token = /invitations\/([A-Za-z0-9_-]{43})/.exec(mail.text)?.[1]
  expect(token && hashToken(token)).toBe(invitation.tokenHash)
  return token!
}

describe('organisations', () => {
  it('are created with their creator as admin and mirrored as a Keycloak organization', async () => {
    const org = await createOrganization(admin.id, admin.keycloakId, input(`energie-${unique}`))
    expect(org.keycloakOrganizationId).toBeTruthy()
    const members = await keycloakAdmin().listOrganizationMembers(org.keycloakOrganizationId!)
    expect(members.map((m) => m.id)).toContain(admin.keycloakId)
    const membership = await db().membership.findUniqueOrThrow({ where: { userId_organizationId: { userId: admin.id, organizationId: org.id } } })
    expect(membership.role).toBe('ADMIN')
  })

  it('refuse a slug that is taken, and leave nothing behind in Keycloak', async () => {
    const slug = `taken-${unique}`
    await createOrganization(admin.id, admin.keycloakId, input(slug))
    await expect(createOrganization(member.id, member.keycloakId, input(slug))).rejects.toMatchObject({ key: 'org.error.slugTaken' })
    expect(await db().organization.count({ where: { slug } })).toBe(1)
  })

  it('invite by mail; the link works once, for the invited address only, and the member is added in Keycloak', async () => {
    const org = await createOrganization(admin.id, admin.keycloakId, input(`invite-${unique}`))
    const invitation = await inviteMember({ organization: org, inviter: admin, input: { email: member.email, role: 'MEMBER' }, lang: 'nl' })
    const token = await tokenFor(invitation.id)

    await expect(acceptInvitation(token, admin)).rejects.toMatchObject({ key: 'invite.error.otherEmail' })
    const joined = await acceptInvitation(token, member)
    expect(joined.id).toBe(org.id)
    await expect(acceptInvitation(token, member)).rejects.toMatchObject({ key: 'invite.error.used' })
    const kcMembers = await keycloakAdmin().listOrganizationMembers(org.keycloakOrganizationId!)
    expect(kcMembers.map((m) => m.id)).toContain(member.keycloakId)
  })

  it('refuse an expired invitation and an unknown token', async () => {
    const org = await createOrganization(admin.id, admin.keycloakId, input(`expired-${unique}`))
    const invitation = await inviteMember({ organization: org, inviter: admin, input: { email: member.email, role: 'MEMBER' }, lang: 'en' })
    const token = await tokenFor(invitation.id)
    await db().invitation.update({ where: { id: invitation.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
    await expect(findInvitation(token)).rejects.toMatchObject({ key: 'invite.error.expired' })
    await expect(findInvitation('x'.repeat(43))).rejects.toMatchObject({ key: 'invite.error.invalid' })
    expect(await db().membership.count({ where: { organizationId: org.id } })).toBe(1)
  })

  it('always keep one admin; removing a member takes them out of Keycloak too', async () => {
    const org = await createOrganization(admin.id, admin.keycloakId, input(`admins-${unique}`))
    const invitation = await inviteMember({ organization: org, inviter: admin, input: { email: member.email, role: 'MEMBER' }, lang: 'en' })
    await acceptInvitation(await tokenFor(invitation.id), member)
    const adminMembership = await db().membership.findFirstOrThrow({ where: { organizationId: org.id, userId: admin.id } })
    const memberMembership = await db().membership.findFirstOrThrow({ where: { organizationId: org.id, userId: member.id } })

    await expect(setMemberRole(admin.id, org.id, adminMembership.id, 'MEMBER')).rejects.toMatchObject({ key: 'org.error.lastAdmin' })
    await expect(removeMember(admin.id, org, adminMembership.id)).rejects.toMatchObject({ key: 'org.error.lastAdmin' })

    await setMemberRole(admin.id, org.id, memberMembership.id, 'ADMIN')
    await setMemberRole(admin.id, org.id, adminMembership.id, 'MEMBER')
    await removeMember(member.id, org, adminMembership.id)
    const kcMembers = await keycloakAdmin().listOrganizationMembers(org.keycloakOrganizationId!)
    expect(kcMembers.map((m) => m.id)).not.toContain(admin.keycloakId)
    expect(await db().membership.count({ where: { organizationId: org.id } })).toBe(1)
  })

  it('change their details in Keycloak too; a name another organisation has is refused', async () => {
    const org = await createOrganization(admin.id, admin.keycloakId, input(`details-${unique}`))
    const other = await createOrganization(admin.id, admin.keycloakId, input(`details-other-${unique}`))
    const details = { name: `Windpark ${unique}`, description: 'Wind', sector: 'energy' as const, city: 'Delft', website: 'https://wind.example' }
    await updateOrganization(admin.id, org, details)
    const saved = await db().organization.findUniqueOrThrow({ where: { id: org.id } })
    expect(saved).toMatchObject({ name: `Windpark ${unique}`, city: 'Delft', website: 'https://wind.example', slug: `details-${unique}` })
    const mirrored = await keycloakAdmin().getOrganization(org.keycloakOrganizationId!)
    expect(mirrored?.name).toBe(`Windpark ${unique}`)
    await expect(updateOrganization(admin.id, org, { ...details, name: other.name })).rejects.toMatchObject({ key: 'org.error.nameTaken' })
    expect((await db().organization.findUniqueOrThrow({ where: { id: org.id } })).name).toBe(`Windpark ${unique}`)
  })

  it('cannot act on a membership of another organisation', async () => {
    const a = await createOrganization(admin.id, admin.keycloakId, input(`a-${unique}`))
    const b = await createOrganization(member.id, member.keycloakId, input(`b-${unique}`))
    const bMembership = await db().membership.findFirstOrThrow({ where: { organizationId: b.id } })
    await expect(setMemberRole(admin.id, a.id, bMembership.id, 'MEMBER')).rejects.toMatchObject({ key: 'org.error.notMember' })
    await expect(removeMember(admin.id, a, bMembership.id)).rejects.toMatchObject({ key: 'org.error.notMember' })
  })
})
