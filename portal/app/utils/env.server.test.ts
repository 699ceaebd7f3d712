import { describe, expect, it } from 'vitest'
import { EnvError, parseEnv } from './env.server'

const valid = {
  PORTAL_URL: 'https://portal.example.coop/',
  KEYCLOAK_URL: 'https://auth.example.coop',
  KEYCLOAK_CLIENT_SECRET: 'x'.repeat(32),
  KEYCLOAK_ADMIN_CLIENT_SECRET: 'y'.repeat(32),
  SMTP_URL: 'smtp://mail.example.coop:587',
}

describe('parseEnv', () => {
  it('accepts a complete production environment and fills defaults', () => {
    const env = parseEnv(valid)
    expect(env.PORTAL_URL).toBe('https://portal.example.coop')
    expect(env.KEYCLOAK_REALM).toBe('commons')
    expect(env.PORT).toBe(3000)
  })

  it('names every bad or missing variable', () => {
    const run = () => parseEnv({ ...valid, PORTAL_URL: 'not a url', PORT: '99999', SMTP_URL: undefined })
    expect(run).toThrow(EnvError)
    expect(run).toThrow(/PORTAL_URL/)
    expect(run).toThrow(/PORT:/)
    expect(run).toThrow(/SMTP_URL/)
  })

  it('refuses a DATABASE_URL that is not PostgreSQL', () => {
    expect(() => parseEnv({ ...valid, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgresql:\/\/ URL/)
  })

  it('refuses short client secrets', () => {
    expect(() => parseEnv({ ...valid, KEYCLOAK_CLIENT_SECRET: 'short' })).toThrow(/KEYCLOAK_CLIENT_SECRET/)
  })
})
