import { z } from 'zod'
import { businessHoursSpecSchema } from './helpdesk/business-calendar'

const booleanish = z.enum(['true', 'false']).transform((v) => v === 'true')

/** The starter courses: seeded at start by server/index.ts, and by `npm run academy:seed`, which reads only these. */
export const academySeedSchema = z.object({
  ACADEMY_SEED: booleanish.default(true),
  // Empty is the default too: deploy/.env.example leaves it empty.
  ACADEMY_COURSES_DIR: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
})

/**
 * Every setting the portal reads, parsed once at start-up. A bad value stops
 * the process with a message that names the variable (see docs/configuration.md).
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  PORTAL_URL: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/$/, '')),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL').optional(),
  KEYCLOAK_URL: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/$/, '')),
  KEYCLOAK_REALM: z.string().min(1).default('commons'),
  KEYCLOAK_CLIENT_ID: z.string().min(1).default('commons-portal'),
  KEYCLOAK_CLIENT_SECRET: z.string().min(16, 'must be the commons-portal client secret (16+ characters)'),
  KEYCLOAK_ADMIN_CLIENT_ID: z.string().min(1).default('commons-portal-admin'),
  KEYCLOAK_ADMIN_CLIENT_SECRET: z.string().min(16, 'must be the commons-portal-admin client secret (16+ characters)'),
  KEYCLOAK_BROWSER_CLIENT_ID: z.string().min(1).default('commons-portal-session'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL'),
  MAIL_FROM: z.string().min(3).default('Commons Portal <no-reply@localhost>'),
  SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(24 * 14),
  INVITATION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 60).default(24 * 7),
  OUTBOX_POLL_MS: z.coerce.number().int().min(100).default(2000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SECURE_COOKIES: booleanish.optional(),
  PROVISIONER_URL: z
    .url({ protocol: /^https?$/ })
    .transform((u) => u.replace(/\/$/, ''))
    .default('http://127.0.0.1:3001'),
  // Required in production (see the refinement below); the same value as the provisioner's.
  PROVISIONER_API_TOKEN: z.string().min(32, 'must be the provisioner’s API token, at least 32 characters (openssl rand -hex 32)').optional(),
  PROVISIONER_POLL_MS: z.coerce.number().int().min(200).default(5000),
  // Opens GET /metrics (Prometheus, docs/configuration.md); unset, the route answers 404. Empty is unset (deploy/.env.example leaves it empty).
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .pipe(z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').optional()),
  // The provisioner's setting of the same name: the removal dialog promises this many days.
  REMOVED_VOLUME_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  REQUESTS_NEED_APPROVAL: booleanish.default(true),
  CATALOG_DIR: z.string().min(1).optional(),
  CATALOG_SHOW_TEST_RECIPES: booleanish.default(false),
  ...academySeedSchema.shape,
  // Helpdesk (docs/helpdesk.md)
  HELPDESK_ADDRESS: z.email('must be the support mail address, for example support@example.org').default('support@localhost'),
  // The portal's own SMTP listener for mail to HELPDESK_ADDRESS; off when unset (a relay forwards to it in production).
  HELPDESK_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HELPDESK_SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  HELPDESK_MAIL_MAX_MB: z.coerce.number().int().min(1).max(100).default(25),
  // An unknown sender gets a polite answer; with this, a guest ticket too.
  HELPDESK_GUEST_TICKETS: booleanish.default(false),
  HELPDESK_TIMEZONE: z
    .string()
    .min(1)
    .default('Europe/Amsterdam')
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone })
        return true
      } catch {
        return false
      }
    }, 'must be an IANA time zone such as Europe/Amsterdam'),
  // Checked here, so a typo stops the start instead of the first ticket.
  HELPDESK_BUSINESS_HOURS: z
    .string()
    .min(1)
    .default('mon-fri 09:00-17:00')
    .superRefine((spec, ctx) => {
      const parsed = businessHoursSpecSchema.safeParse(spec)
      if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'is not valid' })
    }),
  // Extra closed days (YYYY-MM-DD, comma-separated) besides the Dutch public holidays.
  HELPDESK_CLOSED_DATES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((d) => d.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be dates like 2026-12-24, separated by commas'))),
  HELPDESK_SLA_WARN_MINUTES: z.coerce.number().int().min(0).max(24 * 60).default(60),
  HELPDESK_AUTO_CLOSE_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  // Closed tickets are deleted for good after this many days (AVG/GDPR: keep no longer than needed).
  HELPDESK_RETENTION_DAYS: z.coerce.number().int().min(30).max(3650).default(730),
  HELPDESK_POLL_MS: z.coerce.number().int().min(200).default(60_000),
  ATTACHMENTS_DIR: z.string().min(1).optional(),
  ATTACHMENT_MAX_MB: z.coerce.number().int().min(1).max(100).default(10),
}).superRefine((env, ctx) => {
  // Without it the provisioner refuses every call; in development it may be left out.
  if (env.NODE_ENV === 'production' && !env.PROVISIONER_API_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['PROVISIONER_API_TOKEN'], message: 'is required in production: the provisioner’s API token (openssl rand -hex 32)' })
  }
})

export type Env = z.infer<typeof envSchema>

export class EnvError extends Error {}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source)
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`)
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`)
  }
  return result.data
}

let cached: Env | undefined
export function env(): Env {
  cached ??= parseEnv(process.env)
  return cached
}
