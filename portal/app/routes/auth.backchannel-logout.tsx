import type { ActionFunctionArgs } from '@remix-run/node'
import { handleBackchannelLogout } from '~/utils/auth.server'
import { logger } from '~/utils/logger.server'

/** Keycloak posts a signed logout token here when a session ends (OIDC Back-Channel Logout 1.0). */
export async function action({ request }: ActionFunctionArgs) {
  const form = await request.formData()
  const token = form.get('logout_token')
  if (typeof token !== 'string' || token.length > 8192) {
    return new Response('logout_token is required', { status: 400, headers: { 'Cache-Control': 'no-store' } })
  }
  try {
    const ended = await handleBackchannelLogout(token)
    logger.info({ ended }, 'back-channel logout')
    return new Response(null, { status: 200, headers: { 'Cache-Control': 'no-store' } })
  } catch (error) {
    logger.warn({ err: error }, 'rejected a logout token')
    return new Response('invalid logout token', { status: 400, headers: { 'Cache-Control': 'no-store' } })
  }
}
