import type { ReactNode } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it, vi } from 'vitest'
import type { ListedBackup, PageBackups } from '~/utils/backups.server'
import { translator } from '~/utils/i18n'
import { BackupsSection } from './backups'

// The section rendered to HTML as the server sends it, in English; Remix's
// Form and the root loader's language are stood in for.
vi.mock('@remix-run/react', () => ({ Form: ({ children, ...props }: { children: ReactNode }) => <form {...props}>{children}</form> }))
vi.mock('~/utils/use-t', () => ({ useLanguage: () => 'en', useT: () => translator('en') }))

const checked = { status: 'passed' as const, message: null, at: '2025-03-02T04:00:00.000Z' }

function backup(id: string, fields: Partial<ListedBackup> = {}): ListedBackup {
  return {
    id,
    instanceId: 'nextcloud-groene-bakkerij',
    organizationId: 'org-1',
    recipe: 'nextcloud',
    recipeVersion: '29.0.0',
    kind: 'scheduled',
    status: 'succeeded',
    error: null,
    sizeBytes: 12_400_000,
    fileCount: 120,
    volumes: ['data'],
    dumps: ['db'],
    verification: checked,
    restorable: true,
    forgottenAt: null,
    requestedBy: null,
    startedAt: '2025-03-02T03:00:00.000Z',
    finishedAt: '2025-03-02T03:05:00.000Z',
    earlier: false,
    ...fields,
  }
}

const render = (backups: PageBackups, phase = 'ready') =>
  renderToStaticMarkup(<BackupsSection slug="groene-bakkerij" instanceId="nextcloud-groene-bakkerij" tool="Nextcloud" phase={phase} backups={backups} />)

describe('the backups section', () => {
  const listed: PageBackups = {
    state: 'listed',
    total: 4,
    backups: [
      backup('b-aaaaaaaaaa01', { kind: 'manual', status: 'running', sizeBytes: null, restorable: false, verification: { status: 'pending', message: null, at: null } }),
      backup('b-aaaaaaaaaa02'),
      backup('b-aaaaaaaaaa03', { kind: 'pre-upgrade', verification: { status: 'failed', message: 'config.php differs', at: null }, restorable: false }),
      backup('b-aaaaaaaaaa04', { status: 'failed', error: 'The disk is full.', verification: { status: 'skipped', message: null, at: null }, restorable: false, forgottenAt: '2025-04-01T00:00:00.000Z', earlier: true }),
    ],
    restores: [
      { id: 'r-1', instanceId: 'nextcloud-groene-bakkerij', backupId: 'b-aaaaaaaaaa02', safetyBackupId: null, status: 'rolled-back', error: 'The database did not start.', requestedBy: null, startedAt: '2025-03-03T10:00:00.000Z', finishedAt: null, backupStartedAt: '2025-03-02T03:00:00.000Z' },
    ],
  }

  it('lists each backup in words: kind, size, result, check, and whether it is still kept', () => {
    const html = render(listed)
    expect(html).toContain('<caption>Backups of Nextcloud, newest first</caption>')
    for (const text of ['On request', 'Scheduled', 'Before an upgrade', '12.4 MB', 'unknown', 'Being made', 'Failed: The disk is full.', 'No longer kept', 'Of the earlier Nextcloud, since removed']) {
      expect(html).toContain(text)
    }
    for (const text of ['Checked: restored and every file matched', 'Check failed: config.php differs', 'Not checked yet', 'Not checked<']) expect(html).toContain(text)
    expect(html).toContain('Failed, and the state before was put back: The database did not start.')
  })

  it('offers a confirmed restore for restorable backups only, and Back up now', () => {
    const html = render(listed)
    expect(html.match(/name="intent" value="restore"/g)).toHaveLength(1)
    expect(html).toContain('I understand that changes made after 2 Mar 2025, 04:00 will be replaced')
    expect(html).toContain('aria-label="Restore this backup, from 2 Mar 2025, 04:00"')
    expect(html).toContain('the current state of Nextcloud is backed up')
    expect(html).toContain('>Back up now</button>')
    expect(html).toContain('Not yet: the backup is still being made')
  })

  it('offers nothing while a restore runs, and says why the list is missing', () => {
    const restoring = render(listed, 'restoring')
    expect(restoring).not.toContain('value="restore"')
    expect(restoring).not.toContain('Back up now')
    expect(render({ state: 'unavailable' })).toContain('Backups are not set up on this server yet; the platform operator can turn them on.')
    expect(render({ state: 'unreachable' })).toContain('the tool service is not reachable right now')
    expect(render({ state: 'listed', total: 0, backups: [], restores: [] })).toContain('There are no backups of Nextcloud yet.')
  })
})
