import type { LoaderFunctionArgs } from '@remix-run/node'
import { db } from '~/utils/db.server'
import { getTranslator } from '~/utils/i18n.server'
import { instanceOf } from '~/utils/instances.server'
import { requireOrgAdmin } from '~/utils/permissions.server'
import { provisioner, ProvisionerRefused, ProvisionerUnavailable } from '~/utils/provisioner.server'

/**
 * The instance's data as a tar archive, streamed from the provisioner to an
 * admin of the organisation (also during the grace period after removal).
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { session, organization } = await requireOrgAdmin(request, params.slug)
  const instance = await instanceOf(organization.id, params.id)
  const { t } = await getTranslator(request)
  let upstream: Response
  try {
    upstream = await provisioner().exportArchive(instance.id, request.signal)
  } catch (error) {
    const text = (message: string, status: number) => new Response(`${message}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
    if (error instanceof ProvisionerUnavailable) return text(t('provisioner.unavailable'), 503)
    // 404 and 410: the instance has no data, or no more (deleted after the grace period).
    if (error instanceof ProvisionerRefused && [404, 410].includes(error.status)) return text(t('instance.export.none'), error.status)
    if (error instanceof ProvisionerRefused) return text(t('provisioner.refused', { code: error.code }), 502)
    throw error
  }
  await db().auditEntry.create({
    data: { actorId: session.userId, action: 'instance.export', targetType: 'instance', targetId: instance.id, data: { organizationId: organization.id } },
  })
  return new Response(upstream.body, {
    headers: {
      'Content-Type': 'application/x-tar',
      'Content-Disposition': `attachment; filename="${instance.id}.tar"`,
      'Cache-Control': 'no-store, no-transform',
      ...(upstream.headers.get('Content-Length') ? { 'Content-Length': upstream.headers.get('Content-Length')! } : {}),
    },
  })
}
