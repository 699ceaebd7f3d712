/**
 * Course statistics benchmark, against the real portal code
 * (`npx tsx scripts/bench/academy.ts`):
 *
 * 1. Starts its own embedded Postgres (port 5476, data in
 *    `.data/bench-academy`, wiped first) and applies the migrations.
 * 2. Fills it with SQL (INSERT … SELECT over generate_series, deterministic):
 *    10,000 members, and courses of 9 lessons in 3 chapters with two quizzes
 *    of 5 questions. The course measured has 10,000 enrolments (a third
 *    assigned by an organisation), 60,000 lesson progress rows, 20,000 quiz
 *    attempts and a certificate per completion; BENCH_OTHER_COURSES (4)
 *    more courses of the same size share the tables, as on a platform with
 *    several courses, so a plan that reads a whole table shows. Then VACUUM ANALYZE.
 * 3. Times `courseStats` from `portal/app/utils/academy/stats.server.ts`
 *    (median and p95 of BENCH_RUNS (20) runs after a warm-up), captures the
 *    SQL it sends and runs each statement again under EXPLAIN (ANALYZE, BUFFERS).
 * 4. Prints Markdown tables for docs/benchmarks.md and stops Postgres.
 *
 * BENCH_TRY_INDEXES=1 then adds candidate indexes by hand on this throwaway
 * database and measures again. Every plan in full is left in
 * `.data/bench-academy/explain.txt`; the database is removed at the end
 * unless BENCH_KEEP_DATA=1.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { register } from 'tsx/esm/api'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const dataDir = path.join(root, '.data', 'bench-academy')
const PORT = 5476
const MEMBERS = 10_000
const LESSON_ROWS = 60_000
const ATTEMPTS = 20_000
const OTHER_COURSES = Number(process.env.BENCH_OTHER_COURSES ?? 4)
const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const WARMUP = 3
const TRY_INDEXES = process.env.BENCH_TRY_INDEXES === '1'
const COURSE_ID = 'course-1'

// The course: 3 chapters of 3 lessons; lessons 3 and 7 end in a quiz of 5 questions.
const LESSONS = Array.from({ length: 9 }, (_, i) => `lesson-${i + 1}`)
const QUIZ_LESSONS = ['lesson-3', 'lesson-7']
const QUESTIONS = ['q1', 'q2', 'q3', 'q4', 'q5']
const both = (s: string) => ({ en: s, nl: s })
const content = {
  languages: ['nl', 'en'],
  title: both('Aan de slag met Nextcloud'),
  summary: both('Bestanden, agenda, apps.'),
  audience: both('Iedereen'),
  toolRecipeId: 'nextcloud',
  prerequisites: [],
  sequential: true,
  chapters: [0, 1, 2].map((c) => ({
    id: `chapter-${c + 1}`,
    title: both(`Hoofdstuk ${c + 1}`),
    lessons: LESSONS.slice(c * 3, c * 3 + 3).map((id) => ({
      id,
      title: both(`Les ${id}`),
      minutes: 10,
      body: both(`# ${id}\n\nTekst van de les.`),
      ...(QUIZ_LESSONS.includes(id)
        ? {
            quiz: {
              passMark: 60,
              attemptLimit: null,
              shuffle: true,
              questions: QUESTIONS.map((q) => ({
                id: q,
                kind: 'single',
                prompt: both(`Vraag ${q}?`),
                explanation: both('Omdat.'),
                options: [
                  { id: 'a', text: both('Ja'), correct: true },
                  { id: 'b', text: both('Nee'), correct: false },
                ],
              })),
            },
          }
        : {}),
    })),
  })),
}

// ---------------------------------------------------------------------------
// Figures (as scripts/bench/helpdesk.ts)

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}
/** Nearest rank: for 20 runs the 19th fastest. */
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(xs.length * 0.95) - 1)] ?? 0
const ms = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0))

interface Captured {
  text: string
  values: unknown[]
}

