import { describe, expect, it } from 'vitest'
import { invitationSchema, memberActionSchema, organizationSchema, parseFieldError } from './forms'

const org = { name: 'Groene Bakkerij', slug: 'groene-bakkerij', description: 'Bakery', sector: 'food', city: 'Amsterdam' }

function errorsOf(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  return Object.fromEntries((result.error?.issues ?? []).map((i) => [String(i.path[0]), i.message]))
}

describe('organizationSchema', () => {
  it('accepts a complete organisation and normalises the slug', () => {
    const parsed = organizationSchema.parse({ ...org, slug: ' Groene-Bakkerij ', website: 'https://bakkerij.example', kvkNumber: '12345678' })
    expect(parsed.slug).toBe('groene-bakkerij')
  })

  it('gives one message key per bad field', () => {
    const result = organizationSchema.safeParse({ name: '', slug: 'a--b', description: 'x'.repeat(1001), sector: 'oil', city: 'A', kvkNumber: '123' })
    expect(errorsOf(result)).toEqual({
      name: 'form.required',
      slug: 'form.slug',
      description: 'form.tooLong|max=1000',
      sector: 'form.choice',
      kvkNumber: 'form.kvk',
    })
  })

  it('refuses names that are pages of their own', () => {
    expect(errorsOf(organizationSchema.safeParse({ ...org, slug: 'new' }))).toEqual({ slug: 'org.error.slugTaken' })
  })

  it('refuses a website that is not http(s)', () => {
    expect(errorsOf(organizationSchema.safeParse({ ...org, website: 'javascript:alert(1)' }))).toEqual({ website: 'form.url' })
  })
})

describe('invitationSchema and memberActionSchema', () => {
  it('lower-cases the address and refuses unknown roles', () => {
    expect(invitationSchema.parse({ email: 'Ana@Example.org', role: 'ADMIN' }).email).toBe('ana@example.org')
    expect(errorsOf(invitationSchema.safeParse({ email: 'nope', role: 'OWNER' }))).toEqual({ email: 'form.email', role: 'form.choice' })
  })

  it('refuses a forged intent', () => {
    expect(memberActionSchema.safeParse({ intent: 'delete-organisation' }).success).toBe(false)
    expect(memberActionSchema.safeParse({ intent: 'set-role', membershipId: 'm1', role: 'SUPERADMIN' }).success).toBe(false)
  })

  it('splits a message key from its parameters', () => {
    expect(parseFieldError('form.tooLong|max=80')).toEqual({ key: 'form.tooLong', vars: { max: '80' } })
  })
})
