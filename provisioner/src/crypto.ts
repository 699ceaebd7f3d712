import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto'

/**
 * Instance secrets are sealed with AES-256-GCM under a key from the
 * environment (SECRETS_KEY, 32 bytes in base64), so a copy of the database
 * alone does not give away any tool's passwords. The format is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url, so a later key rotation can tell
 * versions apart.
 */
export class SecretBox {
  readonly #key: Buffer

  constructor(keyBase64: string) {
    const key = Buffer.from(keyBase64, 'base64')
    if (key.length !== 32) throw new Error('SECRETS_KEY must be 32 bytes in base64 (openssl rand -base64 32)')
    this.#key = key
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    // The context (instance id and secret name) is authenticated, so a sealed
    // value copied to another row does not open there.
    cipher.setAAD(Buffer.from(context))
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return ['v1', iv, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.')
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, body] = sealed.split('.')
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('sealed secret has an unknown format')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(context))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
  }
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Alphanumeric only: secrets land in env files, YAML, URLs and shell-free argv alike. */
export function generateSecret(length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
  return out
}
