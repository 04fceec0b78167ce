// `npm test`: every test of the portal, with its prerequisites made sure of first.
//   1. Debian packages the tests use (Chromium for end-to-end): installed with apt-get when
//      run as root, else the exact command to run is printed.
//   2. Services: PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 are started if
//      they are installed but stopped.
//   3. Type check, the lint of the OpenAPI document (Redocly, offline), the Xen test host
//      image (npm run xen:build, as root, when missing), then unit + integration tests
//      (Vitest), then end-to-end (Playwright in Debian's Chromium). The last
//      line counts passed, failed and skipped tests.
// `npm test -- unit` or `npm test -- e2e` runs one part (still with the prerequisites).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isRoot, portOpen, redisAnswers, run, waitFor, which } from "./lib.mjs";
import { lintOpenApi } from "./lint-openapi.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const results = path.join(root, "test-results");

/** What the tests need from Debian: a program that must exist, and the package that has it. */
const debianPackages = [
  { pkg: "chromium", file: "/usr/bin/chromium", why: "end-to-end tests (Playwright drives Debian's Chromium)" },
  { pkg: "postgresql", file: "/usr/bin/pg_ctlcluster", why: "integration tests on a real PostgreSQL", service: true },
  { pkg: "redis-server", file: "/usr/bin/redis-server", why: "integration tests on a real Redis", service: true },
  { pkg: "qemu-system-x86", file: "/usr/bin/qemu-system-x86_64", why: "real guests on the QEMU driver (software emulation, no KVM needed)" },
  { pkg: "qemu-utils", file: "/usr/bin/qemu-img", why: "qcow2 golden images and overlays" },
  { pkg: "busybox-static", file: "/bin/busybox", why: "the initramfs of the test guest image" },
  { pkg: "cpio", file: "/usr/bin/cpio", why: "packing the test guest's initramfs" },
  { pkg: "dropbear-bin", file: "/usr/sbin/dropbear", why: "the SSH server of the test guest image" },
  { pkg: "e2fsprogs", file: "/usr/sbin/mke2fs", why: "the test guest's /data filesystem (mke2fs in its image)" },
  { pkg: "postgresql-15", file: "/usr/lib/postgresql/15/bin/postgres", why: "the PostgreSQL guest image (linux-qemu-postgres: Debian's server and clients in its initramfs)" },
  { pkg: "postgresql-client", file: "/usr/bin/psql", why: "psql from the host's side of a database guest's network in the tests" },
  { pkg: "tzdata", file: "/usr/share/zoneinfo/Etc/UTC", why: "the UTC zone file of the PostgreSQL guest image" },
  { pkg: "openssh-client", file: "/usr/bin/ssh", why: "logging in to the test guests over SSH" },
  { pkg: "nftables", file: "/usr/sbin/nft", why: "networks kept apart in a QEMU host's network namespace (routed pairs only)" },
  { pkg: "openssh-server", file: "/usr/sbin/sshd", why: "the SSH transport, tested against a real sshd on loopback" },
  { pkg: "debootstrap", file: "/usr/sbin/debootstrap", why: "the dom0 root of the real Xen test host (npm run xen:build)" },
  // The tests run slapd themselves (own config, own ports); Debian's own slapd service is not used.
  { pkg: "slapd", file: "/usr/sbin/slapd", why: "directory (LDAP) sign-in, tested against a real OpenLDAP on loopback" },
  { pkg: "ldap-utils", file: "/usr/bin/ldapmodify", why: "loading and changing the test directory (ldapadd, ldapmodify)" },
];

const parts = process.argv.slice(2);
const wants = (part) => parts.length === 0 || parts.includes(part);
for (const p of parts) {
  if (!["unit", "e2e", "typecheck"].includes(p)) {
    console.error(`Unknown part "${p}". Use: npm test [-- unit|e2e|typecheck]`);
    process.exit(2);
  }
}

function say(line) {
  console.log(`[test] ${line}`);
}

