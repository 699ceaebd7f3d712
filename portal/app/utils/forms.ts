import { z } from 'zod'

// Error messages are i18n keys (with parameters after a '|'); the page
// translates them, so one schema serves the browser and the server.
const required = (max: number) =>
  z
    .string({ error: 'form.required' })
    .trim()
    .min(1, 'form.required')
    .max(max, `form.tooLong|max=${max}`)

// Words that are pages of their own under /organisations/.
const RESERVED_SLUGS = ['new', 'switch', 'admin', 'api']

export const SECTORS = ['housing', 'energy', 'food', 'care', 'culture', 'work', 'mobility', 'education', 'other'] as const

export const organizationSchema = z.object({
  name: required(80).pipe(z.string().min(2, 'form.tooShort|min=2')),
  slug: z
    .string({ error: 'form.required' })
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,39}$/, 'form.slug')
    .refine((slug) => !RESERVED_SLUGS.includes(slug), 'org.error.slugTaken'),
  description: required(1000),
  sector: z.enum(SECTORS, { error: 'form.choice' }),
  city: required(80),
  website: z
    .url({ protocol: /^https?$/, error: 'form.url' })
    .max(200, 'form.tooLong|max=200')
    .optional(),
  kvkNumber: z
    .string()
    .trim()
    .regex(/^\d{8}$/, 'form.kvk')
    .optional(),
})

/** What an admin may change later; the slug stays, because addresses are built from it. */
export const organizationDetailsSchema = organizationSchema.omit({ slug: true })

export const ORG_ROLES = ['MEMBER', 'ADMIN'] as const

export const invitationSchema = z.object({
  email: z.email({ error: 'form.email' }).trim().toLowerCase().max(254, 'form.tooLong|max=254'),
  role: z.enum(ORG_ROLES, { error: 'form.choice' }),
})

export const memberActionSchema = z.discriminatedUnion('intent', [
  z.object({ intent: z.literal('set-role'), membershipId: z.string().min(1).max(40), role: z.enum(ORG_ROLES) }),
  z.object({ intent: z.literal('remove'), membershipId: z.string().min(1).max(40) }),
  z.object({ intent: z.literal('leave') }),
  z.object({ intent: z.literal('revoke-invitation'), invitationId: z.string().min(1).max(40) }),
])

/** Splits 'form.tooLong|max=80' into a key and its parameters. */
export function parseFieldError(error: string): { key: string; vars: Record<string, string> } {
  const [key = error, ...params] = error.split('|')
  return { key, vars: Object.fromEntries(params.map((p) => p.split('=') as [string, string])) }
}
