export { effectiveRateLimit, toCachedKey } from "./cached-key";
export { toVerifyResult } from "./result";
export { type VerifyInput, type VerifyOutcome, verifyKey } from "./verify-key";