async function ensurePackages() {
  const missing = debianPackages.filter((p) => !existsSync(p.file));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.pkg);
  for (const p of missing) say(`missing ${p.file} (Debian package ${p.pkg}), needed for ${p.why}`);
  if (!isRoot) {
    console.error(`\nInstall what the tests need, then run npm test again:\n  sudo apt-get update && sudo apt-get install -y ${names.join(" ")}\n`);
    process.exit(1);
  }
  say(`installing ${names.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if ((await run("apt-get", ["update", "-q"], { env })) !== 0) fatal("apt-get update failed (see above).");
  if ((await run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...names], { env })) !== 0) fatal(`apt-get install ${names.join(" ")} failed (see above).`);
}

async function ensurePostgres() {
  if (await portOpen("127.0.0.1", 5432)) return;
  const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql") : [];
  if (!isRoot || versions.length === 0 || !which("pg_ctlcluster")) {
    fatal("PostgreSQL does not answer at 127.0.0.1:5432. Start it (Debian: sudo pg_ctlcluster <version> main start) and run npm test again.");
  }
  say(`starting PostgreSQL ${versions[0]}`);
  await run("pg_ctlcluster", ["--skip-systemctl-redirect", versions[0], "main", "start"]);
  if (!(await waitFor(() => portOpen("127.0.0.1", 5432), { timeoutMs: 30_000 }))) fatal("PostgreSQL was started but does not answer at 127.0.0.1:5432.");
}

async function ensureRedis() {
  if (await redisAnswers("redis://127.0.0.1:6379")) return;
  const server = which("redis-server");
  if (!server) fatal("Redis does not answer at 127.0.0.1:6379 and redis-server is not installed (Debian: apt-get install -y redis-server).");
  say("starting Redis on 127.0.0.1:6379");
  const dir = path.join(root, ".data", "test-redis");
  mkdirSync(dir, { recursive: true });
  await run(server, ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no", "--dir", dir]);
  if (!(await waitFor(() => redisAnswers("redis://127.0.0.1:6379"), { timeoutMs: 15_000 }))) fatal("Redis was started but does not answer at 127.0.0.1:6379.");
}

function fatal(message) {
  console.error(`\n${message}\n`);
  process.exit(1);
}

function bin(name) {
  return path.join(root, "node_modules", ".bin", name);
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

async function main() {
  const started = Date.now();
  await ensurePackages();
  await ensurePostgres();
  await ensureRedis();
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });

  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", CI: process.env.CI ?? "1" };
  const tally = { passed: 0, failed: 0, skipped: 0 };
  const failures = [];

  if (wants("typecheck") || wants("unit")) {
    say("type check");
    const code = await run(bin("tsc"), ["--noEmit", "-p", "."], { cwd: root, env });
    if (code === 0) tally.passed += 1;
    else {
      tally.failed += 1;
      failures.push("type check");
    }
  }

  if (wants("unit")) {
    say("lint of the OpenAPI document (Redocly's recommended rules, redocly.yaml)");
    try {
      const lint = lintOpenApi();
      for (const line of lint.lines) say(`openapi: ${line}`);
      say(`openapi lint: ${lint.errors} error(s), ${lint.warnings} warning(s)`);
      if (lint.errors === 0 && lint.warnings === 0) tally.passed += 1;
      else {
        tally.failed += 1;
        failures.push(`OpenAPI lint (${lint.errors} error(s), ${lint.warnings} warning(s); run npm run lint:openapi)`);
      }
    } catch (err) {
      tally.failed += 1;
      failures.push(`OpenAPI lint could not run: ${err instanceof Error ? err.message : err}`);
    }
  }

  if (wants("unit")) {
    // The real Xen host of tests/integration/xen-real.test.ts: built once from Debian packages
    // into XEN_IMAGE_CACHE (some minutes, needs root and the Debian mirror), then reused while
    // its inputs are unchanged. Without it that test file is skipped, saying why.
    if (isRoot) {
      say("Xen test host image (npm run xen:build; reused when up to date)");
      if ((await run(bin("tsx"), [path.join(root, "scripts", "xen-build.ts")], { cwd: root, env })) !== 0) say("the Xen test host image could not be built (see above): the real-Xen test will be skipped");
    } else say("not root: the Xen test host image is not built here (npm run xen:build as root); the real-Xen test runs only if it is already built");
  }

  if (wants("unit")) {
    say("unit and integration tests (Vitest)");
    const out = path.join(results, "vitest.json");
    const code = await run(bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`], { cwd: root, env });
    const report = readJson(out);
    if (report) {
      tally.passed += report.numPassedTests ?? 0;
      tally.failed += report.numFailedTests ?? 0;
      tally.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
      if ((report.numFailedTests ?? 0) > 0) failures.push(`${report.numFailedTests} Vitest test(s)`);
    }
    if (code !== 0 && (!report || (report.numFailedTests ?? 0) === 0)) {
      tally.failed += 1;
      failures.push(`Vitest run (exit code ${code}; a suite failed to load or a hook failed)`);
    }
  }

  if (wants("e2e")) {
    say("end-to-end tests (Playwright in Debian's Chromium)");
    const out = path.join(results, "e2e.json");
    // E2E_QEMU=1: the e2e server also runs real QEMU guests (e2e/qemu.spec.ts); E2E_QEMU=0 leaves them out.
    const code = await run(bin("playwright"), ["test"], { cwd: root, env: { ...env, E2E_QEMU: env.E2E_QEMU ?? "1", PLAYWRIGHT_JSON_OUTPUT_NAME: out } });
    const report = readJson(out);
    const stats = report?.stats;
    if (stats) {
      tally.passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
      tally.failed += stats.unexpected ?? 0;
      tally.skipped += stats.skipped ?? 0;
      if ((stats.unexpected ?? 0) > 0) failures.push(`${stats.unexpected} end-to-end test(s)`);
      if ((stats.flaky ?? 0) > 0) say(`${stats.flaky} end-to-end test(s) passed only on retry`);
    }
    if (code !== 0 && (!stats || (stats.unexpected ?? 0) === 0)) {
      tally.failed += 1;
      failures.push(`Playwright run (exit code ${code}; the server or the browser did not start)`);
    }
  }

  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  if (failures.length) say(`failed: ${failures.join("; ")}`);
  say(`finished in ${minutes} min; reports in test-results/`);
  console.log(`${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
  process.exit(tally.failed > 0 ? 1 : 0);
}

main().catch((err) => fatal(`[test] ${err instanceof Error ? err.stack : err}`));
