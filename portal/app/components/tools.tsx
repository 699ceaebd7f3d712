import { getFormProps, type SubmissionResult } from '@conform-to/react'
import { Form, Link } from '@remix-run/react'
import type { ReactNode } from 'react'
import type { z } from 'zod'
import { FormErrors } from '~/components/field'
import { isMessageKey, type MessageKey } from '~/utils/i18n'
import { demandSchema, instanceActionSchema } from '~/utils/tool-forms'
import { useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

/**
 * A one-button form whose fields are all hidden (an intent and an id),
 * still checked by its zod schema in the browser and in the action.
 */
export function ButtonForm<Schema extends z.ZodObject>(props: {
  schema: Schema
  id: string
  fields: Record<string, string>
  action?: string
  lastResult?: SubmissionResult<string[]> | null
  className?: string
  buttonClassName?: string
  label: ReactNode
  ariaLabel?: string
  pressed?: boolean
}) {
  const [form] = useZodForm(props.schema, { id: props.id, lastResult: props.lastResult })
  return (
    <Form method="post" action={props.action} {...getFormProps(form)} className={props.className ?? 'inline-form'}>
      {Object.entries(props.fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" className={props.buttonClassName} aria-label={props.ariaLabel} aria-pressed={props.pressed}>
        {props.label}
      </button>
      <FormErrors id={form.errorId} errors={form.errors} />
    </Form>
  )
}

/** The phase of an instance in plain words; null means the provisioner has not taken it on yet. */
export function PhaseBadge({ phase }: { phase: string | null }) {
  const t = useT()
  const key = `phase.${phase ?? 'waiting'}`
  // A phase this portal does not know yet is shown as the provisioner names it.
  return <span className={`phase phase-${phase ?? 'waiting'}`}>{isMessageKey(key) ? t(key) : phase}</span>
}

/** "We want this too" for a tool we do not host: a toggle, one vote per person. */
export function DemandToggle({ recipeId, tool, count, wanted }: { recipeId: string; tool: string; count: number; wanted: boolean }) {
  const t = useT()
  return (
    <div className="demand">
      <p>
        {count === 0 ? t('catalog.demand.none') : count === 1 ? t('catalog.demand.one') : t('catalog.demand.other', { count })}
        {wanted ? ` ${t('catalog.demand.yours')}` : null}
      </p>
      <ButtonForm
        schema={demandSchema}
        id={`demand-${recipeId}`}
        fields={{ intent: 'demand', recipeId, want: wanted ? 'false' : 'true' }}
        label={wanted ? t('catalog.demand.withdraw') : t('catalog.demand.want')}
        ariaLabel={wanted ? t('catalog.demand.withdrawLabel', { tool }) : t('catalog.demand.wantLabel', { tool })}
      />
    </div>
  )
}

export type InstanceRow = {
  id: string
  tool: string
  phase: string | null
  desiredState: 'RUNNING' | 'SUSPENDED' | 'REMOVED'
  url: string | null
}

/** Pause, resume, restart and the way to removal, for an organisation's admins. */
export function InstanceActions({ slug, instance }: { slug: string; instance: InstanceRow }) {
  const t = useT()
  if (instance.desiredState === 'REMOVED') return null
  const action = `/organisations/${slug}/instances/${instance.id}`
  const button = (intent: 'suspend' | 'resume' | 'restart', label: MessageKey, ariaLabel: MessageKey) => (
    <ButtonForm
      schema={instanceActionSchema}
      id={`${intent}-${instance.id}`}
      action={action}
      fields={{ intent }}
      label={t(label)}
      ariaLabel={t(ariaLabel, { tool: instance.tool })}
    />
  )
  return (
    <>
      {instance.desiredState === 'SUSPENDED'
        ? button('resume', 'instance.resume', 'instance.resumeLabel')
        : button('suspend', 'instance.suspend', 'instance.suspendLabel')}
      {instance.phase !== null && instance.desiredState === 'RUNNING' ? button('restart', 'instance.restart', 'instance.restartLabel') : null}
      <Link to={`${action}#remove`} aria-label={t('instance.removeLinkLabel', { tool: instance.tool })}>
        {t('instance.removeLink')}
      </Link>
    </>
  )
}
