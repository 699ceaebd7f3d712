/**
 * Metrics: the registry's text (Prometheus exposition format 0.0.4), what
 * the provisioner reports from its sources, and GET /metrics of a real
 * provisioner (Docker engine, Caddy, the harness's Postgres and Keycloak)
 * with one hello instance.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InstanceEvent, Phase } from './api/contract.ts'
import { ProvisionerMetrics, type MetricSources } from './api/metrics.ts'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import type { Env } from './config.ts'
import { createLogger } from './log.ts'
import { escapeLabelValue, METRICS_CONTENT_TYPE, MetricsRegistry } from './metrics.ts'
import type { InstanceRow } from './store/instances.ts'
import { apiClient, testStack, waitFor, type TestStack } from './testing/stack.ts'

type Sample = { name: string; labels: Record<string, string>; value: number }

/** A reader of the text format, strict enough to fail on a line Prometheus would refuse. */
function parse(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true)
  const samples: Sample[] = []
  for (const line of text.slice(0, -1).split('\n')) {
    if (/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`)
    const labels: Record<string, string> = {}
    const pairs = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/gy
    const body = match[2] ?? ''
    let consumed = 0
    for (let pair = pairs.exec(body); pair; pair = pairs.exec(body)) {
      labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
      consumed = pairs.lastIndex
    }
    if (consumed !== body.length) throw new Error(`bad labels in ${JSON.stringify(line)}`)
    const raw = match[3]!
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw)
    if (raw !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value in ${JSON.stringify(line)}`)
    samples.push({ name: match[1]!, labels, value })
  }
  return samples
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}

describe('the metrics registry', () => {
  it('writes HELP and TYPE, counters from 0, and label values escaped', () => {
    const registry = new MetricsRegistry()
    const plain = registry.counter('jobs_total', 'Jobs done.\nSecond line with a \\ backslash.')
    const byPath = registry.counter('requests_total', 'Requests by path.', ['path'])
    registry.gauge('temperature', 'Not set: no sample.')
    byPath.inc({ path: 'C:\\tmp "quoted"\nnext' })
    byPath.inc({ path: 'C:\\tmp "quoted"\nnext' }, 2)
    expect(registry.text()).toBe(
      [
        '# HELP jobs_total Jobs done.\\nSecond line with a \\\\ backslash.',
        '# TYPE jobs_total counter',
        'jobs_total 0',
        '# HELP requests_total Requests by path.',
        '# TYPE requests_total counter',
        'requests_total{path="C:\\\\tmp \\"quoted\\"\\nnext"} 3',
        '# HELP temperature Not set: no sample.',
        '# TYPE temperature gauge',
        '',
      ].join('\n'),
    )
    expect(parse(registry.text())).toContainEqual({ name: 'requests_total', labels: { path: 'C:\\tmp "quoted"\nnext' }, value: 3 })
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd')
    plain.inc()
    expect(registry.text()).toContain('\njobs_total 1\n')
  })

  it('keeps a histogram: cumulative buckets with +Inf, sum and count', () => {
    const registry = new MetricsRegistry()
    const h = registry.histogram('pass_seconds', 'Passes.', [1, 0.1, 10])
    for (const v of [0.05, 0.1, 0.5, 3, 30]) h.observe(v)
    expect(registry.text()).toBe(
      [
        '# HELP pass_seconds Passes.',
        '# TYPE pass_seconds histogram',
        'pass_seconds_bucket{le="0.1"} 2',
        'pass_seconds_bucket{le="1"} 3',
        'pass_seconds_bucket{le="10"} 4',
        'pass_seconds_bucket{le="+Inf"} 5',
        'pass_seconds_sum 33.65',
        'pass_seconds_count 5',
        '',
      ].join('\n'),
    )
    const labelled = new MetricsRegistry().histogram('x_seconds', 'x', [1], ['kind'])
    labelled.observe({ kind: 'a' }, 2)
    expect(labelled.text()).toContain('x_seconds_bucket{kind="a",le="1"} 0\nx_seconds_bucket{kind="a",le="+Inf"} 1')
  })

  it('gauges: set, reset, +Inf', () => {
    const registry = new MetricsRegistry()
    const g = registry.gauge('things', 'Things.', ['kind'])
    const age = registry.gauge('age_seconds', 'Age.')
    g.set({ kind: 'a' }, 2)
    g.set({ kind: 'b' }, 5)
    age.set(Infinity)
    g.reset()
    g.set({ kind: 'b' }, 1)
    expect(parse(registry.text())).toEqual([
      { name: 'things', labels: { kind: 'b' }, value: 1 },
      { name: 'age_seconds', labels: {}, value: Infinity },
    ])
  })

  it('refuses bad names, the wrong labels, a falling counter and a second metric of a name', () => {
    const registry = new MetricsRegistry()
    expect(() => registry.gauge('bad-name', 'x')).toThrow(/not a valid metric name/)
    expect(() => registry.gauge('ok', 'x', ['__reserved'])).toThrow(/not a valid label name/)
    expect(() => registry.histogram('h', 'x', [1], ['le'])).toThrow(/not a valid label name/)
    expect(() => registry.histogram('h2', 'x', [])).toThrow(/bucket/)
    const c = registry.counter('c_total', 'x', ['a'])
    expect(() => c.inc({ b: '1' })).toThrow(/takes the labels \[a\]/)
    expect(() => c.inc({ a: '1' }, -1)).toThrow(/only goes up/)
    expect(() => registry.counter('c_total', 'again')).toThrow(/already registered/)
  })
})

