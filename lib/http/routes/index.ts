// Every /api/v1 route, for the OpenAPI document and for servers that route without Next.
import {
  createKeyRoute,
  getKeyRoute,
  listKeysRoute,
  meRoute,
  revokeKeyRoute,
  rotateKeyRoute,
  updateKeyRoute,
} from "./keys";
import { githubSecretScanningRoute, reportLeakRoute } from "./leaks";
import { healthRoute, unknownRoute } from "./system";
import { usageEventsRoute, usageReportRoute } from "./usage";
import { verifyRoute } from "./verify";

export {
  createKeyRoute,
  getKeyRoute,
  githubSecretScanningRoute,
  healthRoute,
  listKeysRoute,
  meRoute,
  reportLeakRoute,
  revokeKeyRoute,
  rotateKeyRoute,
  unknownRoute,
  updateKeyRoute,
  usageEventsRoute,
  usageReportRoute,
  verifyRoute,
};

export const API_ROUTES = [
  verifyRoute,
  meRoute,
  listKeysRoute,
  createKeyRoute,
  getKeyRoute,
  updateKeyRoute,
  revokeKeyRoute,
  rotateKeyRoute,
  reportLeakRoute,
  githubSecretScanningRoute,
  usageReportRoute,
  usageEventsRoute,
  healthRoute,
] as const;
