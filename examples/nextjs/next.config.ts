import path from "node:path";
import type { NextConfig } from "next";

const config: NextConfig = {
  // The example lives in the repository's npm workspace: its root holds node_modules.
  turbopack: { root: path.resolve(import.meta.dirname, "../..") },
  outputFileTracingRoot: path.resolve(import.meta.dirname, "../.."),
};
export default config;
