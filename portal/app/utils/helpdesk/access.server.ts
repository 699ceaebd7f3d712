import { hasRole, requireUser } from '../auth.server'
import { db } from '../db.server'
import type { PortalSession } from '../session.server'
import { actorOf } from './tickets.server'

export function isHelpdeskStaff(session: PortalSession) {
  return hasRole(session, 'helpdesk-agent') || hasRole(session, 'platform-operator')
}

/**
 * The ticket behind an id, for someone who may see it: a member of the
 * ticket's organisation, a helpdesk agent or a platform operator. Anyone
 * else gets a 404, the same as for a ticket that does not exist, so an id
 * in a URL tells nothing.
 */
export async function requireTicketAccess(request: Request, ticketId: string | undefined) {
  const session = await requireUser(request)
  const ticket = ticketId && ticketId.length <= 40 ? await db().ticket.findUnique({ where: { id: ticketId } }) : null
  if (!ticket) throw new Response('Not Found', { status: 404 })
  const staff = isHelpdeskStaff(session)
  const membership = ticket.organizationId
    ? await db().membership.findUnique({ where: { userId_organizationId: { userId: session.userId, organizationId: ticket.organizationId } } })
    : null
  if (!staff && !membership) throw new Response('Not Found', { status: 404 })
  return { session, ticket, staff, membership, actor: actorOf(session) }
}
