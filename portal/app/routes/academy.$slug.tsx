import type { SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import { readingLanguage, textIn } from '@commons/academy/rules'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { ActionNotice } from '~/components/action-notice'
import { AssignCourseForm, type AssignOrganisation } from '~/components/academy-assign'
import { ChapterList, type ChapterView } from '~/components/academy-lessons'
import { CourseProgressBar } from '~/components/academy-progress'
import academyStylesUrl from '~/styles/academy.css?url'
import { AcademyError } from '~/utils/academy/content.server'
import { assignSchema, enrolSchema } from '~/utils/academy/learning-forms'
import { assignCourse } from '~/utils/academy/assignments.server'
import { courseOverview, enrol, requirePublishedCourse, titleIn } from '~/utils/academy/learning.server'
import { requireUser } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { requireOrgAdmin } from '~/utils/permissions.server'
import { useT } from '~/utils/use-t'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: academyStylesUrl }]

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.course.title} · Commons Portal` : 'Commons Portal' }]

/** An AcademyError with 404 becomes the portal's 404 page: a slug nobody may see and one that does not exist look the same. */
function notFound(error: unknown): never {
  if (error instanceof AcademyError && error.status === 404) throw new Response('Not Found', { status: 404 })
  throw error
}

/** Organisations the person is an admin of, with their other members and whether each completed this course. */
async function assignableOrganisations(userId: string, courseId: string): Promise<AssignOrganisation[]> {
  const memberships = await db().membership.findMany({
    where: { userId, role: 'ADMIN' },
    include: { organization: { include: { memberships: { include: { user: { select: { id: true, name: true } } } } } } },
    orderBy: { organization: { name: 'asc' } },
  })
  const memberIds = memberships.flatMap((m) => m.organization.memberships.map((o) => o.userId))
  const completed = new Set(
    (await db().enrolment.findMany({ where: { courseId, userId: { in: memberIds }, completedAt: { not: null } }, select: { userId: true } })).map((e) => e.userId)
  )
  return memberships.map(({ organization }) => ({
    slug: organization.slug,
    name: organization.name,
    members: organization.memberships
      .filter((m) => m.userId !== userId)
      .map((m) => ({ id: m.user.id, name: m.user.name, completed: completed.has(m.userId) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }))
}

/**
 * A course for a member: what it is, its prerequisites and how far they are
 * in it, lesson by lesson; "Start course" or "Go on"; the certificate when
 * complete. Admins of an organisation may assign it to its members here.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const { lang } = await getTranslator(request)
  const overview = await courseOverview(session.userId, params.slug).catch(notFound)
  const { course, version, enrolment, progress } = overview
  const content = version.parsed
  const reading = readingLanguage(content, lang)
  const text = (texts: Parameters<typeof textIn>[0]) => textIn(texts, reading, content.languages)
  const states = new Map(progress.lessons.map((l) => [l.lessonId, l]))
  const chapters: ChapterView[] = content.chapters.map((chapter) => ({
    id: chapter.id,
    title: text(chapter.title),
    lessons: chapter.lessons.map((lesson) => ({
      id: lesson.id,
      title: text(lesson.title),
      minutes: lesson.minutes,
      state: states.get(lesson.id)?.state ?? 'locked',
      hasQuiz: states.get(lesson.id)?.hasQuiz ?? false,
    })),
  }))
  const prerequisites = overview.prerequisites.map((p) => ({ slug: p.slug, title: titleIn(p, lang), completed: p.completed }))
  return {
    course: {
      slug: course.slug,
      title: text(content.title),
      summary: text(content.summary),
      audience: text(content.audience),
      languages: [...content.languages],
      minutes: content.chapters.flatMap((c) => c.lessons).reduce((sum, l) => sum + l.minutes, 0),
      tool: content.toolRecipeId ? toolName(content.toolRecipeId, lang) : null,
    },
    chapters,
    prerequisites,
    blocked: prerequisites.some((p) => !p.completed),
    enrolled: enrolment !== null,
    started: enrolment?.lastLessonId != null,
    progress: { done: progress.done, total: progress.total, percent: progress.percent },
    goOnTo: enrolment && progress.next ? `/academy/${course.slug}/${progress.next}` : null,
    completed: enrolment?.completedAt != null,
    certificate: enrolment?.certificate ? { code: enrolment.certificate.code, revoked: enrolment.certificate.revokedAt !== null } : null,
    assignedBy: enrolment?.assignedBy && enrolment.assignedByOrganization ? { name: enrolment.assignedBy.name, org: enrolment.assignedByOrganization.name } : null,
    organisations: await assignableOrganisations(session.userId, course.id),
  }
}

type ActionResult = { kind: 'enrol'; error: string } | { kind: 'assign'; organization: string; result: SubmissionResult<string[]>; notice: { text: string; error: boolean } | null }

export async function action({ request, params }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const { lang, t } = await getTranslator(request)
  const { course } = await requirePublishedCourse(params.slug).catch(notFound)
  const formData = await request.formData()
  const intent = formData.get('intent')

  if (intent === 'enrol') {
    if (parseWithZod(formData, { schema: enrolSchema }).status !== 'success') return data<ActionResult>({ kind: 'enrol', error: t('error.400') }, { status: 400 })
    try {
      await enrol(session.userId, course.id, lang)
    } catch (error) {
      if (!(error instanceof AcademyError) || error.status === 404) notFound(error)
      return data<ActionResult>({ kind: 'enrol', error: t(error.key, error.vars) }, { status: error.status })
    }
    const { progress } = await courseOverview(session.userId, course.slug)
    const first = progress.next ?? progress.lessons[0]?.lessonId
    return redirect(first ? `/academy/${course.slug}/${first}?started=1` : `/academy/${course.slug}`)
  }

  if (intent === 'assign') {
    const submission = parseWithZod(formData, { schema: assignSchema })
    const organization = String(formData.get('organization') ?? '')
    if (submission.status !== 'success') return data<ActionResult>({ kind: 'assign', organization, result: submission.reply(), notice: null }, { status: 400 })
    // 404 for an organisation the person is not in, 403 for one they are only a member of.
    await requireOrgAdmin(request, submission.value.organization)
    try {
      const result = await assignCourse(session.userId, submission.value.organization, course.id, submission.value.scope === 'all' ? 'all' : submission.value.members ?? [])
      const names = (list: { name: string }[]) => list.map((p) => p.name).join(', ')
      const lines = [
        result.assigned.length ? t('academy.assign.done', { count: result.assigned.length, names: names(result.assigned) }) : t('academy.assign.nobodyNew'),
        result.alreadyCompleted.length ? t('academy.assign.alreadyCompleted', { names: names(result.alreadyCompleted) }) : '',
        result.waitingForPrerequisites.length ? t('academy.assign.waiting', { names: names(result.waitingForPrerequisites) }) : '',
      ]
      return data<ActionResult>({ kind: 'assign', organization, result: submission.reply({ resetForm: true }), notice: { text: lines.filter(Boolean).join(' '), error: false } })
    } catch (error) {
      if (!(error instanceof AcademyError) || error.status === 404) notFound(error)
      return data<ActionResult>({ kind: 'assign', organization, result: submission.reply(), notice: { text: t(error.key, error.vars), error: true } }, { status: error.status })
    }
  }
  return data<ActionResult>({ kind: 'enrol', error: t('error.400') }, { status: 400 })
}

export default function CoursePage() {
  const { course, chapters, prerequisites, blocked, enrolled, started, progress, goOnTo, completed, certificate, assignedBy, organisations } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const navigation = useNavigation()
  const t = useT()
  return (
    <>
      <p className="muted">
        <Link to="/academy">{t('academy.course.back')}</Link>
      </p>
      <section className="panel" aria-labelledby="course-title">
        <h1 id="course-title">{course.title}</h1>
        {params.get('completed') && completed ? (
          <div className="notice" role="status">
            {t('academy.course.justCompleted')}
          </div>
        ) : null}
        <ActionNotice result={actionData?.kind === 'enrol' ? actionData : null} />
        <p className="lead">{course.summary}</p>
        <dl>
          <dt>{t('academy.course.audience')}</dt>
          <dd>{course.audience}</dd>
          <dt>{t('academy.card.languages')}</dt>
          <dd>{course.languages.map((l) => t(l === 'en' ? 'lang.en' : 'lang.nl')).join(', ')}</dd>
          <dt>{t('academy.card.time')}</dt>
          <dd>{t('academy.minutes', { minutes: course.minutes })}</dd>
          <dt>{t('academy.card.tool')}</dt>
          <dd>{course.tool ?? t('academy.card.general')}</dd>
        </dl>
        {assignedBy ? <p>{t('academy.course.assignedNote', { name: assignedBy.name, org: assignedBy.org })}</p> : null}
        {enrolled ? <CourseProgressBar id="course-progress" course={course.title} {...progress} /> : null}
        {completed ? (
          <p className="academy-state-done">
            <span aria-hidden="true">✓</span> {t('academy.course.complete')}
          </p>
        ) : null}
        {certificate && !certificate.revoked ? (
          <p>
            <Link className="button" to={`/certificates/${certificate.code}`}>
              {t('academy.course.certificate')}
            </Link>
          </p>
        ) : null}
        {certificate?.revoked ? <p>{t('academy.course.certificateRevoked')}</p> : null}
        {blocked ? (
          <p className="notice error">
            {t('academy.course.blocked', {
              courses: prerequisites
                .filter((p) => !p.completed)
                .map((p) => p.title)
                .join(', '),
            })}
          </p>
        ) : started && goOnTo ? (
          <p>
            <Link className="button primary" to={goOnTo}>
              {t('academy.goOn')}
            </Link>
          </p>
        ) : !completed ? (
          <Form method="post">
            <input type="hidden" name="intent" value="enrol" />
            <button type="submit" className="primary" disabled={navigation.state === 'submitting'}>
              {t('academy.course.start')}
            </button>
          </Form>
        ) : null}
      </section>

      {prerequisites.length ? (
        <section className="panel" aria-labelledby="prerequisites-title">
          <h2 id="prerequisites-title">{t('academy.course.prerequisites.title')}</h2>
          <p>{t('academy.course.prerequisites.intro')}</p>
          <ul>
            {prerequisites.map((p) => (
              <li key={p.slug}>
                <Link to={`/academy/${p.slug}`}>{p.title}</Link> —{' '}
                <span className={p.completed ? 'academy-state academy-state-done' : 'academy-state academy-state-locked'}>
                  <span aria-hidden="true">{p.completed ? '✓' : '○'}</span> {p.completed ? t('academy.prerequisite.completed') : t('academy.prerequisite.notCompleted')}
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section className="panel" aria-labelledby="contents-title">
        <h2 id="contents-title">{t('academy.course.contents')}</h2>
        <ChapterList slug={course.slug} chapters={chapters} enrolled={enrolled} />
      </section>

      {organisations.map((organization) => {
        const mine = actionData?.kind === 'assign' && actionData.organization === organization.slug ? actionData : null
        return <AssignCourseForm key={organization.slug} organization={organization} lastResult={mine?.result} notice={mine?.notice} />
      })}
    </>
  )
}
