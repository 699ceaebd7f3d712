import { getFormProps, getInputProps, getSelectProps, getTextareaProps } from '@conform-to/react'
import { supportedLanguages, textIn, toolRecipeIds, type CourseContent, type Language } from '@commons/academy/rules'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { ActionNotice } from '~/components/action-notice'
import { LANGUAGE_NAME_KEYS, replyFor, savedKey, StudioButton, TextsFields, useStudioForm } from '~/components/academy-studio-form'
import { PublishProblems, type CourseOutline } from '~/components/academy-studio-problems'
import { VersionBadge } from '~/components/academy-studio-status'
import { Field, FieldErrors } from '~/components/field'
import studioStylesUrl from '~/styles/academy-studio.css?url'
import { publishedCourses } from '~/utils/academy/content.server'
import {
  addChapterSchema,
  addLessonSchema,
  detailsSchema,
  deleteCourseSchema,
  revokeCertificateSchema,
  discardSchema,
  formKey,
  moveChapterSchema,
  moveLessonSchema,
  moveLessonToChapterSchema,
  publishSchema,
  removeChapterSchema,
  removeLessonSchema,
  renameChapterSchema,
  requestChangesSchema,
  startDraftSchema,
  submitSchema,
} from '~/utils/academy/studio-forms'
import {
  addChapter,
  addLesson,
  moveChapter,
  moveLesson,
  publishProblems,
  removeChapter,
  removeLesson,
  renameChapter,
  saveDetails,
  studioCourse,
} from '~/utils/academy/studio.server'
import { deleteUnpublishedCourse, discardDraft, publish, requestChanges, startNewDraft, submitForReview } from '~/utils/academy/studio-workflow.server'
import { answerForm, orNotFound } from '~/utils/academy/studio-answers.server'
import { revokeCertificate } from '~/utils/academy/certificates.server'
import { courseImageStore } from '~/utils/academy/images.server'
import { requireRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { useLanguage, useT } from '~/utils/use-t'

export const meta: MetaFunction = () => [{ title: 'Course editor · Commons Portal' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: studioStylesUrl }]

/** Titles of chapters and lessons in the reader's language, for the lists and the problems' places. */
function outlineOf(content: CourseContent, lang: Language): CourseOutline {
  const title = (texts: CourseContent['title'], fallback: string) => textIn(texts, lang, content.languages) || fallback
  return {
    chapters: content.chapters.map((c) => ({
      id: c.id,
      title: title(c.title, c.id),
      lessons: c.lessons.map((l) => ({ id: l.id, title: title(l.title, l.id), questionIds: l.quiz?.questions.map((q) => q.id) ?? [] })),
    })),
  }
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, 'trainer')
  const { lang } = await getTranslator(request)
  const { course, published, working, shown, editable } = await orNotFound(studioCourse(params.courseId))
  const content = shown.parsed
  const people = await db().user.findMany({ where: { id: { in: [shown.submittedById, published?.publishedById].filter((id): id is string => !!id) } }, select: { id: true, name: true } })
  const nameOf = (id: string | null | undefined) => people.find((p) => p.id === id)?.name ?? null
  const others = (await publishedCourses()).filter((c) => c.course.id !== course.id)
  return {
    course: { id: course.id, slug: course.slug },
    version: {
      number: shown.number,
      status: shown.status,
      revision: shown.revision,
      reviewNote: shown.reviewNote,
      submittedBy: nameOf(shown.submittedById),
      submittedAt: shown.submittedAt?.toISOString() ?? null,
    },
    editable,
    published: published ? { number: published.number, publishedAt: published.publishedAt?.toISOString() ?? null, publishedBy: nameOf(published.publishedById) } : null,
    details: {
      languages: content.languages,
      title: content.title,
      summary: content.summary,
      audience: content.audience,
      toolRecipeId: content.toolRecipeId ?? '',
      prerequisites: content.prerequisites,
      sequential: content.sequential ? 'on' : '',
    },
    chapters: content.chapters.map((c) => ({
      id: c.id,
      title: c.title,
      lessons: c.lessons.map((l) => ({ id: l.id, minutes: l.minutes, questions: l.quiz?.questions.length ?? null })),
    })),
    outline: outlineOf(content, lang),
    problems: working ? await publishProblems(course.slug, working.parsed) : [],
    tools: toolRecipeIds.map((id) => ({ id, name: toolName(id, lang) })),
    otherCourses: others.map((c) => ({ slug: c.course.slug, title: textIn(c.version.parsed.title, lang) || c.course.slug })),
  }
}

