-- CreateEnum
CREATE TYPE "UsageGranularity" AS ENUM ('HOUR', 'DAY');

-- CreateEnum
CREATE TYPE "UsageRollupLevel" AS ENUM ('KEY_ENDPOINT', 'KEY', 'ENDPOINT', 'ORGANIZATION');

-- CreateTable
CREATE TABLE "UsageRollup" (
    "organizationId" UUID NOT NULL,
    "granularity" "UsageGranularity" NOT NULL,
    "level" "UsageRollupLevel" NOT NULL,
    "bucketStart" TIMESTAMP(3) NOT NULL,
    "apiKeyId" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "requests" BIGINT NOT NULL,
    "status2xx" BIGINT NOT NULL,
    "status3xx" BIGINT NOT NULL,
    "status4xx" BIGINT NOT NULL,
    "status5xx" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,
    "latencySumMs" BIGINT NOT NULL,
    "latencyMinMs" INTEGER NOT NULL,
    "latencyMaxMs" INTEGER NOT NULL,
    "latencyBuckets" INTEGER[],
    "latencyCounts" BIGINT[],
    "tokens" BIGINT NOT NULL,
    "costUsd" DECIMAL(20,6) NOT NULL,

    CONSTRAINT "UsageRollup_pkey" PRIMARY KEY ("organizationId","granularity","level","bucketStart","apiKeyId","endpoint","method")
);

-- CreateTable
CREATE TABLE "UsageErrorRollup" (
    "organizationId" UUID NOT NULL,
    "granularity" "UsageGranularity" NOT NULL,
    "bucketStart" TIMESTAMP(3) NOT NULL,
    "apiKeyId" UUID NOT NULL,
    "statusCode" INTEGER NOT NULL,
    "errorCode" TEXT NOT NULL,
    "count" BIGINT NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UsageErrorRollup_pkey" PRIMARY KEY ("organizationId","granularity","bucketStart","apiKeyId","statusCode","errorCode")
);

-- CreateIndex
CREATE INDEX "UsageRollup_organizationId_granularity_level_apiKeyId_bucke_idx" ON "UsageRollup"("organizationId", "granularity", "level", "apiKeyId", "bucketStart");

-- CreateIndex
CREATE INDEX "UsageErrorRollup_organizationId_granularity_apiKeyId_bucket_idx" ON "UsageErrorRollup"("organizationId", "granularity", "apiKeyId", "bucketStart");

-- AddForeignKey
ALTER TABLE "UsageRollup" ADD CONSTRAINT "UsageRollup_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageErrorRollup" ADD CONSTRAINT "UsageErrorRollup_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
