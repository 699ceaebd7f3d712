import { contentLessons, readingLanguage, textIn, toolRecipeIds, type CourseContent } from '@commons/academy/rules'
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { CourseCard, MyCourseItem, type CourseCardView, type MyCourseView } from '~/components/academy-course-card'
import academyStylesUrl from '~/styles/academy.css?url'
import { publishedCourses } from '~/utils/academy/content.server'
import { myCourses } from '~/utils/academy/learning.server'
import { requireUser } from '~/utils/auth.server'
import { LANGUAGES, type Language } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { useT } from '~/utils/use-t'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: academyStylesUrl }]

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.pageTitle ?? 'Academy'} · Commons Portal` }]

// Filters arrive in the address; anything unknown is ignored rather than refused.
const filters = z.object({
  tool: z
    .enum(['none', ...toolRecipeIds])
    .optional()
    .catch(undefined),
  language: z.enum(LANGUAGES).optional().catch(undefined),
})

const titleOf = (content: Pick<CourseContent, 'title' | 'languages'>, lang: Language) => textIn(content.title, readingLanguage(content, lang), content.languages)

/**
 * The academy's front page: the member's own courses (assigned ones apart,
 * with who asked), then every published course, filtered by tool and language.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const { lang, t } = await getTranslator(request)
  const wanted = filters.parse(Object.fromEntries(new URL(request.url).searchParams))
  const published = await publishedCourses()
  const titles = new Map(published.map(({ course, version }) => [course.slug, titleOf(version.parsed, lang)]))

  const all: (CourseCardView & { toolRecipeId: string | null })[] = published
    .map(({ course, version }) => {
      const content = version.parsed
      const reading = readingLanguage(content, lang)
      const lessons = contentLessons(content)
      return {
        slug: course.slug,
        title: titleOf(content, lang),
        summary: textIn(content.summary, reading, content.languages),
        languages: [...content.languages],
        minutes: lessons.reduce((sum, l) => sum + l.lesson.minutes, 0),
        lessons: lessons.length,
        toolRecipeId: content.toolRecipeId,
        tool: content.toolRecipeId ? toolName(content.toolRecipeId, lang) : null,
        prerequisites: content.prerequisites.flatMap((slug) => (titles.has(slug) ? [{ slug, title: titles.get(slug)! }] : [])),
      }
    })
    .sort((a, b) => a.title.localeCompare(b.title, lang))
  const courses = all.filter(
    (c) => (!wanted.tool || (wanted.tool === 'none' ? c.toolRecipeId === null : c.toolRecipeId === wanted.tool)) && (!wanted.language || c.languages.includes(wanted.language))
  )
  const tools = [...new Set(all.flatMap((c) => (c.toolRecipeId ? [c.toolRecipeId] : [])))].map((id) => ({ id, name: toolName(id, lang) }))

  const mine: MyCourseView[] = (await myCourses(session.userId)).map((m) => ({
    slug: m.slug,
    title: titleOf(m, lang),
    percent: m.percent,
    done: m.done,
    total: m.total,
    goOnTo: m.nextLessonId ? `/academy/${m.slug}/${m.nextLessonId}` : null,
    started: m.started,
    completed: m.completed,
    newLessons: m.completed && m.done < m.total,
    certificateCode: m.certificateCode,
    assignedBy: m.assignedBy,
    prerequisitesToDo: m.prerequisitesToDo.map((p) => ({ slug: p.slug, title: titleOf(p, lang) })),
  }))

  return {
    pageTitle: t('academy.title'),
    tool: wanted.tool ?? '',
    language: wanted.language ?? '',
    tools,
    hasGeneral: all.some((c) => c.toolRecipeId === null),
    courses,
    totalCourses: all.length,
    assigned: mine.filter((m) => m.assignedBy && !m.completed),
    mine: mine.filter((m) => !m.assignedBy || m.completed),
  }
}

export default function Academy() {
  const { tool, language, tools, hasGeneral, courses, totalCourses, assigned, mine } = useLoaderData<typeof loader>()
  const t = useT()
  const filtered = tool !== '' || language !== ''
  return (
    <>
      <h1>{t('academy.title')}</h1>
      <p className="lead">{t('academy.intro')}</p>

      {assigned.length ? (
        <section className="panel" aria-labelledby="assigned-title">
          <h2 id="assigned-title">{t('academy.assigned.title')}</h2>
          <ul className="plain academy-mine-list">
            {assigned.map((c) => (
              <MyCourseItem key={c.slug} course={c} />
            ))}
          </ul>
        </section>
      ) : null}

      <section className="panel" aria-labelledby="mine-title">
        <h2 id="mine-title">{t('academy.mine.title')}</h2>
        {mine.length ? (
          <ul className="plain academy-mine-list">
            {mine.map((c) => (
              <MyCourseItem key={c.slug} course={c} />
            ))}
          </ul>
        ) : (
          <p>{t('academy.mine.empty')}</p>
        )}
      </section>

      <section aria-labelledby="all-title">
        <h2 id="all-title">{t('academy.all.title')}</h2>
        {totalCourses > 0 ? (
          <Form method="get" role="search" aria-label={t('academy.filter.title')} className="panel search">
            <div className="field">
              <label htmlFor="academy-tool">{t('academy.filter.tool')}</label>
              <select id="academy-tool" name="tool" defaultValue={tool}>
                <option value="">{t('academy.filter.tool.all')}</option>
                {tools.map((tl) => (
                  <option key={tl.id} value={tl.id}>
                    {tl.name}
                  </option>
                ))}
                {hasGeneral ? <option value="none">{t('academy.filter.tool.none')}</option> : null}
              </select>
            </div>
            <div className="field">
              <label htmlFor="academy-language">{t('academy.filter.language')}</label>
              <select id="academy-language" name="language" defaultValue={language}>
                <option value="">{t('academy.filter.language.all')}</option>
                {LANGUAGES.map((l) => (
                  <option key={l} value={l} lang={l}>
                    {t(`lang.${l}`)}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" className="primary">
              {t('academy.filter.submit')}
            </button>
          </Form>
        ) : null}
        <p role="status" className="results">
          {courses.length === 0 ? t('academy.results.none') : courses.length === 1 ? t('academy.results.one') : t('academy.results.other', { count: courses.length })}
          {filtered ? (
            <>
              {' '}
              <Link to="/academy">{t('academy.filter.reset')}</Link>
            </>
          ) : null}
        </p>
        <ul className="tool-cards">
          {courses.map((c) => (
            <CourseCard key={c.slug} course={c} />
          ))}
        </ul>
      </section>
    </>
  )
}
