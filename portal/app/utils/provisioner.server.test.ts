import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contractStubProvisioner, unreachableProvisioner } from './contract-stub-provisioner.testing'
import { ProvisionerClient, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable, type InstanceEvent } from './provisioner.server'

// The client against contractStubProvisioner: a test double that speaks the
// provisioner's contract over real HTTP. It is not the provisioner.

let stub: Awaited<ReturnType<typeof contractStubProvisioner>>
const org = { id: 'org-1', slug: 'groene-bakkerij', name: 'Groene Bakkerij' }

beforeAll(async () => {
  stub = await contractStubProvisioner()
})
afterAll(() => stub.stop())

/** A server that answers every request with `status` and `body`. */
async function answering(status: number, body: string) {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' })
    res.end(body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    client: new ProvisionerClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'x'.repeat(20) }),
    close: () => new Promise((r) => server.close(r)),
  }
}

describe('ProvisionerClient', () => {
  it('sends the desired state with the bearer token and reads the instance back', async () => {
    const client = stub.client()
    const view = await client.putInstance('nextcloud-groene-bakkerij', { organization: org, recipe: 'nextcloud', adminEmail: 'anouk@example.org' })
    expect(view).toMatchObject({ id: 'nextcloud-groene-bakkerij', organizationId: 'org-1', desired: 'running', phase: 'provisioning' })
    expect(await client.listInstances('org-1')).toHaveLength(1)
    expect(await client.listInstances('someone-else')).toEqual([])
    expect(await client.getInstance('nextcloud-groene-bakkerij')).toMatchObject({ recipe: 'nextcloud' })
    expect(await client.getInstance('never-heard-of')).toBeNull()
    expect((await client.restartInstance('nextcloud-groene-bakkerij')).id).toBe('nextcloud-groene-bakkerij')
    expect((await client.events('nextcloud-groene-bakkerij')).map((e) => e.step)).toEqual(['secrets', 'restart'])
    expect((await client.logs('nextcloud-groene-bakkerij')).containers[0]?.lines).toContain('listening on 8080')
    const removed = await client.deleteInstance('nextcloud-groene-bakkerij')
    expect(removed).toMatchObject({ desired: 'removed', phase: 'removing' })
    expect(removed.purgeAt).not.toBeNull()
  })

  it('turns the contract’s error answers into ProvisionerRefused with the code', async () => {
    await expect(stub.client({ token: 'wrong-token-0123456789' }).listInstances('org-1')).rejects.toMatchObject({
      name: 'ProvisionerRefused',
      status: 401,
      code: 'unauthorized',
    })
    await stub.client().putInstance('loomio-a', { organization: org, recipe: 'loomio', adminEmail: 'a@example.org' })
    const mismatch = stub.client().putInstance('loomio-a', { organization: { ...org, id: 'org-2' }, recipe: 'loomio', adminEmail: 'a@example.org' })
    await expect(mismatch).rejects.toBeInstanceOf(ProvisionerRefused)
    await expect(mismatch).rejects.toMatchObject({ code: 'organization-mismatch' })
  })

  it('checks our own body against the contract before sending it', async () => {
    const calls = stub.calls.length
    await expect(stub.client().putInstance('Bad Id', { organization: org, recipe: 'loomio', adminEmail: 'not-an-address' })).rejects.toThrow()
    expect(stub.calls.length).toBe(calls)
  })

  it('says ProvisionerUnavailable when nothing listens, or a proxy answers 502-504', async () => {
    const down = await unreachableProvisioner()
    await expect(down.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerUnavailable)
    await expect(down.listInstances('org-1')).rejects.toMatchObject({ key: 'provisioner.unavailable' })
    const gateway = await answering(502, '<html>Bad Gateway</html>')
    await expect(gateway.client.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerUnavailable)
    await gateway.close()
  })

  it('refuses answers that are not in the contract’s shape', async () => {
    const wrong = await answering(200, JSON.stringify({ instances: [{ id: 'x' }] }))
    await expect(wrong.client.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerProtocolError)
    await wrong.close()
    const noErrorBody = await answering(500, 'oops')
    await expect(noErrorBody.client.listInstances('org-1')).rejects.toBeInstanceOf(ProvisionerProtocolError)
    await noErrorBody.close()
  })

  it('streams events as they happen, from after the last one seen', async () => {
    const client = stub.client()
    await client.putInstance('hello-stream', { organization: org, recipe: 'hello', adminEmail: 'a@example.org' })
    stub.addEvent('hello-stream', 'network', 'succeeded')
    const first = (await client.events('hello-stream'))[0]!
    const abort = new AbortController()
    const stream = await client.eventStream('hello-stream', { lastEventId: String(first.seq), signal: abort.signal })
    const seen: InstanceEvent[] = []
    setTimeout(() => stub.addEvent('hello-stream', 'container:web', 'started', 'abc123'), 50)
    for await (const event of stream) {
      seen.push(event)
      if (event.step === 'container:web') break
    }
    abort.abort()
    expect(seen.map((e) => `${e.step} ${e.status}`)).toEqual(['network succeeded', 'container:web started'])
  })
})
