-- CreateEnum
CREATE TYPE "CreditRefillInterval" AS ENUM ('DAY', 'MONTH');

-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "creditsRefillAmount" INTEGER,
ADD COLUMN     "creditsRefillInterval" "CreditRefillInterval",
ADD COLUMN     "creditsRemaining" INTEGER,
ADD COLUMN     "spendLimitUsd" DECIMAL(14,6);

-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "spendLimitUsd" DECIMAL(14,6);

-- CreateTable
CREATE TABLE "KeyCreditBalance" (
    "apiKeyId" UUID NOT NULL,
    "remaining" INTEGER NOT NULL,
    "period" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "KeyCreditBalance_pkey" PRIMARY KEY ("apiKeyId")
);

-- AddForeignKey
ALTER TABLE "KeyCreditBalance" ADD CONSTRAINT "KeyCreditBalance_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE CASCADE ON UPDATE CASCADE;
