import { getFormProps, getInputProps, getSelectProps, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { Field } from '~/components/field'
import { ButtonForm, InstanceActions, PhaseBadge } from '~/components/tools'
import { hasRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { invitationSchema, memberActionSchema, ORG_ROLES } from '~/utils/forms'
import type { MessageKey } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import {
  inviteMember,
  OrganizationError,
  removeMember,
  revokeInvitation,
  setMemberRole,
} from '~/utils/organizations.server'
import { organisationTools } from '~/utils/org-tools.server'
import { requireOrgAccess, requireOrgAdmin, requireOrgMember } from '~/utils/permissions.server'
import { cancelRequest, RequestError, setInstanceQuota } from '~/utils/requests.server'
import { cancelRequestSchema, QUOTA_MAX, quotaSchema } from '~/utils/tool-forms'
import { useLanguage, useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'
import { ActionNotice } from '~/components/action-notice'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.organization.name} · Commons Portal` : 'Commons Portal' }]

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { session, organization, membership, isAdmin } = await requireOrgAccess(request, params.slug)
  const { lang } = await getTranslator(request)
  const members = await db().membership.findMany({
    where: { organizationId: organization.id },
    include: { user: { select: { id: true, name: true, email: true } } },
    orderBy: [{ role: 'asc' }, { user: { name: 'asc' } }],
  })
  const invitations = isAdmin
    ? await db().invitation.findMany({
        where: { organizationId: organization.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
        orderBy: { createdAt: 'desc' },
        select: { id: true, email: true, role: true, expiresAt: true },
      })
    : []
  return {
    organization: {
      name: organization.name,
      slug: organization.slug,
      description: organization.description,
      sector: organization.sector,
      city: organization.city,
      website: organization.website,
      kvkNumber: organization.kvkNumber,
    },
    isAdmin,
    isMember: Boolean(membership),
    currentUserId: session.userId,
    members: members.map((m) => ({ id: m.id, userId: m.user.id, name: m.user.name, email: m.user.email, role: m.role })),
    invitations: invitations.map((i) => ({ ...i, expiresAt: i.expiresAt.toISOString() })),
    tools: await organisationTools(organization, lang),
    isOperator: hasRole(session, 'platform-operator'),
  }
}

type ActionResult = { notice?: string; error?: string; invite?: SubmissionResult<string[]>; quota?: SubmissionResult<string[]> }

export async function action({ request, params }: ActionFunctionArgs) {
  const formData = await request.formData()
  const { lang, t } = await getTranslator(request)
  const intent = formData.get('intent')
  try {
    if (intent === 'invite') {
      const { session, organization } = await requireOrgAdmin(request, params.slug)
      const submission = parseWithZod(formData, { schema: invitationSchema })
      if (submission.status !== 'success') return data<ActionResult>({ invite: submission.reply() }, { status: 400 })
      try {
        await inviteMember({ organization, inviter: { id: session.userId, name: session.user.name }, input: submission.value, lang })
      } catch (error) {
        if (error instanceof OrganizationError) {
          return data<ActionResult>({ invite: submission.reply({ fieldErrors: { email: [`${error.key}|email=${submission.value.email}`] } }) }, { status: 409 })
        }
        throw error
      }
      return data<ActionResult>({ notice: t('org.invite.sent', { email: submission.value.email }), invite: submission.reply({ resetForm: true }) })
    }
    if (intent === 'cancel-request') {
      const { session, organization } = await requireOrgAccess(request, params.slug)
      const submission = parseWithZod(formData, { schema: cancelRequestSchema })
      if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
      await cancelRequest({ userId: session.userId }, organization, submission.value.requestId)
      return data<ActionResult>({ notice: t('org.requests.cancelled') })
    }
    if (intent === 'set-quota') {
      const { session, organization } = await requireOrgAccess(request, params.slug)
      if (!hasRole(session, 'platform-operator')) throw new Response('Forbidden', { status: 403 })
      const submission = parseWithZod(formData, { schema: quotaSchema })
      if (submission.status !== 'success') return data<ActionResult>({ quota: submission.reply() }, { status: 400 })
      await setInstanceQuota({ userId: session.userId }, organization.id, submission.value.quota)
      return data<ActionResult>({ notice: t('org.quota.saved'), quota: submission.reply() })
    }
    const parsed = memberActionSchema.safeParse(Object.fromEntries(formData))
    if (!parsed.success) return data<ActionResult>({ error: t('error.400') }, { status: 400 })
    const command = parsed.data
    switch (command.intent) {
      case 'leave': {
        const { session, organization, membership } = await requireOrgMember(request, params.slug)
        await removeMember(session.userId, organization, membership.id)
        return redirect('/')
      }
      case 'set-role': {
        const { session, organization } = await requireOrgAdmin(request, params.slug)
        await setMemberRole(session.userId, organization.id, command.membershipId, command.role)
        return data<ActionResult>({ notice: t('org.changed') })
      }
      case 'remove': {
        const { session, organization } = await requireOrgAdmin(request, params.slug)
        await removeMember(session.userId, organization, command.membershipId)
        return data<ActionResult>({ notice: t('org.changed') })
      }
      case 'revoke-invitation': {
        const { session, organization } = await requireOrgAdmin(request, params.slug)
        await revokeInvitation(session.userId, organization.id, command.invitationId)
        return data<ActionResult>({ notice: t('org.invite.revoked') })
      }
    }
  } catch (error) {
    if (error instanceof OrganizationError) return data<ActionResult>({ error: t(error.key, error.vars) }, { status: 409 })
    if (error instanceof RequestError) return data<ActionResult>({ error: t(error.key, error.vars) }, { status: error.status })
    throw error
  }
}

function QuotaForm({ org, quota, result }: { org: string; quota: number; result: ActionResult['quota'] }) {
  const t = useT()
  const [form, fields] = useZodForm(quotaSchema, { id: 'quota-form', lastResult: result, defaultValue: { quota: String(quota) } })
  return (
    <Form method="post" {...getFormProps(form)} noValidate>
      <input type="hidden" name="intent" value="set-quota" />
      <Field id={fields.quota.id} label={t('org.quota.label', { org })} help={t('org.quota.help')} errors={fields.quota.errors}>
        {(aria) => <input {...getInputProps(fields.quota, { type: 'number' })} {...aria} min={0} max={QUOTA_MAX} step={1} inputMode="numeric" />}
      </Field>
      <button type="submit">{t('org.quota.save')}</button>
    </Form>
  )
}

type Tools = ReturnType<typeof useLoaderData<typeof loader>>['tools']

function ToolsSection({ slug, org, tools, isAdmin }: { slug: string; org: string; tools: Tools; isAdmin: boolean }) {
  const t = useT()
  const lang = useLanguage()
  const dateFormat = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeZone: 'Europe/Amsterdam' })
  return (
    <section className="panel" aria-labelledby="tools-title">
      <h2 id="tools-title">{t('org.tools.title')}</h2>
      {!tools.reachable ? (
        <p className="notice error" role="status">
          {t('org.tools.unavailable')}
        </p>
      ) : null}
      <p>{t('org.tools.usage', { used: tools.usage.used, quota: tools.usage.quota })}</p>
      {tools.instances.length === 0 ? <p>{t('org.tools.none', { org })}</p> : null}
      {tools.instances.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('org.tools.tool')}</th>
              <th scope="col">{t('org.tools.state')}</th>
              <th scope="col">{t('org.tools.address')}</th>
              {isAdmin ? <th scope="col">{t('org.tools.actions')}</th> : null}
            </tr>
          </thead>
          <tbody>
            {tools.instances.map((i) => (
              <tr key={i.id}>
                <td>
                  <Link to={`/organisations/${slug}/instances/${i.id}`} aria-label={t('org.tools.details', { tool: i.tool })}>
                    {i.tool}
                  </Link>
                </td>
                <td>
                  <PhaseBadge phase={i.phase} />
                  {i.removed && i.purgeAt ? <p className="muted">{t('instance.purgeAt', { date: dateFormat.format(new Date(i.purgeAt)) })}</p> : null}
                </td>
                <td>{i.phase === 'ready' && i.url ? <a href={i.url}>{i.url}</a> : <span className="muted">—</span>}</td>
                {isAdmin ? (
                  <td className="actions">
                    <InstanceActions slug={slug} instance={i} />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {tools.requests.length > 0 ? (
        <>
          <h3>{t('org.requests.title')}</h3>
          <ul className="plain">
            {tools.requests.map((r) => (
              <li key={r.id} className="request">
                <strong>{r.tool}</strong>: {r.status === 'PENDING' ? t('org.requests.pending') : t('org.requests.rejected')}{' '}
                <span className="muted">{t('org.requests.by', { name: r.requestedBy, date: dateFormat.format(new Date(r.createdAt)) })}</span>
                {r.reason ? <p>{t('org.requests.reason', { reason: r.reason })}</p> : null}
                {isAdmin && r.status === 'PENDING' ? (
                  <ButtonForm
                    schema={cancelRequestSchema}
                    id={`cancel-${r.id}`}
                    fields={{ intent: 'cancel-request', requestId: r.id }}
                    label={t('org.requests.cancel')}
                    ariaLabel={t('org.requests.cancelLabel', { tool: r.tool })}
                  />
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <p>
        <Link to="/catalog">{t('org.tools.browse')}</Link>
      </p>
    </section>
  )
}

function InviteForm({ result }: { result: ActionResult['invite'] }) {
  const t = useT()
  // The id must not be "invite": that is the section's anchor, and Conform finds its form by id.
  const [form, fields] = useZodForm(invitationSchema, { id: 'invite-form', lastResult: result, defaultValue: { role: 'MEMBER' } })
  return (
    <section className="panel" aria-labelledby="invite-title" id="invite">
      <h2 id="invite-title">{t('org.invite.title')}</h2>
      <Form method="post" {...getFormProps(form)} noValidate>
        <input type="hidden" name="intent" value="invite" />
        <Field id={fields.email.id} label={t('org.invite.email')} errors={fields.email.errors}>
          {(aria) => <input {...getInputProps(fields.email, { type: 'email' })} {...aria} autoComplete="off" />}
        </Field>
        <Field id={fields.role.id} label={t('org.invite.role')} errors={fields.role.errors}>
          {(aria) => (
            <select {...getSelectProps(fields.role)} {...aria}>
              {ORG_ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(`dashboard.role.${r}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" className="primary">
          {t('org.invite.submit')}
        </button>
      </Form>
    </section>
  )
}

