import type { ContentProblem, Language } from '@commons/academy/rules'
import { Link } from '@remix-run/react'
import type { MessageKey, Translate } from '~/utils/i18n'
import { useT } from '~/utils/use-t'
import { LANGUAGE_NAME_KEYS } from './academy-studio-form'

/** Where things are, to say where a problem is: titles by id, question numbers by id. */
export interface CourseOutline {
  chapters: { id: string; title: string; lessons: { id: string; title: string; questionIds: string[] }[] }[]
}

const FIELD_KEYS = {
  title: 'studio.field.title',
  summary: 'studio.field.summary',
  audience: 'studio.field.audience',
  body: 'studio.field.body',
  prompt: 'studio.field.prompt',
  explanation: 'studio.field.explanation',
  option: 'studio.field.option',
} as const satisfies Record<Extract<ContentProblem, { code: 'missing-text' }>['field'], MessageKey>

/** One publish problem in words: where it is and what is wrong. */
export function problemText(problem: ContentProblem, outline: CourseOutline, t: Translate): { where: string; what: string } {
  const chapter = outline.chapters.find((c) => c.id === problem.place.chapterId)
  const lesson = chapter?.lessons.find((l) => l.id === problem.place.lessonId)
  const questionNumber = lesson && problem.place.questionId ? lesson.questionIds.indexOf(problem.place.questionId) + 1 : 0
  const where = lesson
    ? questionNumber
      ? t('studio.where.question', { lesson: lesson.title, number: questionNumber })
      : t('studio.where.lesson', { lesson: lesson.title })
    : chapter
      ? t('studio.where.chapter', { chapter: chapter.title })
      : t('studio.where.course')
  const language = (l: Language) => t(LANGUAGE_NAME_KEYS[l])
  switch (problem.code) {
    case 'missing-text':
      return { where, what: t('studio.problem.missing-text', { field: t(FIELD_KEYS[problem.field]), language: language(problem.language) }) }
    case 'raw-html':
      return { where, what: t('studio.problem.raw-html', { language: language(problem.language), line: problem.line }) }
    case 'external-image':
      return { where, what: t('studio.problem.external-image', { language: language(problem.language), line: problem.line, target: problem.target }) }
    case 'single-needs-one-correct':
      return { where, what: t('studio.problem.single-needs-one-correct', { correct: problem.correct }) }
    case 'prerequisite-unknown':
      return { where, what: t('studio.problem.prerequisite-unknown', { slug: problem.slug }) }
    case 'prerequisite-cycle':
      return { where, what: t('studio.problem.prerequisite-cycle', { cycle: problem.cycle.join(' → ') }) }
    default:
      return { where, what: t(`studio.problem.${problem.code}`) }
  }
}

/**
 * What stands between the draft and publishing, each with a link to where it
 * is fixed: the lesson editor for lessons and questions, the part of the
 * course page for details and chapters.
 */
export function PublishProblems({ problems, outline, courseId, id }: { problems: ContentProblem[]; outline: CourseOutline; courseId: string; id?: string }) {
  const t = useT()
  if (problems.length === 0) return null
  return (
    <div className="studio-problems" id={id}>
      <p>{t('studio.problems.intro', { count: problems.length })}</p>
      <ul>
        {problems.map((problem, index) => {
          const { where, what } = problemText(problem, outline, t)
          const href = problem.place.lessonId
            ? `/academy/manage/${courseId}/lessons/${problem.place.lessonId}${problem.place.questionId ? `#question-${problem.place.questionId}` : ''}`
            : problem.place.chapterId
              ? `/academy/manage/${courseId}#chapter-${problem.place.chapterId}`
              : `/academy/manage/${courseId}#details-title`
          return (
            <li key={index}>
              <Link to={href}>{where}</Link>: {what}
            </li>
          )
        })}
      </ul>
    </div>
  )
}
