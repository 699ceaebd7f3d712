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
