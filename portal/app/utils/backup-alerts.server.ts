import { db } from './db.server'
import { enqueueMail } from './email.server'
import { env } from './env.server'
import { translator, type Language } from './i18n'
import { toolName } from './instances.server'
import type { BackupProblems, ProvisionerClient } from './provisioner.server'

/**
 * Tells the platform operators by mail when backups go wrong, so nobody has
 * to look at the health page every day to find out a month later: the
 * backup storage that cannot be opened, a backup that failed, a backup that
 * failed its check, a running tool without a recent good backup. Each
 * problem is mailed once (BackupAlert, by a key of its own); one mail a look
 * lists all that are new, with a link to the health page. A problem the
 * provisioner no longer reports is marked resolved; if it comes back (the
 * storage fails again), it is mailed again.
 *
 * The operators are the people with the realm role platform-operator (as of
 * their last sign-in); while there are none, the mail goes to HELPDESK_ADDRESS.
 */
export async function alertBackupProblems(client: ProvisionerClient): Promise<{ raised: string[]; resolved: string[] }> {
  const problems = await client.backupProblems()
  if (!problems.configured) return { raised: [], resolved: [] }
  const current = problemsByKey(problems)
  const open = await db().backupAlert.findMany({ where: { resolvedAt: null } })
  const openKeys = new Set(open.map((a) => a.key))
  const resolved = open.filter((a) => !current.has(a.key)).map((a) => a.key)
  if (resolved.length > 0) await db().backupAlert.updateMany({ where: { key: { in: resolved } }, data: { resolvedAt: new Date() } })

  const fresh = [...current].filter(([key]) => !openKeys.has(key))
  if (fresh.length === 0) return { raised: [], resolved }
  const raised: string[] = []
  await db().$transaction(async (tx) => {
    for (const [key, problem] of fresh) {
      // Claimed here: a second portal process looking at the same moment mails nothing twice.
      const { count } = await tx.backupAlert.updateMany({ where: { key, resolvedAt: { not: null } }, data: { resolvedAt: null, createdAt: new Date(), message: problem.en } })
      if (count === 0) {
        const created = await tx.backupAlert.createMany({ data: [{ key, message: problem.en }], skipDuplicates: true })
        if (created.count === 0) continue
      }
      raised.push(key)
    }
    if (raised.length === 0) return
    const operators = await tx.user.findMany({ where: { realmRoles: { has: 'platform-operator' } }, select: { email: true, locale: true }, orderBy: { email: 'asc' } })
    const recipients = operators.length > 0 ? operators : [{ email: env().HELPDESK_ADDRESS, locale: null }]
    for (const person of recipients) {
      const lang: Language = person.locale === 'en' ? 'en' : 'nl'
      const t = translator(lang)
      const lines = raised.map((key) => `- ${current.get(key)![lang]}`)
      await enqueueMail(
        {
          to: person.email,
          subject: t('mail.backups.problem.subject', { count: String(raised.length) }),
          text: [t('mail.backups.problem.body'), '', ...lines, '', t('mail.backups.problem.link', { link: `${env().PORTAL_URL}/operator/health` })].join('\n'),
        },
        tx,
      )
    }
  })
  return { raised, resolved }
}

type Problem = Record<Language, string>

function problemsByKey(problems: BackupProblems): Map<string, Problem> {
  const map = new Map<string, Problem>()
  const both = (make: (lang: Language) => string): Problem => ({ en: make('en'), nl: make('nl') })
  if (problems.repositoryError) {
    const error = problems.repositoryError
    map.set('repository', both((lang) => translator(lang)('mail.backups.problem.repository', { error })))
  }
  for (const b of problems.failedBackups) {
    map.set(
      `backup:${b.id}`,
      both((lang) => translator(lang)('mail.backups.problem.failed', { tool: toolName(b.recipe, lang), instance: b.instanceId, id: b.id, error: b.error ?? '—' })),
    )
  }
  for (const b of problems.failedVerifications) {
    map.set(
      `verify:${b.id}`,
      both((lang) => translator(lang)('mail.backups.problem.check', { tool: toolName(b.recipe, lang), instance: b.instanceId, id: b.id, error: b.verification.message ?? '—' })),
    )
  }
  for (const o of problems.overdue) {
    // Keyed by the last good backup too: a tool overdue again after a good backup is a new problem.
    map.set(
      `overdue:${o.instanceId}:${o.lastBackupAt ?? 'never'}`,
      both((lang) =>
        translator(lang)(o.lastBackupAt ? 'mail.backups.problem.overdue' : 'mail.backups.problem.never', { tool: toolName(o.recipe, lang), instance: o.instanceId, since: o.lastBackupAt?.slice(0, 16).replace('T', ' ') ?? '' }),
      ),
    )
  }
  return map
}
