import { expect, test, type Page } from '@playwright/test'
import { createOrganisation, newSignedInPage, portalConsoleErrors, trackConsoleErrors } from './support'

// The catalog and tool requests, in the browser against the production build.
// The provisioner is whatever PROVISIONER_URL points at; where nothing
// answers there, approvals must stand and wait (the portal keeps trying).

const unique = Date.now().toString(36)
const orgName = `Buurtkracht ${unique}`
const orgSlug = `buurtkracht-${unique}`

test.describe.configure({ mode: 'serial' })

test.beforeEach(({ context }) => trackConsoleErrors(context))
test.afterEach(() => {
  const errors = portalConsoleErrors.splice(0)
  expect(errors, 'console errors on portal pages').toEqual([])
})

/** "Nobody has asked…" → 0, "1 person wants this." → 1, "3 people want this." → 3 */
async function demandCount(page: Page) {
  const text = await page.locator('.demand p').first().innerText()
  if (text.startsWith('Nobody')) return 0
  return Number(/(\d+) (?:person|people)/.exec(text)?.[1] ?? NaN)
}

test('browse the catalog by category, search it, and read what a tool is for', async ({ browser }) => {
  const { context, page } = await newSignedInPage(browser, 'member@demo.commons.local')
  await page.getByRole('link', { name: 'Tool catalog', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Tool catalog' })).toBeVisible()
  await expect(page.getByRole('heading', { level: 2, name: 'Deciding together' })).toBeVisible()
  await expect(page.getByRole('heading', { level: 2, name: 'Documents and files' })).toBeVisible()
  // The test recipes stay out of sight unless CATALOG_SHOW_TEST_RECIPES=true.
  if (process.env.CATALOG_SHOW_TEST_RECIPES !== 'true') await expect(page.getByRole('link', { name: /Hello \(test recipe\)/ })).toHaveCount(0)

  const loomio = page.locator('.tool-card', { has: page.getByRole('link', { name: 'Loomio' }) })
  await expect(loomio.getByText('We host it')).toBeVisible()
  await expect(loomio.getByText('AGPL-3.0-only')).toBeVisible()
  await expect(loomio.getByText('A cooperative')).toBeVisible()

  // Search matches the texts in the person's language.
  await page.getByLabel('Search the catalog').fill('vote proposal')
  await page.getByRole('button', { name: 'Search' }).click()
  await expect(page).toHaveURL(/q=vote\+proposal/)
  await expect(page.getByRole('link', { name: 'Loomio' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'Nextcloud' })).toHaveCount(0)
  await page.getByLabel('Search the catalog').fill('zzzz-nothing')
  await page.getByRole('button', { name: 'Search' }).click()
  await expect(page.getByText('No tool matches your search.')).toBeVisible()
  await page.getByRole('link', { name: 'Show all tools' }).click()

  // Browse one category.
  await page.getByRole('navigation', { name: 'Category' }).getByRole('link', { name: 'Documents and files' }).click()
  await expect(page.getByRole('link', { name: 'Nextcloud' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'Loomio' })).toHaveCount(0)

  await page.goto('/catalog/loomio')
  await expect(page.getByRole('heading', { level: 1, name: 'Loomio' })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'What it is for' })).toBeVisible()
  await expect(page.getByText('A cooperative owned by its members develops it')).toBeVisible()
  await expect(page.getByText('OpenID Connect')).toBeVisible()
  await expect(page.getByText('2 GB')).toBeVisible()
  await expect(page.getByText('Needed: the tool sends mail')).toBeVisible()
  // A member who is admin of no organisation is told who can request.
  await expect(page.getByRole('button', { name: /^Request for/ })).toHaveCount(0)

  // Dutch, too.
  await page.getByLabel('Language').selectOption('nl')
  await page.getByRole('button', { name: 'Change language' }).click()
  await expect(page.getByRole('heading', { level: 2, name: 'Waarvoor het is' })).toBeVisible()
  await expect(page.getByText('Een coöperatie van haar leden ontwikkelt het')).toBeVisible()
  await page.goto('/catalog?q=stemmen')
  await expect(page.getByRole('link', { name: 'Loomio' })).toBeVisible()
  await page.getByLabel('Taal').selectOption('en')
  await page.getByRole('button', { name: 'Taal wijzigen' }).click()
  await expect(page.getByRole('link', { name: 'Tool catalog', exact: true })).toBeVisible()

  expect((await page.goto('/catalog/no-such-tool'))?.status()).toBe(404)
  await context.close()
})

