import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { contentFromFolder, contentProblems, loadCourses, parseContent } from '@commons/academy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db, disconnectDb } from '../db.server'
import { contentColumns } from './content.server'
import { compareSemver, seedStarterCourses, type SeedLog } from './seed.server'

// Real Postgres from the test harness. The seed runs on copies of the
// starter courses under slugs of this run (and without their tool, so no
// other test is offered them as onboarding courses while this one runs).

const shipped = path.resolve(import.meta.dirname, '../../../../academy/courses')
const unique = Date.now().toString(36)
const FOLDERS = ['digital-safety', 'loomio-basics', 'nextcloud-basics'] as const
const slugOf = (folder: string) => `${folder}-${unique}`
let dir: string
let trainer: { id: string }

function collectingLog() {
  const lines: { level: 'info' | 'warn'; details: object; message: string }[] = []
  const log: SeedLog = {
    info: (details, message) => lines.push({ level: 'info', details, message }),
    warn: (details, message) => lines.push({ level: 'warn', details, message }),
  }
  return { log, lines }
}

/** Rewrites a copied course.yaml: a new version number, and optionally text. */
async function editFolder(folder: string, edit: (yaml: string) => string) {
  const file = path.join(dir, slugOf(folder), 'course.yaml')
  await writeFile(file, edit(await readFile(file, 'utf8')))
}

async function snapshot() {
  const courses = await db().course.findMany({ where: { slug: { endsWith: `-${unique}` } }, include: { versions: true }, orderBy: { slug: 'asc' } })
  return courses.map((c) => ({
    id: c.id,
    slug: c.slug,
    versions: c.versions.map((v) => ({ id: v.id, number: v.number, status: v.status, revision: v.revision })).sort((a, b) => a.number - b.number),
  }))
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'academy-seed-'))
  for (const folder of FOLDERS) {
    await cp(path.join(shipped, folder), path.join(dir, slugOf(folder)), { recursive: true })
    await editFolder(folder, (yaml) => yaml.replace(/^slug: .*$/m, `slug: ${slugOf(folder)}`).replace(/^toolRecipeId: .*\n/m, ''))
  }
  trainer = await db().user.create({ data: { keycloakId: `test-seed-${unique}`, email: `trainer-${unique}@seed.test`, name: 'Tessa Seed', realmRoles: ['trainer'] } })
})

afterAll(async () => {
  const courses = await db().course.findMany({ where: { slug: { endsWith: `-${unique}` } }, select: { id: true } })
  await db().auditEntry.deleteMany({ where: { targetType: 'course', targetId: { in: courses.map((c) => c.id) } } })
  await db().course.deleteMany({ where: { id: { in: courses.map((c) => c.id) } } })
  await db().user.deleteMany({ where: { email: { endsWith: '@seed.test', contains: unique } } })
  await rm(dir, { recursive: true, force: true })
  await disconnectDb()
})

describe('the shipped starter courses', () => {
  it('all pass the publish checks as stored content', async () => {
    const loaded = await loadCourses(shipped)
    expect(loaded.length).toBeGreaterThanOrEqual(5)
    const known = new Map(loaded.map((l) => [l.course.slug, l.course.prerequisites]))
    for (const course of loaded) expect(contentProblems(contentFromFolder(course), course.course.slug, known), course.course.slug).toEqual([])
  })
})