export default function OrganisationPage() {
  const { organization, isAdmin, isMember, members, invitations, currentUserId, tools, isOperator } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as ActionResult | undefined
  const t = useT()
  const lang = useLanguage()
  const dateFormat = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeZone: 'Europe/Amsterdam' })
  return (
    <>
      <h1>{organization.name}</h1>
      <ActionNotice result={result} />
      {!isMember ? <p className="notice">{t('org.staffView')}</p> : null}
      <div className="grid">
        <section className="panel" aria-labelledby="about-title">
          <h2 id="about-title">{t('org.overview')}</h2>
          {isAdmin ? (
            <p>
              <Link to={`/organisations/${organization.slug}/settings`}>{t('org.settings.link')}</Link>
            </p>
          ) : null}
          <p>{organization.description}</p>
          {isMember ? (
            <p>
              <Link to="/tickets">{t('org.support.link')}</Link>
            </p>
          ) : null}
          {isAdmin ? (
            <p>
              <Link to={`/organisations/${organization.slug}/courses`}>{t('academy.assign.progressLink', { org: organization.name })}</Link>
            </p>
          ) : null}
          {isAdmin || isOperator ? (
            <p>
              <a href={`/organisations/${organization.slug}/tickets-export`} download>
                {t('privacy.export.link', { org: organization.name })}
              </a>
              <br />
              <span className="help">{t('privacy.export.help')}</span>
            </p>
          ) : null}
          <dl>
            <dt>{t('org.field.sector')}</dt>
            <dd>{t(`org.sector.${organization.sector}` as MessageKey)}</dd>
            <dt>{t('org.field.city')}</dt>
            <dd>{organization.city}</dd>
            {organization.website ? (
              <>
                <dt>{t('org.website')}</dt>
                <dd>
                  <a href={organization.website} rel="noopener noreferrer">
                    {organization.website}
                  </a>
                </dd>
              </>
            ) : null}
            {organization.kvkNumber ? (
              <>
                <dt>{t('org.kvk')}</dt>
                <dd>{organization.kvkNumber}</dd>
              </>
            ) : null}
          </dl>
        </section>
        {isAdmin ? <InviteForm result={result?.invite} /> : null}
      </div>
      <ToolsSection slug={organization.slug} org={organization.name} tools={tools} isAdmin={isAdmin} />
      {isOperator ? (
        <section className="panel narrow" aria-labelledby="quota-title">
          <h2 id="quota-title">{t('org.quota.title')}</h2>
          <QuotaForm org={organization.name} quota={tools.usage.quota} result={result?.quota} />
        </section>
      ) : null}
      <section className="panel" aria-labelledby="members-title">
        <h2 id="members-title">{t('org.members')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('org.member.name')}</th>
              <th scope="col">{t('org.member.email')}</th>
              <th scope="col">{t('org.member.role')}</th>
              {isAdmin ? <th scope="col">{t('org.member.actions')}</th> : null}
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.id}>
                <td>
                  {m.name} {m.userId === currentUserId ? t('org.member.you') : null}
                </td>
                <td>{m.email}</td>
                <td>{t(m.role === 'ADMIN' ? 'dashboard.role.ADMIN' : 'dashboard.role.MEMBER')}</td>
                {isAdmin ? (
                  <td className="actions">
                    <Form method="post" className="inline-form">
                      <input type="hidden" name="intent" value="set-role" />
                      <input type="hidden" name="membershipId" value={m.id} />
                      <input type="hidden" name="role" value={m.role === 'ADMIN' ? 'MEMBER' : 'ADMIN'} />
                      <button type="submit">{t(m.role === 'ADMIN' ? 'org.member.demote' : 'org.member.promote')}</button>
                    </Form>
                    {m.userId !== currentUserId ? (
                      <Form method="post" className="inline-form">
                        <input type="hidden" name="intent" value="remove" />
                        <input type="hidden" name="membershipId" value={m.id} />
                        <button type="submit" className="danger" aria-label={t('org.member.removeLabel', { name: m.name, org: organization.name })}>
                          {t('org.member.remove')}
                        </button>
                      </Form>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {isAdmin && invitations.length > 0 ? (
        <section className="panel" aria-labelledby="pending-title">
          <h2 id="pending-title">{t('org.invite.pending')}</h2>
          <ul>
            {invitations.map((i) => (
              <li key={i.id}>
                {i.email} ({t(i.role === 'ADMIN' ? 'dashboard.role.ADMIN' : 'dashboard.role.MEMBER')},{' '}
                {t('org.invite.expires', { date: dateFormat.format(new Date(i.expiresAt)) })}){' '}
                <Form method="post" className="inline-form">
                  <input type="hidden" name="intent" value="revoke-invitation" />
                  <input type="hidden" name="invitationId" value={i.id} />
                  <button type="submit">{t('org.invite.revoke')}</button>
                </Form>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {isMember ? (
        <section className="panel" aria-labelledby="leave-title">
          <h2 id="leave-title">{t('org.leave')}</h2>
          <p>{t('org.leave.confirm')}</p>
          <Form method="post">
            <input type="hidden" name="intent" value="leave" />
            <button type="submit" className="danger">
              {t('org.leave')}
            </button>
          </Form>
        </section>
      ) : null}
    </>
  )
}
