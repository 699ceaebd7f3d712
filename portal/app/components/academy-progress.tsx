import { useT } from '~/utils/use-t'

/** A course's progress as a bar and in words: the bar alone would say nothing to a screen reader or in high contrast. */
export function CourseProgressBar({ id, course, done, total, percent }: { id: string; course: string; done: number; total: number; percent: number }) {
  const t = useT()
  return (
    <div className="academy-progress">
      <progress id={id} max={100} value={percent} aria-label={t('academy.progress.label', { course })} aria-describedby={`${id}-text`} />
      <span id={`${id}-text`} className="muted">
        {t('academy.progress.text', { done, total, percent })}
      </span>
    </div>
  )
}
