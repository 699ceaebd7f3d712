import type { PrismaClient } from '../app/generated/prisma/client.ts'
import type { KeycloakAdmin } from '../app/utils/keycloak-admin.server.ts'

export interface DemoUser {
  email: string
  keycloakId: string
  name: string
}

/**
 * Demo data for development only: the organisation "Groene Bakkerij" with the
 * demo admin and member. Safe to run again (it leaves existing data alone).
 */
export async function seedDemoData(db: PrismaClient, keycloak: KeycloakAdmin, users: DemoUser[]) {
  const byEmail = new Map<string, { id: string; keycloakId: string }>()
  for (const u of users) {
    const user = await db.user.upsert({
      where: { keycloakId: u.keycloakId },
      create: { keycloakId: u.keycloakId, email: u.email, name: u.name },
      update: {},
    })
    byEmail.set(u.email, user)
  }
  const admin = byEmail.get('admin@demo.commons.local')
  const member = byEmail.get('member@demo.commons.local')
  if (!admin || !member) throw new Error('the demo users admin@ and member@demo.commons.local are missing')
  await seedCannedReplies(db)
  if (await db.organization.findUnique({ where: { slug: 'groene-bakkerij' } })) return
  const keycloakOrganizationId = await keycloak.createOrganization({
    name: 'Groene Bakkerij',
    alias: 'groene-bakkerij',
    description: 'Coöperatieve buurtbakkerij',
    attributes: { sector: ['food'], city: ['Amsterdam'] },
  })
  await keycloak.addOrganizationMember(keycloakOrganizationId, admin.keycloakId)
  await keycloak.addOrganizationMember(keycloakOrganizationId, member.keycloakId)
  await db.organization.create({
    data: {
      slug: 'groene-bakkerij',
      name: 'Groene Bakkerij',
      description: 'Coöperatieve buurtbakkerij in Amsterdam-Noord: brood, koffie en een plek om elkaar te ontmoeten.',
      sector: 'food',
      city: 'Amsterdam',
      website: 'https://groene-bakkerij.example',
      keycloakOrganizationId,
      memberships: {
        create: [
          { userId: admin.id, role: 'ADMIN' },
          { userId: member.id, role: 'MEMBER' },
        ],
      },
    },
  })
}

/** Answers a helpdesk agent types every week, in both languages; existing ones are left as they are. */
const CANNED_REPLIES = [
  {
    title: 'Sign out and in again',
    language: 'en',
    body: 'Hello {{requester.firstName}},\n\nThank you for letting us know. Could you sign out of the portal, close the browser, and sign in again? That renews your access to {{tool.name}}.\n\nIf it still does not work, reply to this mail with a screenshot of what you see.\n\nKind regards,\n{{agent.name}}',
  },
  {
    title: 'Opnieuw inloggen',
    language: 'nl',
    body: 'Hallo {{requester.firstName}},\n\nDank je voor je bericht. Wil je uitloggen bij het portaal, de browser sluiten en opnieuw inloggen? Dan wordt je toegang tot {{tool.name}} vernieuwd.\n\nWerkt het dan nog niet, antwoord dan op deze mail met een schermafbeelding van wat je ziet.\n\nHartelijke groet,\n{{agent.name}}',
  },
  {
    title: 'We are on it',
    language: 'en',
    body: 'Hello {{requester.firstName}},\n\nWe can see the problem with {{tool.name}} for {{organisation.name}} and are working on it. We will write again as soon as it works, at the latest tomorrow.\n\n{{agent.name}}',
  },
  {
    title: 'We zijn ermee bezig',
    language: 'nl',
    body: 'Hallo {{requester.firstName}},\n\nWe zien het probleem met {{tool.name}} bij {{organisation.name}} en werken eraan. We schrijven weer zodra het werkt, uiterlijk morgen.\n\n{{agent.name}}',
  },
]

export async function seedCannedReplies(db: PrismaClient) {
  for (const reply of CANNED_REPLIES) {
    await db.cannedReply.upsert({ where: { title_language: { title: reply.title, language: reply.language } }, create: reply, update: {} })
  }
}
