/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ["@electric-sql/pglite", "bullmq", "ioredis", "nodemailer", "pg", "ssh2"],
  poweredByHeader: false,
  // forbidden() from next/navigation: pages a role may not open answer HTTP 403 (app/forbidden.tsx).
  experimental: { authInterrupts: true },
};
export default nextConfig;
