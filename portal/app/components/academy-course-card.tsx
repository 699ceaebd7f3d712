import { Link } from '@remix-run/react'
import { useT } from '~/utils/use-t'
import { CourseProgressBar } from './academy-progress'

export interface CourseCardView {
  slug: string
  title: string
  summary: string
  languages: string[]
  minutes: number
  lessons: number
  tool: string | null
  prerequisites: { slug: string; title: string }[]
}

/** One published course in the list: what it is about, in which languages, how long, for which tool, what comes first. */
export function CourseCard({ course }: { course: CourseCardView }) {
  const t = useT()
  return (
    <li className="tool-card academy-card">
      <h3>
        <Link to={`/academy/${course.slug}`}>{course.title}</Link>
      </h3>
      <p>{course.summary}</p>
      <dl>
        <dt>{t('academy.card.languages')}</dt>
        <dd>{course.languages.map((l) => t(l === 'en' ? 'lang.en' : 'lang.nl')).join(', ')}</dd>
        <dt>{t('academy.card.time')}</dt>
        <dd>
          {t('academy.minutes', { minutes: course.minutes })} · {course.lessons === 1 ? t('academy.lessons.one') : t('academy.lessons', { count: course.lessons })}
        </dd>
        <dt>{t('academy.card.tool')}</dt>
        <dd>{course.tool ?? t('academy.card.general')}</dd>
        {course.prerequisites.length ? (
          <>
            <dt>{t('academy.card.prerequisites')}</dt>
            <dd>
              {course.prerequisites.map((p, i) => (
                <span key={p.slug}>
                  {i > 0 ? ', ' : null}
                  <Link to={`/academy/${p.slug}`}>{p.title}</Link>
                </span>
              ))}
            </dd>
          </>
        ) : null}
      </dl>
    </li>
  )
}

export interface MyCourseView {
  slug: string
  title: string
  percent: number
  done: number
  total: number
  goOnTo: string | null
  started: boolean
  completed: boolean
  newLessons: boolean
  certificateCode: string | null
  assignedBy: { name: string; organization: string | null } | null
  prerequisitesToDo: { slug: string; title: string }[]
}

/** A course the member is taking: progress, and the one next step (go on, start, or the certificate). */
export function MyCourseItem({ course }: { course: MyCourseView }) {
  const t = useT()
  const id = `progress-${course.slug}`
  return (
    <li className="academy-mine">
      <h3>
        <Link to={`/academy/${course.slug}`}>{course.title}</Link>
      </h3>
      {course.assignedBy ? (
        <p className="muted">
          {course.assignedBy.organization
            ? t('academy.assigned.by', { name: course.assignedBy.name, org: course.assignedBy.organization })
            : t('academy.assigned.byPerson', { name: course.assignedBy.name })}
        </p>
      ) : null}
      <CourseProgressBar id={id} course={course.title} done={course.done} total={course.total} percent={course.percent} />
      {course.completed ? <p className="academy-state-done">{course.newLessons ? t('academy.completed.newLessons') : t('academy.completed')}</p> : null}
      {course.prerequisitesToDo.length ? (
        <p>
          {t('academy.prerequisites.toDo')}{' '}
          {course.prerequisitesToDo.map((p, i) => (
            <span key={p.slug}>
              {i > 0 ? ', ' : null}
              <Link to={`/academy/${p.slug}`}>{p.title}</Link>
            </span>
          ))}
        </p>
      ) : null}
      <p className="actions">
        {course.goOnTo && course.started && course.prerequisitesToDo.length === 0 ? (
          <Link className="button primary" to={course.goOnTo} aria-label={t('academy.goOn.with', { course: course.title })}>
            {t('academy.goOn')}
          </Link>
        ) : null}
        {!course.started && !course.completed ? (
          <Link className="button" to={`/academy/${course.slug}`}>
            {t('academy.open')}
          </Link>
        ) : null}
        {course.certificateCode ? (
          <Link to={`/certificates/${course.certificateCode}`} aria-label={t('academy.certificate.viewFor', { course: course.title })}>
            {t('academy.certificate.view')}
          </Link>
        ) : null}
      </p>
    </li>
  )
}