describe('what the provisioner reports', () => {
  const row = (id: string, recipe: string, phase: Phase, desired: InstanceRow['desired'] = 'running') => ({ id, recipe, phase, desired })
  const rows = [row('hello-a', 'hello', 'ready'), row('hello-b', 'hello', 'ready'), row('loomio-a', 'loomio', 'failed'), row('hello-c', 'hello', 'purged', 'removed')]
  const sources = (backups: MetricSources['backups']): MetricSources => ({
    store: { list: async () => rows },
    controller: { queueDepth: () => 3, lastSweepAt: Date.now() - 4000 },
    backups,
  })

  it('counts instances, failed steps by kind and passes; backups off', async () => {
    const metrics = new ProvisionerMetrics()
    const events = new EventEmitter<{ event: [InstanceEvent] }>()
    metrics.watch({ events })
    const event = (step: string, status: InstanceEvent['status']) => events.emit('event', { seq: 1, instanceId: 'hello-a', step, status, message: '', at: new Date().toISOString() })
    event('container:web', 'retrying')
    event('container:db', 'failed')
    event('container:web', 'succeeded')
    event('health:web', 'started')
    metrics.passTook(0.2)
    const samples = parse(await metrics.text(sources(undefined)))
    expect(valueOf(samples, 'commons_provisioner_instances', { phase: 'ready', recipe: 'hello' })).toBe(2)
    expect(valueOf(samples, 'commons_provisioner_instances', { phase: 'failed', recipe: 'loomio' })).toBe(1)
    expect(valueOf(samples, 'commons_provisioner_instances', { phase: 'purged' })).toBeUndefined()
    expect(valueOf(samples, 'commons_provisioner_instances_failed')).toBe(1)
    expect(valueOf(samples, 'commons_provisioner_step_failures_total', { step: 'container' })).toBe(2)
    expect(valueOf(samples, 'commons_provisioner_step_failures_total', { step: 'health' })).toBe(0)
    expect(valueOf(samples, 'commons_provisioner_reconcile_duration_seconds_bucket', { le: '0.25' })).toBe(1)
    expect(valueOf(samples, 'commons_provisioner_reconcile_duration_seconds_count')).toBe(1)
    expect(valueOf(samples, 'commons_provisioner_queue_depth')).toBe(3)
    expect(valueOf(samples, 'commons_provisioner_last_sweep_age_seconds')).toBeGreaterThanOrEqual(4)
    expect(valueOf(samples, 'commons_provisioner_backups_configured')).toBe(0)
    expect(samples.filter((s) => s.name.startsWith('commons_provisioner_backup_') || s.name === 'commons_provisioner_backups_failed')).toEqual([])
  })

  it('reports backups: repository, last success of each running instance, failures', async () => {
    const lastGood = new Date('2026-03-01T02:00:00Z')
    const text = await new ProvisionerMetrics().text(
      sources({
        repositoryError: 'The backup storage is full.',
        opts: {
          store: {
            lastGood: async () => new Map([['hello-a', lastGood]]),
            problems: async () => ({ failedBackups: [{ instanceId: 'hello-b' }, { instanceId: 'hello-gone' }], failedVerifications: [{}, {}] }),
          },
        },
      }),
    )
    const samples = parse(text)
    expect(valueOf(samples, 'commons_provisioner_backups_configured')).toBe(1)
    expect(valueOf(samples, 'commons_provisioner_backup_repository_ok')).toBe(0)
    expect(samples.filter((s) => s.name === 'commons_provisioner_backup_last_success_timestamp_seconds')).toEqual([
      { name: 'commons_provisioner_backup_last_success_timestamp_seconds', labels: { instance: 'hello-a', recipe: 'hello' }, value: lastGood.getTime() / 1000 },
      { name: 'commons_provisioner_backup_last_success_timestamp_seconds', labels: { instance: 'hello-b', recipe: 'hello' }, value: 0 },
    ])
    expect(samples.filter((s) => s.name === 'commons_provisioner_backups_failed').map((s) => [s.labels.instance, s.value])).toEqual([
      ['hello-a', 0],
      ['hello-b', 1],
      ['hello-gone', 1],
    ])
    expect(valueOf(samples, 'commons_provisioner_backup_verifications_failed')).toBe(2)
  })
})

