import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import academyStylesUrl from '~/styles/academy.css?url'
import { organisationAssignments } from '~/utils/academy/assignments.server'
import { getTranslator } from '~/utils/i18n.server'
import { requireOrgAdmin } from '~/utils/permissions.server'
import { useLanguage, useT } from '~/utils/use-t'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: academyStylesUrl }]

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.title} · Commons Portal` : 'Commons Portal' }]

/** For an organisation's admins: how its members are getting on with the courses it assigned them. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { organization } = await requireOrgAdmin(request, params.slug)
  const { lang, t } = await getTranslator(request)
  const rows = await organisationAssignments(organization.id, lang)
  return {
    title: t('academy.orgCourses.metaTitle'),
    organization: { name: organization.name, slug: organization.slug },
    rows: rows.map((r) => ({ ...r, assignedAt: r.assignedAt.toISOString(), completedAt: r.completedAt?.toISOString() ?? null })),
  }
}

export default function OrganisationCourses() {
  const { organization, rows } = useLoaderData<typeof loader>()
  const t = useT()
  const lang = useLanguage()
  const date = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeZone: 'Europe/Amsterdam' })
  const org = organization.name
  return (
    <>
      <p>
        <Link to={`/organisations/${organization.slug}`}>{t('academy.orgCourses.back', { org })}</Link>
      </p>
      <h1>{t('academy.orgCourses.title', { org })}</h1>
      <p className="lead">{t('academy.orgCourses.intro', { org })}</p>
      {rows.length === 0 ? (
        <p>
          {t('academy.orgCourses.none')} <Link to="/academy">{t('academy.orgCourses.toAcademy')}</Link>
        </p>
      ) : (
        <table>
          <caption>{t('academy.orgCourses.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('academy.orgCourses.member')}</th>
              <th scope="col">{t('academy.orgCourses.course')}</th>
              <th scope="col">{t('academy.orgCourses.assigned')}</th>
              <th scope="col">{t('academy.orgCourses.progress')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.courseSlug}-${r.member}-${r.assignedAt}`}>
                <th scope="row">{r.member}</th>
                <td>
                  <Link to={`/academy/${r.courseSlug}`}>{r.courseTitle}</Link>
                </td>
                <td>{date.format(new Date(r.assignedAt))}</td>
                <td>
                  {t('academy.orgCourses.lessons', { done: r.done, total: r.total })}
                  {r.completedAt ? `, ${t('academy.orgCourses.completedOn', { date: date.format(new Date(r.completedAt)) })}` : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
