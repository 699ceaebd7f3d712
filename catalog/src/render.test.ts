import { describe, expect, it } from 'vitest'
import { fixedPlaceholders, type FixedPlaceholder } from './placeholders.ts'
import { escapeFor, renderTemplate, RenderError, type RenderValues } from './render.ts'

const fixed = Object.fromEntries(fixedPlaceholders.map((name) => [name, `<${name}>`])) as Record<FixedPlaceholder, string>

function values(overrides: Partial<RenderValues> = {}): RenderValues {
  return {
    fixed,
    routes: { homeserver: { url: 'https://hs.example', host: 'hs.example' } },
    secrets: { DB_PASSWORD: 'db-secret' },
    password: (length, n) => `pw${n}-${length}`,
    ...overrides,
  }
}

describe('renderTemplate', () => {
  it('fills fixed, route, secret and password placeholders and keeps literal dollars', () => {
    const text = 'url=${instance.url} hs=${route.homeserver.host} db=${secret:DB_PASSWORD} a=${password:16} b=${password:20} cost=$5'
    expect(renderTemplate(text, values(), 'env.X')).toBe(
      'url=<instance.url> hs=hs.example db=db-secret a=pw0-16 b=pw1-20 cost=$5',
    )
  })

  it('escapes values inside JSON and YAML strings', () => {
    const text = 'name: "${org.name}"'
    const v = values({ fixed: { ...fixed, 'org.name': 'De "Kas" \\ Noord' } })
    expect(renderTemplate(text, v, 'files/homeserver.yaml', escapeFor('files/homeserver.yaml'))).toBe('name: "De \\"Kas\\" \\\\ Noord"')
    expect(escapeFor('files/element-config.json')).toBe('json-string')
    expect(escapeFor('files/nginx.conf')).toBe('none')
  })

  it('names where an unfilled or unknown placeholder is', () => {
    expect(() => renderTemplate('${secret:MISSING}', values(), 'services.db.env.P')).toThrow(
      new RenderError('services.db.env.P', 'no value for ${secret:MISSING}'),
    )
    expect(() => renderTemplate('${nope}', values(), 'hooks.x')).toThrow(/hooks\.x: unknown placeholder \$\{nope\}/)
  })
})
