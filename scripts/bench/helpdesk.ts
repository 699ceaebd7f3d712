/**
 * Helpdesk queue and search benchmark, against the real portal code
 * (`npx tsx scripts/bench/helpdesk.ts`):
 *
 * 1. Starts its own embedded Postgres (port 5475, data in
 *    `.data/bench-helpdesk`, wiped first) and applies the migrations.
 * 2. Fills it with SQL (INSERT … SELECT over generate_series, deterministic):
 *    300 organisations, 3000 members and 10 agents, 600 instances, 100,000
 *    tickets (statuses, priorities, categories, groups, assignees, tags, SLA
 *    due dates, a year of activity) with Dutch and English support text, and
 *    three messages per ticket. Then VACUUM ANALYZE.
 * 3. Times `queryQueue` and `queueCounts` from
 *    `portal/app/utils/helpdesk/queue.server.ts` for the agents' usual views
 *    and searches (median and p95 of 20 runs after a warm-up), captures the
 *    SQL they send and runs it again under EXPLAIN (ANALYZE, BUFFERS).
 * 4. Prints Markdown tables for docs/benchmarks.md and stops Postgres.
 *
 * BENCH_TICKETS and BENCH_RUNS change the size and the number of runs;
 * BENCH_TRY_INDEXES=1 adds the last part, which adds candidate indexes by
 * hand on this throwaway database and measures the same cases again (the
 * three of 2026-12-01 are in the helpdesk migration now; put new candidates
 * in their place). Every
 * plan in full is left in `.data/bench-helpdesk/explain.txt`; the database
 * itself (about 1 GB) is removed at the end unless BENCH_KEEP_DATA=1.
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
const dataDir = path.join(root, '.data', 'bench-helpdesk')
const PORT = 5475
const TICKETS = Number(process.env.BENCH_TICKETS ?? 100_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const WARMUP = 3
const TRY_INDEXES = process.env.BENCH_TRY_INDEXES === '1'
const ORGS = 300
const MEMBERS_PER_ORG = 10
const INSTANCES_PER_ORG = 2
const AGENTS = 10

// ---------------------------------------------------------------------------
// Word lists: what the generated tickets say.

const TOOLS = { nextcloud: 'Nextcloud', matrix: 'Matrix', loomio: 'Loomio', discourse: 'Discourse' }

const SUBJECTS: Record<'nl' | 'en', Record<string, string[]>> = {
  nl: {
    ACCESS: ['Kan niet inloggen op {tool}', 'Wachtwoord vergeten voor {tool}', 'Nieuw lid heeft toegang nodig tot {tool}', 'Account geblokkeerd na te veel pogingen', 'Tweestapsverificatie werkt niet meer', 'Uitnodiging voor {tool} niet ontvangen'],
    TOOL_PROBLEM: ['{tool} is erg traag', 'Foutmelding bij uploaden in {tool}', '{tool} geeft een witte pagina', 'Bestanden synchroniseren niet', 'Agenda in {tool} loopt achter', 'Meldingen van {tool} komen niet aan', 'Storing: {tool} niet bereikbaar'],
    QUESTION: ['Vraag over het delen van mappen', 'Hoe exporteer ik een overzicht uit {tool}?', 'Kunnen we {tool} koppelen aan onze website?', 'Vraag over de factuur', 'Hoeveel opslag hebben we nog?', 'Hoe maak ik een nieuwe groep aan in {tool}?'],
    CHANGE: ['Graag extra opslagruimte voor {tool}', 'Domeinnaam wijzigen', 'Nieuwe beheerder voor {tool}', 'Upgrade naar de nieuwe versie van {tool}', 'Logo en kleuren aanpassen'],
    PRIVACY: ['Verzoek om inzage in persoonsgegevens', 'Gegevens van oud-lid verwijderen', 'Verwerkersovereenkomst opvragen', 'Mail naar verkeerde ontvanger gestuurd', 'Export van al onze gegevens (AVG)'],
    OTHER: ['Compliment voor de helpdesk', 'Overstap van Google Workspace', 'Vraag over de cursus', 'Opzeggen van een dienst'],
  },
  en: {
    ACCESS: ['Cannot log in to {tool}', 'Forgot my password for {tool}', 'New member needs access to {tool}', 'Account locked after too many attempts', 'Two-factor login stopped working', 'Invitation to {tool} never arrived'],
    TOOL_PROBLEM: ['{tool} is very slow', 'Error when uploading in {tool}', '{tool} shows a blank page', 'Files do not sync', 'Calendar in {tool} is behind', 'Notifications from {tool} do not arrive', 'Outage: {tool} unreachable'],
    QUESTION: ['Question about sharing folders', 'How do I export a report from {tool}?', 'Can we connect {tool} to our website?', 'Question about the invoice', 'How much storage do we have left?', 'How do I create a new group in {tool}?'],
    CHANGE: ['Please add storage for {tool}', 'Change our domain name', 'New administrator for {tool}', 'Upgrade to the new version of {tool}', 'Change logo and colours'],
    PRIVACY: ['Request for access to personal data', 'Delete the data of a former member', 'Data processing agreement', 'Mail sent to the wrong recipient', 'Export of all our data (GDPR)'],
    OTHER: ['Compliments for the helpdesk', 'Moving from Google Workspace', 'Question about the course', 'Cancelling a service'],
  },
}

const REQUESTER: Record<'nl' | 'en', string[]> = {
  nl: [
    'Sinds vanochtend lukt het niet meer om in te loggen.',
    'Ik krijg steeds de melding dat mijn wachtwoord onjuist is.',
    'Het uploaden van een groot bestand stopt halverwege.',
    'Onze penningmeester kan de gedeelde map niet meer openen.',
    'Het lijkt alsof {tool} sinds de update veel trager is.',
    'Kunnen jullie even meekijken?',
    'We hebben morgen een ledenvergadering, dus het is vrij dringend.',
    'Op mijn telefoon werkt het wel, op de laptop niet.',
    'Ik heb de browser al opnieuw gestart en de cache gewist.',
    'De foutmelding is: {code}.',
    'Het gaat om de map Notulen {year}.',
    'Een collega heeft precies hetzelfde probleem.',
    'Ik heb een schermafbeelding toegevoegd.',
    'Is er iets veranderd aan de instellingen van {tool}?',
    'Wij willen graag weten hoe we dit zelf kunnen oplossen.',
    'Het bestuur wil de notulen voor vrijdag kunnen delen.',
    'Nieuwe leden krijgen geen uitnodiging per mail.',
    'Zie ook ons eerdere ticket #{ref}.',
    'De agenda van de werkgroep is leeg sinds gisteren.',
    'Wie kan ons helpen met de instellingen?',
  ],
  en: [
    'Since this morning I cannot log in any more.',
    'I keep getting a message that my password is wrong.',
    'Uploading a large file stops halfway.',
    'Our treasurer can no longer open the shared folder.',
    'It looks like {tool} has been much slower since the update.',
    'Could you have a look?',
    'We have a members meeting tomorrow, so it is rather urgent.',
    'It works on my phone but not on the laptop.',
    'I already restarted the browser and cleared the cache.',
    'The error message is: {code}.',
    'It is about the folder Minutes {year}.',
    'A colleague has exactly the same problem.',
    'I attached a screenshot.',
    'Did anything change in the settings of {tool}?',
    'We would like to know how to fix this ourselves.',
    'The board wants to share the minutes before Friday.',
    'New members do not get an invitation by mail.',
    'See also our earlier ticket #{ref}.',
  ],
}

const FOLLOW_UP: Record<'nl' | 'en', string[]> = {
  nl: ['Is er al nieuws over mijn vraag?', 'Nog een aanvulling: het gebeurt ook bij andere leden.', 'Het probleem is nog steeds niet opgelost.', 'Kan iemand hier vandaag naar kijken?'],
  en: ['Is there any news about my question?', 'One more thing: it happens to other members too.', 'The problem is still not solved.', 'Could someone look at this today?'],
}

const REPLY: Record<'nl' | 'en', string[]> = {
  nl: ['Dank je wel, het werkt weer!', 'Helaas lukt het nog steeds niet.', 'Top, dat was precies wat we nodig hadden.', 'Het werkt nu op de laptop, maar niet op de telefoon.', 'Bedankt voor de snelle hulp.'],
  en: ['Thank you, it works again!', 'Unfortunately it still does not work.', 'Great, that was exactly what we needed.', 'It works on the laptop now, but not on the phone.', 'Thanks for the quick help.'],
}

const AGENT: Record<'nl' | 'en', string[]> = {
  nl: [
    'Dank voor je bericht.',
    'Ik heb het even nagekeken op de server.',
    'Kun je het nog een keer proberen?',
    'Ik heb je wachtwoord opnieuw ingesteld; je krijgt zo een mail met een link.',
    'De opslag van jullie {tool} was bijna vol; ik heb die vergroot.',
    'Het probleem lag bij een certificaat dat niet op tijd was verlengd.',
    'Wil je laten weten of het nu werkt?',
    'We zetten dit door naar het hostingteam.',
    'In de handleiding staat hoe je mappen deelt met een groep.',
    'Ik zie in de logboeken foutcode {code}; we zoeken het uit.',
    'Na de update van vannacht zou het weer snel moeten zijn.',
    'Voor een export van jullie gegevens hebben we een akkoord van een beheerder nodig.',
  ],
  en: [
    'Thanks for your message.',
    'I checked it on the server.',
    'Could you try it once more?',
    'I reset your password; you will get a mail with a link shortly.',
    'The storage of your {tool} was almost full; I increased it.',
    'The problem was a certificate that was not renewed in time.',
    'Please let us know whether it works now.',
    'We are passing this on to the hosting team.',
    'The manual explains how to share folders with a group.',
    'I see error code {code} in the logs; we are looking into it.',
    'After last night’s update it should be fast again.',
  ],
}

const NOTES = [
  'Logs bekeken: {code} in de proxy.',
  'Doorgezet naar hosting, wacht op herstart van de container.',
  'Klant belt vaak; kort en vriendelijk houden.',
  'Dubbel ticket, zie ook #{ref}.',
  'Back-up van gisteren gecontroleerd: compleet.',
  'Certificaat handmatig vernieuwd, monitoring aangezet.',
  'Checked the database size, 80% full.',
  'Needs a decision by the operator before we change the quota.',
]

const DEVICES = ['Windows 11', 'een MacBook', 'mijn iPhone', 'Android', 'Ubuntu', 'een Chromebook']
const FIRST_NAMES = ['Anna', 'Daan', 'Fatima', 'Jeroen', 'Sanne', 'Mohamed', 'Lotte', 'Pieter', 'Noor', 'Bram', 'Eva', 'Youssef', 'Inge', 'Kees', 'Sophie', 'Thijs', 'Marieke', 'Ahmed', 'Lisa', 'Willem']
const LAST_NAMES = ['de Vries', 'Jansen', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer', 'Mulder', 'de Groot', 'Bos', 'Vos', 'Peters', 'Hendriks', 'van Dijk', 'Yilmaz', 'El Amrani', 'Kok', 'Dekker']
const AGENT_NAMES = ['Ilse Hoekstra', 'Ruben Postma', 'Samira Bouzid', 'Joost van Leeuwen', 'Femke de Jong', 'Tariq Haddad', 'Marloes Wit', 'Sven Kuipers', 'Nadia Öztürk', 'Gert-Jan Brouwer']
const ORG_KINDS = ['Coöperatie', 'Vereniging', 'Stichting', 'Energiecoöperatie', 'Wooncoöperatie', 'Zorgcoöperatie']
const ORG_NAMES = ['De Eendracht', 'Samen Sterk', 'Het Groene Dak', 'De Buurtmolen', 'Zonnig Zuid', 'De Voedselbank', 'Wijkkracht', 'De Deelfiets', 'Ons Huis', 'Het Repaircafé']
const CITIES = ['Utrecht', 'Amsterdam', 'Rotterdam', 'Zwolle', 'Groningen', 'Nijmegen', 'Eindhoven', 'Leeuwarden', 'Arnhem', 'Tilburg']
/** Alphabetical, as normaliseTags stores them, with the share of tickets that carry each. */
const TAGS: [string, number][] = [['avg', 0.03], ['backup', 0.04], ['dns', 0.03], ['factuur', 0.04], ['login', 0.1], ['mail', 0.06], ['migratie', 0.02], ['storing', 0.05], ['traag', 0.05], ['upgrade', 0.04], ['vip', 0.02], ['wachtwoord', 0.08]]

