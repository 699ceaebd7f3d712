import { type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { contentLessons, readingLanguage, textIn } from '@commons/academy/rules'
import { ButtonForm, DemandToggle } from '~/components/tools'
import { onboardingCourseFor } from '~/utils/academy/content.server'
import { hasRole, requireUser } from '~/utils/auth.server'
import { findRecipe, memoryInMegabytes } from '~/utils/catalog.server'
import { db } from '~/utils/db.server'
import { demandAction } from '~/utils/demand-action.server'
import { getTranslator } from '~/utils/i18n.server'
import { demandSummary, needsApproval, quotaUsage, requestTool, RequestError } from '~/utils/requests.server'
import { toolRequestSchema } from '~/utils/tool-forms'
import { useT } from '~/utils/use-t'
import { ActionNotice } from '~/components/action-notice'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.tool.name} · Commons Portal` : 'Commons Portal' }]

/** One tool: what it is for, its values, what it needs, and for organisation admins the request form. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const { lang } = await getTranslator(request)
  const recipe = findRecipe(params.tool ?? '')
  if (!recipe) throw new Response('Not Found', { status: 404 })
  const texts = recipe.texts[lang]
  const demand = await demandSummary(session.userId)
  const memberships = await db().membership.findMany({
    where: { userId: session.userId },
    include: { organization: true },
    orderBy: { organization: { name: 'asc' } },
  })
  const adminOf = memberships.filter((m) => m.role === 'ADMIN').map((m) => m.organization)
  const organisations = recipe.hostable
    ? await Promise.all(
        adminOf.map(async (org) => {
          const instance = await db().instance.findFirst({ where: { organizationId: org.id, recipeId: recipe.id, removedAt: null } })
          const pending = await db().toolRequest.findFirst({ where: { organizationId: org.id, recipeId: recipe.id, status: 'PENDING' } })
          return {
            slug: org.slug,
            name: org.name,
            quota: org.instanceQuota,
            used: await quotaUsage(org.id),
            has: instance ? ('instance' as const) : pending ? ('pending' as const) : null,
            instanceId: instance?.id ?? null,
          }
        }),
      )
    : []
  const memory = recipe.hostable ? memoryInMegabytes(recipe.requirements.minMemory) : 0
  const onboarding = await onboardingCourseFor(recipe.id)
  const reading = onboarding ? readingLanguage(onboarding.version.parsed, lang) : lang
  return {
    tool: {
      id: recipe.id,
      name: texts.name,
      summary: texts.summary,
      purpose: texts.purpose,
      category: recipe.category,
      hostable: recipe.hostable,
      homepage: recipe.homepage ?? null,
      values: recipe.values,
      needs: recipe.hostable
        ? {
            memory: memory >= 1024 ? { unit: 'GB' as const, n: +(memory / 1024).toFixed(1) } : { unit: 'MB' as const, n: Math.round(memory) },
            smtp: recipe.requirements.smtp,
            sso: Boolean(recipe.sso),
            services: recipe.services.map((s) => ({ name: s.name, image: s.image })),
          }
        : null,
    },
    demand: { count: demand.counts.get(recipe.id) ?? 0, wanted: demand.mine.has(recipe.id) },
    organisations,
    memberOnly: memberships.length > 0 && adminOf.length === 0,
    noOrganisation: memberships.length === 0 && !hasRole(session, 'platform-operator'),
    needsApproval: recipe.hostable ? await needsApproval(recipe.id) : true,
    // The academy's onboarding course for this tool: published only.
    course: onboarding
      ? {
          slug: onboarding.course.slug,
          title: textIn(onboarding.version.parsed.title, reading, onboarding.version.parsed.languages) || onboarding.course.slug,
          summary: textIn(onboarding.version.parsed.summary, reading, onboarding.version.parsed.languages),
          minutes: contentLessons(onboarding.version.parsed).reduce((sum, { lesson }) => sum + lesson.minutes, 0),
          languages: onboarding.version.parsed.languages,
        }
      : null,
  }
}

type RequestResult = { notice: string | null; error: string | null; organization?: string; result?: SubmissionResult<string[]> }

export async function action({ request, params }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const { lang, t } = await getTranslator(request)
  const formData = await request.formData()
  if (formData.get('intent') === 'demand') return demandAction(formData, session.userId, lang, t)

  const submission = parseWithZod(formData, { schema: toolRequestSchema })
  if (submission.status !== 'success') return data<RequestResult>({ notice: null, error: t('error.400'), result: submission.reply() }, { status: 400 })
  const slug = submission.value.organization
  // Someone who may not see the organisation learns nothing about it.
  const organization = await db().organization.findFirst({ where: { slug, memberships: { some: { userId: session.userId } } } })
  if (!organization) throw new Response('Not Found', { status: 404 })
  const tool = findRecipe(params.tool ?? '')?.texts[lang].name ?? params.tool ?? ''
  try {
    const outcome = await requestTool({ actor: { userId: session.userId }, organization, recipeId: params.tool ?? '', lang })
    const vars = { tool, org: organization.name }
    if (outcome.kind === 'pending') return data<RequestResult>({ notice: t('tool.request.sent', vars), error: null, organization: slug })
    if (outcome.delivery.outcome === 'delivered') return data<RequestResult>({ notice: t('tool.request.started', vars), error: null, organization: slug })
    if (outcome.delivery.outcome === 'unavailable') return data<RequestResult>({ notice: t('tool.request.queued', vars), error: null, organization: slug })
    return data<RequestResult>({ notice: null, error: t('provisioner.refused', { code: outcome.delivery.code }), organization: slug })
  } catch (error) {
    if (!(error instanceof RequestError)) throw error
    return data<RequestResult>({ notice: null, error: t(error.key, error.vars), organization: slug, result: submission.reply() }, { status: error.status })
  }
}

export default function ToolPage() {
  const { tool, demand, organisations, memberOnly, noOrganisation, needsApproval, course } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as RequestResult | undefined
  const t = useT()
  return (
    <>
      <p>
        <Link to="/catalog">{t('tool.back')}</Link>
      </p>
      <h1>{tool.name}</h1>
      <p className="lead">{tool.summary}</p>
      <ActionNotice result={result} />
      <div className="grid">
        <section className="panel" aria-labelledby="purpose-title">
          <h2 id="purpose-title">{t('tool.purpose')}</h2>
          <p>{tool.purpose}</p>
          <p>
            <span className="badge">{t(`catalog.category.${tool.category}`)}</span>{' '}
            <span className={tool.hostable ? 'badge hosted' : 'badge'}>{tool.hostable ? t('catalog.hosted') : t('catalog.notHosted')}</span>
          </p>
          {tool.homepage ? (
            <p>
              <a href={tool.homepage} rel="noopener noreferrer">
                {t('tool.homepage')}
              </a>
            </p>
          ) : null}
        </section>
        <section className="panel" aria-labelledby="values-title">
          <h2 id="values-title">{t('tool.values')}</h2>
          <dl className="stacked">
            <dt>{t('catalog.licence')}</dt>
            <dd>{tool.values.licence}</dd>
            <dt>{t('catalog.governance')}</dt>
            <dd>
              {t(`catalog.governance.${tool.values.governance}`)}. {t(`catalog.governance.${tool.values.governance}.explain`)}
            </dd>
            <dt>{t('tool.openStandards')}</dt>
            <dd>{tool.values.openStandards.length > 0 ? tool.values.openStandards.join(', ') : t('tool.openStandards.none')}</dd>
            <dt>{t('tool.dataLocation')}</dt>
            <dd>{tool.values.dataLocation}</dd>
          </dl>
        </section>
        {tool.needs ? (
          <section className="panel" aria-labelledby="needs-title">
            <h2 id="needs-title">{t('tool.needs')}</h2>
            <dl className="stacked">
              <dt>{t('tool.minMemory')}</dt>
              <dd>{t(tool.needs.memory.unit === 'GB' ? 'tool.gigabytes' : 'tool.megabytes', { n: tool.needs.memory.n })}</dd>
              <dt>{t('tool.smtp')}</dt>
              <dd>{t(tool.needs.smtp ? 'tool.smtp.yes' : 'tool.smtp.no')}</dd>
              <dt>{t('tool.signIn')}</dt>
              <dd>{t(tool.needs.sso ? 'tool.signIn.sso' : 'tool.signIn.own')}</dd>
              <dt>{t('tool.services')}</dt>
              <dd>
                <ul className="plain">
                  {tool.needs.services.map((s) => (
                    <li key={s.name}>
                      {s.name} <span className="muted">({s.image})</span>
                    </li>
                  ))}
                </ul>
              </dd>
            </dl>
          </section>
        ) : null}
      </div>
      {course ? (
        <section className="panel" aria-labelledby="course-title">
          <h2 id="course-title">{t('insights.catalog.title', { title: course.title })}</h2>
          {course.summary ? <p>{course.summary}</p> : null}
          <p>
            {t('insights.catalog.minutes', {
              minutes: course.minutes,
              languages: course.languages
                .map((l) => t(`insights.language.${l}`))
                .reduce((list, name, i) => (i === 0 ? name : t('insights.and', { a: list, b: name })), ''),
            })}
          </p>
          <p>
            <Link className="button" to={`/academy/${course.slug}`}>
              {t('insights.catalog.open', { title: course.title })}
            </Link>
          </p>
        </section>
      ) : null}
      {tool.hostable ? (
        <section className="panel" aria-labelledby="request-title">
          <h2 id="request-title">{t('tool.request.title', { tool: tool.name })}</h2>
          <p>{t(needsApproval ? 'tool.request.needsApproval' : 'tool.request.noApproval')}</p>
          {noOrganisation ? (
            <p>
              {t('tool.request.noOrg')} <Link to="/organisations/new">{t('dashboard.createOrg')}</Link>
            </p>
          ) : null}
          {memberOnly ? <p>{t('tool.request.notAdmin')}</p> : null}
          {organisations.map((org) => (
            <div key={org.slug} className="request-org">
              <h3>{t('tool.request.for', { org: org.name })}</h3>
              <p>{t('tool.request.usage', { org: org.name, used: org.used, quota: org.quota })}</p>
              {org.has === 'instance' ? (
                <p>
                  {t('tool.request.hasIt', { org: org.name, tool: tool.name })}{' '}
                  <Link to={`/organisations/${org.slug}/instances/${org.instanceId}`}>{t('org.tools.details', { tool: tool.name })}</Link>
                </p>
              ) : org.has === 'pending' ? (
                <p>
                  {t('tool.request.isPending', { org: org.name, tool: tool.name })}{' '}
                  <Link to={`/organisations/${org.slug}`}>{t('tool.request.open', { org: org.name })}</Link>
                </p>
              ) : (
                <ButtonForm
                  schema={toolRequestSchema}
                  id={`request-${org.slug}`}
                  fields={{ intent: 'request', organization: org.slug }}
                  lastResult={result?.organization === org.slug ? result.result : undefined}
                  buttonClassName="primary"
                  label={t('tool.request.for', { org: org.name })}
                />
              )}
            </div>
          ))}
        </section>
      ) : (
        <section className="panel" aria-labelledby="demand-title">
          <h2 id="demand-title">{t('catalog.demand.want')}</h2>
          <p>{t('tool.notHostable', { tool: tool.name })}</p>
          <DemandToggle recipeId={tool.id} tool={tool.name} count={demand.count} wanted={demand.wanted} />
        </section>
      )}
    </>
  )
}
