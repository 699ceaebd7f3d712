import type { ActionFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { z } from 'zod'
import { requireUser, safeReturnTo } from '~/utils/auth.server'
import { db } from '~/utils/db.server'

const schema = z.object({ organizationId: z.string().min(1).max(40), returnTo: z.string().max(500).optional() })

export async function loader() {
  return redirect('/')
}

/** Sets the organisation the person works in; only one they are a member of. */
export async function action({ request }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const parsed = schema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) throw new Response('Bad Request', { status: 400 })
  const membership = await db().membership.findUnique({
    where: { userId_organizationId: { userId: session.userId, organizationId: parsed.data.organizationId } },
    include: { organization: true },
  })
  if (!membership) throw new Response('Not Found', { status: 404 })
  await db().session.update({ where: { id: session.id }, data: { activeOrganizationId: membership.organizationId } })
  const returnTo = safeReturnTo(parsed.data.returnTo)
  // On another organisation's page, follow the switch to the new one.
  return redirect(returnTo.startsWith('/organisations/') ? `/organisations/${membership.organization.slug}` : returnTo)
}
