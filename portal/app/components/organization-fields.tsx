import { getInputProps, getSelectProps, getTextareaProps, type FieldMetadata } from '@conform-to/react'
import type { ReactNode } from 'react'
import { Field } from '~/components/field'
import { SECTORS } from '~/utils/forms'
import { useT } from '~/utils/use-t'

type DetailFields = {
  name: FieldMetadata<string>
  description: FieldMetadata<string>
  sector: FieldMetadata<string>
  city: FieldMetadata<string>
  website: FieldMetadata<string>
  kvkNumber: FieldMetadata<string>
}

/** The organisation's details, shared by "create" and "edit"; `afterName` holds the slug field when creating. */
export function OrganizationFields({ fields, afterName }: { fields: DetailFields; afterName?: ReactNode }) {
  const t = useT()
  return (
    <>
      <Field id={fields.name.id} label={t('org.field.name')} errors={fields.name.errors}>
        {(aria) => <input {...getInputProps(fields.name, { type: 'text' })} {...aria} autoComplete="organization" />}
      </Field>
      {afterName}
      <Field id={fields.description.id} label={t('org.field.description')} errors={fields.description.errors}>
        {(aria) => <textarea {...getTextareaProps(fields.description)} {...aria} rows={4} />}
      </Field>
      <Field id={fields.sector.id} label={t('org.field.sector')} errors={fields.sector.errors}>
        {(aria) => (
          <select {...getSelectProps(fields.sector)} {...aria}>
            <option value="">—</option>
            {SECTORS.map((s) => (
              <option key={s} value={s}>
                {t(`org.sector.${s}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field id={fields.city.id} label={t('org.field.city')} errors={fields.city.errors}>
        {(aria) => <input {...getInputProps(fields.city, { type: 'text' })} {...aria} autoComplete="address-level2" />}
      </Field>
      <Field id={fields.website.id} label={t('org.field.website')} errors={fields.website.errors}>
        {(aria) => <input {...getInputProps(fields.website, { type: 'url' })} {...aria} placeholder="https://" />}
      </Field>
      <Field id={fields.kvkNumber.id} label={t('org.field.kvk')} errors={fields.kvkNumber.errors}>
        {(aria) => <input {...getInputProps(fields.kvkNumber, { type: 'text' })} {...aria} inputMode="numeric" />}
      </Field>
    </>
  )
}
