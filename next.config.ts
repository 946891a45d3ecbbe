import type { NextConfig } from "next";
import { oauthFormActionOrigins, securityHeaders } from "./lib/auth/security-headers";

// `npm test` (scripts/test.mjs) builds with KEYWARD_TEST_BUILD=1: it type-checks the whole project
// itself right after the build (tsc, with the route types the build writes to .next/types), and
// a fresh clone builds once, so Next's own second type check and the build cache it would write
// for a later rebuild (about 30 s of CPU) are skipped there. `npm start` builds with both.
const testBuild = process.env.KEYWARD_TEST_BUILD === "1";

const nextConfig: NextConfig = {
  // PGlite and its adapter load wasm and data files from their own package folders;
  // argon2 is a native addon; pino spawns its own transports.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@node-rs/argon2",
    "pino",
    "ioredis",
    // One copy of the metrics registry for server.ts and the route handlers (lib/metrics).
    "prom-client",
  ],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: testBuild },
  experimental: {
    turbopackFileSystemCacheForBuild: !testBuild,
    // Bodies are bounded everywhere (PRODUCT.md section 8): the sign-in, sign-up and dashboard
    // forms send a few KiB at most. Next refuses a larger action body with 413 while reading it.
    serverActions: { bodySizeLimit: "64kb" },
  },
  async headers() {
    return [
      {
        // /api/v1 sets its own headers (nosniff, no-store); evaluating this rule there costs
        // about 20% of a route handler's throughput (docs/benchmarks.md).
        source: "/((?!api/v1/).*)",
        headers: securityHeaders({
          dev: process.env.NODE_ENV === "development",
          formActionOrigins: oauthFormActionOrigins(),
        }),
      },
    ];
  },
};

export default nextConfig;
