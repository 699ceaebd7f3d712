import { useRouteLoaderData } from '@remix-run/react'
import { isLanguage, translator, type Language } from './i18n'
import type { loader as rootLoader } from '~/root'

export function useLanguage(): Language {
  const data = useRouteLoaderData<typeof rootLoader>('root')
  return isLanguage(data?.lang) ? data.lang : 'nl'
}

export function useT() {
  return translator(useLanguage())
}
