-- DropIndex
DROP INDEX "ApiKeyUsage_createdAt_idx";

-- DropIndex
DROP INDEX "ApiKeyUsage_organizationId_endpoint_createdAt_idx";
