import AxeBuilder from '@axe-core/playwright'
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test'
import { waitForMail } from '../support/smtp-capture'

export const PASSWORD = 'commons-demo'
export const portalOrigin = new URL(process.env.PORTAL_URL ?? 'http://127.0.0.1:3100').origin
export const keycloakOrigin = new URL(process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8280').origin

/** Fails the test when a page asks any host other than the portal or its Keycloak. */
export function forbidThirdPartyRequests(context: BrowserContext) {
  const foreign: string[] = []
  context.on('request', (request) => {
    const url = new URL(request.url())
    if (url.protocol === 'data:' || url.protocol === 'blob:') return
    if (url.origin !== portalOrigin && url.origin !== keycloakOrigin) foreign.push(request.url())
  })
  return () => expect(foreign, 'requests to third-party hosts').toEqual([])
}

/** Console errors of portal pages (CSP violations, hydration errors, failed scripts). */
export const portalConsoleErrors: string[] = []

export function trackConsoleErrors(context: BrowserContext) {
  context.on('console', (message) => {
    if (message.type() !== 'error') return
    // Pages answered 404/403/410 on purpose; the tests check those statuses themselves.
    if (message.text().startsWith('Failed to load resource: the server responded with a status of')) return
    const page = message.page()?.url() ?? ''
    if (page.startsWith(portalOrigin)) portalConsoleErrors.push(`${page}: ${message.text()}`)
  })
}

/** Signs in through the real Keycloak login page. */
export async function signIn(page: Page, email: string, path = '/') {
  await page.goto(`/auth/login?returnTo=${encodeURIComponent(path)}`)
  await expect(page).toHaveURL(new RegExp(`^${keycloakOrigin}/realms/commons/`))
  await fillKeycloakLogin(page, email)
  await expect(page).toHaveURL(new RegExp(`^${portalOrigin}`))
}

/**
 * Keycloak's login page. Once organizations exist, Keycloak asks for the
 * address first and the password on a second page (identity-first login).
 */
export async function fillKeycloakLogin(page: Page, email: string) {
  await page.locator('#username').fill(email)
  const password = page.locator('#password')
  if (!(await password.isVisible())) await page.locator('#kc-login').click()
  await password.fill(PASSWORD)
  await page.locator('#kc-login').click()
}

export async function newSignedInPage(browser: Browser, email: string) {
  const context = await browser.newContext()
  trackConsoleErrors(context)
  const page = await context.newPage()
  await signIn(page, email)
  return { context, page }
}

export function mailDir() {
  const dir = process.env.TEST_MAIL_DIR
  if (!dir) throw new Error('TEST_MAIL_DIR is not set: run the tests with `npm test`')
  return dir
}

export const nextMail = (to: string, subject?: RegExp) => waitForMail(mailDir(), { to, subject })

export async function masterAdminToken() {
  const res = await fetch(`${keycloakOrigin}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: process.env.TEST_KEYCLOAK_MASTER_PASSWORD ?? '' }),
  })
  expect(res.ok, 'master admin login').toBe(true)
  return ((await res.json()) as { access_token: string }).access_token
}

/** Creates an organisation through the form, as its admin would; ends on its page. */
export async function createOrganisation(page: Page, org: { name: string; slug: string; description: string; city: string }) {
  await page.goto('/organisations/new')
  await page.getByLabel('Name', { exact: true }).fill(org.name)
  await page.getByLabel('Short name for web addresses').fill(org.slug)
  await page.getByLabel('What the organisation does').fill(org.description)
  await page.getByLabel('Sector').selectOption('energy')
  await page.getByLabel('City').fill(org.city)
  await page.getByRole('button', { name: 'Create organisation' }).click()
  await expect(page).toHaveURL(`/organisations/${org.slug}`)
}

/**
 * What axe-core finds against WCAG 2.2 A and AA (its tags for 2.0 and 2.1
 * included) on a portal page, one line per rule: the rule, its impact, where.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

export async function expectAccessible(page: Page, what: string) {
  expect(await axeViolations(page), `axe on ${what}`).toEqual([])
}
