import type { Instance, Prisma } from '~/generated/prisma/client'
import { enqueueMail } from './email.server'
import { env } from './env.server'
import { formatDateTime } from './format'
import { isLanguage, translator, type Language } from './i18n'
import { toolName } from './instances.server'
import type { UpgradeView } from './provisioner.server'

// The mails to an organisation's admins about an upgrade of one of its
// tools: before (when an operator starts it) and after (when the portal sees
// it end), each in the admin's language, through the outbox in the caller's
// transaction. Each is marked in the audit log under the upgrade's id, so the
// after-mail goes once, and an announced upgrade is followed up.

type Tx = Prisma.TransactionClient

/** The audit actions that mark an upgrade's mails as sent (target: the upgrade). */
export const UPGRADE_ANNOUNCED = 'upgrade.announced'
export const UPGRADE_MAILED = 'upgrade.mailed'

async function adminsOf(tx: Tx, organizationId: string) {
  const organization = await tx.organization.findUniqueOrThrow({ where: { id: organizationId } })
  const admins = await tx.membership.findMany({ where: { organizationId, role: 'ADMIN' }, include: { user: true } })
  return { organization, admins: admins.map((a) => a.user) }
}

function vars(instance: Pick<Instance, 'id' | 'recipeId'>, organization: { name: string; slug: string }, upgrade: UpgradeView, lang: Language) {
  return {
    tool: toolName(instance.recipeId, lang),
    org: organization.name,
    from: upgrade.fromVersion,
    to: upgrade.toVersion,
    link: `${env().PORTAL_URL}/organisations/${organization.slug}/instances/${instance.id}`,
  }
}

const languageOf = (locale: string | null): Language => (isLanguage(locale) ? locale : 'nl')

/** "<tool> will be upgraded from X to Y; a backup is made first; it may be offline for a few minutes." */
export async function mailUpgradeAhead(tx: Tx, upgrade: UpgradeView) {
  const instance = await tx.instance.findUnique({ where: { id: upgrade.instanceId } })
  // An instance the portal does not know, or knows under another organisation, has nobody here to tell.
  if (!instance || instance.organizationId !== upgrade.organizationId) return
  const { organization, admins } = await adminsOf(tx, instance.organizationId)
  for (const admin of admins) {
    const lang = languageOf(admin.locale)
    const t = translator(lang)
    const v = vars(instance, organization, upgrade, lang)
    await enqueueMail({ to: admin.email, subject: t('mail.upgrade.before.subject', v), text: t('mail.upgrade.before.body', v) }, tx)
  }
  await tx.auditEntry.create({
    data: { actorId: null, action: UPGRADE_ANNOUNCED, targetType: 'upgrade', targetId: upgrade.id, data: { instanceId: instance.id, admins: admins.length } },
  })
}

/** An upgrade that has ended, with when its backup was made (for the mail after a roll-back). */
export type EndedUpgrade = { upgrade: UpgradeView; backupAt: string | null }

/**
 * The mail after an upgrade, by how it ended: the new version runs; it did
 * not work and the old version with the data of `backupAt` is back; it did
 * not go through and the tool runs on (failed before anything changed); or
 * it failed and the tool is down (`phase` failed, with the helpdesk ticket).
 * Sent once per upgrade: of two callers at once one waits for the other, and
 * the audit log remembers it.
 */
export async function mailUpgradeEnded(
  tx: Tx,
  instance: Instance,
  { upgrade, backupAt }: EndedUpgrade,
  detail: { phase: string | null; url: string; ticket?: { id: string; number: number } | null },
) {
  if (upgrade.status !== 'succeeded' && upgrade.status !== 'rolled-back' && upgrade.status !== 'failed') return
  await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`upgrade-mail:${upgrade.id}`}))`
  if (await tx.auditEntry.findFirst({ where: { targetType: 'upgrade', targetId: upgrade.id, action: UPGRADE_MAILED }, select: { id: true } })) return
  const down = upgrade.status === 'failed' && detail.phase === 'failed'
  const { organization, admins } = await adminsOf(tx, instance.organizationId)
  for (const admin of admins) {
    const lang = languageOf(admin.locale)
    const t = translator(lang)
    const v = { ...vars(instance, organization, upgrade, lang), url: detail.url, backupTime: backupAt ? formatDateTime(backupAt, lang) : '—', error: upgrade.error ?? '—' }
    const ticketLine = detail.ticket ? ['', t('helpdesk.failure.mailLine', { number: String(detail.ticket.number), link: `${env().PORTAL_URL}/tickets/${detail.ticket.id}` })] : []
    const mail =
      upgrade.status === 'succeeded'
        ? { subject: t('mail.upgrade.succeeded.subject', v), text: t('mail.upgrade.succeeded.body', v) }
        : upgrade.status === 'rolled-back'
          ? { subject: t('mail.upgrade.rolledBack.subject', v), text: t('mail.upgrade.rolledBack.body', v) }
          : down
            ? { subject: t('mail.upgrade.failed.subject', v), text: [t('mail.upgrade.failed.body', v), ...ticketLine].join('\n') }
            : { subject: t('mail.upgrade.notDone.subject', v), text: t('mail.upgrade.notDone.body', v) }
    await enqueueMail({ to: admin.email, ...mail }, tx)
  }
  await tx.auditEntry.create({
    data: { actorId: null, action: UPGRADE_MAILED, targetType: 'upgrade', targetId: upgrade.id, data: { instanceId: instance.id, status: upgrade.status, down, admins: admins.length } },
  })
}
