-- CreateEnum
CREATE TYPE "ToolRequestStatus" AS ENUM ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "DesiredState" AS ENUM ('RUNNING', 'SUSPENDED', 'REMOVED');

-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "instanceQuota" INTEGER NOT NULL DEFAULT 3;

-- CreateTable
CREATE TABLE "ToolDemand" (
    "id" TEXT NOT NULL,
    "recipeId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ToolDemand_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ToolRequest" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "recipeId" TEXT NOT NULL,
    "requestedById" TEXT,
    "status" "ToolRequestStatus" NOT NULL DEFAULT 'PENDING',
    "decidedById" TEXT,
    "decidedAt" TIMESTAMP(3),
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ToolRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Instance" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "recipeId" TEXT NOT NULL,
    "requestId" TEXT,
    "adminEmail" TEXT NOT NULL,
    "desiredState" "DesiredState" NOT NULL DEFAULT 'RUNNING',
    "phase" TEXT,
    "url" TEXT,
    "failureStep" TEXT,
    "failureMessage" TEXT,
    "purgeAt" TIMESTAMP(3),
    "lastSyncError" TEXT,
    "lastSyncAt" TIMESTAMP(3),
    "readyMailedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removedAt" TIMESTAMP(3),

    CONSTRAINT "Instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CatalogPolicy" (
    "recipeId" TEXT NOT NULL,
    "needsApproval" BOOLEAN NOT NULL,
    "updatedById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CatalogPolicy_pkey" PRIMARY KEY ("recipeId")
);

-- CreateIndex
CREATE UNIQUE INDEX "ToolDemand_recipeId_userId_key" ON "ToolDemand"("recipeId", "userId");

-- CreateIndex
CREATE INDEX "ToolRequest_organizationId_status_idx" ON "ToolRequest"("organizationId", "status");

-- CreateIndex
CREATE INDEX "ToolRequest_status_createdAt_idx" ON "ToolRequest"("status", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_requestId_key" ON "Instance"("requestId");

-- CreateIndex
CREATE INDEX "Instance_organizationId_idx" ON "Instance"("organizationId");

-- AddForeignKey
ALTER TABLE "ToolDemand" ADD CONSTRAINT "ToolDemand_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ToolRequest" ADD CONSTRAINT "ToolRequest_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ToolRequest" ADD CONSTRAINT "ToolRequest_requestedById_fkey" FOREIGN KEY ("requestedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ToolRequest" ADD CONSTRAINT "ToolRequest_decidedById_fkey" FOREIGN KEY ("decidedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ToolRequest"("id") ON DELETE SET NULL ON UPDATE CASCADE;