// ---------------------------------------------------------------------------
// SQL helpers

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`
const arr = (items: readonly string[]) => `ARRAY[${items.map(lit).join(', ')}]::text[]`
/** A deterministic number in [0, 1) for row `g` and draw `k`: the same data every run. */
const r = (g: string, k: number) => `bench_r(${g}, ${k})`
const pick = (items: readonly string[], rand: string) => `bench_pick(${arr(items)}, ${rand})`
const byLanguage = (lists: Record<'nl' | 'en', readonly string[]>, rand: string) =>
  `CASE WHEN t.language = 'nl' THEN ${pick(lists.nl, rand)} ELSE ${pick(lists.en, rand)} END`
const pad = (n: string, width: number) => `lpad((${n})::text, ${width}, '0')`

// ---------------------------------------------------------------------------
// Figures

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}
/** Nearest rank: for 20 runs the 19th fastest. */
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(xs.length * 0.95) - 1)] ?? 0
const ms = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0))
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`

interface Captured {
  text: string
  values: unknown[]
}

interface PlanNode {
  'Node Type': string
  'Index Name'?: string
  'Relation Name'?: string
  'Sort Method'?: string
  'Strategy'?: string
  'Parent Relationship'?: string
  'Actual Rows'?: number
  'Shared Hit Blocks'?: number
  'Shared Read Blocks'?: number
  'Temp Read Blocks'?: number
  Plans?: PlanNode[]
}

