import type { LoaderFunctionArgs } from '@remix-run/node'
import { endSession } from '~/utils/session.server'

/** The browser noticed that the Keycloak session ended; end ours too. */
export async function loader({ request }: LoaderFunctionArgs) {
  return endSession(request, '/?sessionEnded=1')
}
