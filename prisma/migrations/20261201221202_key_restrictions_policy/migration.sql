-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "allowedCidrs" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "externalId" TEXT,
ADD COLUMN     "meta" JSONB;

-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "keyExpiryRequired" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "liveKeysAdminsOnly" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "maxKeyLifetimeDays" INTEGER;

-- CreateIndex
CREATE INDEX "ApiKey_organizationId_externalId_idx" ON "ApiKey"("organizationId", "externalId");
