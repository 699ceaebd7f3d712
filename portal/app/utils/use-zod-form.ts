import { useForm, type DefaultValue, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import type { z } from 'zod'

/**
 * A Conform form checked in the browser with the same zod schema as the
 * action. Errors appear first on submit, then follow the typing: validating
 * on blur moved the submit button between mouse-down and mouse-up, and the
 * click was lost.
 */
export function useZodForm<Schema extends z.ZodObject>(
  schema: Schema,
  options: { id?: string; lastResult?: SubmissionResult<string[]> | null; defaultValue?: Record<string, string | null | undefined> },
) {
  return useForm<z.input<Schema>, z.output<Schema>>({
    id: options.id,
    lastResult: options.lastResult,
    // Values from the database are plain strings; the schema checks them on submit.
    defaultValue: options.defaultValue as DefaultValue<z.input<Schema>> | undefined,
    constraint: getZodConstraint(schema),
    shouldValidate: 'onSubmit',
    shouldRevalidate: 'onInput',
    onValidate: ({ formData }) => parseWithZod(formData, { schema }),
  })
}
