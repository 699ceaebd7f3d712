import { describe, expect, it } from 'vitest'
import { newCertificateCode, normaliseCertificateCode } from './certificates.server'
import { CODE_ALPHABET } from './learning-forms'

// The code is the only key to a certificate: random, readable, and forgiving
// of how people type it. Issuing and finding are tested with the rest of
// learning in learning.server.test.ts.

describe('certificate codes', () => {
  it('are three groups of four from an alphabet without look-alikes', () => {
    expect(CODE_ALPHABET).not.toMatch(/[01ILO]/)
    for (let i = 0; i < 200; i++) {
      const code = newCertificateCode()
      expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/)
      expect([...code.replaceAll('-', '')].every((c) => CODE_ALPHABET.includes(c))).toBe(true)
    }
  })

  it('do not repeat, and use the whole alphabet', () => {
    const codes = Array.from({ length: 2000 }, newCertificateCode)
    expect(new Set(codes).size).toBe(codes.length)
    expect(new Set(codes.join('').replaceAll('-', '')).size).toBe(CODE_ALPHABET.length)
  })

  it('are read back from how people type them', () => {
    expect(normaliseCertificateCode('k7qm-3xda-9prt')).toBe('K7QM-3XDA-9PRT')
    expect(normaliseCertificateCode('K7QM3XDA9PRT')).toBe('K7QM-3XDA-9PRT')
    expect(normaliseCertificateCode(' k7qm 3xda 9prt ')).toBe('K7QM-3XDA-9PRT')
    expect(normaliseCertificateCode('K7QM–3XDA–9PRT')).toBe('K7QM-3XDA-9PRT')
  })

  it('are refused when they cannot be a code', () => {
    for (const wrong of ['', 'K7QM-3XDA', 'K7QM-3XDA-9PRT-AAAA', 'K7QM-3XDA-9PR0', 'OOOO-IIII-LLLL', '<script>', 'K7QM/3XDA/9PRT']) {
      expect(normaliseCertificateCode(wrong)).toBeNull()
    }
  })
})