test('“We want this too” counts once per person and can be taken back; operators see the demand', async ({ browser }) => {
  const { context, page } = await newSignedInPage(browser, 'member@demo.commons.local')
  await page.goto('/catalog/jitsi')
  await expect(page.getByText('We do not host Jitsi Meet yet.')).toBeVisible()
  const before = await demandCount(page)
  await page.getByRole('button', { name: 'We want this too: Jitsi Meet' }).click()
  await expect(page.getByRole('status')).toContainText('Noted: you want Jitsi Meet too.')
  await expect(page.getByText('You asked for it.')).toBeVisible()
  await expect.poll(() => demandCount(page)).toBe(before + 1)

  await page.getByRole('button', { name: 'Take back my vote: Jitsi Meet' }).click()
  await expect(page.getByRole('status')).toContainText('Your vote for Jitsi Meet is taken back.')
  await expect.poll(() => demandCount(page)).toBe(before)

  // The same toggle on the catalog page; a second press of the same form cannot count twice.
  await page.goto('/catalog?category=realtime-chat-video')
  await page.getByRole('button', { name: 'We want this too: Jitsi Meet' }).click()
  await expect(page.getByRole('button', { name: 'Take back my vote: Jitsi Meet' })).toBeVisible()
  const origin = new URL(page.url()).origin
  const again = await page.request.post('/catalog?index', { form: { intent: 'demand', recipeId: 'jitsi', want: 'true' }, headers: { Origin: origin } })
  expect(again.status()).toBe(200)
  await page.goto('/catalog/jitsi')
  await expect.poll(() => demandCount(page)).toBe(before + 1)
  // Hosted tools are requested, not voted for.
  const hosted = await page.request.post('/catalog/nextcloud', { form: { intent: 'demand', recipeId: 'nextcloud', want: 'true' }, headers: { Origin: origin } })
  expect(hosted.status()).toBe(409)
  await context.close()

  const operator = await newSignedInPage(browser, 'operator@demo.commons.local')
  await operator.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tool requests' }).click()
  const row = operator.page.getByRole('region', { name: 'Demand for tools we do not host yet' }).getByRole('row', { name: /Jitsi Meet/ })
  await expect(row).toContainText(String(before + 1))
  await operator.context.close()
})

