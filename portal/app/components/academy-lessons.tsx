import { Link } from '@remix-run/react'
import type { LessonState } from '@commons/academy/rules'
import { useT } from '~/utils/use-t'

export interface LessonListView {
  id: string
  title: string
  minutes: number
  state: LessonState
  hasQuiz: boolean
}

export interface ChapterView {
  id: string
  title: string
  lessons: LessonListView[]
}

/** The state in words as well as a mark, so it does not rest on colour. */
export function LessonStateLabel({ state }: { state: LessonState }) {
  const t = useT()
  const mark = state === 'done' ? '✓' : state === 'open' ? '→' : '🔒'
  return (
    <span className={`academy-state academy-state-${state}`}>
      <span aria-hidden="true">{mark}</span> {t(`academy.lesson.state.${state}`)}
    </span>
  )
}

/**
 * The chapters and lessons of a course with each lesson's state. An open or
 * done lesson is a link for someone enrolled; a locked one is plain text.
 */
export function ChapterList({ slug, chapters, enrolled }: { slug: string; chapters: ChapterView[]; enrolled: boolean }) {
  const t = useT()
  let number = 0
  return (
    <ol className="academy-chapters">
      {chapters.map((chapter, c) => (
        <li key={chapter.id}>
          <h3 id={`chapter-${chapter.id}`}>{t('academy.course.chapter', { number: c + 1, title: chapter.title })}</h3>
          <ol className="academy-lessons" aria-labelledby={`chapter-${chapter.id}`}>
            {chapter.lessons.map((lesson) => {
              number++
              return (
                <li key={lesson.id} value={number}>
                  {enrolled && lesson.state !== 'locked' ? <Link to={`/academy/${slug}/${lesson.id}`}>{lesson.title}</Link> : <span>{lesson.title}</span>}{' '}
                  <span className="muted">
                    ({t('academy.minutes', { minutes: lesson.minutes })}
                    {lesson.hasQuiz ? `, ${t('academy.lesson.hasQuiz')}` : ''})
                  </span>{' '}
                  {enrolled ? <LessonStateLabel state={lesson.state} /> : null}
                </li>
              )
            })}
          </ol>
        </li>
      ))}
    </ol>
  )
}
