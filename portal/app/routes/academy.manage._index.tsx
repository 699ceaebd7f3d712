import { getFormProps, getInputProps } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import { supportedLanguages, textIn } from '@commons/academy/rules'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { LANGUAGE_NAME_KEYS, TextsFields, useStudioForm } from '~/components/academy-studio-form'
import { VersionBadge } from '~/components/academy-studio-status'
import { FieldErrors, FormErrors } from '~/components/field'
import studioStylesUrl from '~/styles/academy-studio.css?url'
import { AcademyError } from '~/utils/academy/content.server'
import { newCourseSchema, refusal } from '~/utils/academy/studio-forms'
import { createCourse, studioCourses } from '~/utils/academy/studio.server'
import { requireRole } from '~/utils/auth.server'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { useT } from '~/utils/use-t'

export const meta: MetaFunction = () => [{ title: 'Academy studio · Commons Portal' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: studioStylesUrl }]

/** Every course, whatever its state, for trainers only. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, 'trainer')
  const { lang } = await getTranslator(request)
  const courses = await studioCourses()
  return {
    courses: courses.map(({ course, published, working }) => {
      const shown = (working ?? published)?.parsed
      return {
        id: course.id,
        slug: course.slug,
        title: shown ? textIn(shown.title, lang) || course.slug : course.slug,
        languages: shown?.languages ?? [],
        tool: shown?.toolRecipeId ? toolName(shown.toolRecipeId, lang) : null,
        published: published ? { number: published.number, publishedAt: published.publishedAt?.toISOString() ?? null } : null,
        working: working ? { number: working.number, status: working.status } : null,
      }
    }),
  }
}

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireRole(request, 'trainer')
  const submission = parseWithZod(await request.formData(), { schema: newCourseSchema })
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  try {
    const { course } = await createCourse({ userId: session.userId }, { ...submission.value, title: submission.value.title ?? {} })
    return redirect(`/academy/manage/${course.id}?created=1`)
  } catch (error) {
    if (!(error instanceof AcademyError)) throw error
    const field = error.key.startsWith('studio.error.slug') ? 'slug' : 'title'
    return data({ result: submission.reply({ fieldErrors: { [field]: [refusal(error.key, error.vars)] } }) }, { status: error.status })
  }
}

export default function StudioIndex() {
  const { courses } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const t = useT()
  const [searchParams] = useSearchParams()
  const deleted = searchParams.has('deleted')
  const [form, fields] = useStudioForm(newCourseSchema, { id: 'new-course', lastResult: actionData?.result, defaultValue: { languages: ['nl', 'en'] } })
  const chosen = (fields.languages.value as string[] | string | undefined) ?? ['nl', 'en']
  const languages = supportedLanguages.filter((l) => (Array.isArray(chosen) ? chosen.includes(l) : chosen === l))
  return (
    <>
      <section className="panel" aria-labelledby="studio-title">
        <h1 id="studio-title">{t('studio.index.title')}</h1>
        {deleted ? (
          <p className="notice" role="status">
            {t('studio.notice.courseDeleted')}
          </p>
        ) : null}
        <p>{t('studio.index.intro')}</p>
        {courses.length === 0 ? (
          <p>{t('studio.index.none')}</p>
        ) : (
          <table className="studio-courses">
            <caption className="visually-hidden">{t('studio.index.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('studio.index.course')}</th>
                <th scope="col">{t('studio.index.published')}</th>
                <th scope="col">{t('studio.index.working')}</th>
                <th scope="col">{t('studio.index.languages')}</th>
                <th scope="col">{t('studio.index.tool')}</th>
              </tr>
            </thead>
            <tbody>
              {courses.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    <Link to={`/academy/manage/${c.id}`}>{c.title}</Link>
                    <br />
                    <code className="muted">{c.slug}</code>
                  </th>
                  <td>{c.published ? <VersionBadge status="PUBLISHED" number={c.published.number} /> : <span className="muted">{t('studio.index.notPublished')}</span>}</td>
                  <td>{c.working ? <VersionBadge status={c.working.status === 'IN_REVIEW' ? 'IN_REVIEW' : 'DRAFT'} number={c.working.number} /> : <span className="muted">{t('studio.index.noWorkingCopy')}</span>}</td>
                  <td>{c.languages.map((l) => t(LANGUAGE_NAME_KEYS[l])).join(', ')}</td>
                  <td>{c.tool ?? <span className="muted">{t('studio.tool.none')}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel narrow" aria-labelledby="new-course-title">
        <h2 id="new-course-title">{t('studio.new.title')}</h2>
        <p>{t('studio.new.intro')}</p>
        <Form method="post" {...getFormProps(form)} noValidate className="stack">
          <input type="hidden" name="intent" value="create-course" />
          <FormErrors id={form.errorId} errors={form.errors} />
          <div className="field">
            <label htmlFor={fields.slug.id}>{t('studio.new.slug')}</label>
            <p id={`${fields.slug.id}-help`} className="help">
              {t('studio.new.slug.help')}
            </p>
            <input
              {...getInputProps(fields.slug, { type: 'text' })}
              autoComplete="off"
              aria-describedby={[`${fields.slug.id}-help`, fields.slug.errors?.length ? `${fields.slug.id}-error` : ''].filter(Boolean).join(' ')}
            />
            <FieldErrors id={`${fields.slug.id}-error`} errors={fields.slug.errors} />
          </div>
          <fieldset className="field" aria-describedby={fields.languages.errors?.length ? `${fields.languages.id}-error` : undefined}>
            <legend>{t('studio.field.languages')}</legend>
            {supportedLanguages.map((l) => (
              <div key={l} className="choice">
                <input {...getInputProps(fields.languages, { type: 'checkbox', value: l })} id={`new-course-language-${l}`} />
                <label htmlFor={`new-course-language-${l}`}>{t(LANGUAGE_NAME_KEYS[l])}</label>
              </div>
            ))}
            <FieldErrors id={`${fields.languages.id}-error`} errors={fields.languages.errors} />
          </fieldset>
          <TextsFields field={fields.title} languages={languages.length ? languages : supportedLanguages} label="studio.field.courseTitle" help={t('studio.new.title.help')} />
          <button type="submit" className="primary">
            {t('studio.new.submit')}
          </button>
        </Form>
      </section>
    </>
  )
}
