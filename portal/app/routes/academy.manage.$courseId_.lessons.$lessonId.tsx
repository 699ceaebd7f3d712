import { getFormProps, getInputProps, getTextareaProps } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import { textIn, type Language } from '@commons/academy/rules'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { ActionNotice } from '~/components/action-notice'
import { LANGUAGE_NAME_KEYS, replyFor, savedKey, StudioButton, useStudioForm, type StudioReply } from '~/components/academy-studio-form'
import { CourseImages } from '~/components/academy-studio-images'
import { MarkdownPreview } from '~/components/academy-studio-preview'
import { QuizEditor } from '~/components/academy-studio-quiz'
import { VersionBadge } from '~/components/academy-studio-status'
import { Field } from '~/components/field'
import studioStylesUrl from '~/styles/academy-studio.css?url'
import { AcademyError } from '~/utils/academy/content.server'
import { discardImage, readImageForm } from '~/utils/academy/images.server'
import {
  BODY_MAX,
  LESSON_IMAGE_ACCEPT,
  formKey,
  imageSchema,
  lessonSchema,
  moveQuestionSchema,
  questionSchema,
  quizSettingsSchema,
  removeQuestionSchema,
  removeQuizSchema,
  filledOptions,
  startDraftSchema,
} from '~/utils/academy/studio-forms'
import {
  addCourseImage,
  findLesson,
  imageSnippet,
  moveQuestion,
  removeQuestion,
  removeQuiz,
  saveLesson,
  saveQuestion,
  saveQuizSettings,
  studioCourse,
} from '~/utils/academy/studio.server'
import { startNewDraft } from '~/utils/academy/studio-workflow.server'
import { answerForm, orNotFound } from '~/utils/academy/studio-answers.server'
import { requireRole } from '~/utils/auth.server'
import { env } from '~/utils/env.server'
import { isLanguage } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { renderMarkdown } from '~/utils/markdown.server'
import { useLanguage, useT } from '~/utils/use-t'

export const meta: MetaFunction = () => [{ title: 'Lesson editor · Commons Portal' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: studioStylesUrl }]

async function lessonOf(courseId: string | undefined, lessonId: string | undefined) {
  const loaded = await orNotFound(studioCourse(courseId))
  const found = findLesson(loaded.shown.parsed, lessonId)
  if (!found) throw new Response('Not Found', { status: 404 })
  return { ...loaded, ...found }
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, 'trainer')
  const { lang } = await getTranslator(request)
  const { course, shown, working, editable, lesson, chapter, images } = await lessonOf(params.courseId, params.lessonId)
  const content = shown.parsed
  return {
    course: { id: course.id, slug: course.slug, title: textIn(content.title, lang, content.languages) || course.slug },
    chapterTitle: textIn(chapter.title, lang, content.languages) || chapter.id,
    version: { number: shown.number, status: shown.status, revision: shown.revision },
    editable,
    onlyPublished: !working,
    languages: content.languages,
    lesson,
    images: images.map((image) => ({ id: image.id, description: image.description, fileName: image.fileName, snippet: imageSnippet(image) })),
    maxMb: env().ATTACHMENT_MAX_MB,
  }
}

type Answer = StudioReply & { preview?: { language: Language; html: string } | null; uploaded?: string | null }

