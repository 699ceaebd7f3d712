import type { LoaderFunctionArgs } from '@remix-run/node'
import { createReadableStreamFromReadable } from '@remix-run/node'
import { hasRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { exportOrganisationTickets } from '~/utils/helpdesk/privacy.server'
import { requireOrgAccess } from '~/utils/permissions.server'

/**
 * Every ticket of the organisation as a tar archive (its right of access
 * under the GDPR), for its admins and for platform operators answering such
 * a request. Others get what requireOrgAccess gives them: 404, or 403 for a
 * member who is not an admin.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { session, organization, isAdmin } = await requireOrgAccess(request, params.slug)
  if (!isAdmin && !hasRole(session, 'platform-operator')) throw new Response('Forbidden', { status: 403 })
  await db().auditEntry.create({
    data: { actorId: session.userId, action: 'helpdesk.export', targetType: 'organization', targetId: organization.id, data: { slug: organization.slug } },
  })
  const date = new Date().toISOString().slice(0, 10)
  const archive = exportOrganisationTickets(organization.id)
  request.signal.addEventListener('abort', () => archive.destroy(), { once: true })
  return new Response(createReadableStreamFromReadable(archive), {
    headers: {
      'Content-Type': 'application/x-tar',
      'Content-Disposition': `attachment; filename="tickets-${organization.slug}-${date}.tar"`,
      'Cache-Control': 'no-store, no-transform',
    },
  })
}