interface PlanNode {
  'Node Type': string
  'Index Name'?: string
  'Relation Name'?: string
  'Join Type'?: string
  'Actual Rows'?: number
  'Shared Hit Blocks'?: number
  'Shared Read Blocks'?: number
  Plans?: PlanNode[]
}

/** What a plan did, in one line: its scans, joins and indexes, its buffers. */
function planSummary(plan: PlanNode): string {
  const steps: string[] = []
  const walk = (node: PlanNode) => {
    const type = node['Node Type']
    if (node['Index Name']) steps.push(`${type} ${node['Index Name']}`)
    else if (type === 'Seq Scan') steps.push(`Seq Scan ${node['Relation Name'] ?? ''} (${node['Actual Rows'] ?? '?'} rows kept)`.trim())
    else if (type.endsWith('Join') || type === 'Nested Loop') steps.push(type)
    for (const child of node.Plans ?? []) walk(child)
  }
  walk(plan)
  const read = plan['Shared Read Blocks'] ? `, ${plan['Shared Read Blocks']} read` : ''
  return `${[...new Set(steps)].join(', ')}; buffers ${plan['Shared Hit Blocks'] ?? 0} hit${read}`
}

const seqScansOf = (plan: PlanNode): string[] => [
  ...(plan['Node Type'] === 'Seq Scan' && plan['Relation Name'] ? [plan['Relation Name']] : []),
  ...(plan.Plans ?? []).flatMap(seqScansOf),
]

// ---------------------------------------------------------------------------

const portTaken = await new Promise<boolean>((resolve) => {
  const socket = createConnection({ host: '127.0.0.1', port: PORT })
  socket.once('connect', () => {
    socket.destroy()
    resolve(true)
  })
  socket.once('error', () => resolve(false))
})
if (portTaken) {
  console.error(`Port ${PORT} is in use (a Postgres of an earlier run?): stop it first; ${path.relative(root, dataDir)} is left as it is.`)
  process.exit(1)
}
mkdirSync(path.dirname(dataDir), { recursive: true })
rmSync(dataDir, { recursive: true, force: true })
process.env.EMBEDDED_POSTGRES_DIR = path.join(dataDir, 'postgres')
process.env.EMBEDDED_POSTGRES_PORT = String(PORT)
delete process.env.DATABASE_URL

const { openDatabase } = await import('../../portal/server/database.ts')
const { applyMigrations } = await import('../../portal/server/migrate.ts')
console.error(`Starting PostgreSQL (embedded, port ${PORT}) …`)
const database = await openDatabase().catch((error: unknown) => {
  console.error(`PostgreSQL did not start on port ${PORT}:`, error ?? '(no reason given)')
  process.exit(1)
})
let stopped = false
const stop = async () => {
  if (stopped) return true
  stopped = true
  return database.close().then(
    () => true,
    (e: unknown) => {
      console.error('stopping Postgres failed:', e)
      return false
    },
  )
}
process.once('SIGINT', () => void stop().then(() => process.exit(130)))
let endSession: (() => Promise<void>) | undefined
let exitCode = 0

