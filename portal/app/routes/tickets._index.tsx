import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { PriorityBadge, StatusBadge, When } from '~/components/tickets'
import { requireUser } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { isHelpdeskStaff } from '~/utils/helpdesk/access.server'
import { useT } from '~/utils/use-t'

export const meta: MetaFunction = () => [{ title: 'Support · Commons Portal' }]

const PAGE = 50

/** The tickets of every organisation the person belongs to: what is still going on first, then what is done. */
export async function loader({ request }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const url = new URL(request.url)
  const done = url.searchParams.get('show') === 'closed'
  const memberships = await db().membership.findMany({ where: { userId: session.userId }, select: { organizationId: true } })
  const tickets = await db().ticket.findMany({
    where: {
      organizationId: { in: memberships.map((m) => m.organizationId) },
      status: done ? 'CLOSED' : { not: 'CLOSED' },
    },
    select: {
      id: true,
      number: true,
      subject: true,
      status: true,
      priority: true,
      lastActivityAt: true,
      organization: { select: { name: true } },
      requesterName: true,
    },
    orderBy: { lastActivityAt: 'desc' },
    take: PAGE,
  })
  return {
    done,
    staff: isHelpdeskStaff(session),
    hasOrganisation: memberships.length > 0,
    multipleOrganisations: memberships.length > 1,
    tickets: tickets.map((t) => ({ ...t, lastActivityAt: t.lastActivityAt.toISOString(), organization: t.organization?.name ?? '' })),
    timeZone: env().HELPDESK_TIMEZONE,
  }
}

export default function Tickets() {
  const { tickets, done, staff, hasOrganisation, multipleOrganisations, timeZone } = useLoaderData<typeof loader>()
  const t = useT()
  return (
    <section className="panel" aria-labelledby="tickets-title">
      <h1 id="tickets-title">{t('tickets.title')}</h1>
      <p>{t('tickets.intro')}</p>
      <p className="actions">
        {hasOrganisation ? (
          <Link className="button primary" to="/tickets/new">
            {t('tickets.new')}
          </Link>
        ) : (
          <span>{t('ticket.new.noOrganisation')}</span>
        )}
        {staff ? <Link to="/helpdesk">{t('tickets.toQueue')}</Link> : null}
      </p>
      <nav aria-label={t('tickets.filter')} className="tabs">
        <Link to="/tickets" aria-current={!done ? 'page' : undefined}>
          {t('tickets.show.active')}
        </Link>{' '}
        <Link to="/tickets?show=closed" aria-current={done ? 'page' : undefined}>
          {t('tickets.show.closed')}
        </Link>
      </nav>
      {tickets.length === 0 ? (
        <p>{done ? t('tickets.none.closed') : t('tickets.none.active')}</p>
      ) : (
        <table>
          <caption className="visually-hidden">{done ? t('tickets.show.closed') : t('tickets.show.active')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('tickets.col.ticket')}</th>
              <th scope="col">{t('ticket.field.status')}</th>
              <th scope="col">{t('ticket.label.priority')}</th>
              {multipleOrganisations ? <th scope="col">{t('ticket.field.organisation')}</th> : null}
              <th scope="col">{t('ticket.requester')}</th>
              <th scope="col">{t('tickets.col.activity')}</th>
            </tr>
          </thead>
          <tbody>
            {tickets.map((ticket) => (
              <tr key={ticket.id}>
                <td>
                  <Link to={`/tickets/${ticket.id}`}>
                    #{ticket.number} {ticket.subject}
                  </Link>
                </td>
                <td>
                  <StatusBadge status={ticket.status} />
                </td>
                <td>
                  <PriorityBadge priority={ticket.priority} />
                </td>
                {multipleOrganisations ? <td>{ticket.organization}</td> : null}
                <td>{ticket.requesterName === '[erased]' ? t('ticket.erasedPerson') : ticket.requesterName}</td>
                <td>
                  <When iso={ticket.lastActivityAt} timeZone={timeZone} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
