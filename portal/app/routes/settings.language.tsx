import type { ActionFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { z } from 'zod'
import { safeReturnTo } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { LANGUAGES } from '~/utils/i18n'
import { languageCookie } from '~/utils/i18n.server'
import { getSession } from '~/utils/session.server'

const schema = z.object({ lang: z.enum(LANGUAGES), returnTo: z.string().max(500).optional() })

export async function loader() {
  return redirect('/')
}

/** Remembers the chosen language in a cookie, and on the person's profile when signed in. */
export async function action({ request }: ActionFunctionArgs) {
  const parsed = schema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return new Response('Choose nl or en.', { status: 400 })
  const session = await getSession(request)
  if (session) await db().user.update({ where: { id: session.userId }, data: { locale: parsed.data.lang } })
  return redirect(safeReturnTo(parsed.data.returnTo), {
    headers: { 'Set-Cookie': await languageCookie.serialize(parsed.data.lang) },
  })
}
