-- CreateEnum
CREATE TYPE "LeakAction" AS ENUM ('REVOKE', 'NOTIFY');

-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "checksummed" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "leakSource" TEXT,
ADD COLUMN     "leakUrl" TEXT,
ADD COLUMN     "leakedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "leakAction" "LeakAction" NOT NULL DEFAULT 'REVOKE';

-- CreateIndex
CREATE INDEX "ApiKey_checksummed_status_idx" ON "ApiKey"("checksummed", "status");
