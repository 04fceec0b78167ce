// `npm run bench:ssh`: what the SSH transport costs, against a real OpenSSH server on loopback
// (tests/helpers/sshd.ts; as root the sessions run as the test user `portaltest`).
//   (a) one command over the host's pooled connection (connection reused), p50/p95
//   (b) the same command with a fresh connection each time (TCP + key exchange + auth), p50/p95
//   (c) 48 commands of 200 ms each with the per-host limit at 1, 4 and 8: wall time
// Not part of `npm test`: a slow machine gives other figures, not a failure.
// Options (environment): BENCH_SSH_COMMANDS (default 200), BENCH_SSH_PORT (2229).
import { SshTransport, closeSshConnections } from "../lib/drivers/transport/ssh";
import { startSshd } from "../tests/helpers/sshd";

const n = Number(process.env.BENCH_SSH_COMMANDS || 200);
const port = Number(process.env.BENCH_SSH_PORT || 2229);

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(1)} ms, p95 ${pct(s, 95).toFixed(1)} ms (${s.length} runs)`;
};

const sshd = await startSshd({ port });
const target = { id: "bench", address: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKeyFingerprint: sshd.hostKeyFingerprint };
try {
  const pooled = new SshTransport({ ...target, maxConcurrency: 4 });
  await pooled.run(["true"]);
  const reused: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await pooled.run(["true"]);
    reused.push(performance.now() - t0);
  }
  console.log(`[bench-ssh] (a) command over the pooled connection: ${summary(reused)}`);

  const fresh: number[] = [];
  for (let i = 0; i < Math.min(n, 50); i++) {
    const t0 = performance.now();
    const own = new SshTransport(target, { pooled: false });
    await own.run(["true"]);
    await own.close();
    fresh.push(performance.now() - t0);
  }
  console.log(`[bench-ssh] (b) command with a new connection each time: ${summary(fresh)}`);

  for (const limit of [1, 4, 8]) {
    const t = new SshTransport({ ...target, id: `bench-${limit}`, maxConcurrency: limit });
    await t.run(["true"]);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 48 }, () => t.run(["sleep", "0.2"])));
    console.log(`[bench-ssh] (c) 48 x "sleep 0.2" with limit ${limit}: ${((performance.now() - t0) / 1000).toFixed(2)} s (ideal ${(48 / limit * 0.2).toFixed(2)} s)`);
  }
} finally {
  await closeSshConnections();
  await sshd.stop();
}
