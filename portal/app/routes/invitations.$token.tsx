import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { requireUser } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { getTranslator } from '~/utils/i18n.server'
import { acceptInvitation, findInvitation, OrganizationError } from '~/utils/organizations.server'
import { useT } from '~/utils/use-t'

/** The link from an invitation mail: sign in first, then accept. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const { t } = await getTranslator(request)
  try {
    const invitation = await findInvitation(params.token ?? '')
    const mismatch = invitation.email !== session.user.email.toLowerCase()
    return {
      organization: invitation.organization.name,
      inviter: invitation.invitedBy.name,
      role: invitation.role,
      error: mismatch ? t('invite.error.otherEmail', { email: invitation.email, current: session.user.email }) : null,
    }
  } catch (error) {
    if (error instanceof OrganizationError) return data({ organization: null, inviter: null, role: null, error: t(error.key, error.vars) }, { status: 410 })
    throw error
  }
}

export async function action({ request, params }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const { t } = await getTranslator(request)
  try {
    const organization = await acceptInvitation(params.token ?? '', session.user)
    await db().session.update({ where: { id: session.id }, data: { activeOrganizationId: organization.id } })
    return redirect(`/organisations/${organization.slug}`)
  } catch (error) {
    if (error instanceof OrganizationError) return data({ error: t(error.key, error.vars) }, { status: 409 })
    throw error
  }
}

export default function InvitationPage() {
  const invitation = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const t = useT()
  const error = result?.error ?? invitation.error
  return (
    <section className="panel narrow" aria-labelledby="invitation-title">
      <h1 id="invitation-title">{invitation.organization ? t('invite.title', { org: invitation.organization }) : t('error.title')}</h1>
      {error ? (
        <div className="notice error" role="alert">
          {error}
        </div>
      ) : null}
      {invitation.organization && !error ? (
        <>
          <p>
            {t('invite.body', {
              inviter: invitation.inviter ?? '',
              org: invitation.organization,
              role: t(invitation.role === 'ADMIN' ? 'dashboard.role.ADMIN' : 'dashboard.role.MEMBER'),
            })}
          </p>
          <Form method="post" className="inline-form">
            <button type="submit" className="primary">
              {t('invite.accept')}
            </button>{' '}
            <Link to="/">{t('invite.decline')}</Link>
          </Form>
        </>
      ) : (
        <p>
          <Link to="/">{t('error.back')}</Link>
        </p>
      )}
    </section>
  )
}
