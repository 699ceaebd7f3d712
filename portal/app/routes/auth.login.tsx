import type { LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { safeReturnTo, startLogin } from '~/utils/auth.server'
import { getTranslator } from '~/utils/i18n.server'
import { logger } from '~/utils/logger.server'
import { getSession } from '~/utils/session.server'

export async function loader({ request }: LoaderFunctionArgs) {
  const returnTo = safeReturnTo(new URL(request.url).searchParams.get('returnTo'))
  if (await getSession(request)) return redirect(returnTo)
  const { lang } = await getTranslator(request)
  try {
    return await startLogin(returnTo, lang)
  } catch (error) {
    logger.error({ err: error }, 'could not start sign-in')
    return redirect('/?loginError=unavailable')
  }
}
