import { parseContent } from '@commons/academy/rules'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentColumns } from '~/utils/academy/content.server'
import { db, disconnectDb } from '~/utils/db.server'
import { createSession } from '~/utils/session.server'
import { loader } from './academy.manage.$courseId_.stats'

// The statistics page's loader, called as Remix calls it, with real sessions
// in Postgres: trainers only, a forged id is 404, and no learner's name leaves it.

const unique = Date.now().toString(36)
const text = (s: string) => ({ en: s, nl: s })
const cookies = { trainer: '', member: '' }
let courseId: string

async function personWithSession(tag: string, roles: string[] = []) {
  const user = await db().user.create({ data: { keycloakId: `stats-route-${tag}-${unique}`, email: `${tag}-${unique}@stats-route.test`, name: `Zoë ${tag} ${unique}` } })
  const { setCookie } = await createSession({ userId: user.id, keycloakSessionId: null, idToken: '', realmRoles: roles, activeOrganizationId: null })
  return { user, cookie: setCookie.split(';')[0] ?? '' }
}

function call(id: string, cookie: string) {
  const request = new Request(`http://portal.test/academy/manage/${id}/stats`, { headers: { Cookie: cookie, 'Accept-Language': 'en' } })
  return loader({ request, params: { courseId: id }, context: { cspNonce: '' } })
}

async function status(promise: Promise<unknown>) {
  try {
    await promise
    return 200
  } catch (thrown) {
    if (thrown instanceof Response) return thrown.status
    throw thrown
  }
}

beforeAll(async () => {
  cookies.trainer = (await personWithSession('trainer', ['trainer'])).cookie
  const member = await personWithSession('member')
  cookies.member = member.cookie
  const content = parseContent({
    languages: ['en'],
    title: text('Route course'),
    summary: text('s'),
    audience: text('a'),
    chapters: [{ id: 'one', title: text('One'), lessons: [{ id: 'first', title: text('First'), minutes: 5, body: text('b') }] }],
  })
  const course = await db().course.create({
    data: { slug: `stats-route-${unique}`, versions: { create: { number: 1, status: 'PUBLISHED', ...contentColumns(content), publishedAt: new Date() } } },
  })
  courseId = course.id
  const enrolment = await db().enrolment.create({ data: { userId: member.user.id, courseId, lastLessonId: 'first' } })
  await db().lessonProgress.create({ data: { enrolmentId: enrolment.id, lessonId: 'first' } })
})

afterAll(async () => {
  await db().course.deleteMany({ where: { id: courseId } })
  await db().user.deleteMany({ where: { email: { endsWith: '@stats-route.test', contains: unique } } })
  await disconnectDb()
})

describe('/academy/manage/:courseId/stats', () => {
  it('is for trainers only, and a forged id is not found', async () => {
    expect(await status(call(courseId, cookies.member))).toBe(403)
    expect(await status(call('no-such-course', cookies.trainer))).toBe(404)
  })

  it('gives trainers counts, and never a learner’s name', async () => {
    const data = await call(courseId, cookies.trainer)
    expect(data.title).toBe('Route course')
    expect(data.stats?.enrolments).toMatchObject({ total: 1, started: 1, completed: 0 })
    expect(data.stats?.lessons).toEqual([expect.objectContaining({ lessonId: 'first', title: 'First', opened: 1, stoppedHere: 1 })])
    const json = JSON.stringify(data)
    expect(json).not.toContain('Zoë')
    expect(json).not.toContain('@stats-route.test')
  })
})
