import type { Language } from '@commons/academy/rules'
import { useFetcher } from '@remix-run/react'
import { useEffect, useState } from 'react'
import { useT } from '~/utils/use-t'
import { LANGUAGE_NAME_KEYS } from './academy-studio-form'

/**
 * A "Preview" button under a lesson text and the rendered text under it. With
 * JavaScript it asks /academy/manage/preview and stays on the page; without,
 * the button submits the lesson form, which answers with the preview and the
 * text as typed (nothing is saved).
 */
export function MarkdownPreview({ language, textareaId, fallbackHtml }: { language: Language; textareaId: string; fallbackHtml: string | null }) {
  const t = useT()
  const fetcher = useFetcher<{ html?: string; error?: string }>()
  const html = fetcher.data?.html ?? fallbackHtml
  const languageName = t(LANGUAGE_NAME_KEYS[language])
  // Once the page runs JavaScript the button is a plain button: Enter in a
  // field then saves the lesson (the form's first submit button would
  // otherwise be this one) and the preview comes from the preview route.
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  return (
    <div className="studio-preview-box">
      <button
        type={hydrated ? 'button' : 'submit'}
        name="preview"
        value={language}
        formNoValidate
        onClick={(event) => {
          const textarea = document.getElementById(textareaId)
          if (!hydrated || !(textarea instanceof HTMLTextAreaElement)) return
          event.preventDefault()
          fetcher.submit({ markdown: textarea.value }, { method: 'post', action: '/academy/manage/preview' })
        }}
      >
        {t('studio.preview.button', { language: languageName })}
      </button>
      <div aria-live="polite">
        {fetcher.data?.error ? (
          <p className="field-errors" role="alert">
            {fetcher.data.error}
          </p>
        ) : null}
        {html !== null && html !== undefined ? (
          <section className="studio-preview" aria-label={t('studio.preview.label', { language: languageName })} lang={language}>
            <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />
          </section>
        ) : null}
      </div>
    </div>
  )
}
