import { Form, useNavigation } from '@remix-run/react'
import type { MessageKey } from '~/utils/i18n'
import { useT } from '~/utils/use-t'

export interface QuizQuestionView {
  id: string
  kind: 'single' | 'multiple'
  prompt: string
  /** In the order this member sees them in this attempt. */
  options: { id: string; text: string }[]
}

export interface QuizView {
  passMark: number
  attemptNumber: number
  left: number | null
  mayAttempt: boolean
  passed: boolean
  best: number | null
  questions: QuizQuestionView[]
}

export interface QuizResultView {
  score: number
  right: number
  total: number
  passed: boolean
  passMark: number
  mayAttemptAgain: boolean
  questions: { id: string; prompt: string; correct: boolean; chosen: string[]; explanation: string }[]
}

/**
 * The questions of one attempt: a fieldset per question, radio buttons for
 * one answer, checkboxes for several. Works without JavaScript; answers sent
 * with a problem come back checked, with the problem next to the question.
 */
export function QuizForm({ quiz, problems = {}, chosen = {} }: { quiz: QuizView; problems?: Record<string, MessageKey>; chosen?: Record<string, string[]> }) {
  const t = useT()
  const navigation = useNavigation()
  const hasProblems = Object.keys(problems).length > 0
  return (
    <Form method="post" noValidate className="academy-quiz" aria-labelledby="quiz-title">
      {hasProblems ? (
        <div className="notice error" role="alert">
          {t('academy.quiz.problems')}
        </div>
      ) : null}
      <input type="hidden" name="intent" value="submit-quiz" />
      {quiz.questions.map((question, q) => {
        const hintId = `question-${question.id}-hint`
        const problem = problems[question.id]
        const errorId = problem ? `question-${question.id}-error` : undefined
        return (
          <fieldset key={question.id} className="academy-question" aria-describedby={[hintId, errorId].filter(Boolean).join(' ')}>
            <legend>
              {q + 1}. {question.prompt}
            </legend>
            <p id={hintId} className="help">
              {question.kind === 'single' ? t('academy.quiz.single') : t('academy.quiz.multiple')}
            </p>
            {question.options.map((option) => {
              const id = `answer-${quiz.attemptNumber}-${question.id}-${option.id}`
              return (
                <div key={option.id} className="choice">
                  <input
                    type={question.kind === 'single' ? 'radio' : 'checkbox'}
                    id={id}
                    name={`answer.${question.id}`}
                    value={option.id}
                    defaultChecked={chosen[question.id]?.includes(option.id) ?? false}
                  />
                  <label htmlFor={id}>{option.text}</label>
                </div>
              )
            })}
            {problem ? (
              <p id={errorId} className="field-errors">
                {t(problem)}
              </p>
            ) : null}
          </fieldset>
        )
      })}
      <p className="help">{quiz.left === null ? t('academy.quiz.unlimited') : t('academy.quiz.attemptsLeft', { left: quiz.left })}</p>
      <button type="submit" className="primary" disabled={navigation.state === 'submitting'}>
        {t('academy.quiz.submit')}
      </button>
    </Form>
  )
}

/** The grade of the attempt just sent: the score, passed or not, and per question right or wrong with its explanation. */
export function QuizResult({ result }: { result: QuizResultView }) {
  const t = useT()
  return (
    <section className="panel academy-result" aria-labelledby="quiz-result-title">
      <h2 id="quiz-result-title">{t('academy.quiz.result.title')}</h2>
      <div className={result.passed ? 'notice' : 'notice error'} role="status">
        <p>{t('academy.quiz.score', { score: result.score, right: result.right, total: result.total })}</p>
        <p>
          <strong>
            {result.passed ? t('academy.quiz.passed') : result.mayAttemptAgain ? t('academy.quiz.failed', { passMark: result.passMark }) : t('academy.quiz.failedNoAttempts')}
          </strong>
        </p>
      </div>
      <ol className="academy-results">
        {result.questions.map((q) => (
          <li key={q.id} className={q.correct ? 'academy-right' : 'academy-wrong'}>
            <h3>{q.prompt}</h3>
            <p className="academy-verdict">
              <span aria-hidden="true">{q.correct ? '✓' : '✗'}</span> <strong>{q.correct ? t('academy.quiz.right') : t('academy.quiz.wrong')}</strong>
            </p>
            <dl>
              <dt>{t('academy.quiz.yourAnswer')}</dt>
              <dd>{q.chosen.join('; ')}</dd>
              <dt>{t('academy.quiz.explanation')}</dt>
              <dd>{q.explanation}</dd>
            </dl>
          </li>
        ))}
      </ol>
    </section>
  )
}
