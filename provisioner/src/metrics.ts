// A small Prometheus registry: counters, gauges and histograms with fixed
// buckets, written out in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). The
// provisioner and the portal need a handful of metrics each; this is less to
// trust than a dependency. No imports, so the portal can use it too
// (`@commons/provisioner/metrics`).

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type Labels = Readonly<Record<string, string>>

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** A label value inside double quotes: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** HELP text: backslash and line feed escaped (a double quote stays as it is). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function formatValue(value: number): string {
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  if (Number.isNaN(value)) return 'NaN'
  return String(value)
}

function formatLabels(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabelValue(values[i] ?? '')}"`)
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`)
  return pairs.length ? `{${pairs.join(',')}}` : ''
}

type Kind = 'counter' | 'gauge' | 'histogram'

abstract class Metric<S> {
  /** Series by their label values, in the order first seen. */
  protected readonly series = new Map<string, { values: string[]; state: S }>()

  constructor(
    readonly kind: Kind,
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`"${name}" is not a valid metric name`)
    for (const label of labelNames)
      if (!LABEL_NAME.test(label) || label.startsWith('__') || (kind === 'histogram' && label === 'le')) throw new Error(`"${label}" is not a valid label name for ${name}`)
  }

  protected abstract initial(): S

  protected seriesOf(labels: Labels): S {
    const given = Object.keys(labels)
    if (given.length !== this.labelNames.length || given.some((l) => !this.labelNames.includes(l)))
      throw new Error(`${this.name} takes the labels [${this.labelNames.join(', ')}], not [${given.join(', ')}]`)
    const values = this.labelNames.map((l) => labels[l] ?? '')
    const key = JSON.stringify(values)
    let entry = this.series.get(key)
    if (!entry) {
      entry = { values, state: this.initial() }
      this.series.set(key, entry)
    }
    return entry.state
  }

  /** Forgets every series (a gauge filled afresh at each scrape). */
  reset(): void {
    this.series.clear()
  }

  protected abstract lines(values: string[], state: S): string[]

  text(): string {
    // A counter or histogram without labels reads 0 before anything happened; a gauge shows only what was set.
    if (this.labelNames.length === 0 && this.kind !== 'gauge') this.seriesOf({})
    const head = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.kind}`]
    const body = [...this.series.values()].flatMap((s) => this.lines(s.values, s.state))
    return [...head, ...body].join('\n')
  }
}

export class Counter extends Metric<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super('counter', name, help, labelNames)
  }

  protected initial() {
    return { value: 0 }
  }

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name} is a counter: it only goes up (got ${by})`)
    this.seriesOf(labels).value += by
  }

  /** Makes the series exist at 0, so a rate over it is defined before the first increase. */
  init(labels: Labels): void {
    this.seriesOf(labels)
  }

  protected lines(values: string[], state: { value: number }) {
    return [`${this.name}${formatLabels(this.labelNames, values)} ${formatValue(state.value)}`]
  }
}

export class Gauge extends Metric<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super('gauge', name, help, labelNames)
  }

  protected initial() {
    return { value: 0 }
  }

  set(value: number): void
  set(labels: Labels, value: number): void
  set(labelsOrValue: Labels | number, value?: number): void {
    const [labels, v] = typeof labelsOrValue === 'number' ? [{}, labelsOrValue] : [labelsOrValue, value ?? 0]
    this.seriesOf(labels).value = v
  }

  protected lines(values: string[], state: { value: number }) {
    return [`${this.name}${formatLabels(this.labelNames, values)} ${formatValue(state.value)}`]
  }
}

type HistogramState = { counts: number[]; sum: number; count: number }

export class Histogram extends Metric<HistogramState> {
  readonly buckets: readonly number[]

  constructor(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    const upper = [...buckets].filter((b) => b !== Infinity).sort((a, b) => a - b)
    if (upper.length === 0 || upper.some((b, i) => Number.isNaN(b) || b === upper[i - 1])) throw new Error(`${name} needs distinct bucket bounds`)
    super('histogram', name, help, labelNames)
    this.buckets = upper
  }

  protected initial(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
  }

  observe(value: number): void
  observe(labels: Labels, value: number): void
  observe(labelsOrValue: Labels | number, value?: number): void {
    const [labels, v] = typeof labelsOrValue === 'number' ? [{}, labelsOrValue] : [labelsOrValue, value ?? 0]
    const state = this.seriesOf(labels)
    this.buckets.forEach((upper, i) => {
      if (v <= upper) state.counts[i]! += 1
    })
    state.sum += v
    state.count += 1
  }

  protected lines(values: string[], state: HistogramState) {
    // Buckets are cumulative: each counts every observation at or below its bound.
    const lines = this.buckets.map((upper, i) => `${this.name}_bucket${formatLabels(this.labelNames, values, ['le', formatValue(upper)])} ${state.counts[i]}`)
    lines.push(`${this.name}_bucket${formatLabels(this.labelNames, values, ['le', '+Inf'])} ${state.count}`)
    lines.push(`${this.name}_sum${formatLabels(this.labelNames, values)} ${formatValue(state.sum)}`)
    lines.push(`${this.name}_count${formatLabels(this.labelNames, values)} ${state.count}`)
    return lines
  }
}

/** The metrics of one process, written out in the order they were made. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, { text(): string }>()

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames))
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames))
  }

  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.add(new Histogram(name, help, buckets, labelNames))
  }

  private add<M extends Counter | Gauge | Histogram>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`the metric ${metric.name} is already registered`)
    this.#metrics.set(metric.name, metric)
    return metric
  }

  /** The exposition text, ending with a line feed as the format asks. */
  text(): string {
    return [...this.#metrics.values()].map((m) => m.text()).join('\n') + '\n'
  }
}
