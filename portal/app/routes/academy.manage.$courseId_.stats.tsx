import { readingLanguage, textIn, type Texts } from '@commons/academy/rules'
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import statsStylesUrl from '~/styles/academy-stats.css?url'
import { workingCopy } from '~/utils/academy/content.server'
import { courseStats } from '~/utils/academy/stats.server'
import { requireRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { getTranslator } from '~/utils/i18n.server'
import type { Translate } from '~/utils/i18n'
import { useT } from '~/utils/use-t'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.metaTitle} · Commons Portal` : 'Commons Portal' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: statsStylesUrl }]

/**
 * How a course goes, for trainers: counts only. No learner's name reaches
 * this page, not even in the loader's data; small numbers are shown as they
 * are, since it is the trainer's own course.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, 'trainer')
  const { lang, t } = await getTranslator(request)
  const course = await db().course.findUnique({ where: { id: params.courseId ?? '' }, select: { id: true, slug: true } })
  if (!course) throw new Response('Not Found', { status: 404 })
  const stats = await courseStats(course.id)
  if (!stats) {
    const draft = await workingCopy(course.id)
    const title = draft ? textIn(draft.parsed.title, readingLanguage(draft.parsed, lang), draft.parsed.languages) : ''
    return { courseId: course.id, title: title || course.slug, metaTitle: t('insights.stats.metaTitle'), stats: null }
  }
  const reading = readingLanguage(stats.version, lang)
  const say = (texts: Texts) => textIn(texts, reading, stats.version.languages)
  return {
    courseId: course.id,
    title: say(stats.version.title) || course.slug,
    metaTitle: t('insights.stats.metaTitle'),
    stats: {
      version: { number: stats.version.number, status: stats.version.status },
      enrolments: stats.enrolments,
      certificates: stats.certificates,
      neverOpened: stats.neverOpened,
      stoppedInRemovedLesson: stats.stoppedInRemovedLesson,
      lessons: stats.lessons.map((l) => ({ ...l, title: say(l.title), chapterTitle: say(l.chapterTitle) })),
      quizzes: stats.quizzes.map((q) => ({ ...q, title: say(q.title), questions: q.questions.map((question) => ({ ...question, prompt: say(question.prompt) })) })),
    },
  }
}

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>
type Stats = NonNullable<Loaded['stats']>

const share = (t: Translate, n: number | null) => (n === null ? t('insights.stats.noShare') : t('insights.stats.percent', { n }))

/** The figures in plain sentences first: what a trainer wants to know at a glance. */
function Summary({ stats }: { stats: Stats }) {
  const t = useT()
  const { enrolments: e } = stats
  const stop = stats.lessons.reduce<Stats['lessons'][number] | null>((most, l) => (l.stoppedHere > (most?.stoppedHere ?? 0) ? l : most), null)
  return (
    <section className="panel" aria-labelledby="summary-title">
      <h2 id="summary-title">{t('insights.stats.summary.title')}</h2>
      {e.total === 0 ? (
        <p>{t('insights.stats.summary.nobody')}</p>
      ) : (
        <ul>
          <li>{t('insights.stats.summary.enrolled', { total: e.total, self: e.selfEnrolled, assigned: e.assigned })}</li>
          <li>{t('insights.stats.summary.progress', { started: e.started, completed: e.completed, percent: share(t, e.completedPercent) })}</li>
          {stop ? <li>{t('insights.stats.summary.stop', { position: stop.position, lesson: stop.title, count: stop.stoppedHere })}</li> : null}
          {stats.neverOpened > 0 ? <li>{t('insights.stats.summary.neverOpened', { count: stats.neverOpened })}</li> : null}
          <li>{t('insights.stats.summary.certificates', { issued: stats.certificates.issued, revoked: stats.certificates.revoked })}</li>
        </ul>
      )}
    </section>
  )
}

function Enrolments({ stats }: { stats: Stats }) {
  const t = useT()
  const { enrolments: e, certificates: c } = stats
  const rows: [string, string | number][] = [
    [t('insights.stats.enrolments.total'), e.total],
    [t('insights.stats.enrolments.self'), e.selfEnrolled],
    [t('insights.stats.enrolments.assigned'), e.assigned],
    [t('insights.stats.enrolments.started'), e.started],
    [t('insights.stats.enrolments.completed'), e.completed],
    [t('insights.stats.enrolments.rate'), share(t, e.completedPercent)],
    [t('insights.stats.certificates.issued'), c.issued],
    [t('insights.stats.certificates.revoked'), c.revoked],
  ]
  return (
    <section className="panel" aria-labelledby="enrolments-title">
      <h2 id="enrolments-title">{t('insights.stats.enrolments.caption')}</h2>
      <table className="stats-table">
        <caption className="visually-hidden">{t('insights.stats.enrolments.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('insights.stats.figure')}</th>
            <th scope="col" className="num">
              {t('insights.stats.count')}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td className="num">{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Lessons({ stats }: { stats: Stats }) {
  const t = useT()
  const total = stats.enrolments.total
  return (
    <section className="panel" aria-labelledby="lessons-title">
      <h2 id="lessons-title">{t('insights.stats.lessons.title')}</h2>
      <div className="stats-table-wrap" role="region" aria-labelledby="lessons-caption" tabIndex={0}>
        <table className="stats-table">
          <caption id="lessons-caption">{t('insights.stats.lessons.caption', { number: stats.version.number })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('insights.stats.lessons.lesson')}</th>
              <th scope="col">{t('insights.stats.lessons.chapter')}</th>
              <th scope="col" className="num">
                {t('insights.stats.lessons.opened')}
              </th>
              <th scope="col" className="num">
                {t('insights.stats.lessons.completed')}
              </th>
              <th scope="col" className="num">
                {t('insights.stats.lessons.stopped')}
              </th>
            </tr>
          </thead>
          <tbody>
            {stats.lessons.map((l) => (
              <tr key={l.lessonId}>
                <th scope="row">
                  {l.position}. {l.title}
                </th>
                <td>{l.chapterTitle}</td>
                <td className="num">{l.opened}</td>
                <td className="num">
                  {l.completed}
                  {/* The number says it; the bar only helps the eye compare lessons. */}
                  {total > 0 ? <meter aria-hidden="true" min={0} max={total} value={l.completed} /> : null}
                </td>
                <td className="num">{l.stoppedHere}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={4}>
                {t('insights.stats.lessons.neverOpened')}
              </th>
              <td className="num">{stats.neverOpened}</td>
            </tr>
            {stats.stoppedInRemovedLesson > 0 ? (
              <tr>
                <th scope="row" colSpan={4}>
                  {t('insights.stats.lessons.removed')}
                </th>
                <td className="num">{stats.stoppedInRemovedLesson}</td>
              </tr>
            ) : null}
          </tfoot>
        </table>
      </div>
    </section>
  )
}

function Quizzes({ stats }: { stats: Stats }) {
  const t = useT()
  return (
    <section className="panel" aria-labelledby="quizzes-title">
      <h2 id="quizzes-title">{t('insights.stats.quizzes.title')}</h2>
      {stats.quizzes.length === 0 ? <p>{t('insights.stats.quizzes.none')}</p> : null}
      {stats.quizzes.map((quiz) => (
        <div key={quiz.lessonId} className="stats-quiz">
          <h3>{quiz.title}</h3>
          <p>
            {t('insights.stats.quiz.summary', {
              passMark: quiz.passMark,
              attempts: quiz.attempts,
              members: quiz.members,
              passed: quiz.passed,
              passRate: share(t, quiz.passPercent),
              average: share(t, quiz.averageScore),
            })}
          </p>
          <div className="stats-table-wrap" role="region" aria-labelledby={`quiz-${quiz.lessonId}-caption`} tabIndex={0}>
            <table className="stats-table">
              <caption id={`quiz-${quiz.lessonId}-caption`}>{t('insights.stats.quiz.caption', { lesson: quiz.title })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('insights.stats.quiz.question')}</th>
                  <th scope="col" className="num">
                    {t('insights.stats.quiz.answered')}
                  </th>
                  <th scope="col" className="num">
                    {t('insights.stats.quiz.right')}
                  </th>
                  <th scope="col" className="num">
                    {t('insights.stats.quiz.share')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {quiz.questions.map((q) => (
                  <tr key={q.questionId}>
                    <th scope="row">{q.prompt}</th>
                    <td className="num">{q.answered}</td>
                    <td className="num">{q.right}</td>
                    <td className="num">
                      {share(t, q.rightPercent)}
                      {q.answered > 0 ? <meter aria-hidden="true" min={0} max={q.answered} value={q.right} /> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </section>
  )
}

export default function CourseStatsPage() {
  const { courseId, title, stats } = useLoaderData<typeof loader>()
  const t = useT()
  return (
    <>
      <p>
        <Link to={`/academy/manage/${courseId}`}>{t('insights.stats.back')}</Link>
      </p>
      <h1>{t('insights.stats.title', { title })}</h1>
      <p className="lead">{t('insights.stats.privacy')}</p>
      {stats ? (
        <>
          <p>{t(stats.version.status === 'PUBLISHED' ? 'insights.stats.ofVersion' : 'insights.stats.ofRetiredVersion', { number: stats.version.number })}</p>
          <Summary stats={stats} />
          <Enrolments stats={stats} />
          <Lessons stats={stats} />
          <Quizzes stats={stats} />
        </>
      ) : (
        <p className="notice" role="status">
          {t('insights.stats.notPublished')}
        </p>
      )}
    </>
  )
}