export async function action({ request, params }: ActionFunctionArgs) {
  const session = await requireRole(request, 'trainer')
  const { t } = await getTranslator(request)
  const { course, lesson } = await lessonOf(params.courseId, params.lessonId)
  const actor = { userId: session.userId }
  if (request.headers.get('Content-Type')?.startsWith('multipart/form-data')) return uploadImage(request, actor, course.id, t)
  const formData = await request.formData()
  const intent = String(formData.get('intent') ?? '')
  const questionId = formData.get('questionId')
  const key = formKey(intent, intent === 'save-question' ? (typeof questionId === 'string' && questionId ? questionId : 'new') : typeof questionId === 'string' ? questionId : null)
  switch (intent) {
    case 'save-lesson': {
      const preview = formData.get('preview')
      if (typeof preview === 'string') return previewLesson(formData, preview, t)
      return answerForm(formData, lessonSchema, key, t, async (v) => {
        await saveLesson(actor, course.id, v.revision, lesson.id, { title: v.title ?? {}, minutes: v.minutes, body: v.body ?? {} })
        return t('studio.notice.lessonSaved')
      })
    }
    case 'quiz-settings':
      return answerForm(formData, quizSettingsSchema, key, t, async (v) => {
        await saveQuizSettings(actor, course.id, v.revision, lesson.id, { passMark: v.passMark, attemptLimit: v.attemptLimit ?? null, shuffle: v.shuffle ?? false })
        return t('studio.notice.quizSaved')
      })
    case 'remove-quiz':
      return answerForm(formData, removeQuizSchema, key, t, async (v) => {
        await removeQuiz(actor, course.id, v.revision, lesson.id)
        return t('studio.notice.quizRemoved')
      })
    case 'save-question':
      return answerForm(formData, questionSchema, key, t, async (v) => {
        await saveQuestion(actor, course.id, v.revision, lesson.id, v.questionId ?? null, {
          kind: v.kind,
          prompt: v.prompt ?? {},
          explanation: v.explanation ?? {},
          options: filledOptions(v.options),
        })
        return t('studio.notice.questionSaved')
      })
    case 'remove-question':
      return answerForm(formData, removeQuestionSchema, key, t, async (v) => {
        await removeQuestion(actor, course.id, v.revision, lesson.id, v.questionId)
        return t('studio.notice.questionRemoved')
      })
    case 'move-question':
      return answerForm(formData, moveQuestionSchema, key, t, async (v) => {
        await moveQuestion(actor, course.id, v.revision, lesson.id, v.questionId, v.direction)
        return t('studio.notice.moved')
      })
    case 'start-draft':
      return answerForm(formData, startDraftSchema, key, t, async () => {
        await startNewDraft(actor, course.id)
        return t('studio.notice.draftStarted')
      })
    default:
      return data<Answer>({ formKey: key, result: null, notice: null, error: t('error.400') }, { status: 400 })
  }
}

/** Without JavaScript, "Preview" submits the lesson form: it is rendered, not saved, and the form keeps what was typed. */
function previewLesson(formData: FormData, language: string, t: Awaited<ReturnType<typeof getTranslator>>['t']) {
  const reply = parseWithZod(formData, { schema: lessonSchema }).reply()
  const markdown = formData.get(`body.${language}`)
  if (!isLanguage(language) || (typeof markdown === 'string' && markdown.length > BODY_MAX)) {
    return data<Answer>({ formKey: 'save-lesson', result: reply, notice: null, error: t('studio.error.previewTooLong', { max: BODY_MAX }) }, { status: 400 })
  }
  return data<Answer>({ formKey: 'save-lesson', result: reply, notice: null, error: null, preview: { language, html: renderMarkdown(typeof markdown === 'string' ? markdown : '') } })
}

async function uploadImage(request: Request, actor: { userId: string }, courseId: string, t: Awaited<ReturnType<typeof getTranslator>>['t']) {
  const key = 'upload-image'
  let upload: Awaited<ReturnType<typeof readImageForm>>
  try {
    upload = await readImageForm(request)
  } catch (error) {
    if (error instanceof Error && error.name === 'MaxPartSizeExceededError') return data<Answer>({ formKey: key, result: null, notice: null, error: t('error.400') }, { status: 413 })
    throw error
  }
  const submission = parseWithZod(upload.formData, { schema: imageSchema })
  const refuse = async (status: number, error: string | null) => {
    if (upload.stored) await discardImage(upload.stored)
    return data<Answer>({ formKey: key, result: submission.reply(), notice: null, error }, { status })
  }
  if (upload.refused) return refuse(400, t(upload.refused.key, upload.refused.vars))
  if (submission.status !== 'success') return refuse(400, null)
  if (!upload.stored) return refuse(400, t('studio.error.imageMissing'))
  try {
    const image = await addCourseImage(actor, courseId, upload.stored, submission.value.description)
    return data<Answer>({ formKey: key, result: submission.reply({ resetForm: true }), notice: null, error: null, uploaded: imageSnippet(image) })
  } catch (error) {
    if (!(error instanceof AcademyError)) {
      await discardImage(upload.stored)
      throw error
    }
    return refuse(error.status, t(error.key, error.vars))
  }
}