test('an organisation admin requests a tool; an operator rejects with a reason, then approves the next request', async ({ browser }) => {
  const admin = await newSignedInPage(browser, 'admin@demo.commons.local')
  await createOrganisation(admin.page, { name: orgName, slug: orgSlug, description: 'Neighbourhood energy cooperative.', city: 'Arnhem' })
  await expect(admin.page.getByText(`${orgName} has no tools yet.`)).toBeVisible()
  await admin.page.getByRole('link', { name: 'Browse the tool catalog' }).click()
  await admin.page.getByRole('link', { name: 'Loomio' }).click()
  await expect(admin.page.getByText('An operator looks at the request first.')).toBeVisible()
  await admin.page.getByRole('button', { name: `Request for ${orgName}` }).click()
  await expect(admin.page.getByRole('status')).toContainText(`Request sent. An operator looks at it; you will see the decision on the page of ${orgName}.`)
  await expect(admin.page.getByText(`${orgName} asked for Loomio; an operator will decide.`)).toBeVisible()

  // A second request for the same tool is refused with what to do, and nothing changes.
  const origin = new URL(admin.page.url()).origin
  const duplicate = await admin.page.request.post('/catalog/loomio', { form: { intent: 'request', organization: orgSlug }, headers: { Origin: origin } })
  expect(duplicate.status()).toBe(409)
  await admin.page.goto(`/organisations/${orgSlug}`)
  await expect(admin.page.getByRole('listitem').filter({ hasText: 'Loomio: Waiting for an operator' })).toHaveCount(1)

  // The operator rejects; the reason is required and the form keeps what was typed.
  const operator = await newSignedInPage(browser, 'operator@demo.commons.local')
  await operator.page.goto('/operator/requests')
  const row = operator.page.getByRole('row', { name: new RegExp(orgName) })
  await row.getByRole('button', { name: `Reject Loomio for ${orgName}` }).click()
  await expect(row.getByText('Please fill in this field.')).toBeVisible()
  await row.getByLabel('Reason (the organisation’s admins see it)').fill('Loomio needs 2 GB; we add memory next month.')
  await row.getByRole('button', { name: `Reject Loomio for ${orgName}` }).click()
  await expect(operator.page.getByRole('status')).toContainText(`Rejected. The admins of ${orgName} see your reason.`)
  await expect(operator.page.getByRole('row', { name: new RegExp(orgName) })).toHaveCount(0)

  await admin.page.reload()
  await expect(admin.page.getByText('Not approved')).toBeVisible()
  await expect(admin.page.getByText('Reason: Loomio needs 2 GB; we add memory next month.')).toBeVisible()

  // Asked again, and approved this time.
  await admin.page.goto('/catalog/loomio')
  await admin.page.getByRole('button', { name: `Request for ${orgName}` }).click()
  await expect(admin.page.getByRole('status')).toContainText('Request sent.')
  await operator.page.goto('/operator/requests')
  await operator.page.getByRole('button', { name: `Approve Loomio for ${orgName}` }).click()
  const approved = operator.page.getByRole('status')
  await expect(approved).toContainText('Approved')
  const providerDown = (await approved.innerText()).includes('not reachable')

  await admin.page.goto(`/organisations/${orgSlug}`)
  const tools = admin.page.getByRole('region', { name: 'Tools' })
  const loomioRow = tools.getByRole('row', { name: /Loomio/ })
  await expect(loomioRow).toBeVisible()
  if (providerDown) {
    // The approval stands; the instance waits until the tool service answers.
    await expect(loomioRow).toContainText('Waiting for the tool service')
    await expect(tools.getByText('The tool service is not reachable right now')).toBeVisible()
    await expect(operator.page.getByRole('region', { name: 'Approved, not yet taken on by the tool service' })).toContainText(`Loomio · ${orgName}`)
  }
  await loomioRow.getByRole('link', { name: 'Details of Loomio' }).click()
  await expect(admin.page.getByRole('heading', { level: 1, name: `Loomio for ${orgName}` })).toBeVisible()
  const instanceUrl = new URL(admin.page.url()).pathname
  if (providerDown) {
    await expect(admin.page.getByText('The tool service is not reachable right now, so the state shown may be out of date.')).toBeVisible()
    // The live list notices by itself (EventSource through the portal's relay).
    await expect(admin.page.getByText('Live updates paused: the tool service is not reachable right now.')).toBeVisible()
  } else {
    // The provisioner's steps arrive, in plain words, through the portal's relay.
    await expect(admin.page.getByRole('cell', { name: /^Creating the private network/ }).first()).toBeVisible({ timeout: 30_000 })
  }
  // Removal needs the box ticked, and says how long the data is kept.
  await expect(admin.page.getByText(/The data is kept for \d+ days/)).toBeVisible()
  await admin.page.getByRole('button', { name: 'Remove Loomio' }).click()
  await expect(admin.page.getByText('Tick the box to confirm the removal.')).toBeVisible()

  // The catalog now says the organisation has it, and refuses another request.
  await admin.page.goto('/catalog/loomio')
  await expect(admin.page.getByText(`${orgName} already has Loomio.`)).toBeVisible()
  const again = await admin.page.request.post('/catalog/loomio', { form: { intent: 'request', organization: orgSlug }, headers: { Origin: origin } })
  expect(again.status()).toBe(409)
  // An operator's decision needs a reason: the server says so too (400), whatever the browser checked.
  const noReason = await operator.page.request.post('/operator/requests', { form: { intent: 'reject', requestId: 'x', reason: ' ' }, headers: { Origin: origin } })
  expect(noReason.status()).toBe(400)
  await operator.context.close()

  // Removed for good, once confirmed; the quota is free again.
  await admin.page.goto(instanceUrl)
  await admin.page.getByLabel(`Yes, remove Loomio for ${orgName}`).check()
  await admin.page.getByRole('button', { name: 'Remove Loomio' }).click()
  await expect(admin.page.getByRole('status').first()).toContainText(/Loomio is being removed\. Its data is kept for \d+ days\./)
  await expect(admin.page.getByRole('button', { name: 'Remove Loomio' })).toHaveCount(0)
  await admin.page.goto('/catalog/loomio')
  await expect(admin.page.getByRole('button', { name: `Request for ${orgName}` })).toBeVisible()
  await admin.context.close()

  // Someone outside the organisation finds nothing, not even the event stream; a member may not request.
  const outsider = await newSignedInPage(browser, 'trainer@demo.commons.local')
  expect((await outsider.page.goto(instanceUrl))?.status()).toBe(404)
  expect((await outsider.page.request.get(`${instanceUrl}/events`)).status()).toBe(404)
  expect((await outsider.page.request.get(`${instanceUrl}/export`)).status()).toBe(404)
  const forged = await outsider.page.request.post('/catalog/nextcloud', { form: { intent: 'request', organization: orgSlug }, headers: { Origin: origin } })
  expect(forged.status()).toBe(404)
  const wrongOrg = await outsider.page.request.get(`/organisations/${orgSlug}/instances/does-not-exist`)
  expect(wrongOrg.status()).toBe(404)
  await outsider.context.close()
})
