import { getFormProps } from '@conform-to/react'
import type { SubmissionResult } from '@conform-to/react'
import { Form, Link, useNavigation } from '@remix-run/react'
import { assignSchema } from '~/utils/academy/learning-forms'
import { useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'
import { FieldErrors, FormErrors } from './field'

export interface AssignOrganisation {
  slug: string
  name: string
  members: { id: string; name: string; completed: boolean }[]
}

/**
 * An organisation admin's form on a course page: assign the course to every
 * member of the organisation, or to the ones ticked.
 */
export function AssignCourseForm({
  organization,
  lastResult,
  notice,
}: {
  organization: AssignOrganisation
  lastResult?: SubmissionResult<string[]> | null
  notice?: { text: string; error: boolean } | null
}) {
  const t = useT()
  const navigation = useNavigation()
  const [form, fields] = useZodForm(assignSchema, { id: `assign-${organization.slug}`, lastResult, defaultValue: { scope: 'all' } })
  const headingId = `assign-${organization.slug}-title`
  const scopeError = fields.scope.errors?.length ? `${fields.scope.id}-error` : undefined
  const membersError = fields.members.errors?.length ? `${fields.members.id}-error` : undefined
  const chosen = new Set([fields.members.initialValue ?? []].flat().filter((v): v is string => typeof v === 'string'))
  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>{t('academy.assign.title', { org: organization.name })}</h2>
      {notice ? (
        <div className={notice.error ? 'notice error' : 'notice'} role={notice.error ? 'alert' : 'status'}>
          {notice.text}
        </div>
      ) : null}
      <p>
        <Link to={`/organisations/${organization.slug}/courses`}>{t('academy.assign.progressLink', { org: organization.name })}</Link>
      </p>
      {organization.members.length === 0 ? (
        <p>{t('academy.assign.noMembers', { org: organization.name })}</p>
      ) : (
        <>
          <p>{t('academy.assign.intro')}</p>
          <Form method="post" {...getFormProps(form)} noValidate>
            <FormErrors id={form.errorId} errors={form.errors} />
            <input type="hidden" name="intent" value="assign" />
            <input type="hidden" name="organization" value={organization.slug} />
            <fieldset className="field" aria-describedby={scopeError}>
              <legend>{t('academy.assign.scope')}</legend>
              {(['all', 'chosen'] as const).map((scope) => (
                <div key={scope} className="choice">
                  <input type="radio" id={`${form.id}-scope-${scope}`} name={fields.scope.name} value={scope} defaultChecked={(fields.scope.initialValue ?? 'all') === scope} />
                  <label htmlFor={`${form.id}-scope-${scope}`}>
                    {scope === 'all' ? t('academy.assign.scope.all', { org: organization.name }) : t('academy.assign.scope.chosen')}
                  </label>
                </div>
              ))}
              <FieldErrors id={`${fields.scope.id}-error`} errors={fields.scope.errors} />
            </fieldset>
            <fieldset className="field" aria-describedby={membersError}>
              <legend>{t('academy.assign.members')}</legend>
              {organization.members.map((member) => (
                <div key={member.id} className="choice">
                  <input type="checkbox" id={`${form.id}-member-${member.id}`} name={fields.members.name} value={member.id} defaultChecked={chosen.has(member.id)} />
                  <label htmlFor={`${form.id}-member-${member.id}`}>{member.completed ? t('academy.assign.memberCompleted', { name: member.name }) : member.name}</label>
                </div>
              ))}
              <FieldErrors id={`${fields.members.id}-error`} errors={fields.members.errors} />
            </fieldset>
            <button type="submit" className="primary" disabled={navigation.state === 'submitting'}>
              {t('academy.assign.submit')}
            </button>
          </Form>
        </>
      )}
    </section>
  )
}
