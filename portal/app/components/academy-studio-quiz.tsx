import { getFormProps, getInputProps, getSelectProps } from '@conform-to/react'
import type { ContentQuestion, ContentQuiz, Language } from '@commons/academy/rules'
import { Form } from '@remix-run/react'
import { Field, FieldErrors, FormErrors } from '~/components/field'
import { formKey, OPTION_ROWS_MIN, OPTIONS_MAX, questionSchema, quizSettingsSchema } from '~/utils/academy/studio-forms'
import { useT } from '~/utils/use-t'
import { LANGUAGE_NAME_KEYS, replyFor, StudioButton, TextsFields, useStudioForm, type StudioReply } from './academy-studio-form'

interface QuizProps {
  quiz: ContentQuiz | null
  languages: Language[]
  revision: number
  editable: boolean
  answer: StudioReply | undefined
}

/** The quiz of a lesson: its settings, then each question with its own form, then a form for a new one. */
export function QuizEditor({ quiz, languages, revision, editable, answer }: QuizProps) {
  const t = useT()
  return (
    <section className="panel" aria-labelledby="quiz-title">
      <h2 id="quiz-title">{t('studio.quiz.title')}</h2>
      {quiz ? <p>{t('studio.quiz.intro')}</p> : <p>{t('studio.quiz.none')}</p>}
      {quiz || editable ? <QuizSettings quiz={quiz} revision={revision} editable={editable} answer={answer} /> : null}
      {quiz && editable ? <StudioButton intent="remove-quiz" revision={revision} label={t('studio.quiz.remove')} className="danger" /> : null}
      {quiz?.questions.map((question, index) => (
        <QuestionForm key={question.id} question={question} index={index} count={quiz.questions.length} languages={languages} revision={revision} editable={editable} answer={answer} />
      ))}
      {quiz && editable ? <QuestionForm question={null} index={quiz.questions.length} count={quiz.questions.length} languages={languages} revision={revision} editable answer={answer} /> : null}
    </section>
  )
}

function QuizSettings({ quiz, revision, editable, answer }: Omit<QuizProps, 'languages'>) {
  const t = useT()
  const [form, fields] = useStudioForm(quizSettingsSchema, {
    id: 'quiz-settings',
    lastResult: replyFor(answer, 'quiz-settings'),
    defaultValue: { passMark: String(quiz?.passMark ?? 80), attemptLimit: quiz?.attemptLimit ? String(quiz.attemptLimit) : '', shuffle: quiz?.shuffle === false ? '' : 'on' },
  })
  return (
    <Form method="post" {...getFormProps(form)} noValidate className="stack studio-quiz-settings">
      <fieldset disabled={!editable} className="plain">
        <input type="hidden" name="intent" value="quiz-settings" />
        <input type="hidden" name="revision" value={revision} />
        <Field id={fields.passMark.id} label={t('studio.field.passMark')} help={t('studio.field.passMark.help')} errors={fields.passMark.errors}>
          {(aria) => <input {...getInputProps(fields.passMark, { type: 'number' })} {...aria} inputMode="numeric" />}
        </Field>
        <Field id={fields.attemptLimit.id} label={t('studio.field.attemptLimit')} help={t('studio.field.attemptLimit.help')} errors={fields.attemptLimit.errors}>
          {(aria) => <input {...getInputProps(fields.attemptLimit, { type: 'number' })} {...aria} inputMode="numeric" />}
        </Field>
        <div className="choice">
          <input {...getInputProps(fields.shuffle, { type: 'checkbox' })} />
          <label htmlFor={fields.shuffle.id}>{t('studio.field.shuffle')}</label>
        </div>
        {editable ? <button type="submit">{quiz ? t('studio.quiz.saveSettings') : t('studio.quiz.add')}</button> : null}
      </fieldset>
    </Form>
  )
}

