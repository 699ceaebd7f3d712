import { z } from 'zod'

// The forms of the catalog, tool requests and instances: one zod schema per
// form, used in the browser (Conform) and in the action. Messages are i18n
// keys, as in forms.ts.

const recipeId = z.string({ error: 'request.error.unknownTool' }).regex(/^[a-z][a-z0-9-]{0,63}$/, 'request.error.unknownTool')
const rowId = z.string({ error: 'error.400' }).min(1, 'error.400').max(64, 'error.400')
const yesNo = z.enum(['true', 'false'], { error: 'form.choice' }).transform((v) => v === 'true')

export const demandSchema = z.object({ intent: z.literal('demand'), recipeId, want: yesNo })

export const toolRequestSchema = z.object({
  intent: z.literal('request'),
  organization: z.string({ error: 'form.choice' }).regex(/^[a-z0-9-]{3,40}$/, 'form.choice'),
})

export const cancelRequestSchema = z.object({ intent: z.literal('cancel-request'), requestId: rowId })

export const approveSchema = z.object({ intent: z.literal('approve'), requestId: rowId })

export const rejectSchema = z.object({
  intent: z.literal('reject'),
  requestId: rowId,
  reason: z
    .string({ error: 'form.required' })
    .trim()
    .min(1, 'form.required')
    .max(500, 'form.tooLong|max=500'),
})

export const policySchema = z.object({ intent: z.literal('policy'), recipeId, needsApproval: yesNo })

export const QUOTA_MAX = 50
export const quotaSchema = z.object({
  intent: z.literal('set-quota'),
  quota: z
    .number({ error: `form.wholeNumber|min=0|max=${QUOTA_MAX}` })
    .int(`form.wholeNumber|min=0|max=${QUOTA_MAX}`)
    .min(0, `form.wholeNumber|min=0|max=${QUOTA_MAX}`)
    .max(QUOTA_MAX, `form.wholeNumber|min=0|max=${QUOTA_MAX}`),
})

export const instanceActionSchema = z.object({ intent: z.enum(['suspend', 'resume', 'restart'], { error: 'error.400' }) })

export const removeInstanceSchema = z.object({
  intent: z.literal('remove'),
  confirm: z.literal(true, { error: 'instance.remove.mustConfirm' }),
})

export const backupNowSchema = z.object({ intent: z.literal('backup') })

/** The contract's backup ids (`b-` and letters or digits); anything else is not worth asking about. */
export const restoreBackupSchema = z.object({
  intent: z.literal('restore'),
  backupId: z.string({ error: 'error.400' }).regex(/^b-[a-z0-9]{10,40}$/, 'error.400'),
  confirm: z.literal(true, { error: 'instance.backups.restore.mustConfirm' }),
})

/** The contract's instance ids (DNS-safe); anything else is not worth asking about. */
const instanceId = z.string({ error: 'error.400' }).regex(/^[a-z][a-z0-9-]{2,62}$/, 'error.400')

/**
 * The operators' upgrade forms: the chosen rows (a checkbox per available
 * upgrade), all that can start now, or all of one tool. The action checks
 * each chosen id again against what the provisioner lists as available.
 */
export const upgradeSelectedSchema = z.object({
  intent: z.literal('upgrade-selected'),
  instances: z.array(instanceId, { error: 'upgrades.error.noneChosen' }).min(1, 'upgrades.error.noneChosen').max(500, 'error.400'),
})
export const upgradeAllSchema = z.object({ intent: z.literal('upgrade-all') })
export const upgradeToolSchema = z.object({ intent: z.literal('upgrade-tool'), recipeId })

/** On the server: the same, and every chosen id among those the provisioner lists as available now. */
export function upgradeSelectedAmong(available: ReadonlySet<string>) {
  return upgradeSelectedSchema.extend({
    instances: upgradeSelectedSchema.shape.instances.refine((ids) => ids.every((id) => available.has(id)), 'upgrades.error.notAvailable'),
  })
}
