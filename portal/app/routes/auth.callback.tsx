import type { LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { finishLogin, LoginError } from '~/utils/auth.server'
import { logger } from '~/utils/logger.server'

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    const { returnTo, setCookie } = await finishLogin(request)
    return redirect(returnTo, { headers: { 'Set-Cookie': setCookie } })
  } catch (error) {
    if (error instanceof LoginError) return redirect(`/?loginError=${error.reason}`)
    logger.error({ err: error }, 'sign-in failed')
    return redirect('/?loginError=unavailable')
  }
}
