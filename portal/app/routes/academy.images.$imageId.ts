import type { LoaderFunctionArgs } from '@remix-run/node'
import { Readable } from 'node:stream'
import { contentDisposition } from '~/utils/attachments.server'
import { courseImageStore } from '~/utils/academy/images.server'
import { hasRole, requireUser } from '~/utils/auth.server'
import { db } from '~/utils/db.server'

/**
 * An image of a lesson. Trainers see every course's images; other signed-in
 * people only those of a course with a published version, so an unpublished
 * course shows nothing of itself. Anything else is a 404.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const image = params.imageId ? await db().courseImage.findUnique({ where: { id: params.imageId } }) : null
  if (!image) throw new Response('Not Found', { status: 404 })
  if (!hasRole(session, 'trainer')) {
    const published = await db().courseVersion.count({ where: { courseId: image.courseId, status: 'PUBLISHED' } })
    if (!published) throw new Response('Not Found', { status: 404 })
  }
  const stream = courseImageStore().open(image.storageKey)
  return new Response(Readable.toWeb(stream) as ReadableStream, {
    headers: {
      'Content-Type': image.contentType,
      'Content-Length': String(image.size),
      'Content-Disposition': contentDisposition(image.fileName, true),
      // X-Content-Type-Options: nosniff comes with every answer (server/security.ts).
      // Opened on its own, an image never runs anything as part of the portal.
      'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
      // The bytes behind an id never change; private, because who may see them depends on the session.
      'Cache-Control': 'private, max-age=86400, immutable',
    },
  })
}
