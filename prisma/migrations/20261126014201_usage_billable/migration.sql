-- AlterTable
ALTER TABLE "ApiKeyUsage" ADD COLUMN     "billable" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "UsageRollup" ADD COLUMN     "billable" BIGINT NOT NULL DEFAULT 0;
