/**
 * Isolation between organisations: each instance has its own network, so a
 * container of organisation A can neither resolve nor reach a container of
 * organisation B — while the proxy, which joins both, reaches both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import type { Env } from './config.ts'
import { createLogger } from './log.ts'
import { apiClient, testStack, waitFor, type TestStack } from './testing/stack.ts'

let stack: TestStack
let env: Env
let provisioner: RunningProvisioner
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  stack = await testStack(4)
  env = stack.env({ REMOVED_VOLUME_GRACE_DAYS: '0' })
  provisioner = await startProvisioner(env, createLogger(env.LOG_LEVEL))
  api = apiClient(provisioner.port, env.PROVISIONER_API_TOKEN)
  for (const slug of ['coop-a', 'coop-b']) {
    await api.put(`hello-${slug}`, { organization: { id: `org-${slug}`, slug, name: slug }, recipe: 'hello', adminEmail: `admin@${slug}.example` })
  }
  for (const slug of ['coop-a', 'coop-b']) await waitFor(async () => (await api.get(`hello-${slug}`)).phase === 'ready', `hello-${slug} ready`, 120_000)
}, 300_000)

afterAll(async () => {
  if (provisioner) {
    for (const slug of ['coop-a', 'coop-b']) {
      await api.call('DELETE', `/instances/hello-${slug}`)
      await waitFor(async () => (await api.get(`hello-${slug}`)).phase === 'purged', 'purged', 60_000)
    }
    await provisioner.close()
    await stack.dropSchema(env.DATABASE_SCHEMA)
  }
  await stack?.close()
}, 120_000)

async function run(container: string, cmd: string[]): Promise<number> {
  const exec = await stack.docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({ hijack: true, stdin: false })
  stream.resume()
  await new Promise((resolve) => stream.on('end', resolve))
  return (await exec.inspect()).ExitCode ?? -1
}

describe('isolation between organisations', () => {
  it("A's container cannot reach B's, by name or by address; the proxy reaches both", async () => {
    const b = await stack.docker.getContainer('hello-coop-b-web').inspect()
    const bAddress = b.NetworkSettings.Networks['hello-coop-b-net']?.IPAddress
    expect(bAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/)

    // Positive controls first, so a failure below is isolation, not a broken probe.
    expect(await run('hello-coop-a-web', ['timeout', '3', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'])).toBe(0)
    expect(await run(stack.proxy.containerName, ['timeout', '3', 'wget', '-q', '-O', '/dev/null', `http://${bAddress}:8080/`])).toBe(0)
    expect(await run(stack.proxy.containerName, ['timeout', '3', 'wget', '-q', '-O', '/dev/null', 'http://hello-coop-b-web:8080/'])).toBe(0)

    expect(await run('hello-coop-a-web', ['timeout', '3', 'wget', '-q', '-O', '/dev/null', 'http://hello-coop-b-web:8080/'])).not.toBe(0)
    expect(await run('hello-coop-a-web', ['timeout', '3', 'wget', '-q', '-O', '/dev/null', `http://${bAddress}:8080/`])).not.toBe(0)
  }, 60_000)
})
