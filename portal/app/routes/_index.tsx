import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { readingLanguage, textIn } from '@commons/academy/rules'
import { myCourses } from '~/utils/academy/learning.server'
import { onboardingOffers } from '~/utils/academy/onboarding.server'
import { hasRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { organizationsOf } from '~/utils/permissions.server'
import { getSession } from '~/utils/session.server'
import { useT } from '~/utils/use-t'
import type { MessageKey } from '~/utils/i18n'

const NOTICES = { signedOut: 'home.signedOut', sessionEnded: 'home.sessionEnded' } as const
const LOGIN_ERRORS = ['expired', 'denied', 'invalid', 'unavailable'] as const

export async function loader({ request }: LoaderFunctionArgs) {
  const url = new URL(request.url)
  const session = await getSession(request)
  const loginError = LOGIN_ERRORS.find((e) => e === url.searchParams.get('loginError')) ?? null
  const notice = (Object.keys(NOTICES) as (keyof typeof NOTICES)[]).find((k) => url.searchParams.has(k)) ?? null
  if (!session) return { signedIn: false as const, loginError, notice }
  const memberships = await organizationsOf(session)
  const invitations = await db().invitation.findMany({
    where: { email: session.user.email, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
    include: { organization: { select: { name: true } } },
  })
  const { lang } = await getTranslator(request)
  const offers = await onboardingOffers(session.userId)
  const courses = await myCourses(session.userId)
  return {
    signedIn: true as const,
    loginError,
    notice,
    name: session.user.name,
    roles: {
      operator: hasRole(session, 'platform-operator'),
      agent: hasRole(session, 'helpdesk-agent'),
      trainer: hasRole(session, 'trainer'),
    },
    organizations: memberships.map((m) => ({ slug: m.organization.slug, name: m.organization.name, role: m.role, city: m.organization.city })),
    invitationCount: invitations.length,
    invitations: invitations.map((i) => ({ id: i.id, organization: i.organization.name })),
    // Courses started and not finished: the dashboard leads back to where they stopped.
    coursesGoingOn: courses
      .filter((c) => c.started && !c.completed && c.nextLessonId)
      .map((c) => ({ slug: c.slug, next: c.nextLessonId, title: textIn(c.title, readingLanguage(c, lang), c.languages) || c.slug, percent: c.percent })),
    // The onboarding courses of the tools the person's organisations got ready.
    courseOffers: offers.map((o) => {
      const reading = readingLanguage(o.course, lang)
      return {
        key: `${o.organisation.slug}-${o.recipeId}`,
        org: o.organisation.name,
        tool: toolName(o.recipeId, lang),
        slug: o.course.slug,
        title: textIn(o.course.title, reading, o.course.languages) || o.course.slug,
        percent: o.percent,
      }
    }),
  }
}

export default function Index() {
  const data = useLoaderData<typeof loader>()
  const t = useT()
  const alert = data.loginError ? (
    <div className="notice error" role="alert">
      <p>{t(`login.error.${data.loginError}` as MessageKey)}</p>
      <p>
        <Link to="/auth/login">{t('login.tryAgain')}</Link>
      </p>
    </div>
  ) : data.notice ? (
    <div className="notice" role="status">
      {t(NOTICES[data.notice])}
    </div>
  ) : null

  if (!data.signedIn) {
    return (
      <section className="hero" aria-labelledby="home-title">
        {alert}
        <h1 id="home-title">{t('home.title')}</h1>
        <p className="lead">{t('home.intro')}</p>
        <p>
          <Link className="button primary" to="/auth/login">
            {t('home.signIn')}
          </Link>
        </p>
      </section>
    )
  }

  const adminOrgs = data.organizations.filter((o) => o.role === 'ADMIN')
  return (
    <>
      {alert}
      <h1>{t('dashboard.hello', { name: data.name })}</h1>
      <div className="grid">
        <section className="panel" aria-labelledby="orgs-title">
          <h2 id="orgs-title">{t('dashboard.yourOrgs')}</h2>
          {data.organizations.length === 0 ? <p>{t('dashboard.noOrgs')}</p> : null}
          <ul className="cards">
            {data.organizations.map((o) => (
              <li key={o.slug}>
                <Link to={`/organisations/${o.slug}`}>{o.name}</Link>{' '}
                <span className="badge">{t(o.role === 'ADMIN' ? 'dashboard.role.ADMIN' : 'dashboard.role.MEMBER')}</span>
              </li>
            ))}
          </ul>
          <p>
            <Link className="button" to="/organisations/new">
              {t('dashboard.createOrg')}
            </Link>
          </p>
        </section>
        <section className="panel" aria-labelledby="next-title">
          <h2 id="next-title">{t('dashboard.next')}</h2>
          <ul>
            {adminOrgs.map((o) => (
              <li key={o.slug}>
                <Link to={`/organisations/${o.slug}#invite`}>{t('dashboard.next.invite', { org: o.name })}</Link>
              </li>
            ))}
            {adminOrgs.map((o) => (
              <li key={`catalog-${o.slug}`}>
                <Link to="/catalog">{t('dashboard.next.catalog', { org: o.name })}</Link>
              </li>
            ))}
            {data.organizations
              .filter((o) => o.role !== 'ADMIN')
              .map((o) => (
                <li key={o.slug}>
                  <Link to={`/organisations/${o.slug}`}>{t('dashboard.next.open', { org: o.name })}</Link>
                </li>
              ))}
            {data.roles.operator ? (
              <li>
                <Link to="/organisations">{t('dashboard.next.operator')}</Link>
              </li>
            ) : null}
            {data.roles.operator ? (
              <li>
                <Link to="/operator/requests">{t('dashboard.next.requests')}</Link>
              </li>
            ) : null}
            {data.roles.operator ? (
              <li>
                <Link to="/operator/health">{t('dashboard.next.health')}</Link>
              </li>
            ) : null}
            {data.roles.operator ? (
              <li>
                <Link to="/operator/upgrades">{t('dashboard.next.upgrades')}</Link>
              </li>
            ) : null}
            {data.roles.agent ? (
              <li>
                <Link to="/organisations">{t('dashboard.next.agent')}</Link>
              </li>
            ) : null}
            {data.coursesGoingOn.map((c) => (
              <li key={`course-${c.slug}`}>
                <Link to={`/academy/${c.slug}/${c.next}`}>{t('dashboard.next.goOnCourse', { course: c.title, percent: c.percent })}</Link>
              </li>
            ))}
            <li>
              <Link to="/academy">{t('dashboard.next.academy')}</Link>
            </li>
            {data.roles.trainer ? (
              <li>
                <Link to="/academy/manage">{t('insights.dashboard.trainer')}</Link>
              </li>
            ) : null}
          </ul>
        </section>
        {data.courseOffers.length > 0 ? (
          <section className="panel" aria-labelledby="learn-title">
            <h2 id="learn-title">{t('insights.dashboard.title')}</h2>
            <ul>
              {data.courseOffers.map((o) => (
                <li key={o.key}>
                  {t('insights.dashboard.offer', { org: o.org, tool: o.tool })} <Link to={`/academy/${o.slug}`}>{o.title}</Link>
                  {o.percent !== null ? <> {t('insights.dashboard.progress', { percent: o.percent })}</> : null}
                </li>
              ))}
            </ul>
          </section>
        ) : null}
        {data.invitations.length > 0 ? (
          <section className="panel" aria-labelledby="inv-title">
            <h2 id="inv-title">{t('dashboard.invitations')}</h2>
            <ul>
              {data.invitations.map((i) => (
                <li key={i.id}>{t('dashboard.invitationFrom', { org: i.organization })}</li>
              ))}
            </ul>
          </section>
        ) : null}
      </div>
    </>
  )
}
