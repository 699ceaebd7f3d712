import path from 'node:path'
import { phases, stepKinds } from '@commons/provisioner/contract'
import { beforeAll, describe, expect, it } from 'vitest'
import { categories, initCatalog, memoryInMegabytes, searchCatalog, visibleRecipes, type Recipe } from './catalog.server'
import { isMessageKey, translator } from './i18n'
import { stepLabel } from './steps'

let all: readonly Recipe[]

beforeAll(async () => {
  all = await initCatalog(path.resolve(import.meta.dirname, '../../../catalog/recipes'))
})

describe('the catalog as the portal shows it', () => {
  it('hides the test recipes unless asked to show them', () => {
    expect(all.some((r) => r.id === 'hello')).toBe(true)
    expect(visibleRecipes(all, false).map((r) => r.id)).not.toContain('hello')
    expect(visibleRecipes(all, true).map((r) => r.id)).toContain('hello')
    expect(visibleRecipes(all, false).map((r) => r.id)).toEqual(expect.arrayContaining(['nextcloud', 'matrix', 'loomio', 'discourse', 'jitsi']))
  })

  it('searches every word in the person’s language, accents and case ignored, and category names too', () => {
    const en = translator('en')
    const nl = translator('nl')
    const ids = (found: readonly Recipe[]) => found.map((r) => r.id)
    const shown = visibleRecipes(all, false)
    expect(ids(searchCatalog(shown, { q: 'VOTE proposal', lang: 'en', t: en }))).toContain('loomio')
    expect(ids(searchCatalog(shown, { q: 'VOTE proposal', lang: 'en', t: en }))).not.toContain('nextcloud')
    expect(ids(searchCatalog(shown, { q: 'stemmen', lang: 'nl', t: nl }))).toContain('loomio')
    // "Chat and video calls" is a category name, not a word of Jitsi's own texts.
    expect(ids(searchCatalog(shown, { q: 'video calls', lang: 'en', t: en }))).toContain('jitsi')
    expect(ids(searchCatalog(shown, { q: 'FINANCIEN', lang: 'nl', t: nl }))).toContain('dolibarr')
    expect(ids(searchCatalog(shown, { category: 'documents-files', lang: 'en', t: en }))).toContain('nextcloud')
    expect(searchCatalog(shown, { q: 'zzzz', lang: 'en', t: en })).toEqual([])
    expect(searchCatalog(shown, { q: '  ', lang: 'en', t: en })).toHaveLength(shown.length)
  })

  it('has a name in both languages for every category, governance model, phase and step kind of the contract', () => {
    for (const lang of ['en', 'nl'] as const) {
      const t = translator(lang)
      for (const c of categories) expect(t(`catalog.category.${c}`)).not.toBe(`catalog.category.${c}`)
      for (const p of phases) expect(isMessageKey(`phase.${p}`), `phase.${p}`).toBe(true)
      for (const k of stepKinds) expect(isMessageKey(`step.${k}`), `step.${k}`).toBe(true)
    }
    expect(stepLabel('container:web', translator('en'))).toBe('Starting a part (web)')
    expect(stepLabel('volume:data', translator('nl'))).toBe('Opslag maken (data)')
    expect(stepLabel('something-new:x', translator('en'))).toBe('something-new (x)')
  })

  it('turns memory sizes into megabytes', () => {
    expect(memoryInMegabytes('512m')).toBe(512)
    expect(memoryInMegabytes('2g')).toBe(2048)
    expect(memoryInMegabytes('1.5g')).toBe(1536)
  })
})