try {
  await applyMigrations(database.url)
  Object.assign(process.env, { NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: database.url })

  const sql = new pg.Client({ connectionString: database.url })
  endSession = () => sql.end()
  sql.on('error', (error) => console.error('database connection:', error.message))
  await sql.connect()
  const timed = async (label: string, text: string, values: unknown[] = []) => {
    const started = performance.now()
    const result = await sql.query(text, values)
    console.error(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s${result.rowCount !== null ? `, ${result.rowCount} rows` : ''}`)
  }
  const generation = performance.now()
  await sql.query(`
    CREATE FUNCTION bench_r(g bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT (hashint8(g * 1009 + k)::bigint & 2147483647)::float8 / 2147483648.0 $$;`)

  const courses = 1 + OTHER_COURSES
  console.error(`Creating ${MEMBERS} members and ${courses} courses of ${MEMBERS} enrolments, ${LESSON_ROWS} lesson rows and ${ATTEMPTS} quiz attempts each …`)
  await timed('organisation', `INSERT INTO "Organization" (id, slug, name, description, sector, city, "updatedAt") VALUES ('org-1', 'coop-1', 'Coöperatie De Eendracht', 'Test', 'energie', 'Utrecht', now())`)
  await timed('members', `
    INSERT INTO "User" (id, "keycloakId", email, name, "realmRoles")
    SELECT 'user-' || n, 'kc-user-' || n, 'lid' || n || '@coop.example', 'Lid ' || n, '{}' FROM generate_series(1, ${MEMBERS}) n`)
  await timed('courses', `
    INSERT INTO "Course" (id, slug, "updatedAt") SELECT 'course-' || c, 'course-' || c, now() FROM generate_series(1, ${courses}) c`)
  await timed('published versions', `
    INSERT INTO "CourseVersion" (id, "courseId", number, status, content, "toolRecipeId", languages, "publishedAt", "updatedAt")
    SELECT 'version-' || c, 'course-' || c, 1, 'PUBLISHED', $1::jsonb, 'nextcloud', '{nl,en}', now(), now() FROM generate_series(1, ${courses}) c`, [JSON.stringify(content)])

  // Per enrolment: how many lessons it opened (2 to 9, 6.2 on average, the last one not completed unless all are).
  await sql.query(`
    CREATE TEMP TABLE bench_enrolment AS
    SELECT c, n, 'enrolment-' || c || '-' || n AS id, least(9, 2 + floor(bench_r(c * 100000 + n, 1) * 10)::int) AS opened,
      bench_r(c * 100000 + n, 2) < 0.33 AS assigned
    FROM generate_series(1, ${courses}) c CROSS JOIN generate_series(1, ${MEMBERS}) n`)
  await timed('enrolments', `
    INSERT INTO "Enrolment" (id, "userId", "courseId", "assignedById", "assignedByOrganizationId", "assignedAt", "enrolledAt", "lastLessonId", "lastSeenAt", "completedAt", "completedVersion")
    SELECT id, 'user-' || n, 'course-' || c, CASE WHEN assigned THEN 'user-1' END, CASE WHEN assigned THEN 'org-1' END, CASE WHEN assigned THEN now() END,
      now() - interval '30 days', 'lesson-' || opened, now(), CASE WHEN opened = 9 THEN now() END, CASE WHEN opened = 9 THEN 1 END
    FROM bench_enrolment`)
  await timed('lesson progress', `
    INSERT INTO "LessonProgress" ("enrolmentId", "lessonId", "firstOpenedAt", "completedAt")
    SELECT id, 'lesson-' || l, now() - interval '20 days', CASE WHEN l < opened OR opened = 9 THEN now() - interval '10 days' END
    FROM (SELECT e.*, l, row_number() OVER (PARTITION BY c ORDER BY n, l) AS k
          FROM bench_enrolment e CROSS JOIN generate_series(1, 9) l WHERE l <= e.opened) x
    WHERE k <= ${LESSON_ROWS}`)
  // One or two attempts at each quiz a member reached, up to ATTEMPTS per course.
  await timed('quiz attempts', `
    INSERT INTO "QuizAttempt" (id, "enrolmentId", "lessonId", "versionNumber", answers, results, score, passed, "createdAt")
    SELECT 'attempt-' || c || '-' || n || '-' || q || '-' || a, id, 'lesson-' || q, 1, '{}'::jsonb,
      jsonb_build_object('q1', r1, 'q2', r2, 'q3', r3, 'q4', r4, 'q5', r5),
      (r1::int + r2::int + r3::int + r4::int + r5::int) * 20, (r1::int + r2::int + r3::int + r4::int + r5::int) >= 3, now()
    FROM (SELECT e.*, q, a,
            bench_r(c * 100000 + n, q * 10 + a * 100 + 1) < 0.85 AS r1, bench_r(c * 100000 + n, q * 10 + a * 100 + 2) < 0.7 AS r2,
            bench_r(c * 100000 + n, q * 10 + a * 100 + 3) < 0.6 AS r3, bench_r(c * 100000 + n, q * 10 + a * 100 + 4) < 0.75 AS r4,
            bench_r(c * 100000 + n, q * 10 + a * 100 + 5) < 0.5 AS r5,
            row_number() OVER (PARTITION BY c ORDER BY n, q, a) AS k
          FROM bench_enrolment e CROSS JOIN (VALUES (3), (7)) qs(q) CROSS JOIN generate_series(1, 3) a
          WHERE q <= e.opened AND a <= 1 + floor(bench_r(c * 100000 + n, q) * 3)::int) x
    WHERE k <= ${ATTEMPTS}`)
  await timed('certificates', `
    INSERT INTO "Certificate" (id, code, "enrolmentId", "courseId", "holderName", "courseTitle", "versionNumber")
    SELECT 'cert-' || c || '-' || n, 'C' || c || 'N' || n, id, 'course-' || c, 'Lid ' || n, '{"nl":"Aan de slag","en":"Getting started"}'::jsonb, 1
    FROM bench_enrolment WHERE opened = 9`)
  await sql.query(`DROP TABLE bench_enrolment; DROP FUNCTION bench_r`)
  await timed('VACUUM ANALYZE', 'VACUUM (ANALYZE)')
  const generationSeconds = (performance.now() - generation) / 1000

  const one = async <T>(text: string, values: unknown[] = []) => (await sql.query(text, values)).rows[0] as T
  const shape = await one<{ enrolments: number; lessons: number; attempts: number; certificates: number; all_lessons: number; all_attempts: number; lp_size: string; qa_size: string }>(`
    SELECT (SELECT count(*)::int FROM "Enrolment" WHERE "courseId" = $1) AS enrolments,
      (SELECT count(*)::int FROM "LessonProgress" lp JOIN "Enrolment" e ON e.id = lp."enrolmentId" WHERE e."courseId" = $1) AS lessons,
      (SELECT count(*)::int FROM "QuizAttempt" qa JOIN "Enrolment" e ON e.id = qa."enrolmentId" WHERE e."courseId" = $1) AS attempts,
      (SELECT count(*)::int FROM "Certificate" WHERE "courseId" = $1) AS certificates,
      (SELECT count(*)::int FROM "LessonProgress") AS all_lessons, (SELECT count(*)::int FROM "QuizAttempt") AS all_attempts,
      pg_size_pretty(pg_total_relation_size('"LessonProgress"')) AS lp_size, pg_size_pretty(pg_total_relation_size('"QuizAttempt"')) AS qa_size`, [COURSE_ID])
  const settings = await one<{ version: string; shared_buffers: string; work_mem: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem`,
  )

  // The portal's own module, loaded with the portal's tsconfig (its `~` alias).
  interface StatsModule {
    courseStats(courseId: string): Promise<{ enrolments: { total: number; completed: number }; quizzes: { attempts: number }[] } | null>
  }
  const portal = register({ namespace: 'bench-academy', tsconfig: path.join(root, 'portal', 'tsconfig.json') })
  const stats = (await portal.import('../../portal/app/utils/academy/stats.server.ts', import.meta.url)) as StatsModule
  const { disconnectDb } = (await portal.import('../../portal/app/utils/db.server.ts', import.meta.url)) as { disconnectDb(): Promise<void> }

  // Every query the pg driver sends while `capturing` is set: the SQL the portal really runs.
  let capturing: Captured[] | null = null
  const clientProto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const originalQuery = clientProto.query
  clientProto.query = function (this: unknown, ...args: unknown[]) {
    const [config, values] = args
    if (capturing) {
      if (typeof config === 'string') capturing.push({ text: config, values: Array.isArray(values) ? values : [] })
      else if (config && typeof config === 'object' && 'text' in config) {
        const c = config as { text: string; values?: unknown[] }
        capturing.push({ text: c.text, values: c.values ?? [] })
      }
    }
    return originalQuery.apply(this, args)
  }

  interface Measured {
    median: number
    p95: number
    result: string
    plans: { execution: number; planning: number; summary: string; seqScans: string[]; text: string; sql: string }[]
    /** Load average (1 min) before and after the runs: other work on the machine widens the spread. */
    load: [number, number]
  }
  const measure = async (label: string): Promise<Measured> => {
    console.error(`Measuring courseStats (${label}): ${WARMUP} warm-up + ${RUNS} runs …`)
    const load = os.loadavg()[0] ?? 0
    const run = async () => {
      const s = await stats.courseStats(COURSE_ID)
      if (!s) throw new Error('no statistics: the course is not published')
      return `${s.enrolments.total} enrolled, ${s.enrolments.completed} completed, ${s.quizzes.reduce((n, q) => n + q.attempts, 0)} attempts`
    }
    for (let i = 0; i < WARMUP; i++) await run()
    const times: number[] = []
    let result = ''
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now()
      result = await run()
      times.push(performance.now() - started)
    }
    capturing = []
    await run()
    const sent = (capturing as Captured[]).filter((q) => /^\s*(SELECT|WITH)/i.test(q.text))
    capturing = null
    if (sent.length === 0) throw new Error('no SQL captured: the pg driver was not patched')
    const plans = []
    for (const q of sent) {
      const [json] = (await sql.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.text}`, q.values)).rows as { 'QUERY PLAN': [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }] }[]
      const text = (await sql.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.text}`, q.values)).rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n')
      const explained = json?.['QUERY PLAN'][0]
      if (!explained) throw new Error('no plan')
      plans.push({ execution: explained['Execution Time'], planning: explained['Planning Time'], summary: planSummary(explained.Plan), seqScans: seqScansOf(explained.Plan), text, sql: q.text })
    }
    console.error(`  median ${ms(median(times))} ms, p95 ${ms(p95(times))} ms`)
    return { median: median(times), p95: p95(times), result, plans, load: [load, os.loadavg()[0] ?? 0] }
  }

  const main = await measure('migration indexes')
  let capturedAgain: Captured[] | undefined
  const captureOnce = async () => {
    capturing = []
    await stats.courseStats(COURSE_ID)
    const sent = capturing as Captured[]
    capturing = null
    return sent
  }

  // Candidates, by hand on this throwaway database only; the migration is not touched.
  const candidates = [
    // One course's enrolments without visiting Enrolment's heap.
    { name: 'bench_enrolment_course_id_id_idx', sql: `CREATE INDEX bench_enrolment_course_id_id_idx ON "Enrolment" ("courseId", id)` },
    // The per-lesson counts as index-only probes per enrolment, instead of the primary key and the heap.
    { name: 'bench_lesson_progress_covering_idx', sql: `CREATE INDEX bench_lesson_progress_covering_idx ON "LessonProgress" ("enrolmentId") INCLUDE ("lessonId", "completedAt")` },
    // The same for the quiz counts (the per-question shares still read results from the heap).
    { name: 'bench_quiz_attempt_covering_idx', sql: `CREATE INDEX bench_quiz_attempt_covering_idx ON "QuizAttempt" ("enrolmentId") INCLUDE ("lessonId", score, passed)` },
  ]
  let tried: Measured | undefined
  if (TRY_INDEXES) {
    for (const c of candidates) await timed(`CREATE INDEX ${c.name}`, c.sql)
    await timed('VACUUM ANALYZE', 'VACUUM (ANALYZE)')
    tried = await measure('with the candidate indexes')
  }

  // What the same statements cost when the planner must probe per enrolment (index nested loops):
  // tells whether a query written to force that shape would be worth it.
  const probed: { execution: number; summary: string }[] = []
  await sql.query('SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off')
  for (const p of main.plans) {
    const q = (capturedAgain ??= await captureOnce()).find((c) => c.text === p.sql)
    if (!q) continue
    const [json] = (await sql.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.text}`, q.values)).rows as { 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }[]
    const explained = json?.['QUERY PLAN'][0]
    if (explained) probed.push({ execution: explained['Execution Time'], summary: planSummary(explained.Plan) })
  }
  await sql.query('RESET enable_seqscan; RESET enable_hashjoin; RESET enable_mergejoin')

  clientProto.query = originalQuery
  await disconnectDb()

  const explainFile = path.join(dataDir, 'explain.txt')
  writeFileSync(
    explainFile,
    [main, ...(tried ? [tried] : [])].flatMap((m, i) => m.plans.map((p) => `### ${i ? '[candidate indexes] ' : ''}${p.sql}\n\n${p.text}\n`)).join('\n'),
  )

  const cpu = os.cpus()
  const statsFile = path.join(root, 'portal', 'app', 'utils', 'academy', 'stats.server.ts')
  const statsVersion = `sha256 ${createHash('sha256').update(readFileSync(statsFile)).digest('hex').slice(0, 12)}, changed ${statSync(statsFile).mtime.toISOString().slice(0, 16)}Z`
  const firstLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 90)
  console.log(`\n| measure | value |\n| --- | --- |`)
  console.log(`| machine | ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; PostgreSQL ${settings.version} (embedded, shared_buffers ${settings.shared_buffers}, work_mem ${settings.work_mem}) |`)
  console.log(`| stats.server.ts measured | ${statsVersion} |`)
  console.log(`| the course measured | ${shape.enrolments} enrolments, ${shape.lessons} lesson progress rows, ${shape.attempts} quiz attempts, ${shape.certificates} certificates |`)
  console.log(`| in the tables (${courses} courses) | ${shape.all_lessons} lesson progress rows (${shape.lp_size}), ${shape.all_attempts} quiz attempts (${shape.qa_size}) |`)
  console.log(`| generating the data (SQL) + VACUUM ANALYZE | ${generationSeconds.toFixed(0)} s |`)
  console.log(`| courseStats, ${RUNS} runs | median ${ms(main.median)} ms, p95 ${ms(main.p95)} ms (${main.result}) |`)
  console.log(`| load average (1 min) at start / end of the runs | ${main.load.map((l) => l.toFixed(2)).join(' / ')} |`)
  console.log(`\n| statement of courseStats | exec ms | plan |\n| --- | ---: | --- |`)
  for (const p of main.plans) console.log(`| \`${firstLine(p.sql)}…\` | ${ms(p.execution)} | ${p.summary} |`)
  if (tried) {
    console.log(`\nWith ${candidates.map((c) => `\`${c.name}\``).join(', ')}: median ${ms(main.median)} → ${ms(tried.median)} ms, p95 ${ms(main.p95)} → ${ms(tried.p95)} ms\n`)
    console.log(`| statement | exec ms before → after | plan after |\n| --- | ---: | --- |`)
    tried.plans.forEach((p, i) => console.log(`| \`${firstLine(p.sql)}…\` | ${ms(main.plans[i]?.execution ?? 0)} → ${ms(p.execution)} | ${p.summary} |`))
  }
  if (probed.length > 0) {
    console.log(`\nThe same statements with seq scans, hash and merge joins switched off (index probes per enrolment):\n`)
    console.log(`| statement | exec ms as planned → probing | plan probing |\n| --- | ---: | --- |`)
    probed.forEach((p, i) => console.log(`| \`${firstLine(main.plans[i]?.sql ?? '')}…\` | ${ms(main.plans[i]?.execution ?? 0)} → ${ms(p.execution)} | ${p.summary} |`))
  }
  const scans = [...new Set(main.plans.flatMap((p) => p.seqScans))]
  console.log(`\nSequential scans in the plans: ${scans.length ? scans.join(', ') : 'none'}`)
  console.error(`\nEvery plan in full: ${path.relative(root, explainFile)}`)
} catch (error) {
  console.error(error)
  exitCode = 1
} finally {
  await endSession?.().catch(() => {})
  if ((await stop()) && process.env.BENCH_KEEP_DATA !== '1') rmSync(path.join(dataDir, 'postgres'), { recursive: true, force: true })
}
process.exit(exitCode)
