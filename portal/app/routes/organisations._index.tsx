import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { requireRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { useT } from '~/utils/use-t'

/** Every organisation on the platform: for operators and helpdesk agents only. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, 'platform-operator', 'helpdesk-agent')
  const organizations = await db().organization.findMany({
    orderBy: { name: 'asc' },
    select: { slug: true, name: true, city: true, sector: true, _count: { select: { memberships: true } } },
  })
  return { organizations }
}

export default function AllOrganisations() {
  const { organizations } = useLoaderData<typeof loader>()
  const t = useT()
  return (
    <section aria-labelledby="all-title">
      <h1 id="all-title">{t('orgs.all.title')}</h1>
      <ul className="cards">
        {organizations.map((o) => (
          <li key={o.slug}>
            <Link to={`/organisations/${o.slug}`}>{o.name}</Link> — {o.city} ·{' '}
            {t('orgs.all.members', { count: o._count.memberships })}
          </li>
        ))}
      </ul>
    </section>
  )
}
