import { parseWithZod } from '@conform-to/zod/v4'
import { data } from '@remix-run/node'
import type { Translate, Language } from './i18n'
import { findRecipe } from './catalog.server'
import { RequestError, setDemand } from './requests.server'
import { demandSchema } from './tool-forms'

/** The "We want this too" toggle, shared by the catalog and a tool's page. */
export async function demandAction(formData: FormData, userId: string, lang: Language, t: Translate) {
  const submission = parseWithZod(formData, { schema: demandSchema })
  if (submission.status !== 'success') return data({ notice: null, error: t('error.400'), result: submission.reply() }, { status: 400 })
  const { recipeId, want } = submission.value
  try {
    await setDemand({ userId }, recipeId, want, lang)
  } catch (error) {
    if (!(error instanceof RequestError)) throw error
    return data({ notice: null, error: t(error.key, error.vars), result: submission.reply() }, { status: error.status })
  }
  const tool = findRecipe(recipeId)?.texts[lang].name ?? recipeId
  return data({ notice: t(want ? 'catalog.demand.added' : 'catalog.demand.removed', { tool }), error: null, result: submission.reply({ resetForm: true }) })
}
