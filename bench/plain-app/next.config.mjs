// A minimal Next app for the benchmark's "plain route handler" row (bench/verify-bench.ts):
// one route handler, no headers(), no proxy, nothing of Keyward's. Kept outside app/ so the
// product has no bench-only route.
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export default {
  poweredByHeader: false,
  turbopack: { root },
  outputFileTracingRoot: root,
};
