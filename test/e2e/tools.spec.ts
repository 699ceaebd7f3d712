import http from 'node:http'
import { expect, test } from '@playwright/test'
import { createOrganisation, nextMail, newSignedInPage, portalConsoleErrors, trackConsoleErrors } from './support'

// The heart of the product, end to end with the real provisioner that
// test/run.ts starts (Docker engine, locally built images, Caddy container):
// an organisation admin requests a tool, an operator approves, the admin
// watches the steps arrive live and opens the tool through the proxy.

const unique = Date.now().toString(36)
const orgName = `Zonnecoop ${unique}`
const orgSlug = `zonnecoop-${unique}`
const tool = 'Hello (test recipe)'

/** Status of a GET through the proxy (Node does not resolve *.localhost, so the Host header names the tool). */
function statusThroughProxy(url: string): Promise<number> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', headers: { Host: hostname }, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

test.beforeEach(({ context }) => trackConsoleErrors(context))
test.afterEach(() => {
  const errors = portalConsoleErrors.splice(0)
  expect(errors, 'console errors on portal pages').toEqual([])
})

test('an organisation admin requests a tool, watches it being set up, and opens it through the proxy', async ({ browser }) => {
  test.skip(!process.env.PROVISIONER_URL, 'needs the provisioner that test/run.ts starts for the end-to-end tests')
  test.setTimeout(180_000)
  const admin = await newSignedInPage(browser, 'admin@demo.commons.local')
  const { page } = admin
  await createOrganisation(page, { name: orgName, slug: orgSlug, description: 'Solar panels on neighbourhood roofs.', city: 'Zwolle' })

  await page.goto('/catalog/hello')
  await page.getByRole('button', { name: `Request for ${orgName}` }).click()
  await expect(page.getByRole('status')).toContainText('Request sent.')

  const operator = await newSignedInPage(browser, 'operator@demo.commons.local')
  await operator.page.goto('/operator/requests')
  await operator.page.getByRole('button', { name: `Approve ${tool} for ${orgName}` }).click()
  await expect(operator.page.getByRole('status')).toContainText('Approved')
  await operator.context.close()

  await page.goto(`/organisations/${orgSlug}`)
  await page.getByRole('region', { name: 'Tools' }).getByRole('link', { name: `Details of ${tool}` }).click()
  await expect(page.getByRole('heading', { level: 1, name: `${tool} for ${orgName}` })).toBeVisible()

  // The steps arrive live, in plain words, while the page stays open.
  await expect(page.getByRole('cell', { name: /^Creating the private network/ }).first()).toBeVisible({ timeout: 60_000 })
  const address = page.getByRole('link', { name: new RegExp(`^http://hello-${orgSlug}\\.localhost:\\d+$`) })
  await expect(address).toBeVisible({ timeout: 120_000 })

  // Opened through the reverse proxy: the tool greets the organisation.
  const href = await address.getAttribute('href')
  expect(href).toBeTruthy()
  const tab = await admin.context.newPage()
  await tab.goto(href ?? '')
  await expect(tab.getByText(orgName)).toBeVisible()
  await tab.close()

  // Single sign-on to the tool, in the browser: Keycloak lets the organisation's
  // admin through to the tool's callback with a code, and refuses a member of
  // another organisation on its own page (the tool never hears of them).
  const instanceId = new URL(page.url()).pathname.split('/').at(-1) ?? ''
  const keycloak = process.env.KEYCLOAK_URL ?? ''
  const authorize = (state: string) =>
    `${keycloak}/realms/commons/protocol/openid-connect/auth?` +
    new URLSearchParams({ client_id: `instance-${instanceId}`, redirect_uri: `${href}/callback`, response_type: 'code', scope: 'openid', state })
  const toTool = await admin.context.newPage()
  const callback = toTool.waitForRequest((req) => req.url().startsWith(`${href}/callback`))
  await toTool.goto(authorize('member'))
  expect(new URL((await callback).url()).searchParams.get('code')).toBeTruthy()
  await toTool.close()
  const outsider = await newSignedInPage(browser, 'member@demo.commons.local')
  await outsider.page.goto(authorize('outsider'))
  await expect(outsider.page.getByText('You are not a member of the organisation that owns this tool. Ask its admin to invite you.')).toBeVisible()
  expect(outsider.page.url()).not.toContain('code=')
  await outsider.context.close()

  // And the admin hears about it by mail, in the language stored for them.
  const mail = await nextMail('admin@demo.commons.local', new RegExp(`(is ready for|staat klaar voor) ${orgName}$`))
  expect(mail.text).toContain(href ?? '')

  // Removing it takes the tool offline at once.
  expect(await statusThroughProxy(href ?? '')).toBe(200)
  await page.getByLabel(`Yes, remove ${tool} for ${orgName}`).check()
  await page.getByRole('button', { name: `Remove ${tool}` }).click()
  await expect(page.getByRole('status').first()).toBeVisible()
  await expect.poll(() => statusThroughProxy(href ?? ''), { timeout: 60_000 }).not.toBe(200)
  await admin.context.close()
})
