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
import {
  createWebhookRoute,
  deleteWebhookRoute,
  getWebhookRoute,
  listWebhookDeliveriesRoute,
  listWebhooksRoute,
  resendWebhookDeliveryRoute,
  rotateWebhookSecretRoute,
  sendWebhookTestRoute,
  updateWebhookRoute,
} from "./webhooks";

export {
  createKeyRoute,
  createWebhookRoute,
  deleteWebhookRoute,
  getKeyRoute,
  getWebhookRoute,
  githubSecretScanningRoute,
  healthRoute,
  listKeysRoute,
  listWebhookDeliveriesRoute,
  listWebhooksRoute,
  meRoute,
  reportLeakRoute,
  resendWebhookDeliveryRoute,
  revokeKeyRoute,
  rotateKeyRoute,
  rotateWebhookSecretRoute,
  sendWebhookTestRoute,
  unknownRoute,
  updateKeyRoute,
  updateWebhookRoute,
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
  listWebhooksRoute,
  createWebhookRoute,
  getWebhookRoute,
  updateWebhookRoute,
  deleteWebhookRoute,
  rotateWebhookSecretRoute,
  listWebhookDeliveriesRoute,
  resendWebhookDeliveryRoute,
  sendWebhookTestRoute,
  healthRoute,
] as const;
