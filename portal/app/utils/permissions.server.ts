import { db } from './db.server'
import { hasRole, requireUser } from './auth.server'
import type { PortalSession } from './session.server'

/**
 * The organisation behind a slug, for someone who may see it: its members,
 * platform operators and helpdesk agents. Anyone else gets a 404, the same as
 * for an organisation that does not exist, so a slug in a URL tells nothing.
 */
export async function requireOrgAccess(request: Request, slug: string | undefined) {
  const session = await requireUser(request)
  const organization = slug ? await db().organization.findUnique({ where: { slug } }) : null
  const membership = organization
    ? await db().membership.findUnique({
        where: { userId_organizationId: { userId: session.userId, organizationId: organization.id } },
      })
    : null
  const staff = hasRole(session, 'platform-operator') || hasRole(session, 'helpdesk-agent')
  if (!organization || (!membership && !staff)) throw new Response('Not Found', { status: 404 })
  return { session, organization, membership, isAdmin: membership?.role === 'ADMIN' }
}

/** As requireOrgAccess, and the person must be an admin of that organisation (403 otherwise). */
export async function requireOrgAdmin(request: Request, slug: string | undefined) {
  const access = await requireOrgAccess(request, slug)
  if (!access.isAdmin) throw new Response('Forbidden', { status: 403 })
  return access
}

/** As requireOrgAccess, and the person must be a member (staff may look, not act). */
export async function requireOrgMember(request: Request, slug: string | undefined) {
  const access = await requireOrgAccess(request, slug)
  if (!access.membership) throw new Response('Forbidden', { status: 403 })
  return { ...access, membership: access.membership }
}

export async function organizationsOf(session: PortalSession) {
  return db().membership.findMany({
    where: { userId: session.userId },
    include: { organization: true },
    orderBy: { organization: { name: 'asc' } },
  })
}
