import type { ActionFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { logoutUrl } from '~/utils/auth.server'
import { logger } from '~/utils/logger.server'
import { endSession, getSession } from '~/utils/session.server'

export async function loader() {
  return redirect('/')
}

/** Ends the portal session, then sends the browser to Keycloak to end the SSO session (RP-initiated logout). */
export async function action({ request }: ActionFunctionArgs) {
  const session = await getSession(request)
  let to = '/?signedOut=1'
  try {
    to = await logoutUrl(session)
  } catch (error) {
    logger.error({ err: error }, 'Keycloak unreachable at sign-out; the portal session ends anyway')
  }
  return endSession(request, to)
}
