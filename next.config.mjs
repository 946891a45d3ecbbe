/** @type {import('next').NextConfig} */
const nextConfig = {
  // PGlite and its adapter load wasm and data files from their own package folders.
  serverExternalPackages: ["@electric-sql/pglite", "pglite-prisma-adapter", "@node-rs/argon2", "pino"],
  poweredByHeader: false,
};
export default nextConfig;
