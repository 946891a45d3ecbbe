-- CreateTable
CREATE TABLE "ServiceCredential" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "secretHash" CHAR(64) NOT NULL,
    "prefix" TEXT NOT NULL,
    "hint" TEXT NOT NULL,
    "scopes" TEXT[],
    "organizationId" UUID,
    "createdBy" TEXT,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "revokedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ServiceCredential_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ServiceCredential_secretHash_key" ON "ServiceCredential"("secretHash");

-- CreateIndex
CREATE INDEX "ServiceCredential_createdAt_idx" ON "ServiceCredential"("createdAt");

-- CreateIndex
CREATE INDEX "ServiceCredential_organizationId_idx" ON "ServiceCredential"("organizationId");

-- AddForeignKey
ALTER TABLE "ServiceCredential" ADD CONSTRAINT "ServiceCredential_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