/** What a plan did, in one line: its scans and indexes, its sort, its buffers. */
function planSummary(plan: PlanNode): string {
  const steps: string[] = []
  const walk = (node: PlanNode) => {
    const type = node['Node Type']
    if (node['Index Name']) steps.push(`${type} ${node['Index Name']}`)
    else if (type === 'Seq Scan') steps.push(`Seq Scan ${node['Relation Name'] ?? ''}`.trim())
    else if (type === 'Sort') steps.push(`Sort (${node['Sort Method'] ?? '?'})`)
    else if (type === 'Incremental Sort') steps.push(type)
    for (const child of node.Plans ?? []) walk(child)
  }
  walk(plan)
  const seen = [...new Set(steps)].join(', ')
  const read = plan['Shared Read Blocks'] ? `, ${plan['Shared Read Blocks']} read` : ''
  return `${seen}; buffers ${plan['Shared Hit Blocks'] ?? 0} hit${read}`
}

// ---------------------------------------------------------------------------

// A server still on the port (an earlier run that did not stop) may be using the folder we are about to wipe.
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
  // embedded-postgres rejects without a reason when the server does not come up.
  console.error(`PostgreSQL did not start on port ${PORT}:`, error ?? '(no reason given)')
  process.exit(1)
})
let stopped = false
/** Stops Postgres; true when it did. */
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
  Object.assign(process.env, {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    PORTAL_URL: 'http://127.0.0.1:3998',
    KEYCLOAK_URL: 'http://127.0.0.1:1',
    KEYCLOAK_CLIENT_SECRET: 'bench-secret-bench-secret',
    KEYCLOAK_ADMIN_CLIENT_SECRET: 'bench-secret-bench-secret',
    PROVISIONER_API_TOKEN: 'bench-token-bench-token-bench-token-0000',
    SMTP_URL: 'smtp://127.0.0.1:1',
  })

  const sql = new pg.Client({ connectionString: database.url })
  endSession = () => sql.end()
  // Stopping Postgres after a failure ends this connection too: not a second failure.
  sql.on('error', (error) => console.error('database connection:', error.message))
  await sql.connect()
  const timed = async (label: string, text: string) => {
    const started = performance.now()
    const result = await sql.query(text)
    console.error(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s${result.rowCount !== null ? `, ${result.rowCount} rows` : ''}`)
  }
  const now = new Date()
  const NOW = `${lit(now.toISOString())}::timestamp(3)`
  const day = (n: string) => `((${n}) * interval '1 day')`
  const hour = (n: string) => `((${n}) * interval '1 hour')`

  console.error(`Creating ${ORGS} organisations, ${ORGS * MEMBERS_PER_ORG + AGENTS} people, ${ORGS * INSTANCES_PER_ORG} instances, ${TICKETS} tickets …`)
  const generation = performance.now()
  await sql.query(`
    CREATE FUNCTION bench_r(g bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT (hashint8(g * 1009 + k)::bigint & 2147483647)::float8 / 2147483648.0 $$;
    CREATE FUNCTION bench_pick(items text[], rand float8) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT items[1 + floor(rand * array_length(items, 1))::int] $$;`)

  await timed('organisations', `
    INSERT INTO "Organization" (id, slug, name, description, sector, city, "updatedAt")
    SELECT 'org-' || ${pad('o', 4)}, 'coop-' || ${pad('o', 4)},
      ${pick(ORG_KINDS, r('o', 1))} || ' ' || ${pick(ORG_NAMES, r('o', 2))} || ' ' || o,
      'Een coöperatie die samen werkt aan een betere buurt.', ${pick(['energie', 'wonen', 'zorg', 'voedsel', 'cultuur'], r('o', 3))},
      ${pick(CITIES, r('o', 4))}, ${NOW}
    FROM generate_series(1, ${ORGS}) o`)

  await timed('members', `
    INSERT INTO "User" (id, "keycloakId", email, name, "realmRoles")
    SELECT 'user-' || ${pad('n', 5)}, 'kc-user-' || n,
      lower(replace(first || '.' || last, ' ', '')) || n || '@coop-' || ${pad(`1 + (n - 1) / ${MEMBERS_PER_ORG}`, 4)} || '.example',
      first || ' ' || last, '{}'
    FROM (SELECT n, ${pick(FIRST_NAMES, r('n', 20))} AS first, ${pick(LAST_NAMES, r('n', 21))} AS last
          FROM generate_series(1, ${ORGS * MEMBERS_PER_ORG}) n) p`)
  await timed('agents', `
    INSERT INTO "User" (id, "keycloakId", email, name, "realmRoles")
    SELECT 'agent-' || ${pad('n', 2)}, 'kc-agent-' || n, 'agent' || n || '@helpdesk.example', (${arr(AGENT_NAMES)})[n], '{helpdesk-agent}'
    FROM generate_series(1, ${AGENTS}) n`)
  await timed('memberships', `
    INSERT INTO "Membership" (id, "userId", "organizationId", role)
    SELECT 'member-' || n, 'user-' || ${pad('n', 5)}, 'org-' || ${pad(`1 + (n - 1) / ${MEMBERS_PER_ORG}`, 4)},
      CASE WHEN (n - 1) % ${MEMBERS_PER_ORG} = 0 THEN 'ADMIN' ELSE 'MEMBER' END::"OrgRole"
    FROM generate_series(1, ${ORGS * MEMBERS_PER_ORG}) n`)

  await sql.query(`
    CREATE TEMP TABLE bench_instance AS
    SELECT n, o, recipe, recipe || '-coop-' || ${pad('o', 4)} || '-' || n AS id
    FROM (SELECT n, 1 + (n - 1) / ${INSTANCES_PER_ORG} AS o,
            CASE WHEN ${r('n', 3)} < 0.40 THEN 'nextcloud' WHEN ${r('n', 3)} < 0.65 THEN 'matrix'
                 WHEN ${r('n', 3)} < 0.80 THEN 'loomio' ELSE 'discourse' END AS recipe
          FROM generate_series(1, ${ORGS * INSTANCES_PER_ORG}) n) i;
    CREATE UNIQUE INDEX ON bench_instance (n);`)
  await timed('instances', `
    INSERT INTO "Instance" (id, "organizationId", "recipeId", "adminEmail", phase, url)
    SELECT id, 'org-' || ${pad('o', 4)}, recipe, 'beheer@coop-' || ${pad('o', 4)} || '.example', 'ready', 'https://' || id || '.commons.example'
    FROM bench_instance`)

  // Every ticket's shape first (one row each), then its messages, then the
  // tickets with their search text: subject and every message, as
  // tickets.server.ts keeps it.
  const tagArray = `ARRAY(SELECT v.tag FROM unnest(${arr(TAGS.map(([tag]) => tag))}, ARRAY[${TAGS.map(([, p]) => p).join(', ')}]::float8[]) WITH ORDINALITY AS v(tag, p, k)
    WHERE bench_r(g, 100 + k::int) < v.p ORDER BY v.tag)`
  await timed('ticket shapes', `
    CREATE TEMP TABLE bench_ticket AS
    WITH draw AS (
      SELECT g,
        1 + least(${ORGS - 1}, floor(${ORGS} * power(${r('g', 1)}, 1.6))::int) AS o,
        ${r('g', 2)} AS rs, ${r('g', 3)} AS rp, ${r('g', 4)} AS rc, ${r('g', 5)} AS rg, ${r('g', 6)} AS ra,
        ${r('g', 7)} AS rl, ${r('g', 8)} AS rage, ${r('g', 9)} AS ri, ${r('g', 10)} AS ract, ${r('g', 11)} AS rdue, ${r('g', 12)} AS rfr
      FROM generate_series(1, ${TICKETS}) g
    ), shaped AS (
      SELECT d.*,
        CASE WHEN rs < 0.15 THEN 'NEW' WHEN rs < 0.40 THEN 'OPEN' WHEN rs < 0.50 THEN 'PENDING' WHEN rs < 0.60 THEN 'RESOLVED' ELSE 'CLOSED' END AS status,
        CASE WHEN rp < 0.10 THEN 'LOW' WHEN rp < 0.70 THEN 'NORMAL' WHEN rp < 0.92 THEN 'HIGH' ELSE 'URGENT' END AS priority,
        CASE WHEN rc < 0.25 THEN 'ACCESS' WHEN rc < 0.55 THEN 'TOOL_PROBLEM' WHEN rc < 0.80 THEN 'QUESTION'
             WHEN rc < 0.90 THEN 'CHANGE' WHEN rc < 0.95 THEN 'PRIVACY' ELSE 'OTHER' END AS category,
        CASE WHEN rl < 0.8 THEN 'nl' ELSE 'en' END AS language,
        (o - 1) * ${MEMBERS_PER_ORG} + 1 + g % ${MEMBERS_PER_ORG} AS member,
        CASE WHEN ri < 0.5 THEN ${INSTANCES_PER_ORG} * o - g % ${INSTANCES_PER_ORG} END AS instance_n
      FROM draw d
    ), dated AS (
      SELECT s.*,
        ${NOW} - ${day(`CASE status WHEN 'NEW' THEN rage * rage * 3 WHEN 'OPEN' THEN 0.5 + power(rage, 1.5) * 40
          WHEN 'PENDING' THEN 1 + rage * 50 WHEN 'RESOLVED' THEN 1 + rage * 14 ELSE 7 + rage * 358 END`)} AS created,
        CASE priority WHEN 'URGENT' THEN 3 WHEN 'HIGH' THEN 12 WHEN 'NORMAL' THEN 24 ELSE 72 END AS fr_hours,
        CASE priority WHEN 'URGENT' THEN 24 WHEN 'HIGH' THEN 72 WHEN 'NORMAL' THEN 120 ELSE 240 END AS res_hours,
        CASE WHEN ra < (CASE status WHEN 'NEW' THEN 0.7 WHEN 'OPEN' THEN 0.1 WHEN 'PENDING' THEN 0.1 ELSE 0.03 END) THEN NULL
             ELSE 1 + floor(((ra - (CASE status WHEN 'NEW' THEN 0.7 WHEN 'OPEN' THEN 0.1 WHEN 'PENDING' THEN 0.1 ELSE 0.03 END))
               / (1 - (CASE status WHEN 'NEW' THEN 0.7 WHEN 'OPEN' THEN 0.1 WHEN 'PENDING' THEN 0.1 ELSE 0.03 END))) * ${AGENTS})::int END AS agent
      FROM shaped s
    ), replied AS (
      SELECT d.*,
        CASE WHEN status = 'NEW' OR (status IN ('OPEN', 'PENDING') AND rfr < 0.05) THEN NULL
             ELSE least(${NOW}, created + ${hour('rfr * 1.3 * fr_hours')}) END AS first_reply
      FROM dated d
    ), active AS (
      SELECT r.*,
        CASE status
          WHEN 'NEW' THEN created + (${NOW} - created) * ract * 0.3
          WHEN 'CLOSED' THEN created + least(${NOW} - created - interval '7 days', interval '30 days') * ract
          ELSE greatest(coalesce(first_reply, created), created + (${NOW} - created) * ract) END AS last_activity
      FROM replied r
    )
    SELECT a.*,
      'tkt-' || ${pad('g', 6)} AS id,
      'org-' || ${pad('a.o', 4)} AS organization_id,
      'user-' || ${pad('member', 5)} AS requester_id,
      CASE WHEN agent IS NOT NULL THEN 'agent-' || ${pad('agent', 2)} END AS assignee_id,
      (${arr(AGENT_NAMES)})[coalesce(agent, 1)] AS agent_name,
      i.id AS instance_id,
      coalesce(i.recipe, (${arr(Object.keys(TOOLS))})[1 + floor(${r('g', 14)} * 4)::int]) AS recipe,
      CASE category WHEN 'PRIVACY' THEN 'privacy'
        WHEN 'TOOL_PROBLEM' THEN CASE WHEN rg < 0.7 THEN 'hosting' ELSE 'first-line' END
        ELSE CASE WHEN rg < 0.85 THEN 'first-line' WHEN rg < 0.95 THEN 'hosting' END END AS group_id,
      CASE WHEN ${r('g', 13)} < 0.6 THEN 'EMAIL' WHEN ${r('g', 13)} < 0.98 THEN 'WEB' ELSE 'SYSTEM' END AS channel,
      created + ${hour('fr_hours')} AS first_reply_due,
      CASE status
        WHEN 'PENDING' THEN last_activity + ${day('rdue * 10 - 1')}
        WHEN 'NEW' THEN greatest(created + interval '1 hour', ${NOW} + ${day('rdue * 14 - 2')})
        WHEN 'OPEN' THEN greatest(created + interval '1 hour', ${NOW} + ${day('rdue * 14 - 2')})
        ELSE created + ${hour('res_hours')} END AS resolution_due,
      CASE WHEN status = 'PENDING' THEN last_activity END AS paused_at,
      CASE WHEN status = 'PENDING' THEN ${NOW} + ${day(`1 + ${r('g', 15)} * 10`)} END AS pending_until,
      CASE WHEN status IN ('RESOLVED', 'CLOSED') THEN last_activity END AS resolved_at,
      CASE WHEN status = 'CLOSED' THEN last_activity + interval '7 days' END AS closed_at,
      1000 + floor(${r('g', 16)} * 9000)::int AS code,
      1 + floor(${r('g', 17)} * ${TICKETS})::int AS ref,
      ${tagArray} AS tags
    FROM active a
    LEFT JOIN bench_instance i ON i.n = a.instance_n`)
  await sql.query(`CREATE UNIQUE INDEX ON bench_ticket (g)`)

  // The texts, with the ticket's own tool, names, error code and reference filled in.
  const fill = (body: string) =>
    `replace(replace(replace(replace(${body}, '{tool}', (${arr(Object.values(TOOLS))})[array_position(${arr(Object.keys(TOOLS))}, t.recipe)]),
      '{code}', 'E' || t.code), '{ref}', t.ref::text), '{year}', (2024 + t.g % 3)::text)`
  const subjectCases = (['nl', 'en'] as const)
    .flatMap((language) => Object.entries(SUBJECTS[language]).map(([category, list]) => `WHEN t.language = '${language}' AND t.category = '${category}' THEN ${pick(list, r('t.g', 30))}`))
    .join('\n')
  // The product a requester mentions: a rare one (OnlyOffice, ~0.1%) up to very common ones.
  const product = `CASE WHEN ${r('t.g', 40)} < 0.001 THEN 'OnlyOffice' WHEN ${r('t.g', 40)} < 0.011 THEN 'Collabora' WHEN ${r('t.g', 40)} < 0.06 THEN 'Thunderbird'
    WHEN ${r('t.g', 40)} < 0.2 THEN 'Outlook' WHEN ${r('t.g', 40)} < 0.5 THEN 'Firefox' WHEN ${r('t.g', 40)} < 0.8 THEN 'Chrome' ELSE 'Safari' END`
  const productSentence = `CASE WHEN t.language = 'nl' THEN 'Ik gebruik ' || ${product} || ' op ' || ${pick(DEVICES, r('t.g', 41))} || '.'
    ELSE 'I use ' || ${product} || ' on ' || ${pick(DEVICES, r('t.g', 41))} || '.' END`
  const requesterSign = `E'\\n\\n' || CASE WHEN t.language = 'nl' THEN 'Groet,' ELSE 'Regards,' END || E'\\n' || u.name || E'\\n' || o.name || E'\\n' || u.email`
  const agentSign = `E'\\n\\n' || CASE WHEN t.language = 'nl' THEN 'Met vriendelijke groet,' ELSE 'Kind regards,' END || E'\\n' || t.agent_name || E'\\nHelpdesk Commons'`
  const firstName = `split_part(u.name, ' ', 1)`
  await timed('message texts', `
    CREATE TEMP TABLE bench_message AS
    SELECT t.g, 'tkt-' || ${pad('t.g', 6)} AS ticket_id, u.id AS requester_id, u.name AS requester_name, u.email AS requester_email,
      ${fill(`CASE ${subjectCases} END`)} AS subject,
      ${fill(`${pick(['Hallo,', 'Beste helpdesk,', 'Hoi,', 'Goedemiddag,'], r('t.g', 31))} || E'\\n\\n' || ${byLanguage(REQUESTER, r('t.g', 32))} || ' ' || ${productSentence} || ' '
        || ${byLanguage(REQUESTER, r('t.g', 33))} || ' ' || ${byLanguage(REQUESTER, r('t.g', 34))} || ${requesterSign}`)} AS body1,
      ${fill(`CASE WHEN t.status = 'NEW' THEN ${byLanguage(FOLLOW_UP, r('t.g', 35))} || ${requesterSign}
        ELSE CASE WHEN t.language = 'nl' THEN 'Beste ' ELSE 'Dear ' END || ${firstName} || E',\\n\\n' || ${byLanguage(AGENT, r('t.g', 36))} || ' '
          || ${byLanguage(AGENT, r('t.g', 37))} || ' ' || ${byLanguage(AGENT, r('t.g', 38))} || ${agentSign} END`)} AS body2,
      t.status = 'NEW' OR ${r('t.g', 39)} < 0.4 AS note3,
      ${fill(`CASE WHEN t.status = 'NEW' OR ${r('t.g', 39)} < 0.4 THEN ${pick(NOTES, r('t.g', 42))} || ' ' || ${pick(NOTES, r('t.g', 43))}
        ELSE ${byLanguage(REPLY, r('t.g', 44))} || ${requesterSign} END`)} AS body3
    FROM bench_ticket t
    JOIN "User" u ON u.id = t.requester_id
    JOIN "Organization" o ON o.id = t.organization_id`)
  await sql.query(`CREATE UNIQUE INDEX ON bench_message (g)`)

  await timed('tickets', `
    INSERT INTO "Ticket" (id, number, "organizationId", "requesterId", "requesterEmail", "requesterName", language, subject, category, priority, status, channel,
      "instanceId", "assigneeId", "groupId", tags, "pendingUntil", "firstResponseDueAt", "firstResponseAt", "resolutionDueAt", "slaPausedAt",
      "resolvedAt", "closedAt", "searchText", "lastActivityAt", "createdAt", "updatedAt")
    SELECT t.id, t.g, t.organization_id, t.requester_id, m.requester_email, m.requester_name, t.language, m.subject,
      t.category::"TicketCategory", t.priority::"TicketPriority", t.status::"TicketStatus", t.channel::"TicketChannel",
      t.instance_id, t.assignee_id, t.group_id, t.tags, t.pending_until, t.first_reply_due, t.first_reply, t.resolution_due, t.paused_at,
      t.resolved_at, t.closed_at, m.subject || E'\\n' || m.body1 || E'\\n' || m.body2 || E'\\n' || m.body3,
      t.last_activity, t.created, greatest(t.last_activity, t.closed_at)
    FROM bench_ticket t JOIN bench_message m USING (g)
    ORDER BY t.g`)
  await sql.query(`SELECT setval(pg_get_serial_sequence('"Ticket"', 'number'), ${TICKETS})`)

  await timed('messages', `
    INSERT INTO "TicketMessage" (id, "ticketId", kind, channel, "authorId", "authorName", "authorEmail", "fromAgent", body, "createdAt")
    SELECT m.ticket_id || '-1', m.ticket_id, 'PUBLIC'::"TicketMessageKind", t.channel::"TicketChannel", m.requester_id, m.requester_name, m.requester_email, false, m.body1, t.created
    FROM bench_message m JOIN bench_ticket t USING (g)
    UNION ALL
    SELECT m.ticket_id || '-2', m.ticket_id, 'PUBLIC', t.channel::"TicketChannel",
      CASE WHEN t.status = 'NEW' THEN m.requester_id ELSE 'agent-' || ${pad('coalesce(t.agent, 1)', 2)} END,
      CASE WHEN t.status = 'NEW' THEN m.requester_name ELSE t.agent_name END,
      CASE WHEN t.status = 'NEW' THEN m.requester_email END,
      t.status <> 'NEW', m.body2,
      CASE WHEN t.status = 'NEW' THEN t.last_activity ELSE coalesce(t.first_reply, t.created + interval '1 hour') END
    FROM bench_message m JOIN bench_ticket t USING (g)
    UNION ALL
    SELECT m.ticket_id || '-3', m.ticket_id, CASE WHEN m.note3 THEN 'INTERNAL' ELSE 'PUBLIC' END::"TicketMessageKind", t.channel::"TicketChannel",
      CASE WHEN m.note3 THEN 'agent-' || ${pad('coalesce(t.agent, 1)', 2)} ELSE m.requester_id END,
      CASE WHEN m.note3 THEN t.agent_name ELSE m.requester_name END,
      CASE WHEN m.note3 THEN NULL ELSE m.requester_email END,
      m.note3, m.body3, greatest(t.created + interval '2 hours', t.last_activity)
    FROM bench_message m JOIN bench_ticket t USING (g)`)
  await sql.query(`DROP TABLE bench_message; DROP TABLE bench_ticket; DROP TABLE bench_instance; DROP FUNCTION bench_pick; DROP FUNCTION bench_r`)
  // A running portal has autovacuum for this; a bulk load needs it said (it also merges the GIN pending lists).
  await timed('VACUUM ANALYZE', 'VACUUM (ANALYZE)')
  const generationSeconds = (performance.now() - generation) / 1000

  // What the data holds, for the table and for choosing the filters.
  const one = async <T>(text: string, values: unknown[] = []) => (await sql.query(text, values)).rows[0] as T
  const shape = await one<{ tickets: number; messages: number; active: number; overdue: number; table: string; fts: string; avg_text: number }>(`
    SELECT (SELECT count(*)::int FROM "Ticket") AS tickets, (SELECT count(*)::int FROM "TicketMessage") AS messages,
      (SELECT count(*)::int FROM "Ticket" WHERE status IN ('NEW', 'OPEN', 'PENDING')) AS active,
      (SELECT count(*)::int FROM "Ticket" t WHERE status IN ('NEW', 'OPEN', 'PENDING') AND
        ((t."firstResponseAt" IS NULL AND t."firstResponseDueAt" < ${NOW}) OR t."resolutionDueAt" < COALESCE(t."slaPausedAt", ${NOW}))) AS overdue,
      pg_size_pretty(pg_total_relation_size('"Ticket"')) AS table, pg_size_pretty(pg_relation_size('"Ticket_searchText_fts_idx"')) AS fts,
      (SELECT avg(length("searchText"))::int FROM "Ticket") AS avg_text`)
  const org = await one<{ slug: string; n: number }>(`
    SELECT o.slug, count(*)::int AS n FROM "Ticket" t JOIN "Organization" o ON o.id = t."organizationId"
    WHERE t.status IN ('NEW', 'OPEN', 'PENDING') GROUP BY o.slug ORDER BY abs(count(*) - ${Math.round(TICKETS / ORGS / 2)}), o.slug LIMIT 1`)
  const documents = async (q: string) =>
    (await one<{ n: number }>(`SELECT count(*)::int AS n FROM "Ticket" WHERE to_tsvector('simple', "searchText") @@ websearch_to_tsquery('simple', $1)`, [q])).n
  const settings = await one<{ version: string; shared_buffers: string; work_mem: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem`,
  )
  const agentId = 'agent-03'
  const number = Math.round(TICKETS * 0.48)
  const rare = 'onlyoffice'
  const common = 'wachtwoord'
  const twoWords = 'nextcloud traag'
  const frequency = { [rare]: await documents(rare), [common]: await documents(common), [twoWords]: await documents(twoWords) }

  // The portal's own modules, loaded with the portal's tsconfig (its `~` alias).
  // Their types stay out of the root typecheck, which cannot resolve `~`; these are the parts used.
  interface QueuePage {
    rows: unknown[]
    total: number
  }
  interface QueueModule {
    queryQueue(filter: Record<string, unknown>, viewerUserId: string): Promise<QueuePage>
    queueCounts(viewerUserId: string, within?: Record<string, unknown>): Promise<Record<string, number>>
  }
  const portal = register({ namespace: 'bench-helpdesk', tsconfig: path.join(root, 'portal', 'tsconfig.json') })
  const queue = (await portal.import('../../portal/app/utils/helpdesk/queue.server.ts', import.meta.url)) as QueueModule
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

  interface Case {
    name: string
    /** What the call answered, for the table: the number of matches, or the tab counts. */
    run: () => Promise<string>
  }
  const page = (filter: Record<string, unknown>, viewer = agentId) => async () => String((await queue.queryQueue(filter, viewer)).total)
  const counts = (within?: Record<string, unknown>) => async () =>
    Object.entries(await queue.queueCounts(agentId, within)).map(([view, n]) => `${view} ${n}`).join(', ')
  const cases: Case[] = [
    { name: 'open (default: sort due), page 1', run: page({}) },
    { name: 'open, sort due, page 50', run: page({ page: 50 }) },
    { name: 'open, sort updated, page 1', run: page({ sort: 'updated' }) },
    { name: 'open, sort updated, page 50', run: page({ sort: 'updated', page: 50 }) },
    { name: 'unassigned', run: page({ view: 'unassigned' }) },
    { name: `mine (${agentId})`, run: page({ view: 'mine' }) },
    { name: 'overdue', run: page({ view: 'overdue' }) },
    { name: `organisation ${org.slug}`, run: page({ org: org.slug }) },
    { name: 'tool loomio', run: page({ tool: 'loomio' }) },
    { name: 'tag storing', run: page({ tag: 'storing' }) },
    { name: `search "${rare}" (rare, all tickets)`, run: page({ view: 'all', q: rare }) },
    { name: `search "${common}" (common, all tickets)`, run: page({ view: 'all', q: common }) },
    { name: `search "${common}" (common, open)`, run: page({ q: common }) },
    { name: `search "${twoWords}" (two words, all tickets)`, run: page({ view: 'all', q: twoWords }) },
    { name: `search "#${number}" (all tickets)`, run: page({ view: 'all', q: `#${number}` }) },
    { name: `queueCounts (${agentId})`, run: counts() },
    { name: `queueCounts within ${org.slug}`, run: counts({ org: org.slug }) },
  ]

  interface Measured {
    name: string
    median: number
    p95: number
    result: string
    plans: { planning: number; execution: number; summary: string; text: string; sql: string }[]
  }
  const measure = async (label: string): Promise<{ results: Measured[]; rssBefore: number; rssAfter: number; load: [number, number] }> => {
    console.error(`Measuring (${label}): ${cases.length} cases, ${WARMUP} warm-up + ${RUNS} runs each …`)
    const load0 = os.loadavg()[0] ?? 0
    const rssBefore = process.memoryUsage().rss
    const results: Measured[] = []
    for (const c of cases) {
      for (let i = 0; i < WARMUP; i++) await c.run()
      const times: number[] = []
      let result = ''
      for (let i = 0; i < RUNS; i++) {
        const started = performance.now()
        result = await c.run()
        times.push(performance.now() - started)
      }
      capturing = []
      await c.run()
      const sent = capturing as Captured[]
      capturing = null
      if (sent.length === 0) throw new Error(`no SQL captured for "${c.name}": the pg driver was not patched`)
      const plans = []
      for (const q of sent) {
        const [json] = (await sql.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.text}`, q.values)).rows as { 'QUERY PLAN': [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }] }[]
        const text = (await sql.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.text}`, q.values)).rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n')
        const explained = json?.['QUERY PLAN'][0]
        if (!explained) throw new Error(`no plan for "${c.name}"`)
        plans.push({ planning: explained['Planning Time'], execution: explained['Execution Time'], summary: planSummary(explained.Plan), text, sql: q.text })
      }
      results.push({ name: c.name, median: median(times), p95: p95(times), result, plans })
      console.error(`  ${c.name}: median ${ms(median(times))} ms, p95 ${ms(p95(times))} ms`)
    }
    return { results, rssBefore, rssAfter: process.memoryUsage().rss, load: [load0, os.loadavg()[0] ?? 0] }
  }

  const main = await measure('migration indexes')

  // Candidate indexes, by hand on this throwaway database only: what the
  // slow cases would gain. The migration itself is not touched.
  const candidates = [
    {
      // The `due` sort (the default view) as an index: the expression must stay exactly queue.server.ts's nextDue.
      name: 'bench_ticket_active_next_due_idx',
      sql: `CREATE INDEX bench_ticket_active_next_due_idx ON "Ticket" ((CASE
        WHEN status IN ('RESOLVED', 'CLOSED') THEN NULL
        WHEN "firstResponseAt" IS NULL AND "firstResponseDueAt" IS NOT NULL THEN "firstResponseDueAt"
        WHEN status = 'PENDING' THEN NULL
        ELSE "resolutionDueAt" END) ASC NULLS LAST, number DESC) WHERE status IN ('NEW', 'OPEN', 'PENDING')`,
    },
    {
      // The tool filter's count: one index-only probe per instance of that tool instead of reading every active ticket.
      name: 'bench_ticket_instance_status_idx',
      sql: `CREATE INDEX bench_ticket_instance_status_idx ON "Ticket" ("instanceId", status)`,
    },
    {
      // Every column queueCounts reads, so the five counts need no visit to the wide heap rows (searchText lives there).
      name: 'bench_ticket_active_counts_idx',
      sql: `CREATE INDEX bench_ticket_active_counts_idx ON "Ticket" (status, "assigneeId", "firstResponseAt", "firstResponseDueAt", "resolutionDueAt", "slaPausedAt")
        WHERE status IN ('NEW', 'OPEN', 'PENDING')`,
    },
  ]
  let tried: Awaited<ReturnType<typeof measure>> | undefined
  if (TRY_INDEXES) {
    for (const c of candidates) await timed(`CREATE INDEX ${c.name}`, c.sql)
    // Index-only scans need the visibility map, which autovacuum keeps in a running portal.
    await timed('VACUUM ANALYZE', 'VACUUM (ANALYZE) "Ticket"')
    tried = await measure('with the candidate indexes')
  }

  clientProto.query = originalQuery
  await disconnectDb()

  const explainFile = path.join(dataDir, 'explain.txt')
  writeFileSync(
    explainFile,
    [main, ...(tried ? [tried] : [])]
      .flatMap((run, i) => run.results.flatMap((m) => m.plans.map((p) => `### ${i ? '[candidate indexes] ' : ''}${m.name}\n${p.sql}\n\n${p.text}\n`)))
      .join('\n'),
  )

  const cpu = os.cpus()
  // The queue module changes while the helpdesk is built: name the version measured.
  const queueFile = path.join(root, 'portal', 'app', 'utils', 'helpdesk', 'queue.server.ts')
  const queueVersion = `sha256 ${createHash('sha256').update(readFileSync(queueFile)).digest('hex').slice(0, 12)}, changed ${statSync(queueFile).mtime.toISOString().slice(0, 16)}Z`
  console.log(`\n| measure | value |\n| --- | --- |`)
  console.log(`| machine | ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; PostgreSQL ${settings.version} (embedded, shared_buffers ${settings.shared_buffers}, work_mem ${settings.work_mem}) |`)
  console.log(`| queue.server.ts measured | ${queueVersion} |`)
  console.log(`| data | ${shape.tickets} tickets (${shape.active} new/open/pending, ${shape.overdue} of them overdue), ${shape.messages} messages, ${ORGS} organisations, ${ORGS * MEMBERS_PER_ORG} members, ${AGENTS} agents, ${ORGS * INSTANCES_PER_ORG} instances |`)
  console.log(`| Ticket table with indexes | ${shape.table} (full-text index ${shape.fts}); searchText ${shape.avg_text} characters on average |`)
  console.log(`| generating the data (SQL) + VACUUM ANALYZE | ${generationSeconds.toFixed(0)} s |`)
  console.log(`| words searched: tickets that hold them | ${Object.entries(frequency).map(([q, n]) => `"${q}" ${n}`).join(', ')} |`)
  console.log(`| load average (1 min) at start / end of the runs | ${main.load.map((l) => l.toFixed(2)).join(' / ')} |`)
  console.log(`| RSS of the process around the runs | ${mib(main.rssBefore)} → ${mib(main.rssAfter)} |`)

  console.log(`\n| case (queryQueue unless named) | matches | median ms | p95 ms | plan (page query; count query) |\n| --- | ---: | ---: | ---: | --- |`)
  for (const m of main.results) {
    const plans = m.plans.map((p) => `${ms(p.execution)} ms exec, ${ms(p.planning)} ms plan: ${p.summary}`).join('; **count:** ')
    console.log(`| ${m.name} | ${m.result} | ${ms(m.median)} | ${ms(m.p95)} | ${plans} |`)
  }
  if (tried) {
    console.log(`\nWith the candidate indexes (${candidates.map((c) => `\`${c.name}\``).join(', ')}), created by hand:\n`)
    console.log(`| case | median ms before → after | p95 ms before → after | plan after (page query) |\n| --- | ---: | ---: | --- |`)
    tried.results.forEach((m, i) => {
      const before = main.results[i]
      console.log(`| ${m.name} | ${ms(before?.median ?? 0)} → ${ms(m.median)} | ${ms(before?.p95 ?? 0)} → ${ms(m.p95)} | ${m.plans[0]?.summary ?? ''} |`)
    })
  }
  console.error(`\nEvery plan in full: ${path.relative(root, explainFile)}`)
} catch (error) {
  console.error(error)
  exitCode = 1
} finally {
  await endSession?.().catch(() => {})
  // The database takes about a gigabyte; the plans stay. BENCH_KEEP_DATA=1 keeps it to look into.
  if ((await stop()) && process.env.BENCH_KEEP_DATA !== '1') rmSync(path.join(dataDir, 'postgres'), { recursive: true, force: true })
}
process.exit(exitCode)
