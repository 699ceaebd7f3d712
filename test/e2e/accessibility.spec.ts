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
