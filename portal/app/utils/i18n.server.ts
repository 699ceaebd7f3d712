import { createCookie } from '@remix-run/node'
import { isLanguage, translator, type Language } from './i18n'

export const languageCookie = createCookie('commons_lang', {
  httpOnly: true,
  sameSite: 'lax',
  path: '/',
  maxAge: 365 * 24 * 3600,
})

/** The remembered choice first, then the browser's languages, then Dutch. */
export async function detectLanguage(request: Request): Promise<Language> {
  const chosen = await languageCookie.parse(request.headers.get('Cookie'))
  if (isLanguage(chosen)) return chosen
  const header = request.headers.get('Accept-Language') ?? ''
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.find((p) => p.trim().startsWith('q='))
      return { lang: tag.toLowerCase().split('-')[0], q: q ? Number(q.trim().slice(2)) : 1 }
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q)
  for (const { lang } of ranked) if (isLanguage(lang)) return lang
  return 'nl'
}

export async function getTranslator(request: Request) {
  const lang = await detectLanguage(request)
  return { lang, t: translator(lang) }
}