export default function LessonEditor() {
  const loaded = useLoaderData<typeof loader>()
  const answer = useActionData<typeof action>() as Answer | undefined
  const [search] = useSearchParams()
  const t = useT()
  const lang = useLanguage()
  const { course, version, editable, onlyPublished, lesson, languages } = loaded
  const title = textIn(lesson.title, lang, languages) || lesson.id
  return (
    <>
      <nav aria-label={t('studio.breadcrumb')} className="studio-breadcrumb">
        <Link to="/academy/manage">{t('studio.index.title')}</Link> › <Link to={`/academy/manage/${course.id}`}>{course.title}</Link>
      </nav>
      <section className="panel" aria-labelledby="lesson-title">
        <h1 id="lesson-title">{title}</h1>
        <p>
          {t('studio.lesson.inChapter', { chapter: loaded.chapterTitle })} <VersionBadge status={version.status} number={version.number} />
        </p>
        {search.get('added') && !answer ? (
          <div className="notice" role="status">
            {t('studio.notice.lessonAdded')}
          </div>
        ) : null}
        <ActionNotice result={answer} />
        {!editable ? (
          <div className="notice warning">
            <p>{onlyPublished ? t('studio.readOnly.published') : t('studio.readOnly.inReview')}</p>
            {onlyPublished ? <StudioButton intent="start-draft" label={t('studio.workflow.startDraft')} className="primary" /> : <Link to={`/academy/manage/${course.id}`}>{t('studio.readOnly.toReview')}</Link>}
          </div>
        ) : null}
        <LessonForm key={savedKey(`lesson-${version.number}`, { title: lesson.title, minutes: lesson.minutes, body: lesson.body })} loaded={loaded} answer={answer} />
      </section>
      <CourseImages key={`images-${loaded.images.length}`} images={loaded.images} uploaded={answer?.uploaded ?? null} editable={editable} maxMb={loaded.maxMb} accept={LESSON_IMAGE_ACCEPT} answer={answer} />
      <QuizEditor key={savedKey(`quiz-${version.number}`, lesson.quiz ? { ...lesson.quiz, questions: lesson.quiz.questions.map((q) => q.id) } : null)} quiz={lesson.quiz ?? null} languages={languages} revision={version.revision} editable={editable} answer={answer} />
    </>
  )
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>

function LessonForm({ loaded, answer }: { loaded: LoaderData; answer: Answer | undefined }) {
  const t = useT()
  const { lesson, languages, version, editable } = loaded
  const [form, fields] = useStudioForm(lessonSchema, {
    id: 'save-lesson',
    lastResult: replyFor(answer, 'save-lesson'),
    defaultValue: { title: lesson.title, minutes: String(lesson.minutes), body: lesson.body },
  })
  const titles = fields.title.getFieldset()
  const bodies = fields.body.getFieldset()
  return (
    <Form method="post" {...getFormProps(form)} noValidate className="stack">
      <fieldset disabled={!editable} className="plain">
        <input type="hidden" name="intent" value="save-lesson" />
        <input type="hidden" name="revision" value={version.revision} />
        {languages.map((language, index) => {
          const name = t(LANGUAGE_NAME_KEYS[language])
          const titleErrors = [...(index === 0 ? (fields.title.errors ?? []) : []), ...(titles[language].errors ?? [])]
          return (
            <fieldset key={language} className="studio-language">
              <legend>{name}</legend>
              <Field id={titles[language].id} label={t('studio.inLanguage', { label: t('studio.field.lessonTitle'), language: name })} errors={titleErrors.length ? titleErrors : undefined}>
                {(aria) => <input {...getInputProps(titles[language], { type: 'text' })} {...aria} lang={language} />}
              </Field>
              <Field id={bodies[language].id} label={t('studio.inLanguage', { label: t('studio.field.body'), language: name })} help={index === 0 ? t('studio.field.body.help') : undefined} errors={bodies[language].errors}>
                {(aria) => <textarea {...getTextareaProps(bodies[language])} {...aria} rows={16} className="studio-markdown" lang={language} />}
              </Field>
              <MarkdownPreview language={language} textareaId={bodies[language].id} fallbackHtml={answer?.preview?.language === language ? answer.preview.html : null} />
            </fieldset>
          )
        })}
        <Field id={fields.minutes.id} label={t('studio.field.minutes')} help={t('studio.field.minutes.help')} errors={fields.minutes.errors}>
          {(aria) => <input {...getInputProps(fields.minutes, { type: 'number' })} {...aria} inputMode="numeric" />}
        </Field>
        {editable ? (
          <button type="submit" className="primary">
            {t('studio.lesson.save')}
          </button>
        ) : null}
      </fieldset>
    </Form>
  )
}
