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

  it('refuses helpdesk hours, zone and closed days it cannot use, saying what is wrong', () => {
    expect(() => parseEnv({ ...valid, HELPDESK_BUSINESS_HOURS: 'weekdays 9-5' })).toThrow(/HELPDESK_BUSINESS_HOURS: .*mon-fri 09:00-17:00/)
    expect(() => parseEnv({ ...valid, HELPDESK_TIMEZONE: 'Europe/Amsterdamm' })).toThrow(/HELPDESK_TIMEZONE: must be an IANA time zone/)
    expect(() => parseEnv({ ...valid, HELPDESK_CLOSED_DATES: '2026-12-24, 31-12-2026' })).toThrow(/HELPDESK_CLOSED_DATES/)
    expect(parseEnv({ ...valid, HELPDESK_CLOSED_DATES: '2026-12-24, 2026-12-31' }).HELPDESK_CLOSED_DATES).toEqual(['2026-12-24', '2026-12-31'])
    expect(parseEnv(valid).HELPDESK_BUSINESS_HOURS).toBe('mon-fri 09:00-17:00')
  })

  it('refuses a DATABASE_URL that is not PostgreSQL', () => {
    expect(() => parseEnv({ ...valid, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgresql:\/\/ URL/)
  })

  it('reads the provisioner settings, and wants its token in production', () => {
    const env = parseEnv(valid)
    expect(env.PROVISIONER_URL).toBe('http://127.0.0.1:3001')
    expect(env.REQUESTS_NEED_APPROVAL).toBe(true)
    expect(env.CATALOG_SHOW_TEST_RECIPES).toBe(false)
    expect(env.REMOVED_VOLUME_GRACE_DAYS).toBe(30)
    expect(() => parseEnv({ ...valid, NODE_ENV: 'production' })).toThrow(/PROVISIONER_API_TOKEN: is required in production/)
    expect(() => parseEnv({ ...valid, PROVISIONER_API_TOKEN: 'short' })).toThrow(/PROVISIONER_API_TOKEN: must be/)
    const production = parseEnv({ ...valid, NODE_ENV: 'production', PROVISIONER_API_TOKEN: 'p'.repeat(64), PROVISIONER_URL: 'http://provisioner:3001/', REQUESTS_NEED_APPROVAL: 'false' })
    expect(production.PROVISIONER_URL).toBe('http://provisioner:3001')
    expect(production.REQUESTS_NEED_APPROVAL).toBe(false)
    expect(() => parseEnv({ ...valid, CATALOG_SHOW_TEST_RECIPES: 'yes' })).toThrow(/CATALOG_SHOW_TEST_RECIPES/)
  })

  it('refuses short client secrets', () => {
    expect(() => parseEnv({ ...valid, KEYCLOAK_CLIENT_SECRET: 'short' })).toThrow(/KEYCLOAK_CLIENT_SECRET/)
  })
})
