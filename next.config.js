/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ["@electric-sql/pglite", "bullmq", "ioredis", "pg"],
  poweredByHeader: false,
};
export default nextConfig;
