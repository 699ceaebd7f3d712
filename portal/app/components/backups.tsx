import { getFormProps, getInputProps, type SubmissionResult } from '@conform-to/react'
import { Form } from '@remix-run/react'
import { FieldErrors, FormErrors } from '~/components/field'
import { ButtonForm } from '~/components/tools'
import type { ListedBackup, PageBackups } from '~/utils/backups.server'
import { formatBytes, formatDateTime } from '~/utils/format'
import type { Translate } from '~/utils/i18n'
import { backupNowSchema, restoreBackupSchema } from '~/utils/tool-forms'
import { useLanguage, useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

type Restore = Extract<PageBackups, { state: 'listed' }>['restores'][number]

/** What the action answered to a restore form: its errors, for the form of that backup only. */
export type RestoreResult = { backupId: string; reply: SubmissionResult<string[]> }

function checkText(backup: ListedBackup, t: Translate) {
  const { status, message } = backup.verification
  if (status === 'failed') return message ? `${t('instance.backups.check.failed')}: ${message}` : t('instance.backups.check.failed')
  return t(`instance.backups.check.${status}`)
}

function resultText(backup: ListedBackup, t: Translate) {
  const status = t(`instance.backups.status.${backup.status}`)
  return backup.status === 'failed' && backup.error ? `${status}: ${backup.error}` : status
}

function restoreText(restore: Restore, t: Translate) {
  const status = t(`instance.restores.status.${restore.status}`)
  return restore.status !== 'succeeded' && restore.status !== 'running' && restore.error ? `${status}: ${restore.error}` : status
}

/**
 * Puts one backup back, once the admin has ticked that later changes are
 * replaced. Folded away in its table cell; opened again when the action sent
 * it back with an error.
 */
function RestoreForm({ backup, tool, action, result }: { backup: ListedBackup; tool: string; action: string; result?: SubmissionResult<string[]> }) {
  const t = useT()
  const date = formatDateTime(backup.startedAt, useLanguage())
  const [form, fields] = useZodForm(restoreBackupSchema, { id: `restore-${backup.id}`, lastResult: result })
  const errorId = `${fields.confirm.id}-error`
  return (
    <details open={result ? true : undefined}>
      <summary>{t('instance.backups.restore.open')}</summary>
      <Form method="post" action={action} {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        <input type="hidden" name="intent" value="restore" />
        <input type="hidden" name="backupId" value={backup.id} />
        <p>{t('instance.backups.restore.explain', { tool })}</p>
        <div className="field checkbox">
          <input
            {...getInputProps(fields.confirm, { type: 'checkbox', value: 'on' })}
            aria-invalid={fields.confirm.errors ? true : undefined}
            aria-describedby={fields.confirm.errors ? errorId : undefined}
          />
          <label htmlFor={fields.confirm.id}>{t('instance.backups.restore.confirm', { date })}</label>
          <FieldErrors id={errorId} errors={fields.confirm.errors} />
        </div>
        <button type="submit" className="danger" aria-label={t('instance.backups.restore.submitLabel', { date })}>
          {t('instance.backups.restore.submit')}
        </button>
      </Form>
    </details>
  )
}

function BackupTable({ backups, tool, action, canAct, restore }: { backups: ListedBackup[]; tool: string; action: string; canAct: boolean; restore?: RestoreResult }) {
  const t = useT()
  const lang = useLanguage()
  return (
    <table className="backups">
      <caption>{t('instance.backups.caption', { tool })}</caption>
      <thead>
        <tr>
          <th scope="col">{t('instance.backups.col.when')}</th>
          <th scope="col">{t('instance.backups.col.kind')}</th>
          <th scope="col">{t('instance.backups.col.size')}</th>
          <th scope="col">{t('instance.backups.col.result')}</th>
          <th scope="col">{t('instance.backups.col.check')}</th>
          {canAct ? <th scope="col">{t('instance.backups.col.restore')}</th> : null}
        </tr>
      </thead>
      <tbody>
        {backups.map((b) => (
          <tr key={b.id}>
            <th scope="row">{formatDateTime(b.startedAt, lang)}</th>
            <td>{t(`instance.backups.kind.${b.kind}`)}</td>
            <td>{b.sizeBytes === null ? t('instance.backups.size.unknown') : formatBytes(b.sizeBytes, lang)}</td>
            <td>
              {resultText(b, t)}
              {b.forgottenAt ? <div className="muted">{t('instance.backups.forgotten')}</div> : null}
              {b.earlier ? <div className="muted">{t('instance.backups.earlier', { tool })}</div> : null}
            </td>
            <td>{checkText(b, t)}</td>
            {canAct ? (
              <td>
                {b.restorable ? (
                  <RestoreForm backup={b} tool={tool} action={action} result={restore?.backupId === b.id ? restore.reply : undefined} />
                ) : (
                  <span className="muted">{t(b.status === 'running' ? 'instance.backups.notYet' : 'instance.backups.notRestorable')}</span>
                )}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function RestoreTable({ restores }: { restores: Restore[] }) {
  const t = useT()
  const lang = useLanguage()
  return (
    <>
      <h3 id="restores-title">{t('instance.restores.title')}</h3>
      <table aria-labelledby="restores-title">
        <thead>
          <tr>
            <th scope="col">{t('instance.restores.col.when')}</th>
            <th scope="col">{t('instance.restores.col.backup')}</th>
            <th scope="col">{t('instance.restores.col.result')}</th>
          </tr>
        </thead>
        <tbody>
          {restores.map((r) => (
            <tr key={r.id}>
              <th scope="row">{formatDateTime(r.startedAt, lang)}</th>
              <td>{r.backupStartedAt ? formatDateTime(r.backupStartedAt, lang) : t('instance.restores.backupGone')}</td>
              <td>{restoreText(r, t)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

/**
 * The backups of an instance for its organisation's admins: the list with
 * each one's check, "Back up now", a confirmed restore per restorable
 * backup, and the latest restores. While a restore or an upgrade runs
 * nothing is offered.
 */
export function BackupsSection(props: { slug: string; instanceId: string; tool: string; phase: string | null; backups: PageBackups; restore?: RestoreResult }) {
  const t = useT()
  const { backups, tool } = props
  const action = `/organisations/${props.slug}/instances/${props.instanceId}`
  const canAct = props.phase !== 'restoring' && props.phase !== 'upgrading' && backups.state === 'listed'
  return (
    <section className="panel" aria-labelledby="backups-title" id="backups">
      <h2 id="backups-title">{t('instance.backups.title')}</h2>
      <p>{t('instance.backups.help')}</p>
      {backups.state === 'unreachable' ? <p className="notice error">{t('instance.backups.unreachable')}</p> : null}
      {backups.state === 'unavailable' ? <p className="notice error">{t('instance.error.backupsUnavailable')}</p> : null}
      {backups.state === 'unreadable' ? <p className="notice error">{t('instance.backups.unknown')}</p> : null}
      {canAct ? (
        <div className="actions">
          <ButtonForm
            schema={backupNowSchema}
            id="backup-now"
            action={action}
            fields={{ intent: 'backup' }}
            label={t('instance.backups.now')}
          />
          <span className="muted">{t('instance.backups.nowHelp')}</span>
        </div>
      ) : null}
      {backups.state === 'listed' && backups.backups.length === 0 ? <p>{t('instance.backups.none', { tool })}</p> : null}
      {backups.state === 'listed' && backups.backups.length > 0 ? (
        <>
          <BackupTable backups={backups.backups} tool={tool} action={action} canAct={canAct} restore={props.restore} />
          {backups.total > backups.backups.length ? <p className="muted">{t('instance.backups.shown', { count: backups.backups.length })}</p> : null}
        </>
      ) : null}
      {backups.state === 'listed' && backups.restores.length > 0 ? <RestoreTable restores={backups.restores} /> : null}
    </section>
  )
}
