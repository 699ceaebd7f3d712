import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '~/generated/prisma/client'

declare global {
  var __prisma: PrismaClient | undefined
}

/** One client per process (kept across dev reloads); the URL is set by server/index.ts. */
export function db(): PrismaClient {
  if (!globalThis.__prisma) {
    const url = process.env.DATABASE_URL
    if (!url) throw new Error('DATABASE_URL is not set: the server sets it before the first request')
    globalThis.__prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) })
  }
  return globalThis.__prisma
}

export async function disconnectDb() {
  await globalThis.__prisma?.$disconnect()
  globalThis.__prisma = undefined
}
