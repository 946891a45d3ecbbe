// The key service, one verb per file: the one place that creates, lists, reads, revokes, rotates
// and updates API keys. Route handlers, server actions and the CLI call it and nothing below it.
// Every change runs in one transaction with its audit row. Verification: ../verify.
export { createKey } from "./create";
export { monthToDateSpend } from "./credits";
export { describeCaller } from "./describe-caller";
export { getKey } from "./get";
export { type ListKeysOptions, listKeys } from "./list";
export { revokeKey, revokeKeyById } from "./revoke";
export { capGracePeriodAtSourceExpiry, rotateKey } from "./rotate";
export type { KeyView, Visibility } from "./shared";
export { updateKey } from "./update";
