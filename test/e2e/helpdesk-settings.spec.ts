import { expect, test } from '@playwright/test'
import { expectAccessible, newSignedInPage, portalConsoleErrors } from './support'

// SLA targets and queues: an operator changes them, a bad value changes
// nothing, an agent may look but not change.

const unique = Date.now().toString(36)

test.afterEach(() => {
  expect(portalConsoleErrors.splice(0), 'console errors on portal pages').toEqual([])
})

test('an operator changes an SLA target and adds a queue; bad values are refused; an agent only reads', async ({ browser }) => {
  const operator = await newSignedInPage(browser, 'operator@demo.commons.local')
  const page = operator.page
  await page.goto('/helpdesk/settings')
  await expect(page.getByRole('heading', { name: 'SLA targets' })).toBeVisible()
  const urgentFirst = page.getByLabel('Urgent: First response (business minutes)')
  const before = await urgentFirst.inputValue()

  await urgentFirst.fill('3')
  await page.getByRole('button', { name: 'Save targets' }).click()
  await expect(page.getByRole('alert')).toContainText('Fill in whole minutes, at least 5.')
  await page.reload()
  await expect(page.getByLabel('Urgent: First response (business minutes)')).toHaveValue(before)

  await page.getByLabel('Urgent: First response (business minutes)').fill('45')
  await page.getByRole('button', { name: 'Save targets' }).click()
  await expect(page.getByRole('status')).toContainText('The targets are saved.')
  await page.reload()
  await expect(page.getByLabel('Urgent: First response (business minutes)')).toHaveValue('45')

  const queue = `Energy coops ${unique}`
  await page.getByLabel('Name of a new queue').fill(queue)
  await page.getByRole('button', { name: 'Add queue' }).click()
  await expect(page.getByRole('status')).toContainText(`The queue “${queue}” is added.`)
  await expect(page.getByRole('listitem').filter({ hasText: queue })).toBeVisible()
  await page.getByLabel('Name of a new queue').fill(queue)
  await page.getByRole('button', { name: 'Add queue' }).click()
  await expect(page.getByRole('alert')).toContainText('There is a queue with that name already.')
  await expectAccessible(page, 'helpdesk settings')

  // Put the target back, so other tests see the default.
  await page.getByLabel('Urgent: First response (business minutes)').fill(before)
  await page.getByRole('button', { name: 'Save targets' }).click()
  await expect(page.getByRole('status')).toContainText('The targets are saved.')
  await operator.context.close()

  const agent = await newSignedInPage(browser, 'agent@demo.commons.local')
  await agent.page.goto('/helpdesk/settings')
  await expect(agent.page.getByText('Platform operators can change the targets.')).toBeVisible()
  await expect(agent.page.getByRole('button', { name: 'Save targets' })).toHaveCount(0)
  const refused = await agent.page.request.post('/helpdesk/settings', { form: { URGENT_first: '50' } })
  expect(refused.status()).toBe(403)
  await agent.context.close()

  const member = await newSignedInPage(browser, 'member@demo.commons.local')
  const response = await member.page.goto('/helpdesk/settings')
  expect(response?.status()).toBe(403)
  await member.context.close()
})
