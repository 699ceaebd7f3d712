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

/** A padlock drawn inline: an emoji one is missing from many system fonts. */
export function LockMark() {
  return (
    <svg className="academy-lock" aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="12" height="12">
      <path fill="currentColor" d="M4 7V5a4 4 0 1 1 8 0v2h1v8H3V7h1Zm2 0h4V5a2 2 0 1 0-4 0v2Z" />
    </svg>
  )
}

/** The state in words as well as a mark, so it does not rest on colour. */
export function LessonStateLabel({ state }: { state: LessonState }) {
  const t = useT()
  return (
    <span className={`academy-state academy-state-${state}`}>
      {state === 'locked' ? <LockMark /> : <span aria-hidden="true">{state === 'done' ? '✓' : '→'}</span>} {t(`academy.lesson.state.${state}`)}
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
