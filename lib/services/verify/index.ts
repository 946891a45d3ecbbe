export { toVerifyResult } from "./result";
export { type VerifyOutcome, verifyKey } from "./verify-key";
