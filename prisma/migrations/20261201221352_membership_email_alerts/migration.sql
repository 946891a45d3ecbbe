-- AlterTable
ALTER TABLE "Membership" ADD COLUMN     "emailAlerts" TEXT[] DEFAULT ARRAY[]::TEXT[];
