import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { DemandToggle } from '~/components/tools'
import { requireUser } from '~/utils/auth.server'
import { catalogRecipes, categories, isCategory, searchCatalog } from '~/utils/catalog.server'
import { demandAction } from '~/utils/demand-action.server'
import { getTranslator } from '~/utils/i18n.server'
import { demandSummary } from '~/utils/requests.server'
import { useT } from '~/utils/use-t'
import { ActionNotice } from '~/components/action-notice'

export const meta: MetaFunction = () => [{ title: 'Catalog · Commons Portal' }]

const searchParams = z.object({
  q: z.string().trim().max(100).optional().catch(undefined),
  category: z.string().optional().catch(undefined),
})

/** Every tool of the catalog, by category, with a search over the person's language. */
export async function loader({ request }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const { lang, t } = await getTranslator(request)
  const params = searchParams.parse(Object.fromEntries(new URL(request.url).searchParams))
  const category = isCategory(params.category) ? params.category : undefined
  const all = catalogRecipes()
  const found = searchCatalog(all, { q: params.q, category, lang, t })
  const demand = await demandSummary(session.userId)
  return {
    q: params.q ?? '',
    category: category ?? '',
    categories: categories.map((c) => ({ id: c, count: all.filter((r) => r.category === c).length })),
    tools: found.map((r) => ({
      id: r.id,
      name: r.texts[lang].name,
      summary: r.texts[lang].summary,
      category: r.category,
      licence: r.values.licence,
      governance: r.values.governance,
      hostable: r.hostable,
      demand: demand.counts.get(r.id) ?? 0,
      wanted: demand.mine.has(r.id),
    })),
  }
}

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const { lang, t } = await getTranslator(request)
  return demandAction(await request.formData(), session.userId, lang, t)
}

export default function Catalog() {
  const { q, category, categories, tools } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const t = useT()
  const filtered = q !== '' || category !== ''
  const shown = categories.filter((c) => tools.some((tool) => tool.category === c.id))
  return (
    <>
      <h1>{t('catalog.title')}</h1>
      <p className="lead">{t('catalog.intro')}</p>
      <ActionNotice result={result} />
      <Form method="get" role="search" className="panel search">
        <div className="field">
          <label htmlFor="catalog-q">{t('catalog.search.label')}</label>
          <p id="catalog-q-help" className="help">
            {t('catalog.search.help')}
          </p>
          <input id="catalog-q" type="search" name="q" defaultValue={q} maxLength={100} aria-describedby="catalog-q-help" />
        </div>
        <div className="field">
          <label htmlFor="catalog-category">{t('catalog.search.category')}</label>
          <select id="catalog-category" name="category" defaultValue={category}>
            <option value="">{t('catalog.category.all')}</option>
            {categories.map((c) => (
              <option key={c.id} value={c.id}>
                {t(`catalog.category.${c.id}`)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary">
          {t('catalog.search.submit')}
        </button>
      </Form>
      <nav aria-label={t('catalog.search.category')} className="category-nav">
        <ul>
          {categories
            .filter((c) => c.count > 0)
            .map((c) => (
              <li key={c.id}>
                <Link to={`/catalog?category=${c.id}`} aria-current={category === c.id ? 'page' : undefined}>
                  {t(`catalog.category.${c.id}`)}
                </Link>{' '}
                <span className="muted">({c.count})</span>
              </li>
            ))}
        </ul>
      </nav>
      <p role="status" className="results">
        {tools.length === 0 ? t('catalog.empty') : tools.length === 1 ? t('catalog.results.one') : t('catalog.results.other', { count: tools.length })}
        {filtered ? (
          <>
            {' '}
            <Link to="/catalog">{t('catalog.showAll')}</Link>
          </>
        ) : null}
      </p>
      {shown.map((c) => (
        <section key={c.id} aria-labelledby={`category-${c.id}`}>
          <h2 id={`category-${c.id}`}>{t(`catalog.category.${c.id}`)}</h2>
          <ul className="tool-cards">
            {tools
              .filter((tool) => tool.category === c.id)
              .map((tool) => (
                <li key={tool.id} className="tool-card">
                  <h3>
                    <Link to={`/catalog/${tool.id}`}>{tool.name}</Link>
                  </h3>
                  <p>{tool.summary}</p>
                  <p>
                    <span className={tool.hostable ? 'badge hosted' : 'badge'}>{tool.hostable ? t('catalog.hosted') : t('catalog.notHosted')}</span>
                  </p>
                  <dl>
                    <dt>{t('catalog.licence')}</dt>
                    <dd>{tool.licence}</dd>
                    <dt>{t('catalog.governance')}</dt>
                    <dd>{t(`catalog.governance.${tool.governance}`)}</dd>
                  </dl>
                  {tool.hostable ? null : <DemandToggle recipeId={tool.id} tool={tool.name} count={tool.demand} wanted={tool.wanted} />}
                </li>
              ))}
          </ul>
        </section>
      ))}
    </>
  )
}
