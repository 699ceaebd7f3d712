import type { ReactNode } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { translator } from '~/utils/i18n'
import type { AvailableRow, RecentRow } from '~/utils/upgrades.server'

// The operators' upgrades page rendered to HTML as the server sends it, in
// English; Remix's data hooks, Form and Link and the root loader's language
// are stood in for.

const page = { loader: {} as unknown, action: undefined as unknown }
vi.mock('@remix-run/react', () => ({
  Form: ({ children, ...props }: { children: ReactNode }) => <form {...props}>{children}</form>,
  Link: ({ children, to }: { children: ReactNode; to: string }) => <a href={to}>{children}</a>,
  useLoaderData: () => page.loader,
  useActionData: () => page.action,
  useRevalidator: () => ({ state: 'idle', revalidate: () => {} }),
}))
vi.mock('~/utils/use-t', () => ({ useLanguage: () => 'en', useT: () => translator('en') }))

const { default: OperatorUpgrades } = await import('./operator.upgrades')

const org = { name: 'Groene Bakkerij', slug: 'groene-bakkerij' }
const row = (instanceId: string, fields: Partial<AvailableRow> = {}): AvailableRow => ({
  instanceId,
  organizationId: 'org-1',
  org,
  recipe: 'nextcloud',
  tool: 'Nextcloud',
  from: '29.0.0',
  to: '30.0.1',
  ready: true,
  underWay: null,
  ...fields,
})
const recent = (id: string, fields: Partial<RecentRow> = {}): RecentRow => ({
  ...row('loomio-groene-bakkerij', { recipe: 'loomio', tool: 'Loomio' }),
  id,
  from: '2.1.0',
  to: '3.0.0',
  status: 'succeeded',
  error: null,
  createdAt: '2025-03-02T03:00:00.000Z',
  finishedAt: '2025-03-02T03:10:00.000Z',
  ...fields,
})

const answered = {
  state: 'answered',
  available: [row('nextcloud-groene-bakkerij'), row('nextcloud-zuivel', { organizationId: 'org-2', org: null, ready: false }), row('nextcloud-kaas', { underWay: 'backing-up', ready: false })],
  readyCount: 1,
  groups: [{ recipe: 'nextcloud', tool: 'Nextcloud', count: 1 }],
  recent: [recent('u-1', { status: 'rolled-back', error: 'health:web never answered' }), recent('u-2', { status: 'queued', finishedAt: null })],
  running: true,
}

beforeEach(() => {
  page.loader = answered
  page.action = undefined
})

describe('the operators’ upgrades page', () => {
  it('lists each available upgrade with a labelled checkbox, whether it can start, and the buttons for all and per tool', () => {
    const html = renderToStaticMarkup(<OperatorUpgrades />)
    expect(html).toContain('aria-label="Upgrade Nextcloud of Groene Bakkerij from 29.0.0 to 30.0.1"')
    expect(html).toContain('An organisation the portal does not know (org-2)')
    expect(html).toContain('<td>29.0.0 → 30.0.1</td>')
    expect(html).toContain('<td>No: it is not running</td>')
    expect(html).toContain('<td>Already under way: Backing up</td>')
    expect(html).toContain('>Upgrade selected</button>')
    expect(html).toContain('>Upgrade the 1 ready one</button>')
    expect(html).toContain('>Upgrade all of Nextcloud (1)</button>')
    // One box per row, none of them "required".
    expect(html.match(/type="checkbox"/g)).toHaveLength(3)
    expect(html).not.toMatch(/type="checkbox"[^>]*required/)
  })

  it('says how recent upgrades went in words, with the error, and that the list follows along', () => {
    const html = renderToStaticMarkup(<OperatorUpgrades />)
    expect(html).toContain('<td>Failed, old version and data put back</td>')
    expect(html).toContain('<td>health:web never answered</td>')
    expect(html).toContain('<td>Queued</td><td>2 Mar 2025, 04:00</td><td>not yet</td>')
    expect(html).toContain('This list updates itself while upgrades are queued or running.')
  })

  it('keeps the selection after an answer with errors, and shows the message and the refusals', () => {
    page.action = {
      selection: { status: 'error', initialValue: { intent: 'upgrade-selected', instances: ['nextcloud-zuivel'] }, error: { instances: ['upgrades.error.notAvailable'] } },
      refused: [{ instanceId: 'nextcloud-kaas', text: 'Nextcloud of Kaas: it is not running. Upgrade it once it is ready.' }],
    }
    const html = renderToStaticMarkup(<OperatorUpgrades />)
    const ticked = [...html.matchAll(/<input [^>]*>/g)].filter(([tag]) => tag.includes('checked=""')).map(([tag]) => /value="([^"]*)"/.exec(tag)?.[1])
    expect(ticked).toEqual(['nextcloud-zuivel'])
    expect(html).toContain('Not every chosen tool is in the list of upgrades (any more), so nothing was started.')
    expect(html).toContain('<li>Nextcloud of Kaas: it is not running. Upgrade it once it is ready.</li>')
  })

  it('says when the provisioner cannot be reached, and when nothing is to upgrade', () => {
    page.loader = { state: 'unreachable' }
    expect(renderToStaticMarkup(<OperatorUpgrades />)).toContain('The tool service is not reachable, so the upgrades cannot be shown.')
    page.loader = { ...answered, available: [], readyCount: 0, groups: [], recent: [], running: false }
    const html = renderToStaticMarkup(<OperatorUpgrades />)
    expect(html).toContain('None: every tool runs the newest version in the catalog.')
    expect(html).toContain('No upgrades yet.')
    expect(html).not.toContain('This list updates itself')
  })
})
