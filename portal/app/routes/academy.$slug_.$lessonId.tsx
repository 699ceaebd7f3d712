import { contentLessons, readingLanguage, textIn, type AnswerProblem, type CourseContent, type Texts } from '@commons/academy/rules'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { ActionNotice } from '~/components/action-notice'
import { QuizForm, QuizResult, type QuizResultView, type QuizView } from '~/components/academy-quiz'
import { LockMark } from '~/components/academy-lessons'
import academyStylesUrl from '~/styles/academy.css?url'
import { AcademyError } from '~/utils/academy/content.server'
import { completeSchema, readQuizForm } from '~/utils/academy/learning-forms'
import { completeLesson, openLesson, requirePublishedCourse, submitQuiz } from '~/utils/academy/learning.server'
import { requireUser } from '~/utils/auth.server'
import type { Language, MessageKey } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { useT } from '~/utils/use-t'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: academyStylesUrl }]

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data?.lesson ? `${data.lesson.title} · ${data.course.title} · Commons Portal` : 'Commons Portal' }]

const textsOf = (content: CourseContent, lang: Language) => {
  const reading = readingLanguage(content, lang)
  return (texts: Texts | undefined) => textIn(texts, reading, content.languages)
}

/**
 * What a refusal means for this page: 404 for what does not exist, the
 * course page for someone not (yet) allowed in, else an answer to show.
 */
function refusal(error: unknown, slug: string | undefined) {
  if (!(error instanceof AcademyError)) throw error
  if (error.status === 404) throw new Response('Not Found', { status: 404 })
  if (error.key === 'academy.error.notEnrolled' || error.key === 'academy.error.prerequisites') throw redirect(`/academy/${slug}`)
  return error
}

