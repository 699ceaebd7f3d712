import { formatDateTime } from '~/utils/format'
import type { Translate } from '~/utils/i18n'
import type { PageUpgrades } from '~/utils/upgrades.server'
import { isFinished } from '~/utils/upgrade-status'
import { useLanguage, useT } from '~/utils/use-t'

type Upgrade = Extract<PageUpgrades, { state: 'listed' }>['upgrades'][number]

/** Said plainly while the instance is upgrading (or going back): from which version to which, when the page has the upgrade's record. */
export function UpgradingNotice({ tool, upgrades }: { tool: string; upgrades: PageUpgrades | null }) {
  const t = useT()
  const current = upgrades?.state === 'listed' ? upgrades.upgrades.find((u) => !isFinished(u.status)) : undefined
  const text = !current
    ? t('instance.upgrading', { tool })
    : t(current.status === 'rolling-back' ? 'instance.rollingBack' : 'instance.upgradingTo', { tool, from: current.fromVersion, to: current.toVersion })
  return (
    <p className="notice" role="status">
      {text}
    </p>
  )
}

function resultText(upgrade: Upgrade, t: Translate) {
  const status = t(`upgrades.status.${upgrade.status}`)
  return upgrade.error && (upgrade.status === 'rolled-back' || upgrade.status === 'failed') ? `${status}: ${upgrade.error}` : status
}

/** What happened to the instance's versions: its latest upgrades, for the organisation's admins (and staff). Nothing before the first. */
export function UpgradesSection({ tool, upgrades }: { tool: string; upgrades: PageUpgrades }) {
  const t = useT()
  const lang = useLanguage()
  if (upgrades.state !== 'listed' || upgrades.upgrades.length === 0) return null
  return (
    <section className="panel" aria-labelledby="upgrades-title" id="upgrades">
      <h2 id="upgrades-title">{t('instance.upgrades.title')}</h2>
      <p>{t('instance.upgrades.help', { tool })}</p>
      <table aria-labelledby="upgrades-title">
        <thead>
          <tr>
            <th scope="col">{t('instance.upgrades.col.when')}</th>
            <th scope="col">{t('instance.upgrades.col.version')}</th>
            <th scope="col">{t('instance.upgrades.col.result')}</th>
          </tr>
        </thead>
        <tbody>
          {upgrades.upgrades.map((u) => (
            <tr key={u.id}>
              <th scope="row">{formatDateTime(u.startedAt ?? u.createdAt, lang)}</th>
              <td>{t('upgrades.version', { from: u.fromVersion, to: u.toVersion })}</td>
              <td>{resultText(u, t)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
