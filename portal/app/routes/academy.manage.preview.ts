import type { ActionFunctionArgs } from '@remix-run/node'
import { data } from '@remix-run/node'
import { previewSchema } from '~/utils/academy/studio-forms'
import { requireRole } from '~/utils/auth.server'
import { getTranslator } from '~/utils/i18n.server'
import { renderMarkdown } from '~/utils/markdown.server'

/**
 * Lesson Markdown as members will see it, rendered by the same server code
 * as the lesson page; for trainers only. The lesson editor calls it while
 * writing (see academy-studio-preview.tsx).
 */
export async function action({ request }: ActionFunctionArgs) {
  await requireRole(request, 'trainer')
  const { t } = await getTranslator(request)
  const parsed = previewSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return data({ error: t('studio.error.previewTooLong', { max: 100_000 }) }, { status: 400 })
  return data({ html: renderMarkdown(parsed.data.markdown) }, { headers: { 'Cache-Control': 'no-store' } })
}

/** Only POST: a GET (someone following the address) is answered like any unknown page. */
export function loader() {
  throw new Response('Not Found', { status: 404 })
}
