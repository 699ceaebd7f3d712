import { describe, expect, it } from 'vitest'
import { matches } from './swarm.ts'

// The Swarm driver picks a host before Swarm does, so it must read the
// platform's placement constraints the way Swarm does.
describe('placement constraints', () => {
  const worker = { id: 'n1', hostname: 'tools-1', role: 'worker', labels: { 'commons.tools': 'true', zone: 'oost' } }
  const manager = { id: 'n0', hostname: 'portal-1', role: 'manager', labels: {} }

  it.each([
    ['node.role==worker', true, false],
    ['node.role!=manager', true, false],
    ['node.hostname==portal-1', false, true],
    ['node.id==n1', true, false],
    ['node.labels.commons.tools==true', true, false],
    ['node.labels.zone!=west', true, true],
    [' node.labels.zone == oost ', true, false],
    // Engine labels and the platform are Swarm's to check.
    ['engine.labels.storage==ssd', true, true],
  ])('%s: worker %s, manager %s', (constraint, onWorker, onManager) => {
    expect(matches(constraint, worker)).toBe(onWorker)
    expect(matches(constraint, manager)).toBe(onManager)
  })

  it('refuses what is not a constraint, with the constraint in the message', () => {
    expect(() => matches('node.role worker', worker)).toThrow(/placement constraint "node.role worker" is not of the form key==value/)
  })
})
