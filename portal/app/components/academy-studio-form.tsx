import { getInputProps, getTextareaProps, useForm, type FieldMetadata, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import type { Language } from '@commons/academy/rules'
import { Form } from '@remix-run/react'
import type { ReactNode } from 'react'
import type { z } from 'zod'
import { Field } from '~/components/field'
import type { MessageKey } from '~/utils/i18n'
import { useT } from '~/utils/use-t'

/**
 * A studio form: Conform with the zod schema the action uses, and default
 * values shaped like the content (texts per language are nested objects,
 * which `useZodForm`'s flat defaults cannot carry).
 */
export function useStudioForm<Schema extends z.ZodObject>(schema: Schema, options: { id: string; lastResult?: SubmissionResult<string[]> | null; defaultValue?: Record<string, unknown> }) {
  return useForm<z.input<Schema>, z.output<Schema>>({
    id: options.id,
    lastResult: options.lastResult,
    // The stored content, which the schema checks again on submit.
    defaultValue: options.defaultValue as never,
    constraint: getZodConstraint(schema),
    shouldValidate: 'onSubmit',
    shouldRevalidate: 'onInput',
    onValidate: ({ formData }) => parseWithZod(formData, { schema }),
  })
}

/** The answer of a studio action, for the one form on the page it belongs to. */
export interface StudioReply {
  formKey: string
  result: SubmissionResult<string[]> | null
  notice: string | null
  error: string | null
}

/** The last result if the answer is for the form with this key. */
export function replyFor(reply: StudioReply | undefined | null, key: string) {
  return reply && reply.formKey === key ? reply.result : null
}

export const LANGUAGE_NAME_KEYS = { nl: 'studio.language.nl', en: 'studio.language.en' } as const satisfies Record<Language, MessageKey>

type TextsValue = Partial<Record<Language, string | undefined>> | undefined

/**
 * One text per language: "Title (Dutch)", "Title (English)". The errors of
 * the whole text (no title in any language) show under the first one.
 */
export function TextsFields<FormSchema extends Record<string, unknown>>(props: {
  field: FieldMetadata<TextsValue, FormSchema, string[]>
  languages: readonly Language[]; label: MessageKey; help?: string; multiline?: number; readOnly?: boolean; after?: (language: Language) => ReactNode }) {
  const t = useT()
  const parts = props.field.getFieldset()
  return (
    <>
      {props.languages.map((language, index) => {
        const part = parts[language]
        const errors = [...(index === 0 ? (props.field.errors ?? []) : []), ...(part.errors ?? [])]
        const label = t('studio.inLanguage', { label: t(props.label), language: t(LANGUAGE_NAME_KEYS[language]) })
        return (
          <div key={language}>
            <Field id={part.id} label={label} help={index === 0 ? props.help : undefined} errors={errors.length ? errors : undefined}>
              {(aria) =>
                props.multiline ? (
                  <textarea {...getTextareaProps(part)} {...aria} rows={props.multiline} readOnly={props.readOnly} lang={language} />
                ) : (
                  <input {...getInputProps(part, { type: 'text' })} {...aria} readOnly={props.readOnly} lang={language} />
                )
              }
            </Field>
            {props.after?.(language)}
          </div>
        )
      })}
    </>
  )
}

/** A form of one button (move, remove, a workflow step), with the revision it was made on. */
export function StudioButton(props: { intent: string; revision?: number; fields?: Record<string, string>; label: string; ariaLabel?: string; className?: string; action?: string }) {
  return (
    <Form method="post" action={props.action} className="inline-form studio-button">
      <input type="hidden" name="intent" value={props.intent} />
      {props.revision !== undefined ? <input type="hidden" name="revision" value={props.revision} /> : null}
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" className={props.className} aria-label={props.ariaLabel}>
        {props.label}
      </button>
    </Form>
  )
}

/**
 * A React key that changes when, and only when, what a form shows was saved
 * differently: the form then starts again from the stored values. Keying
 * every form by the course's revision instead would wipe what a trainer is
 * typing in one form whenever another form on the page is saved.
 */
export function savedKey(prefix: string, saved: unknown): string {
  const text = JSON.stringify(saved) ?? ''
  let hash = 5381
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 33) ^ text.charCodeAt(i)) >>> 0
  return `${prefix}-${hash.toString(36)}`
}
