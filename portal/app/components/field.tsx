import type { ReactNode } from 'react'
import { parseFieldError } from '~/utils/forms'
import { isMessageKey } from '~/utils/i18n'
import { useT } from '~/utils/use-t'

export function FieldErrors({ id, errors }: { id: string; errors?: string[] }) {
  const t = useT()
  if (!errors?.length) return null
  return (
    <ul id={id} className="field-errors" role="list">
      {errors.map((e) => {
        const { key, vars } = parseFieldError(e)
        return <li key={e}>{isMessageKey(key) ? t(key, vars) : key}</li>
      })}
    </ul>
  )
}

/** A labelled control with its help text and errors wired up by id for screen readers. */
export function Field(props: {
  id: string
  label: string
  help?: string
  errors?: string[]
  children: (aria: { id: string; 'aria-invalid': boolean | undefined; 'aria-describedby': string | undefined }) => ReactNode
}) {
  const helpId = props.help ? `${props.id}-help` : undefined
  const errorId = props.errors?.length ? `${props.id}-error` : undefined
  const describedBy = [helpId, errorId].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.help ? (
        <p id={helpId} className="help">
          {props.help}
        </p>
      ) : null}
      {props.children({ id: props.id, 'aria-invalid': errorId ? true : undefined, 'aria-describedby': describedBy })}
      <FieldErrors id={`${props.id}-error`} errors={props.errors} />
    </div>
  )
}

/** Errors about the whole form (not one field), announced to screen readers. */
export function FormErrors({ id, errors }: { id: string; errors?: string[] }) {
  const t = useT()
  if (!errors?.length) return null
  return (
    <div className="notice error" role="alert" id={id}>
      {errors.map((e) => {
        const { key, vars } = parseFieldError(e)
        return <p key={e}>{isMessageKey(key) ? t(key, vars) : key}</p>
      })}
    </div>
  )
}