export async function action({ request, params }: ActionFunctionArgs) {
  const session = await requireRole(request, 'trainer')
  const { t } = await getTranslator(request)
  const { course } = await orNotFound(studioCourse(params.courseId))
  const actor = { userId: session.userId }
  const id = course.id
  const formData = await request.formData()
  const intent = String(formData.get('intent') ?? '')
  const target = formData.get('lessonId') ?? formData.get('chapterId')
  const key = formKey(intent, typeof target === 'string' ? target : null)
  switch (intent) {
    case 'save-details':
      return answerForm(formData, detailsSchema, key, t, async (v) => {
        await saveDetails(actor, id, v.revision, {
          languages: v.languages,
          title: v.title ?? {},
          summary: v.summary ?? {},
          audience: v.audience ?? {},
          toolRecipeId: v.toolRecipeId ?? null,
          prerequisites: v.prerequisites ?? [],
          sequential: v.sequential ?? false,
        })
        return t('studio.notice.detailsSaved')
      })
    case 'add-chapter':
      return answerForm(formData, addChapterSchema, key, t, async (v) => {
        await addChapter(actor, id, v.revision, v.title ?? {})
        return t('studio.notice.chapterAdded')
      })
    case 'rename-chapter':
      return answerForm(formData, renameChapterSchema, key, t, async (v) => {
        await renameChapter(actor, id, v.revision, v.chapterId, v.title ?? {})
        return t('studio.notice.chapterRenamed')
      })
    case 'move-chapter':
      return answerForm(formData, moveChapterSchema, key, t, async (v) => {
        await moveChapter(actor, id, v.revision, v.chapterId, v.direction)
        return t('studio.notice.moved')
      })
    case 'remove-chapter':
      return answerForm(formData, removeChapterSchema, key, t, async (v) => {
        await removeChapter(actor, id, v.revision, v.chapterId)
        return t('studio.notice.chapterRemoved')
      })
    case 'add-lesson':
      return answerForm(formData, addLessonSchema, key, t, async (v) => {
        const lessonId = await addLesson(actor, id, v.revision, v.chapterId, v.title ?? {})
        return redirect(`/academy/manage/${id}/lessons/${lessonId}?added=1`)
      })
    case 'move-lesson':
      return answerForm(formData, moveLessonSchema, key, t, async (v) => {
        await moveLesson(actor, id, v.revision, v.lessonId, v.direction)
        return t('studio.notice.moved')
      })
    case 'move-lesson-to':
      return answerForm(formData, moveLessonToChapterSchema, key, t, async (v) => {
        await moveLesson(actor, id, v.revision, v.lessonId, { chapterId: v.chapterId })
        return t('studio.notice.moved')
      })
    case 'remove-lesson':
      return answerForm(formData, removeLessonSchema, key, t, async (v) => {
        await removeLesson(actor, id, v.revision, v.lessonId)
        return t('studio.notice.lessonRemoved')
      })
    case 'submit':
      return answerForm(formData, submitSchema, key, t, async (v) => {
        await submitForReview(actor, id, v.revision)
        return t('studio.notice.submitted')
      })
    case 'request-changes':
      return answerForm(formData, requestChangesSchema, key, t, async (v) => {
        await requestChanges(actor, id, v.revision, v.reviewNote)
        return t('studio.notice.changesRequested')
      })
    case 'publish':
      return answerForm(formData, publishSchema, key, t, async (v) => {
        await publish(actor, id, v.revision)
        return t('studio.notice.published')
      })
    case 'start-draft':
      return answerForm(formData, startDraftSchema, key, t, async () => {
        await startNewDraft(actor, id)
        return t('studio.notice.draftStarted')
      })
    case 'discard':
      return answerForm(formData, discardSchema, key, t, async (v) => {
        await discardDraft(actor, id, v.revision)
        return t('studio.notice.discarded')
      })
    case 'revoke-certificate':
      return answerForm(formData, revokeCertificateSchema, key, t, async (v) => {
        const { code } = await revokeCertificate(session.userId, id, v.code)
        return t('studio.notice.certificateRevoked', { code })
      })
    case 'delete-course':
      return answerForm(formData, deleteCourseSchema, key, t, async (v) => {
        const images = await deleteUnpublishedCourse(actor, id, v.revision)
        // The rows are gone; a file left behind by a failure here is unreachable, not exposed.
        await Promise.all(images.map((storageKey) => courseImageStore().remove(storageKey)))
        return redirect('/academy/manage?deleted=1')
      })
    default:
      return data({ formKey: key, result: null, notice: null, error: t('error.400') }, { status: 400 })
  }
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>

export default function CourseEditor() {
  const loaded = useLoaderData<typeof loader>()
  const { course, version, editable, published } = loaded
  const answer = useActionData<typeof action>()
  const [search] = useSearchParams()
  const t = useT()
  const lang = useLanguage()
  const title = textIn(loaded.details.title, lang, loaded.details.languages) || course.slug
  return (
    <>
      <nav aria-label={t('studio.breadcrumb')} className="studio-breadcrumb">
        <Link to="/academy/manage">{t('studio.index.title')}</Link>
      </nav>
      <section className="panel" aria-labelledby="course-title">
        <h1 id="course-title">{title}</h1>
        <p>
          <VersionBadge status={version.status} number={version.number} />{' '}
          {published && version.status !== 'PUBLISHED' ? <VersionBadge status="PUBLISHED" number={published.number} /> : null}
        </p>
        {search.get('created') && !answer ? (
          <div className="notice" role="status">
            {t('studio.notice.created')}
          </div>
        ) : null}
        <ActionNotice result={answer} />
        <ul className="studio-links">
          {published ? (
            <li>
              <Link to={`/academy/${course.slug}`}>{t('studio.link.memberView')}</Link>
            </li>
          ) : null}
          <li>
            <Link to={`/academy/manage/${course.id}/stats`}>{t('studio.link.stats')}</Link>
          </li>
        </ul>
        <Workflow loaded={loaded} answer={answer} />
      </section>
      <Details key={savedKey(`details-${version.number}`, loaded.details)} loaded={loaded} answer={answer} />
      <Chapters key={savedKey(`chapters-${version.number}`, loaded.chapters)} loaded={loaded} answer={answer} />
      {/* Emptied after its own success by Conform (resetForm), not by a key. */}
      {editable ? <AddChapter loaded={loaded} answer={answer} /> : null}
      {loaded.published ? <RevokeCertificate answer={answer} /> : null}
    </>
  )
}

type Answer = ReturnType<typeof useActionData<typeof action>>

function Workflow({ loaded, answer }: { loaded: LoaderData; answer: Answer }) {
  const t = useT()
  const { course, version, published, problems, outline } = loaded
  const [form, fields] = useStudioForm(requestChangesSchema, { id: 'request-changes', lastResult: replyFor(answer, 'request-changes') })
  return (
    <section aria-labelledby="workflow-title" className="studio-workflow">
      <h2 id="workflow-title">{t('studio.workflow.title')}</h2>
      {version.status === 'DRAFT' && version.reviewNote ? (
        <div className="notice warning studio-review-note">
          <h3>{t('studio.workflow.reviewNote')}</h3>
          <p>{version.reviewNote}</p>
        </div>
      ) : null}
      {version.status !== 'PUBLISHED' ? (
        problems.length ? (
          <PublishProblems problems={problems} outline={outline} courseId={course.id} id="publish-problems" />
        ) : (
          <p>{t('studio.workflow.ready')}</p>
        )
      ) : null}
      {version.status === 'DRAFT' ? (
        <>
          <p>{t('studio.workflow.submit.help')}</p>
          <StudioButton intent="submit" revision={version.revision} label={t('studio.workflow.submit')} className="primary" />
          {published ? (
            <>
              <p>{t('studio.workflow.discard.help', { number: published.number })}</p>
              <StudioButton intent="discard" revision={version.revision} label={t('studio.workflow.discard')} className="danger" />
            </>
          ) : (
            <>
              <p>{t('studio.workflow.delete.help')}</p>
              <StudioButton intent="delete-course" revision={version.revision} label={t('studio.workflow.delete')} className="danger" />
            </>
          )}
        </>
      ) : null}
      {version.status === 'IN_REVIEW' ? (
        <>
          <p>{version.submittedBy ? t('studio.workflow.submittedBy', { name: version.submittedBy }) : t('studio.workflow.inReview')}</p>
          <p>{published ? t('studio.workflow.publish.replaces', { number: published.number }) : t('studio.workflow.publish.help')}</p>
          <StudioButton intent="publish" revision={version.revision} label={t('studio.workflow.publish')} className="primary" />
          <Form method="post" {...getFormProps(form)} noValidate className="stack studio-request-changes">
            <input type="hidden" name="intent" value="request-changes" />
            <input type="hidden" name="revision" value={version.revision} />
            <Field id={fields.reviewNote.id} label={t('studio.field.reviewNote')} help={t('studio.field.reviewNote.help')} errors={fields.reviewNote.errors}>
              {(aria) => <textarea {...getTextareaProps(fields.reviewNote)} {...aria} rows={4} />}
            </Field>
            <button type="submit">{t('studio.workflow.requestChanges')}</button>
          </Form>
        </>
      ) : null}
      {version.status === 'PUBLISHED' ? (
        <>
          <p>{published?.publishedBy ? t('studio.workflow.publishedBy', { name: published.publishedBy, number: version.number }) : t('studio.workflow.onlyPublished')}</p>
          <p>{t('studio.workflow.startDraft.help')}</p>
          <StudioButton intent="start-draft" label={t('studio.workflow.startDraft')} className="primary" />
        </>
      ) : null}
    </section>
  )
}

function Details({ loaded, answer }: { loaded: LoaderData; answer: Answer }) {
  const t = useT()
  const { details, editable, version, tools, otherCourses } = loaded
  const [form, fields] = useStudioForm(detailsSchema, { id: 'save-details', lastResult: replyFor(answer, 'save-details'), defaultValue: details })
  return (
    <section className="panel" aria-labelledby="details-title">
      <h2 id="details-title">{t('studio.details.title')}</h2>
      <Form method="post" {...getFormProps(form)} noValidate className="stack">
        <fieldset disabled={!editable} className="plain">
          <input type="hidden" name="intent" value="save-details" />
          <input type="hidden" name="revision" value={version.revision} />
          <fieldset className="field" aria-describedby={fields.languages.errors?.length ? `${fields.languages.id}-error` : undefined}>
            <legend>{t('studio.field.languages')}</legend>
            {supportedLanguages.map((l) => (
              <div key={l} className="choice">
                <input {...getInputProps(fields.languages, { type: 'checkbox', value: l })} id={`details-language-${l}`} />
                <label htmlFor={`details-language-${l}`}>{t(LANGUAGE_NAME_KEYS[l])}</label>
              </div>
            ))}
            <FieldErrors id={`${fields.languages.id}-error`} errors={fields.languages.errors} />
          </fieldset>
          <TextsFields field={fields.title} languages={supportedLanguages} label="studio.field.courseTitle" />
          <TextsFields field={fields.summary} languages={supportedLanguages} label="studio.field.summary" multiline={3} />
          <TextsFields field={fields.audience} languages={supportedLanguages} label="studio.field.audience" multiline={2} help={t('studio.field.audience.help')} />
          <Field id={fields.toolRecipeId.id} label={t('studio.field.tool')} help={t('studio.field.tool.help')} errors={fields.toolRecipeId.errors}>
            {(aria) => (
              <select {...getSelectProps(fields.toolRecipeId)} {...aria}>
                <option value="">{t('studio.tool.none')}</option>
                {tools.map((tool) => (
                  <option key={tool.id} value={tool.id}>
                    {tool.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <fieldset className="field">
            <legend>{t('studio.field.prerequisites')}</legend>
            {otherCourses.length === 0 ? <p className="muted">{t('studio.field.prerequisites.none')}</p> : null}
            {otherCourses.map((c) => (
              <div key={c.slug} className="choice">
                <input {...getInputProps(fields.prerequisites, { type: 'checkbox', value: c.slug })} id={`prerequisite-${c.slug}`} />
                <label htmlFor={`prerequisite-${c.slug}`}>{c.title}</label>
              </div>
            ))}
          </fieldset>
          <div className="choice">
            <input {...getInputProps(fields.sequential, { type: 'checkbox' })} />
            <label htmlFor={fields.sequential.id}>{t('studio.field.sequential')}</label>
          </div>
          {editable ? (
            <button type="submit" className="primary">
              {t('studio.details.save')}
            </button>
          ) : null}
        </fieldset>
      </Form>
    </section>
  )
}

function Chapters({ loaded, answer }: { loaded: LoaderData; answer: Answer }) {
  const t = useT()
  const { chapters, outline, editable, version, course } = loaded
  return (
    <section className="panel" aria-labelledby="chapters-title">
      <h2 id="chapters-title">{t('studio.chapters.title')}</h2>
      {chapters.length === 0 ? <p>{t('studio.chapters.none')}</p> : null}
      {chapters.map((chapter, ci) => {
        const named = outline.chapters[ci]!
        return (
          <section key={chapter.id} className="studio-chapter" aria-labelledby={`chapter-${chapter.id}`}>
            <h3 id={`chapter-${chapter.id}`}>{t('studio.chapter.heading', { number: ci + 1, title: named.title })}</h3>
            {editable ? (
              <div className="studio-row-actions">
                {ci > 0 ? <StudioButton intent="move-chapter" revision={version.revision} fields={{ chapterId: chapter.id, direction: 'up' }} label={t('studio.moveUp')} ariaLabel={t('studio.chapter.moveUp', { title: named.title })} /> : null}
                {ci < chapters.length - 1 ? <StudioButton intent="move-chapter" revision={version.revision} fields={{ chapterId: chapter.id, direction: 'down' }} label={t('studio.moveDown')} ariaLabel={t('studio.chapter.moveDown', { title: named.title })} /> : null}
                {chapter.lessons.length === 0 ? (
                  <StudioButton intent="remove-chapter" revision={version.revision} fields={{ chapterId: chapter.id }} label={t('studio.remove')} ariaLabel={t('studio.chapter.remove', { title: named.title })} className="danger" />
                ) : (
                  <span className="muted">{t('studio.chapter.removeWhenEmpty')}</span>
                )}
              </div>
            ) : null}
            {chapter.lessons.length === 0 ? (
              <p className="muted">{t('studio.chapter.noLessons')}</p>
            ) : (
              <ol className="studio-lessons">
                {chapter.lessons.map((lesson, li) => {
                  const lessonTitle = named.lessons[li]!.title
                  const first = ci === 0 && li === 0
                  const last = ci === chapters.length - 1 && li === chapter.lessons.length - 1
                  return (
                    <li key={lesson.id}>
                      <Link to={`/academy/manage/${course.id}/lessons/${lesson.id}`}>{lessonTitle}</Link>{' '}
                      <span className="muted">
                        {t('studio.lesson.minutes', { minutes: lesson.minutes })}
                        {lesson.questions !== null ? ` · ${t('studio.lesson.quiz', { count: lesson.questions })}` : ''}
                      </span>
                      {editable ? (
                        <div className="studio-row-actions">
                          {!first ? <StudioButton intent="move-lesson" revision={version.revision} fields={{ lessonId: lesson.id, direction: 'up' }} label={t('studio.moveUp')} ariaLabel={t('studio.lesson.moveUp', { title: lessonTitle })} /> : null}
                          {!last ? <StudioButton intent="move-lesson" revision={version.revision} fields={{ lessonId: lesson.id, direction: 'down' }} label={t('studio.moveDown')} ariaLabel={t('studio.lesson.moveDown', { title: lessonTitle })} /> : null}
                          {chapters.length > 1 ? <MoveToChapter lessonId={lesson.id} lessonTitle={lessonTitle} chapterId={chapter.id} loaded={loaded} /> : null}
                          <StudioButton intent="remove-lesson" revision={version.revision} fields={{ lessonId: lesson.id }} label={t('studio.remove')} ariaLabel={t('studio.lesson.remove', { title: lessonTitle })} className="danger" />
                        </div>
                      ) : null}
                    </li>
                  )
                })}
              </ol>
            )}
            {editable ? (
              <>
                <RenameChapter chapter={chapter} loaded={loaded} answer={answer} />
                <AddLesson chapterId={chapter.id} chapterTitle={named.title} loaded={loaded} answer={answer} />
              </>
            ) : null}
          </section>
        )
      })}
    </section>
  )
}

function MoveToChapter({ lessonId, lessonTitle, chapterId, loaded }: { lessonId: string; lessonTitle: string; chapterId: string; loaded: LoaderData }) {
  const t = useT()
  const selectId = `move-${lessonId}`
  return (
    <Form method="post" className="inline-form studio-button">
      <input type="hidden" name="intent" value="move-lesson-to" />
      <input type="hidden" name="revision" value={loaded.version.revision} />
      <input type="hidden" name="lessonId" value={lessonId} />
      <label htmlFor={selectId} className="visually-hidden">
        {t('studio.lesson.moveToLabel', { title: lessonTitle })}
      </label>
      <select id={selectId} name="chapterId" defaultValue="">
        <option value="" disabled>
          {t('studio.lesson.moveToChoose')}
        </option>
        {loaded.outline.chapters
          .filter((c) => c.id !== chapterId)
          .map((c) => (
            <option key={c.id} value={c.id}>
              {c.title}
            </option>
          ))}
      </select>
      <button type="submit" aria-label={t('studio.lesson.moveTo', { title: lessonTitle })}>
        {t('studio.lesson.moveToButton')}
      </button>
    </Form>
  )
}

function RenameChapter({ chapter, loaded, answer }: { chapter: LoaderData['chapters'][number]; loaded: LoaderData; answer: Answer }) {
  const t = useT()
  const key = formKey('rename-chapter', chapter.id)
  const [form, fields] = useStudioForm(renameChapterSchema, { id: key, lastResult: replyFor(answer, key), defaultValue: { title: chapter.title } })
  return (
    <details className="studio-rename" open={!!replyFor(answer, key) && form.status === 'error'}>
      <summary>{t('studio.chapter.rename')}</summary>
      <Form method="post" {...getFormProps(form)} noValidate className="stack">
        <input type="hidden" name="intent" value="rename-chapter" />
        <input type="hidden" name="revision" value={loaded.version.revision} />
        <input type="hidden" name="chapterId" value={chapter.id} />
        <TextsFields field={fields.title} languages={loaded.details.languages} label="studio.field.chapterTitle" />
        <button type="submit">{t('studio.chapter.renameButton')}</button>
      </Form>
    </details>
  )
}

function AddLesson({ chapterId, chapterTitle, loaded, answer }: { chapterId: string; chapterTitle: string; loaded: LoaderData; answer: Answer }) {
  const t = useT()
  const key = formKey('add-lesson', chapterId)
  const [form, fields] = useStudioForm(addLessonSchema, { id: key, lastResult: replyFor(answer, key) })
  return (
    <Form method="post" {...getFormProps(form)} noValidate className="stack studio-add" aria-label={t('studio.lesson.addTo', { chapter: chapterTitle })}>
      <input type="hidden" name="intent" value="add-lesson" />
      <input type="hidden" name="revision" value={loaded.version.revision} />
      <input type="hidden" name="chapterId" value={chapterId} />
      <TextsFields field={fields.title} languages={loaded.details.languages} label="studio.field.newLessonTitle" />
      <button type="submit">{t('studio.lesson.add')}</button>
    </Form>
  )
}

function AddChapter({ loaded, answer }: { loaded: LoaderData; answer: Answer }) {
  const t = useT()
  const [form, fields] = useStudioForm(addChapterSchema, { id: 'add-chapter', lastResult: replyFor(answer, 'add-chapter') })
  return (
    <section className="panel narrow" aria-labelledby="add-chapter-title">
      <h2 id="add-chapter-title">{t('studio.chapter.addTitle')}</h2>
      <Form method="post" {...getFormProps(form)} noValidate className="stack">
        <input type="hidden" name="intent" value="add-chapter" />
        <input type="hidden" name="revision" value={loaded.version.revision} />
        <TextsFields field={fields.title} languages={loaded.details.languages} label="studio.field.chapterTitle" />
        <button type="submit">{t('studio.chapter.add')}</button>
      </Form>
    </section>
  )
}

function RevokeCertificate({ answer }: { answer: Answer }) {
  const t = useT()
  const [form, fields] = useStudioForm(revokeCertificateSchema, { id: 'revoke-certificate', lastResult: replyFor(answer, 'revoke-certificate') })
  return (
    <section className="panel narrow" aria-labelledby="revoke-title">
      <h2 id="revoke-title">{t('studio.certificates.title')}</h2>
      <p>{t('studio.certificates.help')}</p>
      <Form method="post" {...getFormProps(form)} noValidate className="stack">
        <input type="hidden" name="intent" value="revoke-certificate" />
        <Field id={fields.code.id} label={t('studio.field.certificateCode')} errors={fields.code.errors}>
          {(aria) => <input {...getInputProps(fields.code, { type: 'text' })} {...aria} autoComplete="off" spellCheck={false} />}
        </Field>
        <button type="submit" className="danger">
          {t('studio.certificates.revoke')}
        </button>
      </Form>
    </section>
  )
}
