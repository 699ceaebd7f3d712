import { getCollectionProps, getFormProps, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { ActionNotice } from '~/components/action-notice'
import { FormErrors } from '~/components/field'
import { ButtonForm } from '~/components/tools'
import { requireRole } from '~/utils/auth.server'
import { formatDateTime } from '~/utils/format'
import { isMessageKey } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { logger } from '~/utils/logger.server'
import { provisioner, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable } from '~/utils/provisioner.server'
import { upgradeAllSchema, upgradeSelectedAmong, upgradeSelectedSchema, upgradeToolSchema } from '~/utils/tool-forms'
import { placesOf, requestUpgrades, resolveChoice, upgradesForOperator, type AvailableRow, type RecentRow, type UpgradeChoice, type UpgradePlace } from '~/utils/upgrades.server'
import { useRevalidateWhile } from '~/utils/use-revalidate-while'
import { useLanguage, useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

export const meta: MetaFunction = () => [{ title: 'Upgrades · Commons Portal' }]

/** While upgrades are queued or running, the page reads them again this often. */
const REFRESH_MS = 4_000

/** The available upgrades with a checkbox each, and the recent upgrades, from the provisioner with the portal's names. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, 'platform-operator')
  const { lang } = await getTranslator(request)
  try {
    return { state: 'answered' as const, ...(await upgradesForOperator(lang)) }
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return { state: 'unreachable' as const }
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error }, 'could not read the upgrades from the provisioner')
      return { state: 'unreadable' as const, detail: error.message }
    }
    throw error
  }
}

type ActionResult = { notice?: string; error?: string; refused?: { instanceId: string; text: string }[]; selection?: SubmissionResult<string[]> }

/**
 * Starts upgrades: of the chosen rows, of all that can start now, or of all
 * of one tool. Chosen ids must be among those the provisioner lists as
 * available (404 otherwise, and nothing is asked of it); refusals come back
 * per instance in plain words.
 */
export async function action({ request }: ActionFunctionArgs) {
  const session = await requireRole(request, 'platform-operator')
  const { lang, t } = await getTranslator(request)
  const formData = await request.formData()
  const intent = formData.get('intent')
  let choice: UpgradeChoice
  if (intent === 'upgrade-all' || intent === 'upgrade-tool') {
    const submission = parseWithZod(formData, { schema: intent === 'upgrade-all' ? upgradeAllSchema : upgradeToolSchema })
    if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
    choice = 'recipeId' in submission.value ? { kind: 'tool', recipe: submission.value.recipeId } : { kind: 'all' }
  } else {
    const submission = parseWithZod(formData, { schema: upgradeSelectedSchema })
    if (submission.status !== 'success') return data<ActionResult>({ selection: submission.reply() }, { status: 400 })
    choice = { kind: 'selected', instanceIds: submission.value.instances }
  }
  try {
    const client = provisioner()
    const overview = await client.upgrades()
    let selection: SubmissionResult<string[]> | undefined
    if (choice.kind === 'selected') {
      const checked = parseWithZod(formData, { schema: upgradeSelectedAmong(new Set(overview.available.map((a) => a.instanceId))) })
      if (checked.status !== 'success') return data<ActionResult>({ selection: checked.reply() }, { status: 404 })
      selection = checked.reply({ resetForm: true })
    }
    const instanceIds = resolveChoice(choice, overview)
    if (instanceIds.length === 0) return data<ActionResult>({ error: t('upgrades.error.noneReady') }, { status: 409 })
    const started = await requestUpgrades({ userId: session.userId }, instanceIds, client)
    // Every id sent was listed as available, so the list names each refusal's organisation and tool.
    const listed = new Map(overview.available.map((a) => [a.instanceId, a]))
    const place = await placesOf(overview.available, lang)
    const refused = started.refused.map((r) => {
      const where = listed.get(r.instanceId)
      const named: Pick<UpgradePlace, 'tool' | 'org'> = where ? place(where) : { tool: r.instanceId, org: null }
      const reasonKey = `upgrades.refusal.${r.code}`
      const reason = isMessageKey(reasonKey) ? t(reasonKey) : t('upgrades.refusal.other', { code: r.code, message: r.message })
      return { instanceId: r.instanceId, text: t('upgrades.refusal', { tool: named.tool, org: named.org?.name ?? where?.organizationId ?? '?', reason }) }
    })
    const count = started.queued.length
    const notice = count === 0 ? t('upgrades.started.none') : count === 1 ? t('upgrades.started.one') : t('upgrades.started.other', { count })
    return data<ActionResult>({ notice, refused, selection })
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return data<ActionResult>({ error: t('provisioner.unavailable') }, { status: 503 })
    if (error instanceof ProvisionerRefused) return data<ActionResult>({ error: t('provisioner.refused', { code: error.code }) }, { status: 502 })
    throw error
  }
}

function Where({ place }: { place: UpgradePlace }) {
  const t = useT()
  return (
    <>
      <td>{place.org ? <Link to={`/organisations/${place.org.slug}`}>{place.org.name}</Link> : t('operator.health.unknownOrg', { id: place.organizationId })}</td>
      <td>{place.org ? <Link to={`/organisations/${place.org.slug}/instances/${place.instanceId}`}>{place.tool}</Link> : `${place.tool} (${place.instanceId})`}</td>
    </>
  )
}

/** The available upgrades, a checkbox each, "Upgrade selected"; the selection survives an answer with errors. */
function AvailableUpgrades({ rows, selection }: { rows: AvailableRow[]; selection?: SubmissionResult<string[]> }) {
  const t = useT()
  const [form, fields] = useZodForm(upgradeSelectedSchema, { id: 'upgrade-selected', lastResult: selection })
  const boxes = new Map(getCollectionProps(fields.instances, { type: 'checkbox', options: rows.map((r) => r.instanceId) }).map((p) => [p.value, p]))
  return (
    <Form method="post" {...getFormProps(form)}>
      <input type="hidden" name="intent" value="upgrade-selected" />
      <FormErrors id={form.errorId} errors={form.errors} />
      <FormErrors id={fields.instances.errorId} errors={fields.instances.errors} />
      <table aria-labelledby="available-title">
        <thead>
          <tr>
            <th scope="col">{t('upgrades.col.choose')}</th>
            <th scope="col">{t('operator.col.org')}</th>
            <th scope="col">{t('operator.col.tool')}</th>
            <th scope="col">{t('upgrades.col.version')}</th>
            <th scope="col">{t('upgrades.col.ready')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            // Each box has its own label; "required" would read as "tick every one".
            const { key: _key, required: _required, ...box } = boxes.get(r.instanceId)!
            return (
              <tr key={r.instanceId}>
                <td>
                  <input {...box} aria-label={t('upgrades.choose', { tool: r.tool, org: r.org?.name ?? r.organizationId, from: r.from, to: r.to })} />
                </td>
                <Where place={r} />
                <td>{t('upgrades.version', { from: r.from, to: r.to })}</td>
                <td>
                  {r.underWay ? t('upgrades.ready.underWay', { status: t(`upgrades.status.${r.underWay}`) }) : r.ready ? t('upgrades.ready.yes') : t('upgrades.ready.no')}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <div className="actions">
        <button type="submit" className="primary">
          {t('upgrades.selected')}
        </button>
      </div>
    </Form>
  )
}

function RecentUpgrades({ rows, running }: { rows: RecentRow[]; running: boolean }) {
  const t = useT()
  const lang = useLanguage()
  return (
    <section className="panel" aria-labelledby="recent-title">
      <h2 id="recent-title">{t('upgrades.recent.title')}</h2>
      {running ? <p className="muted">{t('upgrades.recent.live')}</p> : null}
      {rows.length === 0 ? (
        <p>{t('upgrades.recent.none')}</p>
      ) : (
        <table aria-labelledby="recent-title">
          <thead>
            <tr>
              <th scope="col">{t('operator.col.org')}</th>
              <th scope="col">{t('operator.col.tool')}</th>
              <th scope="col">{t('upgrades.col.version')}</th>
              <th scope="col">{t('upgrades.col.status')}</th>
              <th scope="col">{t('upgrades.col.asked')}</th>
              <th scope="col">{t('upgrades.col.finished')}</th>
              <th scope="col">{t('upgrades.col.problem')}</th>
            </tr>
          </thead>
          <tbody aria-live="polite">
            {rows.map((u) => (
              <tr key={u.id}>
                <Where place={u} />
                <td>{t('upgrades.version', { from: u.from, to: u.to })}</td>
                <td>{t(`upgrades.status.${u.status}`)}</td>
                <td>{formatDateTime(u.createdAt, lang)}</td>
                <td>{u.finishedAt ? formatDateTime(u.finishedAt, lang) : t('upgrades.notFinished')}</td>
                <td>{u.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

export default function OperatorUpgrades() {
  const page = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as ActionResult | undefined
  const t = useT()
  useRevalidateWhile(page.state === 'answered' && page.running, REFRESH_MS)
  if (page.state !== 'answered') {
    return (
      <>
        <h1>{t('upgrades.title')}</h1>
        <p className="notice error" role="status">
          {page.state === 'unreachable' ? t('upgrades.unreachable') : t('upgrades.unreadable', { detail: page.detail })}
        </p>
      </>
    )
  }
  return (
    <>
      <h1>{t('upgrades.title')}</h1>
      <p>{t('upgrades.intro')}</p>
      <ActionNotice result={result} />
      {result?.refused?.length ? (
        <section className="panel" aria-labelledby="refused-title">
          <h2 id="refused-title">{t('upgrades.refused.title')}</h2>
          <ul>
            {result.refused.map((r) => (
              <li key={r.instanceId}>{r.text}</li>
            ))}
          </ul>
        </section>
      ) : null}
      <section className="panel" aria-labelledby="available-title">
        <h2 id="available-title">{t('upgrades.available.title')}</h2>
        {page.available.length === 0 ? (
          <p>{t('upgrades.available.none')}</p>
        ) : (
          <>
            <AvailableUpgrades rows={page.available} selection={result?.selection} />
            {page.readyCount > 0 ? (
              <div className="actions">
                <ButtonForm
                  schema={upgradeAllSchema}
                  id="upgrade-all"
                  fields={{ intent: 'upgrade-all' }}
                  label={page.readyCount === 1 ? t('upgrades.allReady.one') : t('upgrades.allReady.other', { count: page.readyCount })}
                />
                {page.groups.map((g) => (
                  <ButtonForm
                    key={g.recipe}
                    schema={upgradeToolSchema}
                    id={`upgrade-tool-${g.recipe}`}
                    fields={{ intent: 'upgrade-tool', recipeId: g.recipe }}
                    label={t('upgrades.tool', { tool: g.tool, count: g.count })}
                  />
                ))}
              </div>
            ) : null}
            <p className="muted">{t('upgrades.oneAfterAnother')}</p>
          </>
        )}
      </section>
      <RecentUpgrades rows={page.recent} running={page.running} />
    </>
  )
}
