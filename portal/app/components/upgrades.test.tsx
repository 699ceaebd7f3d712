import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it, vi } from 'vitest'
import type { UpgradeView } from '~/utils/provisioner.server'
import { translator } from '~/utils/i18n'
import { UpgradesSection, UpgradingNotice } from './upgrades'

// The instance page's upgrade parts rendered to HTML as the server sends them, in English.
vi.mock('~/utils/use-t', () => ({ useLanguage: () => 'en', useT: () => translator('en') }))

function upgrade(id: string, fields: Partial<UpgradeView> = {}): UpgradeView {
  return {
    id,
    instanceId: 'nextcloud-groene-bakkerij',
    organizationId: 'org-1',
    recipe: 'nextcloud',
    fromVersion: '29.0.0',
    toVersion: '30.0.1',
    status: 'succeeded',
    backupId: 'b-aaaaaaaaaa01',
    error: null,
    requestedBy: 'portal-user:op',
    createdAt: '2025-03-02T02:55:00.000Z',
    startedAt: '2025-03-02T03:00:00.000Z',
    finishedAt: '2025-03-02T03:10:00.000Z',
    ...fields,
  }
}

describe('the upgrades on the instance page', () => {
  it('says plainly from which version to which the tool is being upgraded, or only that it is when the record is not at hand', () => {
    const listed = { state: 'listed' as const, total: 2, upgrades: [upgrade('u-2', { status: 'backing-up', finishedAt: null }), upgrade('u-1', { toVersion: '29.0.0', fromVersion: '28.0.4' })] }
    expect(renderToStaticMarkup(<UpgradingNotice tool="Nextcloud" upgrades={listed} />)).toContain(
      'Nextcloud is being upgraded from version 29.0.0 to 30.0.1, after a backup. Until that is done Nextcloud may be offline for a few minutes.',
    )
    const back = { ...listed, upgrades: [upgrade('u-2', { status: 'rolling-back', finishedAt: null })] }
    expect(renderToStaticMarkup(<UpgradingNotice tool="Nextcloud" upgrades={back} />)).toContain('Version 30.0.1 did not work, so Nextcloud is going back to version 29.0.0')
    expect(renderToStaticMarkup(<UpgradingNotice tool="Nextcloud" upgrades={{ state: 'unreachable' }} />)).toContain('Nextcloud is being upgraded to a newer version, after a backup.')
  })

  it('lists the upgrades with their result in words, the reason of a roll-back with it, and nothing before the first', () => {
    const html = renderToStaticMarkup(
      <UpgradesSection tool="Nextcloud" upgrades={{ state: 'listed', total: 2, upgrades: [upgrade('u-2', { status: 'rolled-back', error: 'health:web never answered' }), upgrade('u-1')] }} />,
    )
    expect(html).toContain('<td>29.0.0 → 30.0.1</td><td>Failed, old version and data put back: health:web never answered</td>')
    expect(html).toContain('<th scope="row">2 Mar 2025, 04:00</th>')
    expect(html).toContain('<td>Done</td>')
    expect(renderToStaticMarkup(<UpgradesSection tool="Nextcloud" upgrades={{ state: 'listed', total: 0, upgrades: [] }} />)).toBe('')
  })
})
