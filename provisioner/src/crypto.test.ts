import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateSecret, SecretBox } from './crypto.ts'

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32).toString('base64'))

  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const sealed = box.seal('s3cret-value', 'inst/DB_PASSWORD')
    expect(sealed).not.toContain('s3cret')
    expect(box.open(sealed, 'inst/DB_PASSWORD')).toBe('s3cret-value')
    expect(box.seal('s3cret-value', 'inst/DB_PASSWORD')).not.toBe(sealed)
  })

  it('refuses a value moved to another row, tampered with, or sealed under another key', () => {
    const sealed = box.seal('value', 'a/X')
    expect(() => box.open(sealed, 'b/X')).toThrow()
    const parts = sealed.split('.')
    const body = Buffer.from(parts[3] ?? '', 'base64url')
    body[0] = (body[0] ?? 0) ^ 1
    expect(() => box.open([parts[0], parts[1], parts[2], body.toString('base64url')].join('.'), 'a/X')).toThrow()
    expect(() => new SecretBox(randomBytes(32).toString('base64')).open(sealed, 'a/X')).toThrow()
  })

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new SecretBox(randomBytes(16).toString('base64'))).toThrow(/32 bytes/)
  })
})

describe('generateSecret', () => {
  it('is alphanumeric, of the asked length, and different every time', () => {
    const a = generateSecret(48)
    expect(a).toMatch(/^[A-Za-z0-9]{48}$/)
    expect(generateSecret(48)).not.toBe(a)
  })
})
