-- DropForeignKey
ALTER TABLE "RateLimitTracking" DROP CONSTRAINT "RateLimitTracking_apiKeyId_fkey";

-- DropIndex
DROP INDEX "RateLimitTracking_apiKeyId_windowStart_key";

-- AlterTable
ALTER TABLE "RateLimitTracking" DROP COLUMN "apiKeyId",
ADD COLUMN     "key" TEXT NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "RateLimitTracking_key_windowStart_key" ON "RateLimitTracking"("key", "windowStart");
