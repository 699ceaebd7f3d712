import { parseContent } from '@commons/academy/rules'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db, disconnectDb } from '../db.server'
import { contentColumns } from './content.server'
import { completedBy, onboardingCoursesFor, onboardingOffers } from './onboarding.server'

// Real Postgres from the test harness. The courses made here are dated in
// 2000, so they are the oldest onboarding course of their tool, and the
// ones offered, whatever else the database holds.

const unique = Date.now().toString(36)
let n = 0
const made = { users: [] as string[], orgs: [] as string[], courses: [] as string[] }
const text = (s: string) => ({ en: s, nl: s })

async function person(tag: string) {
  const id = `${tag}-${unique}-${++n}`
  const user = await db().user.create({ data: { keycloakId: `test-${id}`, email: `${id}@onboarding.test`, name: `Mo ${id}` } })
  made.users.push(user.id)
  return user
}

async function organisation(name: string, members: { id: string }[]) {
  const org = await db().organization.create({ data: { slug: `onb-${unique}-${++n}`, name: `${name} ${unique}`, description: 'Test', sector: 'care', city: 'Delft' } })
  made.orgs.push(org.id)
  await db().membership.createMany({ data: members.map((m) => ({ userId: m.id, organizationId: org.id, role: 'MEMBER' as const })) })
  return org
}

async function instance(org: { id: string; slug: string }, recipeId: string, phase: string | null, removed = false) {
  return db().instance.create({
    data: {
      id: `${recipeId}-${org.slug}`,
      organizationId: org.id,
      recipeId,
      adminEmail: 'admin@onboarding.test',
      phase,
      ...(removed ? { desiredState: 'REMOVED' as const, removedAt: new Date() } : {}),
    },
  })
}

async function course(recipeId: 'loomio' | 'nextcloud' | 'matrix', status: 'PUBLISHED' | 'DRAFT' = 'PUBLISHED', createdAt = new Date('2000-01-01T00:00:00Z')) {
  const content = parseContent({
    languages: ['en'],
    title: text(`${recipeId} course`),
    summary: text('Summary'),
    audience: text('Everyone'),
    toolRecipeId: recipeId,
    chapters: [
      {
        id: 'one',
        title: text('One'),
        lessons: [
          { id: 'first', title: text('First'), minutes: 5, body: text('a') },
          { id: 'second', title: text('Second'), minutes: 5, body: text('b') },
        ],
      },
    ],
  })
  const made_ = await db().course.create({
    data: {
      slug: `onb-${recipeId}-${status.toLowerCase()}-${unique}-${++n}`,
      createdAt,
      versions: { create: { number: 1, status, ...contentColumns(content), ...(status === 'PUBLISHED' ? { publishedAt: new Date() } : {}) } },
    },
  })
  made.courses.push(made_.id)
  return made_
}

let mo: { id: string }
let finisher: { id: string }
let courses: Record<'loomio' | 'nextcloud' | 'matrix', { id: string; slug: string }>
let orgA: { slug: string; name: string }
let orgB: { slug: string; name: string }

beforeAll(async () => {
  mo = await person('mo')
  finisher = await person('finisher')
  const a = await organisation('A coop', [mo, finisher])
  const b = await organisation('B coop', [mo])
  const c = await organisation('C coop', [mo])
  orgA = a
  orgB = b
  courses = { loomio: await course('loomio'), nextcloud: await course('nextcloud'), matrix: await course('matrix') }
  // A later course for the same tool, and a draft: neither is the one offered.
  await course('loomio', 'PUBLISHED', new Date('2001-01-01T00:00:00Z'))
  await course('nextcloud', 'DRAFT', new Date('1999-01-01T00:00:00Z'))

  await instance(a, 'loomio', 'ready')
  await instance(a, 'nextcloud', 'ready')
  await instance(a, 'matrix', 'provisioning')
  await instance(b, 'loomio', 'ready')
  await instance(c, 'nextcloud', 'removed', true)

  const enrolled = await db().enrolment.create({ data: { userId: mo.id, courseId: courses.nextcloud.id, lastLessonId: 'second' } })
  await db().lessonProgress.createMany({
    data: [
      { enrolmentId: enrolled.id, lessonId: 'first', completedAt: new Date() },
      { enrolmentId: enrolled.id, lessonId: 'second' },
    ],
  })
  await db().enrolment.create({ data: { userId: finisher.id, courseId: courses.loomio.id, completedAt: new Date(), completedVersion: 1 } })
})

afterAll(async () => {
  await db().course.deleteMany({ where: { id: { in: made.courses } } })
  await db().instance.deleteMany({ where: { organizationId: { in: made.orgs } } })
  await db().organization.deleteMany({ where: { id: { in: made.orgs } } })
  await db().user.deleteMany({ where: { id: { in: made.users } } })
  await disconnectDb()
})

describe('onboardingOffers', () => {
  it('offers the course of every ready tool of the person’s organisations, with their progress', async () => {
    const offers = await onboardingOffers(mo.id)
    expect(offers.map((o) => [o.organisation.name, o.recipeId, o.course.slug, o.percent])).toEqual([
      [orgA.name, 'loomio', courses.loomio.slug, null],
      [orgA.name, 'nextcloud', courses.nextcloud.slug, 50],
      [orgB.name, 'loomio', courses.loomio.slug, null],
    ])
    expect(offers[0]?.course.title.en).toBe('loomio course')
    expect(offers[0]?.organisation.slug).toBe(orgA.slug)
  })

  it('does not offer a course the person completed', async () => {
    const offers = await onboardingOffers(finisher.id)
    expect(offers.map((o) => [o.organisation.name, o.recipeId])).toEqual([[orgA.name, 'nextcloud']])
  })

  it('offers nothing to someone without organisations', async () => {
    const loner = await person('loner')
    expect(await onboardingOffers(loner.id)).toEqual([])
  })
})

describe('onboardingCoursesFor and completedBy', () => {
  it('finds the oldest published course per tool, and who completed it', async () => {
    const found = await onboardingCoursesFor(['loomio', 'nextcloud', 'loomio'])
    expect(found.get('loomio')?.course.id).toBe(courses.loomio.id)
    expect(found.get('nextcloud')?.course.id).toBe(courses.nextcloud.id)
    expect(found.size).toBe(2)
    expect(await onboardingCoursesFor([])).toEqual(new Map())
    expect(await completedBy(courses.loomio.id, [mo.id, finisher.id])).toEqual(new Set([finisher.id]))
    expect(await completedBy(courses.loomio.id, [])).toEqual(new Set())
  })
})