/**
 * One lesson: its text in the member's language, and "Mark as done" or the
 * quiz. A lesson that is not open yet shows which lesson to finish first.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const { lang, t } = await getTranslator(request)
  let opened: Awaited<ReturnType<typeof openLesson>>
  try {
    opened = await openLesson(session.userId, params.slug, params.lessonId, lang)
  } catch (error) {
    const refused = refusal(error, params.slug)
    if (refused.key !== 'academy.error.locked') throw refused
    const { course, version } = await requirePublishedCourse(params.slug)
    const locked = { message: t(refused.key, refused.vars), lessonId: String(refused.vars.lessonId ?? ''), lesson: String(refused.vars.lesson ?? '') }
    return data(
      {
        course: { slug: course.slug, title: textsOf(version.parsed, lang)(version.parsed.title) },
        locked,
        lesson: null,
        readingLang: lang,
        quiz: null,
        previous: null,
        next: null,
      },
      { status: 409 }
    )
  }
  const content = opened.version.parsed
  const text = textsOf(content, lang)
  const lessons = contentLessons(content)
  const place = lessons[opened.index]!
  const titleOf = (id: string | null) => (id ? text(lessons.find((l) => l.lesson.id === id)?.lesson.title) : '')
  const quiz = opened.lesson.quiz
  const quizView: QuizView | null =
    opened.quiz && quiz
      ? {
          passMark: quiz.passMark,
          attemptNumber: opened.quiz.attemptNumber,
          left: opened.quiz.left,
          mayAttempt: opened.quiz.mayAttempt,
          passed: opened.quiz.passed,
          best: opened.quiz.best,
          questions: quiz.questions.map((q) => ({
            id: q.id,
            kind: q.kind,
            prompt: text(q.prompt),
            options: (opened.quiz!.order[q.id] ?? []).map((id) => ({ id, text: text(q.options.find((o) => o.id === id)?.text) })),
          })),
        }
      : null
  const nextState = opened.nextId ? opened.progress.lessons[opened.index + 1]?.state : undefined
  return {
    course: { slug: opened.course.slug, title: text(content.title) },
    locked: null,
    readingLang: readingLanguage(content, lang),
    lesson: {
      id: opened.lesson.id,
      title: text(opened.lesson.title),
      chapter: text(place.chapter.title),
      minutes: opened.lesson.minutes,
      number: opened.index + 1,
      total: lessons.length,
      done: opened.done,
      html: opened.html,
    },
    quiz: quizView,
    previous: opened.previousId ? { id: opened.previousId, title: titleOf(opened.previousId) } : null,
    next: opened.nextId ? { id: opened.nextId, title: titleOf(opened.nextId), open: nextState !== 'locked' } : null,
  }
}

type ActionResult =
  | { kind: 'refused'; error: string }
  | { kind: 'problems'; problems: Record<string, MessageKey>; chosen: Record<string, string[]> }
  | { kind: 'graded'; result: QuizResultView; certificateCode: string | null; courseCompleted: boolean }

const problemKey = (code: AnswerProblem['code']): MessageKey => `academy.quiz.problem.${code}`

export async function action({ request, params }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const { lang, t } = await getTranslator(request)
  const formData = await request.formData()
  const refused = (error: unknown) => {
    const e = refusal(error, params.slug)
    return data<ActionResult>({ kind: 'refused', error: t(e.key, e.vars) }, { status: e.status })
  }

  if (formData.get('intent') === 'complete') {
    if (!completeSchema.safeParse(Object.fromEntries(formData)).success) return data<ActionResult>({ kind: 'refused', error: t('error.400') }, { status: 400 })
    let completion: Awaited<ReturnType<typeof completeLesson>>
    try {
      completion = await completeLesson(session.userId, params.slug, params.lessonId, lang)
    } catch (error) {
      return refused(error)
    }
    if (completion.courseCompleted) return redirect(`/academy/${params.slug}?completed=1`)
    const { version } = await requirePublishedCourse(params.slug)
    const lessons = contentLessons(version.parsed)
    const next = lessons[lessons.findIndex((l) => l.lesson.id === params.lessonId) + 1]
    return redirect(next ? `/academy/${params.slug}/${next.lesson.id}?done=1` : `/academy/${params.slug}`)
  }

  if (formData.get('intent') === 'submit-quiz') {
    const parsed = readQuizForm(formData)
    if (!parsed.success) return data<ActionResult>({ kind: 'refused', error: t('error.400') }, { status: 400 })
    let submitted: Awaited<ReturnType<typeof submitQuiz>>
    try {
      submitted = await submitQuiz(session.userId, params.slug, params.lessonId, parsed.data.answers, lang)
    } catch (error) {
      return refused(error)
    }
    if (submitted.status === 'invalid') {
      return data<ActionResult>(
        { kind: 'problems', problems: Object.fromEntries(submitted.problems.map((p) => [p.questionId, problemKey(p.code)])), chosen: parsed.data.answers },
        { status: 400 }
      )
    }
    const { version } = await requirePublishedCourse(params.slug)
    const text = textsOf(version.parsed, lang)
    const questions = contentLessons(version.parsed).find((l) => l.lesson.id === params.lessonId)?.lesson.quiz?.questions ?? []
    const result: QuizResultView = {
      score: submitted.score,
      right: submitted.right,
      total: submitted.total,
      passed: submitted.passed,
      passMark: submitted.passMark,
      mayAttemptAgain: submitted.mayAttemptAgain,
      questions: submitted.questions.map((graded) => {
        const question = questions.find((q) => q.id === graded.questionId)
        const optionText = (id: string) => text(question?.options.find((o) => o.id === id)?.text)
        return {
          id: graded.questionId,
          prompt: text(question?.prompt),
          correct: graded.correct,
          // In the order the member saw them.
          chosen: graded.order.filter((id) => graded.chosen.includes(id)).map(optionText),
          explanation: text(graded.explanation),
        }
      }),
    }
    return data<ActionResult>({ kind: 'graded', result, certificateCode: submitted.certificateCode, courseCompleted: submitted.courseCompleted })
  }
  return data<ActionResult>({ kind: 'refused', error: t('error.400') }, { status: 400 })
}

export default function LessonPage() {
  const { course, locked, lesson, readingLang, quiz, previous, next } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const navigation = useNavigation()
  const t = useT()
  const back = (
    <p className="muted">
      <Link to={`/academy/${course.slug}`}>{t('academy.lesson.backToCourse', { course: course.title })}</Link>
    </p>
  )
  const refusedNotice = <ActionNotice result={actionData?.kind === 'refused' ? actionData : null} />

  if (locked || !lesson) {
    return (
      <>
        {back}
        <section className="panel narrow" aria-labelledby="locked-title">
          <h1 id="locked-title">{t('academy.lesson.locked.title')}</h1>
          {refusedNotice}
          <p>{locked?.message}</p>
          {locked?.lessonId ? (
            <p>
              <Link className="button primary" to={`/academy/${course.slug}/${locked.lessonId}`}>
                {t('academy.lesson.locked.goTo', { lesson: locked.lesson })}
              </Link>
            </p>
          ) : null}
        </section>
      </>
    )
  }

  const graded = actionData?.kind === 'graded' ? actionData : null
  const problems = actionData?.kind === 'problems' ? actionData : null
  return (
    <>
      {back}
      <article className="panel academy-lesson" aria-labelledby="lesson-title">
        <p className="muted">
          {lesson.chapter} · {t('academy.lesson.of', { number: lesson.number, total: lesson.total })} · {t('academy.minutes', { minutes: lesson.minutes })}
        </p>
        <h1 id="lesson-title">{lesson.title}</h1>
        {params.get('started') ? (
          <div className="notice" role="status">
            {t('academy.course.started')}
          </div>
        ) : null}
        {params.get('done') ? (
          <div className="notice" role="status">
            {t('academy.lesson.markedDone')}
          </div>
        ) : null}
        {refusedNotice}
        {/* Rendered on the server by renderMarkdown: raw HTML in a lesson is shown as text, links and images are checked. */}
        <div className="academy-body" lang={readingLang} dangerouslySetInnerHTML={{ __html: lesson.html }} />
        {lesson.done && !quiz ? (
          <p className="academy-state-done">
            <span aria-hidden="true">✓</span> {t('academy.lesson.done')}
          </p>
        ) : null}
        {!lesson.done && !quiz ? (
          <Form method="post" className="academy-mark-done">
            <input type="hidden" name="intent" value="complete" />
            <p id="mark-done-help" className="help">
              {t('academy.lesson.markDone.help')}
            </p>
            <button type="submit" className="primary" aria-describedby="mark-done-help" disabled={navigation.state === 'submitting'}>
              {t('academy.lesson.markDone')}
            </button>
          </Form>
        ) : null}
      </article>

      {quiz ? (
        <section className="panel" aria-labelledby="quiz-title">
          <h2 id="quiz-title">{t('academy.quiz.title')}</h2>
          {graded ? <QuizResult result={graded.result} /> : null}
          {graded?.courseCompleted ? (
            <div className="notice" role="status">
              <p>{t('academy.course.justCompleted')}</p>
              {graded.certificateCode ? (
                <p>
                  <Link to={`/certificates/${graded.certificateCode}`}>{t('academy.course.certificate')}</Link>
                </p>
              ) : null}
            </div>
          ) : null}
          {quiz.passed ? (
            <p className="academy-state-done">
              <span aria-hidden="true">✓</span> {t('academy.quiz.alreadyPassed')}
            </p>
          ) : quiz.mayAttempt ? (
            <>
              {graded ? <h3>{t('academy.quiz.tryAgain')}</h3> : <p>{t('academy.quiz.intro', { passMark: quiz.passMark })}</p>}
              {quiz.best !== null && !graded ? <p className="help">{t('academy.quiz.best', { score: quiz.best })}</p> : null}
              <QuizForm key={quiz.attemptNumber} quiz={quiz} problems={problems?.problems} chosen={problems?.chosen} />
            </>
          ) : (
            <p className="notice error">{t('academy.error.noAttemptsLeft')}</p>
          )}
        </section>
      ) : null}

      <nav aria-label={t('academy.lesson.nav')} className="academy-pager">
        <ul>
          {previous ? (
            <li>
              <Link to={`/academy/${course.slug}/${previous.id}`} rel="prev">
                ← {t('academy.lesson.previous', { title: previous.title })}
              </Link>
            </li>
          ) : null}
          {next ? (
            <li>
              {next.open ? (
                <Link to={`/academy/${course.slug}/${next.id}`} rel="next">
                  {t('academy.lesson.next', { title: next.title })} →
                </Link>
              ) : (
                <span className="muted">
                  {t('academy.lesson.next', { title: next.title })} (<LockMark /> {t('academy.lesson.state.locked')})
                </span>
              )}
            </li>
          ) : null}
        </ul>
      </nav>
    </>
  )
}
