import { describe, expect, it } from 'vitest'
import { formatBytes, formatDateTime } from './format'

describe('sizes and moments for people', () => {
  it('says sizes in decimal units with one decimal, in the reader’s language', () => {
    expect(formatBytes(12_400_000, 'en')).toBe('12.4 MB')
    expect(formatBytes(12_400_000, 'nl')).toBe('12,4 MB')
    expect(formatBytes(512, 'en')).toBe('512 B')
    expect(formatBytes(999_960, 'en')).toBe('1 MB')
    expect(formatBytes(3_250_000_000, 'en')).toBe('3.3 GB')
  })

  it('says a moment in Dutch time', () => {
    expect(formatDateTime('2025-03-02T03:00:00.000Z', 'en')).toBe('2 Mar 2025, 04:00')
    expect(formatDateTime('2025-07-02T03:00:00.000Z', 'nl')).toBe('2 jul 2025, 05:00')
  })
})