function QuestionForm({ question, index, count, languages, revision, editable, answer }: { question: ContentQuestion | null; index: number; count: number; languages: Language[]; revision: number; editable: boolean; answer: StudioReply | undefined }) {
  const t = useT()
  const key = formKey('save-question', question?.id ?? 'new')
  const rows = Math.min(OPTIONS_MAX, Math.max(OPTION_ROWS_MIN, (question?.options.length ?? 0) + 2))
  const [form, fields] = useStudioForm(questionSchema, {
    id: key,
    lastResult: replyFor(answer, key),
    defaultValue: question
      ? {
          questionId: question.id,
          kind: question.kind,
          prompt: question.prompt,
          explanation: question.explanation,
          options: question.options.map((o) => ({ id: o.id, text: o.text, correct: o.correct ? 'on' : '' })),
        }
      : { kind: 'single' },
  })
  const options = fields.options.getFieldList()
  const headingId = `question-${question?.id ?? 'new'}`
  const heading = question ? t('studio.question.heading', { number: index + 1 }) : t('studio.question.new')
  return (
    <section className="studio-question" aria-labelledby={headingId}>
      <h3 id={headingId}>{heading}</h3>
      <Form method="post" {...getFormProps(form)} noValidate className="stack" aria-labelledby={headingId}>
        <fieldset disabled={!editable} className="plain">
          <input type="hidden" name="intent" value="save-question" />
          <input type="hidden" name="revision" value={revision} />
          {question ? <input type="hidden" name={fields.questionId.name} value={question.id} /> : null}
          <FormErrors id={form.errorId} errors={form.errors} />
          <Field id={fields.kind.id} label={t('studio.field.kind')} errors={fields.kind.errors}>
            {(aria) => (
              <select {...getSelectProps(fields.kind)} {...aria}>
                <option value="single">{t('studio.kind.single')}</option>
                <option value="multiple">{t('studio.kind.multiple')}</option>
              </select>
            )}
          </Field>
          <TextsFields field={fields.prompt} languages={languages} label="studio.field.prompt" />
          <fieldset className="studio-options" aria-describedby={fields.options.errors?.length ? `${fields.options.id}-error` : `${headingId}-options-help`}>
            <legend>{t('studio.field.options')}</legend>
            <p id={`${headingId}-options-help`} className="help">
              {t('studio.field.options.help')}
            </p>
            <FieldErrors id={`${fields.options.id}-error`} errors={fields.options.errors} />
            {Array.from({ length: rows }, (_, i) => {
              const row = options[i]?.getFieldset()
              const name = `${fields.options.name}[${i}]`
              const idBase = `${key}-option-${i}`
              const stored = question?.options[i]
              return (
                <div key={i} className="studio-option">
                  {stored ? <input type="hidden" name={`${name}.id`} value={stored.id} /> : null}
                  {languages.map((language) => {
                    const textId = `${idBase}-${language}`
                    const defaultText = stored?.text[language] ?? ''
                    return (
                      <div key={language} className="field">
                        <label htmlFor={textId}>{t('studio.field.optionText', { number: i + 1, language: t(LANGUAGE_NAME_KEYS[language]) })}</label>
                        <input id={textId} name={`${name}.text.${language}`} type="text" lang={language} defaultValue={row?.text.getFieldset()[language].initialValue ?? defaultText} />
                      </div>
                    )
                  })}
                  <div className="choice">
                    <input id={`${idBase}-correct`} name={`${name}.correct`} type="checkbox" defaultChecked={row ? row.correct.initialValue === 'on' : !!stored?.correct} />
                    <label htmlFor={`${idBase}-correct`}>{t('studio.field.optionCorrect', { number: i + 1 })}</label>
                  </div>
                </div>
              )
            })}
          </fieldset>
          <TextsFields field={fields.explanation} languages={languages} label="studio.field.explanation" multiline={2} help={t('studio.field.explanation.help')} />
          {editable ? <button type="submit">{question ? t('studio.question.save', { number: index + 1 }) : t('studio.question.add')}</button> : null}
        </fieldset>
      </Form>
      {question && editable ? (
        <div className="studio-row-actions">
          {index > 0 ? <StudioButton intent="move-question" revision={revision} fields={{ questionId: question.id, direction: 'up' }} label={t('studio.moveUp')} ariaLabel={t('studio.question.moveUp', { number: index + 1 })} /> : null}
          {index < count - 1 ? <StudioButton intent="move-question" revision={revision} fields={{ questionId: question.id, direction: 'down' }} label={t('studio.moveDown')} ariaLabel={t('studio.question.moveDown', { number: index + 1 })} /> : null}
          <StudioButton intent="remove-question" revision={revision} fields={{ questionId: question.id }} label={t('studio.remove')} ariaLabel={t('studio.question.remove', { number: index + 1 })} className="danger" />
        </div>
      ) : null}
    </section>
  )
}
