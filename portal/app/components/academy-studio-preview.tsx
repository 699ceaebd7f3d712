import type { Language } from '@commons/academy/rules'
import { useFetcher } from '@remix-run/react'
import { useEffect, useState } from 'react'
import { useT } from '~/utils/use-t'
import { LANGUAGE_NAME_KEYS } from './academy-studio-form'

/**
 * A "Preview" button under a lesson text and the rendered text under it. With
 * JavaScript it sends only that text to the lesson page's action and stays on
 * the page; without, the button submits the whole lesson form. Either way the
 * action renders it with the server's renderMarkdown, as members will see it,
 * and saves nothing.
 */
export function MarkdownPreview({ language, textareaId, fallbackHtml }: { language: Language; textareaId: string; fallbackHtml: string | null }) {
  const t = useT()
  const fetcher = useFetcher<{ preview?: { html: string } | null; error?: string | null }>()
  const html = fetcher.data?.preview?.html ?? fallbackHtml
  const languageName = t(LANGUAGE_NAME_KEYS[language])
  // Once the page runs JavaScript the button is a plain button: Enter in a
  // field then saves the lesson (the form's first submit button would
  // otherwise be this one) and the preview comes back to this fetcher.
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
          fetcher.submit({ intent: 'save-lesson', preview: language, [`body.${language}`]: textarea.value }, { method: 'post' })
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
