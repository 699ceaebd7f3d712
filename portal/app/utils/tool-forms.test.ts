import { InstanceId, PostRestoreBody } from '@commons/provisioner/contract'
import { describe, expect, it } from 'vitest'
import { demandSchema, quotaSchema, rejectSchema, removeInstanceSchema, restoreBackupSchema, toolRequestSchema, upgradeSelectedSchema } from './tool-forms'

const messages = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  Object.fromEntries((result.error?.issues ?? []).map((i) => [String(i.path[0]), i.message]))

describe('the forms of the catalog and requests', () => {
  it('want a reason to reject, not too long', () => {
    expect(messages(rejectSchema.safeParse({ intent: 'reject', requestId: 'r1', reason: '   ' }))).toEqual({ reason: 'form.required' })
    expect(messages(rejectSchema.safeParse({ intent: 'reject', requestId: 'r1', reason: 'x'.repeat(501) }))).toEqual({ reason: 'form.tooLong|max=500' })
    expect(rejectSchema.parse({ intent: 'reject', requestId: 'r1', reason: ' Full. ' }).reason).toBe('Full.')
  })

  it('take a quota from 0 to 50 only', () => {
    expect(quotaSchema.parse({ intent: 'set-quota', quota: 5 }).quota).toBe(5)
    expect(messages(quotaSchema.safeParse({ intent: 'set-quota', quota: 51 }))).toEqual({ quota: 'form.wholeNumber|min=0|max=50' })
    expect(messages(quotaSchema.safeParse({ intent: 'set-quota', quota: 1.5 }))).toEqual({ quota: 'form.wholeNumber|min=0|max=50' })
  })

  it('need the removal confirmed', () => {
    expect(messages(removeInstanceSchema.safeParse({ intent: 'remove' }))).toEqual({ confirm: 'instance.remove.mustConfirm' })
    expect(removeInstanceSchema.safeParse({ intent: 'remove', confirm: true }).success).toBe(true)
  })

  it('refuse forged ids and intents', () => {
    expect(demandSchema.safeParse({ intent: 'demand', recipeId: '../etc', want: 'true' }).success).toBe(false)
    expect(demandSchema.parse({ intent: 'demand', recipeId: 'jitsi', want: 'false' }).want).toBe(false)
    expect(toolRequestSchema.safeParse({ intent: 'request', organization: 'Not A Slug' }).success).toBe(false)
    expect(toolRequestSchema.safeParse({ intent: 'approve', organization: 'groene-bakkerij' }).success).toBe(false)
  })

  it('need a restore confirmed, of a backup id the contract accepts', () => {
    const id = 'b-0123456789abcdef0123'
    expect(messages(restoreBackupSchema.safeParse({ intent: 'restore', backupId: id }))).toEqual({ confirm: 'instance.backups.restore.mustConfirm' })
    expect(restoreBackupSchema.safeParse({ intent: 'restore', backupId: id, confirm: true }).success).toBe(true)
    for (const backupId of [id, 'b-short', '../b-0123456789', 'B-0123456789ABCDEF', `b-${'a'.repeat(41)}`]) {
      const ours = restoreBackupSchema.safeParse({ intent: 'restore', backupId, confirm: true }).success
      expect(ours, backupId).toBe(PostRestoreBody.safeParse({ backupId }).success)
    }
  })

  it('want at least one instance chosen to upgrade, each an id the contract accepts', () => {
    expect(messages(upgradeSelectedSchema.safeParse({ intent: 'upgrade-selected' }))).toEqual({ instances: 'upgrades.error.noneChosen' })
    expect(messages(upgradeSelectedSchema.safeParse({ intent: 'upgrade-selected', instances: [] }))).toEqual({ instances: 'upgrades.error.noneChosen' })
    for (const id of ['nextcloud-groene-bakkerij', 'ab', 'Nextcloud-x', '-nextcloud', `n${'a'.repeat(63)}`, 'nextcloud_x']) {
      const ours = upgradeSelectedSchema.safeParse({ intent: 'upgrade-selected', instances: [id] }).success
      expect(ours, id).toBe(InstanceId.safeParse(id).success)
    }
  })
})
