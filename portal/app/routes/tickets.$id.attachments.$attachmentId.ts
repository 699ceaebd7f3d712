import type { LoaderFunctionArgs } from '@remix-run/node'
import { Readable } from 'node:stream'
import { contentDisposition } from '~/utils/attachments.server'
import { db } from '~/utils/db.server'
import { requireTicketAccess } from '~/utils/helpdesk/access.server'
import { attachments } from '~/utils/helpdesk/settings.server'

const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'])

/**
 * An attachment, only for those who may see its ticket (404 for anyone
 * else, and for an attachment of another ticket). An attachment of an
 * internal note is for staff only.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { ticket, staff } = await requireTicketAccess(request, params.id)
  const attachment = params.attachmentId
    ? await db().ticketAttachment.findFirst({ where: { id: params.attachmentId, ticketId: ticket.id }, include: { message: { select: { kind: true } } } })
    : null
  if (!attachment || (!staff && attachment.message?.kind === 'INTERNAL')) throw new Response('Not Found', { status: 404 })
  const inline = INLINE_TYPES.has(attachment.contentType)
  const stream = attachments().open(attachment.storageKey)
  return new Response(Readable.toWeb(stream) as ReadableStream, {
    headers: {
      'Content-Type': attachment.contentType,
      'Content-Length': String(attachment.size),
      'Content-Disposition': contentDisposition(attachment.fileName, inline),
      'X-Content-Type-Options': 'nosniff',
      // A file someone uploaded never runs as part of the portal.
      'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
      'Cache-Control': 'private, no-store',
    },
  })
}
