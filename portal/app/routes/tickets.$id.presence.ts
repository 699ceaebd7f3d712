import type { ActionFunctionArgs } from '@remix-run/node'
import { data } from '@remix-run/node'
import { db } from '~/utils/db.server'
import { requireTicketAccess } from '~/utils/helpdesk/access.server'
import { presenceSchema } from '~/utils/helpdesk/ticket-forms'

/** How long a heartbeat counts: the page sends one every 15 s while it is open. */
const FRESH_MS = 45_000

/**
 * The other staff who have this ticket open, and whether they are writing a
 * reply, so two agents do not answer the same person at once. The caller's
 * own heartbeat is stored with the same request.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  const { ticket, staff, session } = await requireTicketAccess(request, params.id)
  if (!staff) throw new Response('Forbidden', { status: 403 })
  const parsed = presenceSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return data({ others: [] }, { status: 400 })
  const now = new Date()
  await db().ticketPresence.upsert({
    where: { ticketId_userId: { ticketId: ticket.id, userId: session.userId } },
    create: { ticketId: ticket.id, userId: session.userId, replying: parsed.data.replying, seenAt: now },
    update: { replying: parsed.data.replying, seenAt: now },
  })
  const others = await db().ticketPresence.findMany({
    where: { ticketId: ticket.id, userId: { not: session.userId }, seenAt: { gt: new Date(now.getTime() - FRESH_MS) } },
    include: { user: { select: { name: true } } },
    orderBy: { seenAt: 'desc' },
  })
  return { others: others.map((o) => ({ name: o.user.name, replying: o.replying })) }
}
