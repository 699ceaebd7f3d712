import { getFormProps, getInputProps } from '@conform-to/react'
import { Form } from '@remix-run/react'
import { Field } from '~/components/field'
import { imageSchema } from '~/utils/academy/studio-forms'
import { useT } from '~/utils/use-t'
import { replyFor, useStudioForm, type StudioReply } from './academy-studio-form'

export interface StudioImage {
  id: string
  description: string
  fileName: string
  snippet: string
}

/**
 * Uploading an image and the course's images, each with the Markdown to
 * paste into a lesson. The file is checked on the server by its bytes.
 */
export function CourseImages({ images, uploaded, editable, maxMb, accept, answer }: { images: StudioImage[]; uploaded: string | null; editable: boolean; maxMb: number; accept: string; answer: StudioReply | undefined }) {
  const t = useT()
  const [form, fields] = useStudioForm(imageSchema, { id: 'upload-image', lastResult: replyFor(answer, 'upload-image') })
  return (
    <section className="panel" aria-labelledby="images-title">
      <h2 id="images-title">{t('studio.images.title')}</h2>
      {uploaded ? (
        <div className="notice" role="status">
          <p>{t('studio.images.uploaded')}</p>
          <code className="studio-snippet">{uploaded}</code>
        </div>
      ) : null}
      {editable ? (
        <Form method="post" encType="multipart/form-data" {...getFormProps(form)} noValidate className="stack">
          <input type="hidden" name="intent" value="upload-image" />
          <div className="field">
            <label htmlFor="image-file">{t('studio.field.imageFile')}</label>
            <p id="image-file-help" className="help">
              {t('studio.field.imageFile.help', { max: maxMb })}
            </p>
            <input id="image-file" name="image" type="file" accept={accept} aria-describedby="image-file-help" />
          </div>
          <Field id={fields.description.id} label={t('studio.field.imageDescription')} help={t('studio.field.imageDescription.help')} errors={fields.description.errors}>
            {(aria) => <input {...getInputProps(fields.description, { type: 'text' })} {...aria} />}
          </Field>
          <button type="submit">{t('studio.images.upload')}</button>
        </Form>
      ) : null}
      {images.length === 0 ? (
        <p className="muted">{t('studio.images.none')}</p>
      ) : (
        <ul className="studio-images">
          {images.map((image) => (
            <li key={image.id}>
              <img src={`/academy/images/${image.id}`} alt={image.description} loading="lazy" />
              <div>
                <p>{image.fileName}</p>
                <code className="studio-snippet">{image.snippet}</code>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
