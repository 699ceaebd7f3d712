import Docker from 'dockerode'
import { expect, test } from '@playwright/test'
import { createOrganisation, expectAccessible, newSignedInPage, portalConsoleErrors, trackConsoleErrors } from './support'

// Backups end to end: an organisation admin backs a tool up from its page,
// sees the backup checked, and puts it back after a mistake; the data in the
// tool's volume is what it was. The real provisioner, restic in its helper
// image, and the Docker engine that test/run.ts starts.

const unique = Date.now().toString(36)
const orgName = `Repaircafé ${unique}`
const orgSlug = `repaircafe-${unique}`
const tool = 'Hello (test recipe)'
const docker = new Docker({ socketPath: '/var/run/docker.sock' })

/** A shell command in the tool's container (what the tool itself would write). */
async function inTool(instanceId: string, script: string): Promise<string> {
  const exec = await docker.getContainer(`${instanceId}-web`).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true, Tty: true })
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true })
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  await new Promise((resolve) => stream.on('end', resolve))
  return Buffer.concat(chunks).toString('utf8').trim()
}

test.beforeEach(({ context }) => trackConsoleErrors(context))
test.afterEach(() => {
  const errors = portalConsoleErrors.splice(0)
  expect(errors, 'console errors on portal pages').toEqual([])
})

test('an organisation admin backs up a tool, sees the backup checked, and restores it after a mistake', async ({ browser }) => {
  test.skip(!process.env.PROVISIONER_URL, 'needs the provisioner that test/run.ts starts for the end-to-end tests')
  test.setTimeout(240_000)
  const { page, context } = await newSignedInPage(browser, 'admin@demo.commons.local')
  await createOrganisation(page, { name: orgName, slug: orgSlug, description: 'Repairs with neighbours.', city: 'Deventer' })
  await page.goto('/catalog/hello')
  await page.getByRole('button', { name: `Request for ${orgName}` }).click()
  await expect(page.getByRole('status')).toContainText('Request sent.')
  const operator = await newSignedInPage(browser, 'operator@demo.commons.local')
  await operator.page.goto('/operator/requests')
  await operator.page.getByRole('button', { name: `Approve ${tool} for ${orgName}` }).click()
  await expect(operator.page.getByRole('status')).toContainText('Approved')

  await page.goto(`/organisations/${orgSlug}`)
  await page.getByRole('region', { name: 'Tools' }).getByRole('link', { name: `Details of ${tool}` }).click()
  await expect(page.getByRole('link', { name: new RegExp(`^http://hello-${orgSlug}\\.localhost:\\d+$`) })).toBeVisible({ timeout: 120_000 })
  const instanceId = new URL(page.url()).pathname.split('/').at(-1) ?? ''
  await inTool(instanceId, 'echo "versie 1: 12 fietsen gerepareerd" > /data/logboek.txt')

  const backupsRegion = page.getByRole('region', { name: 'Backups' })
  await expect(backupsRegion.getByText(`There are no backups of ${tool} yet.`)).toBeVisible()
  await backupsRegion.getByRole('button', { name: 'Back up now' }).click()
  await expect(page.getByRole('status').first()).toContainText(`A backup of ${tool} is being made`)
  // The list follows the provisioner's progress by itself: made, then checked.
  const table = backupsRegion.getByRole('table', { name: `Backups of ${tool}, newest first` })
  await expect(table.getByRole('cell', { name: 'Checked: restored and every file matched' })).toBeVisible({ timeout: 90_000 })
  await expect(table.getByRole('cell', { name: 'On request' })).toBeVisible()
  await expectAccessible(page, 'instance page with a backup')

  // A mistake: the log is overwritten.
  await inTool(instanceId, 'echo "oeps" > /data/logboek.txt')

  // Not confirmed: refused with a message, nothing restored.
  await backupsRegion.getByText('Restore this backup…').click()
  const restoreButton = backupsRegion.getByRole('button', { name: /^Restore this backup, from / })
  await restoreButton.click()
  await expect(backupsRegion.getByText('Tick the box to confirm that you want to restore this backup.')).toBeVisible()
  await expect(backupsRegion.getByRole('heading', { name: 'Latest restores' })).toHaveCount(0)
  expect(await inTool(instanceId, 'cat /data/logboek.txt')).toBe('oeps')

  await backupsRegion.getByLabel(/^I understand that changes made after .+ will be replaced$/).check()
  await restoreButton.click()
  await expect(page.getByRole('status').first()).toContainText('is being put back into')
  const restores = backupsRegion.getByRole('table', { name: 'Latest restores' })
  await expect(restores.getByRole('cell', { name: 'Done' })).toBeVisible({ timeout: 120_000 })
  await expect(table.getByRole('cell', { name: 'Before a restore' })).toBeVisible()
  await expect(page.getByRole('link', { name: new RegExp(`^http://hello-${orgSlug}\\.localhost:\\d+$`) })).toBeVisible({ timeout: 60_000 })
  expect(await inTool(instanceId, 'cat /data/logboek.txt')).toBe('versie 1: 12 fietsen gerepareerd')
  await expectAccessible(page, 'instance page after a restore')

  // The operator's health page knows about backups too.
  await operator.page.goto('/operator/health')
  await expect(operator.page.getByRole('heading', { level: 1, name: 'Platform health' })).toBeVisible()
  await expect(operator.page.getByRole('table', { name: 'Hosts' }).getByRole('cell', { name: 'Answers' })).toBeVisible()
  await expect(operator.page.getByText('The backup repository works.')).toBeVisible()
  await expectAccessible(operator.page, 'operators’ health page')
  await operator.context.close()

  await page.getByLabel(`Yes, remove ${tool} for ${orgName}`).check()
  await page.getByRole('button', { name: `Remove ${tool}` }).click()
  await expect(page.getByRole('status').first()).toBeVisible()
  await context.close()
})
