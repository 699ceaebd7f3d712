import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { newSignedInPage } from './support'

/** axe-core's WCAG 2.1 A/AA rules on the portal's own pages (not Keycloak's). */
async function violations(page: import('@playwright/test').Page) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

test('the public home page meets WCAG 2.1 AA as far as axe can tell', async ({ page }) => {
  await page.goto('/')
  expect(await violations(page)).toEqual([])
})

test('dashboard, organisation page and form with errors meet WCAG 2.1 AA as far as axe can tell', async ({ browser }) => {
  const { context, page } = await newSignedInPage(browser, 'admin@demo.commons.local')
  expect(await violations(page), 'dashboard').toEqual([])
  await page.goto('/organisations/new')
  await page.getByRole('button', { name: 'Create organisation' }).click()
  await expect(page.getByText('Please fill in this field.').first()).toBeVisible()
  expect(await violations(page), 'form with errors').toEqual([])
  const slug = `a11y-${Date.now().toString(36)}`
  await page.getByLabel('Name', { exact: true }).fill('Toegankelijk')
  await page.getByLabel('Short name for web addresses').fill(slug)
  await page.getByLabel('What the organisation does').fill('Checks.')
  await page.getByLabel('Sector').selectOption('care')
  await page.getByLabel('City').fill('Leiden')
  await page.getByRole('button', { name: 'Create organisation' }).click()
  await expect(page).toHaveURL(`/organisations/${slug}`)
  expect(await violations(page), 'organisation page').toEqual([])
  // On a fresh load the skip link is the first stop of the keyboard and leads to the main content.
  await page.reload()
  await page.keyboard.press('Tab')
  await expect(page.getByRole('link', { name: 'Skip to main content' })).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page.locator('main')).toBeFocused()
  await context.close()
})

test('catalog, tool pages, the operators’ queue, an organisation’s tools and an instance page meet WCAG 2.1 AA as far as axe can tell', async ({ browser }) => {
  const admin = await newSignedInPage(browser, 'admin@demo.commons.local')
  const page = admin.page
  await page.goto('/catalog')
  expect(await violations(page), 'catalog').toEqual([])
  await page.goto('/catalog?q=zzzz-nothing')
  expect(await violations(page), 'catalog without results').toEqual([])
  await page.goto('/catalog/jitsi')
  expect(await violations(page), 'tool we do not host').toEqual([])

  const slug = `a11y-tools-${Date.now().toString(36)}`
  await page.goto('/organisations/new')
  await page.getByLabel('Name', { exact: true }).fill(`Gereedschap ${slug}`)
  await page.getByLabel('Short name for web addresses').fill(slug)
  await page.getByLabel('What the organisation does').fill('Checks the tool pages.')
  await page.getByLabel('Sector').selectOption('work')
  await page.getByLabel('City').fill('Delft')
  await page.getByRole('button', { name: 'Create organisation' }).click()
  await expect(page).toHaveURL(`/organisations/${slug}`)
  await page.goto('/catalog/nextcloud')
  expect(await violations(page), 'hosted tool with the request form').toEqual([])
  await page.getByRole('button', { name: `Request for Gereedschap ${slug}` }).click()
  await expect(page.getByRole('status')).toContainText('Request sent.')
  expect(await violations(page), 'tool page after a request').toEqual([])

  const operator = await newSignedInPage(browser, 'operator@demo.commons.local')
  await operator.page.goto('/operator/requests')
  expect(await violations(operator.page), 'operators’ queue').toEqual([])
  await operator.page.getByRole('button', { name: `Approve Nextcloud for Gereedschap ${slug}` }).click()
  await expect(operator.page.getByRole('status')).toContainText('Approved')
  await operator.page.goto(`/organisations/${slug}`)
  expect(await violations(operator.page), 'organisation page as operator (quota form)').toEqual([])
  await operator.context.close()

  await page.goto(`/organisations/${slug}`)
  expect(await violations(page), 'organisation page with a tool').toEqual([])
  await page.getByRole('link', { name: 'Details of Nextcloud' }).click()
  await expect(page.getByRole('heading', { level: 1, name: /Nextcloud for/ })).toBeVisible()
  expect(await violations(page), 'instance page').toEqual([])
  await page.getByRole('button', { name: 'Remove Nextcloud' }).click()
  await expect(page.getByText('Tick the box to confirm the removal.')).toBeVisible()
  expect(await violations(page), 'removal form with an error').toEqual([])
  await page.getByLabel(/^Yes, remove Nextcloud for/).check()
  await page.getByRole('button', { name: 'Remove Nextcloud' }).click()
  await expect(page.getByRole('status').first()).toContainText('Nextcloud is being removed.')
  expect(await violations(page), 'instance page after removal').toEqual([])
  await admin.context.close()
})
