import { describe, expect, it } from 'vitest'
import { messages, translator } from './i18n'

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('messages', () => {
  it('has every English key in Dutch, with the same placeholders and a real translation', () => {
    expect(Object.keys(messages.nl).sort()).toEqual(Object.keys(messages.en).sort())
    for (const key of Object.keys(messages.en) as (keyof typeof messages.en)[]) {
      expect(messages.nl[key].trim(), key).not.toBe('')
      expect(placeholders(messages.nl[key]), key).toEqual(placeholders(messages.en[key]))
    }
  })

  it('fills placeholders', () => {
    expect(translator('nl')('dashboard.hello', { name: 'Ana' })).toBe('Hallo, Ana')
    expect(translator('en')('dashboard.hello', { name: 'Ana' })).toBe('Hello, Ana')
  })
})