describe('seedStarterCourses', () => {
  it('publishes each folder as version 1, with no one as author, and audits the course.yaml version', async () => {
    // A trainer wrote a course under one of the slugs first: it must stay.
    const taken = slugOf('nextcloud-basics')
    const theirs = await db().course.create({
      data: {
        slug: taken,
        createdById: trainer.id,
        versions: { create: { number: 1, status: 'DRAFT', content: { languages: ['en'], title: { en: 'Our own' }, summary: {}, audience: {}, chapters: [] }, languages: ['en'], createdById: trainer.id } },
      },
    })
    const { log, lines } = collectingLog()
    const results = await seedStarterCourses(dir, log)
    expect(results.map((r) => [r.folder, r.outcome])).toEqual([
      [slugOf('digital-safety'), 'created'],
      [slugOf('loomio-basics'), 'created'],
      [taken, 'slug-taken'],
    ])
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringContaining('a course written in the portal has its slug')])
    expect(await db().course.findUniqueOrThrow({ where: { id: theirs.id }, include: { versions: true } })).toMatchObject({
      seedFolder: null,
      createdById: trainer.id,
      versions: [{ status: 'DRAFT', number: 1 }],
    })

    const loomio = await db().course.findUniqueOrThrow({ where: { slug: slugOf('loomio-basics') }, include: { versions: true } })
    expect(loomio).toMatchObject({ seedFolder: slugOf('loomio-basics'), createdById: null })
    expect(loomio.versions).toHaveLength(1)
    const [v1] = loomio.versions
    expect(v1).toMatchObject({ number: 1, status: 'PUBLISHED', publishedById: null, createdById: null, toolRecipeId: null, languages: ['nl', 'en'] })
    expect(v1!.publishedAt).not.toBeNull()
    const [folder] = await loadCourses(dir).then((all) => all.filter((c) => c.course.slug === slugOf('loomio-basics')))
    expect(parseContent(v1!.content)).toEqual(contentFromFolder(folder!))
    expect(await db().auditEntry.findFirst({ where: { action: 'course.seed', targetId: loomio.id } })).toMatchObject({
      actorId: null,
      data: { folder: slugOf('loomio-basics'), semver: '1.0.0', versionNumber: 1 },
    })
  })

  it('changes nothing when run again: same courses, same versions, same ids', async () => {
    const before = await snapshot()
    const audits = await db().auditEntry.count({ where: { action: 'course.seed' } })
    const { log, lines } = collectingLog()
    const results = await seedStarterCourses(dir, log)
    expect(results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'slug-taken'])
    expect(await snapshot()).toEqual(before)
    expect(await db().auditEntry.count({ where: { action: 'course.seed' } })).toBe(audits)
    expect(lines.filter((l) => l.level === 'info')).toEqual([])
  })

  it('publishes a newer folder as the next version when trainers have not touched the course', async () => {
    await editFolder('digital-safety', (yaml) => yaml.replace(/^version: .*$/m, 'version: 1.1.0').replace('Digital safety for small organisations', 'Digital safety for small organisations, revised'))
    const { log } = collectingLog()
    const results = await seedStarterCourses(dir, log)
    expect(results.map((r) => r.outcome)).toEqual(['updated', 'unchanged', 'slug-taken'])
    const course = await db().course.findUniqueOrThrow({ where: { slug: slugOf('digital-safety') }, include: { versions: { orderBy: { number: 'asc' } } } })
    expect(course.versions.map((v) => [v.number, v.status, v.publishedById])).toEqual([
      [1, 'RETIRED', null],
      [2, 'PUBLISHED', null],
    ])
    expect(parseContent(course.versions[1]!.content).title.en).toBe('Digital safety for small organisations, revised')
    expect(await db().auditEntry.findFirst({ where: { action: 'course.seed', targetId: course.id }, orderBy: { createdAt: 'desc' } })).toMatchObject({
      data: { semver: '1.1.0', versionNumber: 2 },
    })

    // And once more: nothing new.
    const before = await snapshot()
    expect((await seedStarterCourses(dir, collectingLog().log)).map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'slug-taken'])
    expect(await snapshot()).toEqual(before)
  })

  it('leaves a course trainers changed, and says the starter update was skipped', async () => {
    const loomio = await db().course.findUniqueOrThrow({ where: { slug: slugOf('loomio-basics') }, include: { versions: true } })
    const published = loomio.versions[0]!
    await db().courseVersion.create({
      data: { courseId: loomio.id, number: 2, status: 'DRAFT', ...contentColumns(parseContent(published.content)), createdById: trainer.id },
    })
    await editFolder('loomio-basics', (yaml) => yaml.replace(/^version: .*$/m, 'version: 1.0.1').replace('Deciding together with Loomio', 'Deciding together with Loomio (new)'))
    const before = await snapshot()
    const { log, lines } = collectingLog()
    const results = await seedStarterCourses(dir, log)
    expect(results.map((r) => r.outcome)).toEqual(['unchanged', 'kept-trainer-changes', 'slug-taken'])
    expect(await snapshot()).toEqual(before)
    expect(lines.find((l) => l.message.includes('starter course update skipped'))?.details).toMatchObject({ folderVersion: '1.0.1', seededVersion: '1.0.0', draft: true })

    // The draft published by a trainer: still theirs, even without a draft now.
    await db().$transaction([
      db().courseVersion.update({ where: { id: published.id }, data: { status: 'RETIRED' } }),
      db().courseVersion.updateMany({ where: { courseId: loomio.id, number: 2 }, data: { status: 'PUBLISHED', publishedById: trainer.id, publishedAt: new Date() } }),
    ])
    const again = await snapshot()
    expect((await seedStarterCourses(dir, collectingLog().log)).map((r) => r.outcome)).toEqual(['unchanged', 'kept-trainer-changes', 'slug-taken'])
    expect(await snapshot()).toEqual(again)
  })

  it('does not go back to an older folder', async () => {
    await editFolder('digital-safety', (yaml) => yaml.replace(/^version: .*$/m, 'version: 1.0.0').replace('Digital safety for small organisations, revised', 'Digital safety for small organisations'))
    const before = await snapshot()
    const { log, lines } = collectingLog()
    expect((await seedStarterCourses(dir, log)).map((r) => r.outcome)).toEqual(['older-than-seeded', 'kept-trainer-changes', 'slug-taken'])
    expect(await snapshot()).toEqual(before)
    expect(lines.some((l) => l.level === 'warn' && l.message.includes('older than the version seeded'))).toBe(true)
  })

  it('adds a course once when two processes seed at the same time', async () => {
    const folder = `matrix-element-basics`
    await cp(path.join(shipped, folder), path.join(dir, slugOf(folder)), { recursive: true })
    await editFolder(folder, (yaml) => yaml.replace(/^slug: .*$/m, `slug: ${slugOf(folder)}`).replace(/^toolRecipeId: .*\n/m, ''))
    const [a, b] = await Promise.all([seedStarterCourses(dir, collectingLog().log), seedStarterCourses(dir, collectingLog().log)])
    const outcomes = [a, b].map((run) => run.find((r) => r.slug === slugOf(folder))?.outcome).sort()
    expect(outcomes).toEqual(['created', 'unchanged'])
    expect(await db().course.count({ where: { slug: slugOf(folder) } })).toBe(1)
    expect(await db().courseVersion.count({ where: { course: { slug: slugOf(folder) } } })).toBe(1)
  })
})

describe('compareSemver', () => {
  it('orders versions as semver does', () => {
    expect(compareSemver('1.0.0', '1.0.0')).toBe(0)
    expect(compareSemver('1.2.0', '1.10.0')).toBeLessThan(0)
    expect(compareSemver('2.0.0', '1.9.9')).toBeGreaterThan(0)
    expect(compareSemver('1.0.0-beta', '1.0.0')).toBeLessThan(0)
  })
})
