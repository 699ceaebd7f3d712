import { getFormProps, getTextareaProps, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { Field, FormErrors } from '~/components/field'
import { ButtonForm, PhaseBadge } from '~/components/tools'
import { requireRole } from '~/utils/auth.server'
import { catalogRecipes } from '~/utils/catalog.server'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { approveRequest, demandSummary, quotaUsage, rejectRequest, RequestError, setApprovalPolicy } from '~/utils/requests.server'
import { approveSchema, policySchema, rejectSchema } from '~/utils/tool-forms'
import { useLanguage, useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'
import { ActionNotice } from '~/components/action-notice'

export const meta: MetaFunction = () => [{ title: 'Tool requests · Commons Portal' }]

/** The operators' queue: requests to decide, approvals the provisioner has not taken on, demand, approval policy. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, 'platform-operator')
  const { lang } = await getTranslator(request)
  const pending = await db().toolRequest.findMany({
    where: { status: 'PENDING' },
    include: { organization: true, requestedBy: { select: { name: true, email: true } } },
    orderBy: { createdAt: 'asc' },
  })
  const waiting = await db().instance.findMany({ where: { phase: null, removedAt: null }, include: { organization: true }, orderBy: { createdAt: 'asc' } })
  const demand = await demandSummary()
  const policies = new Map((await db().catalogPolicy.findMany()).map((p) => [p.recipeId, p.needsApproval]))
  const recipes = catalogRecipes()
  return {
    pending: await Promise.all(
      pending.map(async (r) => ({
        id: r.id,
        tool: toolName(r.recipeId, lang),
        recipeId: r.recipeId,
        org: { name: r.organization.name, slug: r.organization.slug },
        requestedBy: r.requestedBy ? `${r.requestedBy.name} <${r.requestedBy.email}>` : '—',
        createdAt: r.createdAt.toISOString(),
        used: await quotaUsage(r.organizationId),
        quota: r.organization.instanceQuota,
      })),
    ),
    waiting: waiting.map((i) => ({
      id: i.id,
      tool: toolName(i.recipeId, lang),
      org: { name: i.organization.name, slug: i.organization.slug },
      lastSyncError: i.lastSyncError,
    })),
    demand: recipes
      .filter((r) => !r.hostable)
      .map((r) => ({ id: r.id, tool: r.texts[lang].name, count: demand.counts.get(r.id) ?? 0 }))
      .filter((d) => d.count > 0)
      .sort((a, b) => b.count - a.count || a.tool.localeCompare(b.tool)),
    policies: recipes
      .filter((r) => r.hostable)
      .map((r) => ({ id: r.id, tool: r.texts[lang].name, needsApproval: policies.get(r.id) ?? env().REQUESTS_NEED_APPROVAL, isDefault: !policies.has(r.id) })),
  }
}

type ActionResult = { notice?: string; error?: string; requestId?: string; reject?: SubmissionResult<string[]> }

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireRole(request, 'platform-operator')
  const { lang, t } = await getTranslator(request)
  const operator = { userId: session.userId }
  const formData = await request.formData()
  const intent = formData.get('intent')
  try {
    if (intent === 'reject') {
      const submission = parseWithZod(formData, { schema: rejectSchema })
      const requestId = String(formData.get('requestId') ?? '')
      if (submission.status !== 'success') return data<ActionResult>({ requestId, reject: submission.reply() }, { status: 400 })
      const rejected = await rejectRequest(operator, submission.value.requestId, submission.value.reason)
      return data<ActionResult>({ notice: t('operator.rejected', { org: rejected.organization.name }), requestId, reject: submission.reply({ resetForm: true }) })
    }
    if (intent === 'approve') {
      const submission = parseWithZod(formData, { schema: approveSchema })
      if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
      const approved = await approveRequest(operator, submission.value.requestId)
      const vars = { tool: toolName(approved.recipeId, lang), org: approved.organization.name }
      if (approved.delivery.outcome === 'delivered') return data<ActionResult>({ notice: t('operator.approved', vars) })
      if (approved.delivery.outcome === 'unavailable') return data<ActionResult>({ notice: t('operator.approvedQueued', vars) })
      return data<ActionResult>({ error: t('provisioner.refused', { code: approved.delivery.code }) })
    }
    const submission = parseWithZod(formData, { schema: policySchema })
    if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
    await setApprovalPolicy(operator, submission.value.recipeId, submission.value.needsApproval)
    return data<ActionResult>({ notice: t('operator.policy.saved') })
  } catch (error) {
    if (error instanceof RequestError) return data<ActionResult>({ error: t(error.key, error.vars) }, { status: error.status })
    throw error
  }
}

function RejectForm({ requestId, tool, org, result }: { requestId: string; tool: string; org: string; result?: SubmissionResult<string[]> }) {
  const t = useT()
  const [form, fields] = useZodForm(rejectSchema, { id: `reject-${requestId}`, lastResult: result })
  return (
    <Form method="post" {...getFormProps(form)} noValidate className="reject-form">
      <FormErrors id={form.errorId} errors={form.errors} />
      <input type="hidden" name="intent" value="reject" />
      <input type="hidden" name="requestId" value={requestId} />
      <Field id={fields.reason.id} label={t('operator.reason')} errors={fields.reason.errors}>
        {(aria) => <textarea {...getTextareaProps(fields.reason)} {...aria} rows={2} />}
      </Field>
      <button type="submit" className="danger" aria-label={t('operator.rejectLabel', { tool, org })}>
        {t('operator.reject')}
      </button>
    </Form>
  )
}

export default function OperatorRequests() {
  const { pending, waiting, demand, policies } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as ActionResult | undefined
  const t = useT()
  const lang = useLanguage()
  const dateFormat = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Amsterdam' })
  return (
    <>
      <h1>{t('operator.title')}</h1>
      <ActionNotice result={result} />
      <section className="panel" aria-labelledby="pending-title">
        <h2 id="pending-title">{t('operator.pending.title')}</h2>
        {pending.length === 0 ? <p>{t('operator.pending.none')}</p> : null}
        {pending.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('operator.col.org')}</th>
                <th scope="col">{t('operator.col.tool')}</th>
                <th scope="col">{t('operator.col.by')}</th>
                <th scope="col">{t('operator.col.usage')}</th>
                <th scope="col">{t('operator.col.decision')}</th>
              </tr>
            </thead>
            <tbody>
              {pending.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={`/organisations/${r.org.slug}`}>{r.org.name}</Link>
                  </td>
                  <td>
                    <Link to={`/catalog/${r.recipeId}`}>{r.tool}</Link>
                  </td>
                  <td>
                    {r.requestedBy}
                    <br />
                    <span className="muted">{dateFormat.format(new Date(r.createdAt))}</span>
                  </td>
                  <td>{t('operator.usage', { used: r.used, quota: r.quota })}</td>
                  <td className="decision">
                    <ButtonForm
                      schema={approveSchema}
                      id={`approve-${r.id}`}
                      fields={{ intent: 'approve', requestId: r.id }}
                      buttonClassName="primary"
                      label={t('operator.approve')}
                      ariaLabel={t('operator.approveLabel', { tool: r.tool, org: r.org.name })}
                    />
                    <RejectForm requestId={r.id} tool={r.tool} org={r.org.name} result={result?.requestId === r.id ? result.reject : undefined} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <section className="panel" aria-labelledby="waiting-title">
        <h2 id="waiting-title">{t('operator.waiting.title')}</h2>
        {waiting.length === 0 ? <p>{t('operator.waiting.none')}</p> : null}
        <ul className="plain">
          {waiting.map((i) => (
            <li key={i.id}>
              <Link to={`/organisations/${i.org.slug}/instances/${i.id}`}>
                {i.tool} · {i.org.name}
              </Link>{' '}
              <PhaseBadge phase={null} />{' '}
              <span className="muted">{i.lastSyncError ? t('operator.waiting.lastError', { error: i.lastSyncError }) : t('operator.waiting.noTry')}</span>
            </li>
          ))}
        </ul>
      </section>
      <section className="panel" aria-labelledby="demand-title">
        <h2 id="demand-title">{t('operator.demand.title')}</h2>
        {demand.length === 0 ? (
          <p>{t('operator.demand.none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('operator.col.tool')}</th>
                <th scope="col">{t('operator.col.people')}</th>
              </tr>
            </thead>
            <tbody>
              {demand.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link to={`/catalog/${d.id}`}>{d.tool}</Link>
                  </td>
                  <td>{d.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel" aria-labelledby="policy-title">
        <h2 id="policy-title">{t('operator.policy.title')}</h2>
        <p>{t('operator.policy.help')}</p>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('operator.col.tool')}</th>
              <th scope="col">{t('operator.col.policy')}</th>
              <th scope="col">{t('org.tools.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {policies.map((p) => (
              <tr key={p.id}>
                <td>{p.tool}</td>
                <td>
                  {t(p.needsApproval ? 'operator.policy.needsApproval' : 'operator.policy.automatic')} {p.isDefault ? <span className="muted">{t('operator.policy.default')}</span> : null}
                </td>
                <td>
                  <ButtonForm
                    schema={policySchema}
                    id={`policy-${p.id}`}
                    fields={{ intent: 'policy', recipeId: p.id, needsApproval: p.needsApproval ? 'false' : 'true' }}
                    label={t(p.needsApproval ? 'operator.policy.makeAutomatic' : 'operator.policy.requireApproval')}
                    ariaLabel={t(p.needsApproval ? 'operator.policy.makeAutomaticLabel' : 'operator.policy.requireApprovalLabel', { tool: p.tool })}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  )
}
