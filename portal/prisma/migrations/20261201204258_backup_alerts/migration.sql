-- CreateTable
CREATE TABLE "BackupAlert" (
    "key" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" TIMESTAMP(3),

    CONSTRAINT "BackupAlert_pkey" PRIMARY KEY ("key")
);
