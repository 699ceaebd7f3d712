import type { Ticket } from '~/generated/prisma/client'
import { db } from '../db.server'
import type { Language } from '../i18n'
import { toolName } from '../instances.server'
import type { PortalSession } from '../session.server'
import { fillCannedReply } from './canned.server'

/** The canned replies with this ticket's details filled in, the reader's language first. */
export async function cannedRepliesFor(ticket: Ticket, session: PortalSession, lang: Language) {
  const [replies, organization, instance] = await Promise.all([
    db().cannedReply.findMany({ orderBy: [{ title: 'asc' }] }),
    ticket.organizationId ? db().organization.findUnique({ where: { id: ticket.organizationId }, select: { name: true } }) : null,
    ticket.instanceId ? db().instance.findUnique({ where: { id: ticket.instanceId }, select: { recipeId: true } }) : null,
  ])
  const requesterLang = ticket.language === 'en' ? 'en' : 'nl'
  const vars = {
    'requester.name': ticket.requesterName,
    'requester.firstName': ticket.requesterName.split(/\s+/)[0] ?? ticket.requesterName,
    'ticket.number': String(ticket.number),
    'ticket.subject': ticket.subject,
    'organisation.name': organization?.name ?? '',
    'agent.name': session.user.name,
    'tool.name': instance ? toolName(instance.recipeId, requesterLang) : '',
  }
  return replies
    .sort((a, b) => Number(b.language === requesterLang) - Number(a.language === requesterLang) || Number(b.language === lang) - Number(a.language === lang))
    .map((r) => ({ id: r.id, title: r.title, language: r.language, body: fillCannedReply(r.body, vars) }))
}