describe('GET /metrics of a running provisioner', () => {
  let stack: TestStack
  let env: Env
  let provisioner: RunningProvisioner
  let api: ReturnType<typeof apiClient>
  const metricsToken = randomBytes(32).toString('hex')
  const id = 'hello-metrics-coop'

  beforeAll(async () => {
    stack = await testStack(8)
    env = stack.env({ REMOVED_VOLUME_GRACE_DAYS: '0', METRICS_TOKEN: metricsToken })
    provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
    api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
  }, 300_000)

  afterAll(async () => {
    if (provisioner) {
      for (const instance of ((await api.call('GET', '/instances')).body as { instances: { id: string }[] }).instances) {
        await api.call('DELETE', `/instances/${instance.id}`)
        await waitFor(async () => (await api.get(instance.id)).phase === 'purged', `${instance.id} purged`, 60_000)
      }
      await provisioner.close()
      await stack.dropSchema(env.DATABASE_SCHEMA)
    }
    await stack?.close()
  }, 120_000)

  const scrape = (token?: string) => fetch(`http://127.0.0.1:${provisioner.port}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} })

  it('answers the API token and the metrics token, and no one else', async () => {
    const withApiToken = await scrape(env.PROVISIONER_API_TOKEN)
    expect(withApiToken.status).toBe(200)
    expect(withApiToken.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE)
    const samples = parse(await withApiToken.text())
    expect(valueOf(samples, 'commons_provisioner_queue_depth')).toBeGreaterThanOrEqual(0)
    expect(valueOf(samples, 'commons_provisioner_backups_configured')).toBe(0)

    expect((await scrape(metricsToken)).status).toBe(200)
    const anonymous = await scrape()
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')
    expect((await scrape('not-the-token')).status).toBe(401)
    // The metrics token opens nothing else.
    expect((await fetch(`http://127.0.0.1:${provisioner.port}/instances`, { headers: { Authorization: `Bearer ${metricsToken}` } })).status).toBe(401)
  })

  it('counts a ready hello instance and the passes that made it', async () => {
    const put = await api.put(id, { organization: { id: 'org-metrics-coop', slug: 'metrics-coop', name: 'Metrics Coop' }, recipe: 'hello', adminEmail: 'admin@metrics-coop.example' })
    expect(put.status).toBe(202)
    await waitFor(async () => (await api.get(id)).phase === 'ready', `${id} ready`, 120_000)
    // The pass that made it ready is counted when it ends, a moment after the phase changed.
    await provisioner.controller.idle()
    const samples = parse(await (await scrape(metricsToken)).text())
    expect(valueOf(samples, 'commons_provisioner_instances', { phase: 'ready', recipe: 'hello' })).toBe(1)
    expect(valueOf(samples, 'commons_provisioner_instances_failed')).toBe(0)
    expect(valueOf(samples, 'commons_provisioner_reconcile_duration_seconds_count')).toBeGreaterThan(0)
    expect(valueOf(samples, 'commons_provisioner_last_sweep_age_seconds')).toBeLessThan(60)
  }, 180_000)
})
