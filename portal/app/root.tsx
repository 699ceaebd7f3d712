import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import {
  Form,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  isRouteErrorResponse,
  useLoaderData,
  useLocation,
  useRouteError,
  useRouteLoaderData,
} from '@remix-run/react'
import stylesUrl from '~/styles/app.css?url'
import helpdeskStylesUrl from '~/styles/helpdesk.css?url'
import { SessionWatch } from '~/components/session-watch'
import { hasRole } from '~/utils/auth.server'
import { env } from '~/utils/env.server'
import { LANGUAGES, translator, type Language } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { useNonce } from '~/utils/nonce'
import { organizationsOf } from '~/utils/permissions.server'
import { getSession } from '~/utils/session.server'
import { useT } from '~/utils/use-t'

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: stylesUrl },
  { rel: 'stylesheet', href: helpdeskStylesUrl },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
]

export const meta: MetaFunction = () => [{ title: 'Commons Portal' }]

export async function loader({ request }: LoaderFunctionArgs) {
  const { lang } = await getTranslator(request)
  const session = await getSession(request)
  const memberships = session ? await organizationsOf(session) : []
  return {
    lang,
    user: session
      ? {
          name: session.user.name,
          email: session.user.email,
          isOperator: hasRole(session, 'platform-operator'),
          isAgent: hasRole(session, 'helpdesk-agent'),
          isTrainer: hasRole(session, 'trainer'),
          activeOrganizationId: session.activeOrganizationId,
          organizations: memberships.map((m) => ({ id: m.organization.id, slug: m.organization.slug, name: m.organization.name, role: m.role })),
        }
      : null,
    keycloak: { url: env().KEYCLOAK_URL, realm: env().KEYCLOAK_REALM, clientId: env().KEYCLOAK_BROWSER_CLIENT_ID },
  }
}

function LanguageSwitch({ lang }: { lang: Language }) {
  const t = translator(lang)
  const location = useLocation()
  return (
    <Form method="post" action="/settings/language" className="inline-form">
      <input type="hidden" name="returnTo" value={location.pathname + location.search} />
      <label htmlFor="language">{t('nav.language')}</label>
      <select id="language" name="lang" defaultValue={lang}>
        {LANGUAGES.map((l) => (
          <option key={l} value={l} lang={l}>
            {t(`lang.${l}`)}
          </option>
        ))}
      </select>
      <button type="submit">{t('nav.languageSubmit')}</button>
    </Form>
  )
}

function Header() {
  const data = useRouteLoaderData<typeof loader>('root')
  const t = useT()
  const user = data?.user
  const location = useLocation()
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <div className="bar">
        <Link to="/" className="brand">
          {t('app.name')}
        </Link>
        <nav aria-label={t('nav.main')}>
          <ul>
            {user ? (
              <li>
                <Link to="/">{t('nav.dashboard')}</Link>
              </li>
            ) : null}
            {user ? (
              <li>
                <Link to="/catalog">{t('nav.catalog')}</Link>
              </li>
            ) : null}
            {user ? (
              <li>
                <Link to="/academy">{t('nav.academy')}</Link>
              </li>
            ) : null}
            {user ? (
              <li>
                <Link to="/tickets">{t('nav.support')}</Link>
              </li>
            ) : null}
            {user && (user.isOperator || user.isAgent) ? (
              <li>
                <Link to="/helpdesk">{t('nav.helpdesk')}</Link>
              </li>
            ) : null}
            {user && (user.isOperator || user.isAgent) ? (
              <li>
                <Link to="/organisations">{t('nav.organisations')}</Link>
              </li>
            ) : null}
            {user?.isOperator ? (
              <li>
                <Link to="/operator/requests">{t('nav.requests')}</Link>
              </li>
            ) : null}
            {user?.isOperator ? (
              <li>
                <Link to="/operator/health">{t('nav.health')}</Link>
              </li>
            ) : null}
            {user?.isOperator ? (
              <li>
                <Link to="/operator/upgrades">{t('nav.upgrades')}</Link>
              </li>
            ) : null}
          </ul>
        </nav>
        <div className="tools">
          {user && user.organizations.length > 1 ? (
            <Form method="post" action="/organisations/switch" className="inline-form">
              <input type="hidden" name="returnTo" value={location.pathname} />
              <label htmlFor="active-org">{t('nav.activeOrg')}</label>
              <select id="active-org" name="organizationId" defaultValue={user.activeOrganizationId ?? undefined}>
                {user.organizations.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </select>
              <button type="submit">{t('nav.switchOrg')}</button>
            </Form>
          ) : null}
          {data ? <LanguageSwitch lang={data.lang} /> : null}
          {user ? (
            <Form method="post" action="/auth/logout" className="inline-form">
              <span className="who">{t('nav.signedInAs', { name: user.name })}</span>
              <button type="submit">{t('nav.signOut')}</button>
            </Form>
          ) : (
            <Link className="button" to={`/auth/login?returnTo=${encodeURIComponent(location.pathname)}`}>
              {t('nav.signIn')}
            </Link>
          )}
        </div>
      </div>
    </header>
  )
}

export function Layout({ children }: { children: React.ReactNode }) {
  const data = useRouteLoaderData<typeof loader>('root')
  const nonce = useNonce()
  return (
    <html lang={data?.lang ?? 'nl'}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <Header />
        <main id="main" tabIndex={-1}>
          {children}
        </main>
        <footer className="site-footer">
          <p>{translator(data?.lang ?? 'nl')('app.tagline')}</p>
        </footer>
        {data?.user ? <SessionWatch {...data.keycloak} /> : null}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  )
}

export default function App() {
  useLoaderData<typeof loader>()
  return <Outlet />
}

export function ErrorBoundary() {
  const error = useRouteError()
  const t = useT()
  const status = isRouteErrorResponse(error) ? error.status : 500
  const key = status === 404 ? 'error.404' : status === 403 ? 'error.403' : status === 400 ? 'error.400' : 'error.500'
  return (
    <section className="panel" aria-labelledby="error-title">
      <h1 id="error-title">
        {t('error.title')} ({status})
      </h1>
      <p>{t(key)}</p>
      <p>
        <Link to="/">{t('error.back')}</Link>
      </p>
    </section>
  )
}
