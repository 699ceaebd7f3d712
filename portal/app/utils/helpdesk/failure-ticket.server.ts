import type { Instance, Prisma } from '~/generated/prisma/client'
import type { InstanceView, UpgradeView } from '../provisioner.server'
import { stepLabel } from '../steps'
import { translator, type Language } from '../i18n'
import { toolName } from '../instances.server'
import { createTicket, SYSTEM } from './tickets.server'

type Tx = Prisma.TransactionClient

/**
 * When the provisioner gives up on an instance, the helpdesk hears of it
 * before the organisation has to call: a ticket for the organisation, on the
 * hosting queue, with the instance, the failed step and the error, requested
 * by the admin who asked for the tool (so they follow it by mail). One
 * ticket per failure: a failure while the last one is still open adds a note
 * instead of a second ticket. An upgrade that failed (and could not be
 * rolled back) says so, with the versions and the backup made before.
 */
export async function openFailureTicket(tx: Tx, instance: Instance, failure: InstanceView['failure'], upgrade?: UpgradeView) {
  const request = instance.requestId ? await tx.toolRequest.findUnique({ where: { id: instance.requestId }, include: { requestedBy: true } }) : null
  const admin =
    request?.requestedBy ??
    (await tx.membership.findFirst({ where: { organizationId: instance.organizationId, role: 'ADMIN' }, include: { user: true }, orderBy: { createdAt: 'asc' } }))?.user ??
    null
  const lang: Language = admin?.locale === 'en' ? 'en' : 'nl'
  const t = translator(lang)
  const step = failure ? stepLabel(failure.step, t) : '—'
  const tool = toolName(instance.recipeId, lang)
  const failedUpgrade = upgrade?.status === 'failed' ? upgrade : undefined
  const detail = [
    failedUpgrade
      ? t('helpdesk.failure.upgrade.body', { tool, instance: instance.id, from: failedUpgrade.fromVersion, to: failedUpgrade.toVersion, backup: failedUpgrade.backupId ?? '—' })
      : t('helpdesk.failure.body', { tool, instance: instance.id }),
    '',
    `- ${t('helpdesk.failure.step')}: ${step} (\`${failure?.step ?? 'unknown'}\`)`,
    `- ${t('helpdesk.failure.error')}: ${failure?.message ?? '—'}`,
  ].join('\n')

  const open = instance.failureTicketId ? await tx.ticket.findUnique({ where: { id: instance.failureTicketId } }) : null
  if (open && open.status !== 'CLOSED' && open.status !== 'RESOLVED') {
    await tx.ticketMessage.create({ data: { ticketId: open.id, kind: 'INTERNAL', channel: 'SYSTEM', authorName: SYSTEM.name, fromAgent: true, body: detail } })
    await tx.ticketEvent.create({ data: { ticketId: open.id, type: 'note', data: { failedAgain: failure?.step ?? null } } })
    return open
  }
  const ticket = await createTicket(
    SYSTEM,
    {
      organizationId: instance.organizationId,
      subject: t(failedUpgrade ? 'helpdesk.failure.upgrade.subject' : 'helpdesk.failure.subject', { tool }).slice(0, 150),
      body: detail,
      category: 'TOOL_PROBLEM',
      priority: 'HIGH',
      instanceId: instance.id,
      groupId: 'hosting',
      tags: [failedUpgrade ? 'upgrade' : 'provisioning'],
      channel: 'SYSTEM',
      requester: { userId: admin?.id ?? null, email: admin?.email ?? instance.adminEmail, name: admin?.name ?? instance.adminEmail, language: lang },
      // The failure mail to the admins names the ticket; a second "we received your request" would only confuse.
      quiet: true,
    },
    tx,
  )
  await tx.instance.update({ where: { id: instance.id }, data: { failureTicketId: ticket.id } })
  return ticket
}
