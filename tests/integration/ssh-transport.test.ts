/**
 * The SSH transport against a real OpenSSH server on loopback (tests/helpers/sshd.ts): what a
 * driver's commands go through on a registered host. Arguments arrive verbatim, output lines
 * arrive while the command still runs, timeouts kill the remote command, a changed host key is
 * refused, and no more than the host's limit of commands run at once.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { Readable } from "node:stream";
import { createServer, type Server } from "node:net";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeSshConnections, SshTransport, type SshTarget } from "@/lib/drivers/transport/ssh";
import { TransportError } from "@/lib/drivers/transport/types";
import { startSshd, type RunningSshd } from "../helpers/sshd";
import { waitFor } from "../helpers/portal";

const PORT = 2221;
let sshd: RunningSshd;
let target: SshTarget;
let ssh: SshTransport;

beforeAll(async () => {
  sshd = await startSshd({ port: PORT });
  target = {
    id: "transport-test",
    address: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.privateKey,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    maxConcurrency: 4,
  };
  ssh = new SshTransport(target);
});

afterAll(async () => {
  await closeSshConnections();
  await sshd?.stop();
});

/** How many logins sshd accepted so far. */
const logins = () => (sshd.log().match(/Accepted publickey for/g) ?? []).length;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("running commands", () => {
  it("delivers every argument verbatim: quotes, spaces, $(), backticks and ; run nothing", async () => {
    const marker = path.join(sshd.workDir, "pwned");
    const args = [
      "with space",
      "single'quote",
      'double"quote',
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `a; touch ${marker}`,
      `a && touch ${marker} || touch ${marker}`,
      `> ${marker}`,
      "$HOME ${PATH} $0 $@",
      "glob * ?",
      "back\\slash",
      "",
      "-n",
      "héllo ✓",
    ];
    const result = await ssh.run(["printf", "%s\\0", ...args]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\0").slice(0, -1)).toEqual(args);
    expect(existsSync(marker)).toBe(false);
  });

  it("returns exit codes and stderr, and runs as the host's login user", async () => {
    const failed = await ssh.run(["sh", "-c", 'echo "disk full" >&2; exit 3']);
    expect(failed).toMatchObject({ code: 3, stderr: "disk full\n", stdout: "" });
    const who = await ssh.run(["id", "-un"]);
    expect(who).toMatchObject({ code: 0, stdout: `${sshd.user}\n` });
    const missing = await ssh.run(["no-such-program-here"]);
    expect(missing.code).toBe(127);
  });

  it("passes standard input to the command", async () => {
    const result = await ssh.run(["wc", "-l"], { stdin: "a\nb\nc\n" });
    expect(result.stdout.trim()).toBe("3");
  });

  it("streams output lines while the command still runs", async () => {
    const flag = path.join(sshd.workDir, `go-${Date.now()}`);
    const lines: string[] = [];
    let ended = false;
    const running = ssh
      .run(["sh", "-c", 'echo first; echo "warn: slow" >&2; while [ ! -e "$1" ]; do sleep 0.05; done; echo second', "sh", flag], {
        onLine: (stream, line) => lines.push(`${stream}:${line}`),
        timeoutMs: 20_000,
      })
      .finally(() => {
        ended = true;
      });
    // Both lines arrive although the command is still waiting for the flag file.
    await waitFor(async () => lines.slice(), (l) => l.includes("stdout:first") && l.includes("stderr:warn: slow"), { what: "the first lines" });
    expect(ended).toBe(false);
    writeFileSync(flag, "");
    const result = await running;
    expect(result.code).toBe(0);
    expect(lines).toEqual(expect.arrayContaining(["stdout:first", "stderr:warn: slow", "stdout:second"]));
    expect(lines.indexOf("stdout:second")).toBeGreaterThan(lines.indexOf("stdout:first"));
    rmSync(flag);
  });

  it("kills the remote command, children included, when it runs past its timeout", async () => {
    const pids = path.join(sshd.workDir, "pids");
    const started = Date.now();
    const err = await ssh
      .run(["sh", "-c", 'sleep 600 & echo $! > "$1"; echo $$ >> "$1"; wait', "sh", pids], { timeoutMs: 1500 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).kind).toBe("timeout");
    expect((err as TransportError).message).toMatch(/sh did not finish within 1500 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const [child, shell] = readFileSync(pids, "utf8").trim().split("\n").map(Number);
    await waitFor(async () => [alive(child), alive(shell)], (a) => !a[0] && !a[1], { what: "the remote sleep and its shell to be gone", timeoutMs: 10_000 });
  });

  it("stops a command when the worker aborts", async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const running = ssh.run(["sh", "-c", "echo started; exec sleep 600"], { signal: controller.signal, onLine: (_s, l) => lines.push(l) });
    await waitFor(async () => lines.slice(), (l) => l.includes("started"), { what: "the command to start" });
    controller.abort();
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).kind).toBe("aborted");
  });

  it("reuses one connection for many commands", async () => {
    await ssh.run(["true"]);
    const before = logins();
    for (let i = 0; i < 5; i++) expect((await ssh.run(["echo", String(i)])).stdout).toBe(`${i}\n`);
    await Promise.all([1, 2, 3].map((i) => ssh.run(["echo", String(i)])));
    expect(logins()).toBe(before);
  });
});

describe("the per-host concurrency limit", () => {
  /** Runs `n` commands at once that each record when they ran; returns the most that overlapped. */
  async function maxOverlap(limit: number, n: number): Promise<number> {
    const t = new SshTransport({ ...target, id: `limit-${limit}`, maxConcurrency: limit });
    const results = await Promise.all(
      Array.from({ length: n }, () => t.run(["sh", "-c", "date +%s%N; sleep 0.4; date +%s%N"], { timeoutMs: 30_000 })),
    );
    const spans = results.map((r) => r.stdout.trim().split("\n").map(BigInt));
    const edges = spans.flatMap(([start, end]) => [
      [start, 1],
      [end, -1],
    ] as [bigint, number][]);
    edges.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
    let running = 0;
    let most = 0;
    for (const [, d] of edges) most = Math.max(most, (running += d));
    return most;
  }

  it("runs at most `limit` commands at once on a host, queueing the rest", async () => {
    expect(await maxOverlap(2, 6)).toBe(2);
  });

  it("without that limit the same commands do overlap more", async () => {
    expect(await maxOverlap(6, 6)).toBeGreaterThan(2);
  });
});

describe("files and streams", () => {
  it("writes a file with its mode, creating directories, and reads it back", async () => {
    const file = path.join(sshd.workDir, "etc/xen/env-0005.cfg");
    const content = `name = "env-0005"\nextra = "console=hvc0 $(not run) 'quoted'"\n`;
    await ssh.writeFile(file, content, { mode: 0o600 });
    expect(readFileSync(file, "utf8")).toBe(content);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await ssh.readFile(file))?.toString()).toBe(content);
    // Rewriting replaces the content and applies the new mode.
    await ssh.writeFile(file, "short\n", { mode: 0o644 });
    expect(readFileSync(file, "utf8")).toBe("short\n");
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("takes a path with spaces and shell characters as a name, nothing more", async () => {
    const dir = path.join(sshd.workDir, "odd dir; $(touch pwned)");
    const file = path.join(dir, "it's `here`.txt");
    await ssh.writeFile(file, Buffer.from([0, 1, 2, 255]));
    expect([...readFileSync(file)]).toEqual([0, 1, 2, 255]);
    expect(existsSync(path.join(sshd.workDir, "pwned"))).toBe(false);
    expect(existsSync(path.join(process.cwd(), "pwned"))).toBe(false);
  });

  it("reads a missing file as null and refuses relative paths", async () => {
    expect(await ssh.readFile(path.join(sshd.workDir, "no-such-file"))).toBeNull();
    await expect(ssh.writeFile("relative/file", "x")).rejects.toThrow(/absolute path/);
  });

  it("opens a byte stream to a unix socket on the host", async () => {
    const socketPath = path.join(sshd.workDir, "qmp.sock");
    const server: Server = createServer((conn) => {
      conn.write('{"QMP": {"version": {}}}\n');
      conn.on("data", (d) => conn.write(`echo ${d.toString()}`));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    chmodSync(socketPath, 0o777); // the login user connects to it
    try {
      const stream = await ssh.openStream(socketPath);
      const received: string[] = [];
      stream.on("data", (d: Buffer) => received.push(d.toString()));
      await waitFor(async () => received.join(""), (s) => s.includes('{"QMP"'), { what: "the greeting" });
      stream.write('{"execute":"qmp_capabilities"}\n');
      await waitFor(async () => received.join(""), (s) => s.includes('echo {"execute":"qmp_capabilities"}'), { what: "the echo" });
      stream.end();
    } finally {
      await new Promise((r) => server.close(r));
    }
    await expect(ssh.openStream(path.join(sshd.workDir, "none.sock"))).rejects.toThrow(TransportError);
  });
});

describe("streaming big files (disk copies)", () => {
  const MiB = 1024 ** 2;
  const SIZE = 200 * MiB;

  /** Runs `work` while sampling this process's RSS; answers how far it rose above where it started. */
  async function rssRise(work: () => Promise<void>): Promise<number> {
    global.gc?.();
    const start = process.memoryUsage().rss;
    let peak = start;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      await work();
    } finally {
      clearInterval(timer);
    }
    return Math.max(peak, process.memoryUsage().rss) - start;
  }

  /** A 200 MiB sparse file on the host with random bytes at its start, middle and end. */
  async function bigRemoteFile(name: string) {
    const file = path.join(sshd.workDir, name);
    const made = await ssh.run(["sh", "-c", 'truncate -s "$2" "$1" && for at in 0 100 199; do head -c 1048576 /dev/urandom | dd of="$1" bs=1M seek=$at conv=notrunc 2>/dev/null; done', "sh", file, String(SIZE)]);
    expect(made.code).toBe(0);
    return file;
  }
  const remoteSha = async (file: string) => (await ssh.run(["sha256sum", file])).stdout.split(" ")[0];

  it("reads a 200 MiB file as a stream with the host's checksum, while memory stays flat", async () => {
    const file = await bigRemoteFile("disk-read.img");
    const hash = createHash("sha256");
    let bytes = 0;
    const rise = await rssRise(async () => {
      for await (const chunk of await ssh.readStream(file)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    });
    expect(bytes).toBe(SIZE);
    expect(hash.digest("hex")).toBe(await remoteSha(file));
    console.log(`readStream of ${SIZE / MiB} MiB: RSS rose ${(rise / MiB).toFixed(1)} MiB`);
    expect(rise).toBeLessThan(64 * MiB);
  });

  it("writes a 200 MiB stream into a file, checksum intact, while memory stays flat", async () => {
    const file = path.join(sshd.workDir, "streams", "disk-write.img");
    const hash = createHash("sha256");
    let written = 0;
    const rise = await rssRise(async () => {
      async function* chunks() {
        for (let i = 0; i < SIZE / MiB; i++) {
          const chunk = i % 50 === 0 ? randomBytes(MiB) : Buffer.alloc(MiB, i);
          hash.update(chunk);
          yield chunk;
        }
      }
      written = await ssh.writeStream(file, Readable.from(chunks()), { mode: 0o600 });
    });
    expect(written).toBe(SIZE);
    expect(await remoteSha(file)).toBe(hash.digest("hex"));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    console.log(`writeStream of ${SIZE / MiB} MiB: RSS rose ${(rise / MiB).toFixed(1)} MiB`);
    expect(rise).toBeLessThan(64 * MiB);
  });

  it("refuses a missing file and leaves no half file when the source breaks", async () => {
    await expect(ssh.readStream(path.join(sshd.workDir, "no-such.img"))).rejects.toThrow(/cannot read/);
    const file = path.join(sshd.workDir, "broken", "half.img");
    async function* breaking() {
      yield Buffer.alloc(MiB, 1);
      throw new Error("the source went away");
    }
    await expect(ssh.writeStream(file, Readable.from(breaking()))).rejects.toThrow(/went away/);
    expect(existsSync(file)).toBe(false);
    expect((await ssh.run(["ls", "-A", path.dirname(file)])).stdout).toBe("");
  });
});

describe("connecting", () => {
  it("refuses a wrong key with an authentication error", async () => {
    const other = await startSshd({ port: PORT + 1 });
    try {
      const t = new SshTransport({ ...target, id: "wrong-key", port: other.port, hostKeyFingerprint: other.hostKeyFingerprint });
      const err = await t.run(["true"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).kind).toBe("auth");
      expect((err as TransportError).message).not.toContain("PRIVATE KEY");
    } finally {
      await other.stop();
    }
  });

  it("says when nothing listens", async () => {
    const t = new SshTransport({ ...target, id: "closed", port: PORT + 8 });
    const err = await t.run(["true"]).catch((e: unknown) => e);
    expect((err as TransportError).kind).toBe("connect");
    expect((err as TransportError).message).toMatch(/ECONNREFUSED/);
  });

  it("refuses to run on a host whose key was never pinned", async () => {
    const t = new SshTransport({ ...target, id: "unpinned", hostKeyFingerprint: null });
    const err = await t.run(["true"]).catch((e: unknown) => e);
    expect((err as TransportError).kind).toBe("host-key");
    expect((err as TransportError).message).toMatch(/no host key pinned/);
  });

  it("on a first contact reports the host key the server presents", async () => {
    const t = new SshTransport({ ...target, id: "first-contact", hostKeyFingerprint: null, allowUnpinned: true });
    await t.connect();
    expect(t.presentedHostKey).toBe(sshd.hostKeyFingerprint);
    await t.close();
  });

  it("reaches an old server with only SHA-1 key exchange (like Solaris 10's SunSSH) when asked to", async () => {
    const old = await startSshd({ port: PORT + 7, kexAlgorithms: "diffie-hellman-group14-sha1" });
    try {
      const base = { ...target, port: old.port, hostKeyFingerprint: old.hostKeyFingerprint, privateKey: old.privateKey };
      const modern = await new SshTransport({ ...base, id: "kex-modern" }).run(["true"]).catch((e: unknown) => e);
      expect((modern as TransportError).kind).toBe("connect");
      expect((modern as TransportError).message).toMatch(/key exchange|KEX|algorithm/i);
      expect((await new SshTransport({ ...base, id: "kex-legacy", legacyKex: true }).run(["echo", "hello"])).stdout).toBe("hello\n");
    } finally {
      await old.stop();
    }
    // Against a modern server the legacy offer changes nothing.
    expect((await new SshTransport({ ...target, id: "kex-legacy-modern", legacyKex: true }).run(["echo", "ok"])).stdout).toBe("ok\n");
  });

  it("refuses a host whose key changed, naming both fingerprints, also on a pooled connection", async () => {
    expect((await ssh.run(["true"])).code).toBe(0);
    const pinned = sshd.hostKeyFingerprint;
    await sshd.restart({ newHostKey: true });
    const presented = sshd.hostKeyFingerprint;
    expect(presented).not.toBe(pinned);
    const attempt = () => ssh.run(["touch", path.join(sshd.workDir, "ran-after-key-change")]);
    // The pooled connection dropped with the restart; reconnecting meets the new key.
    const err = await waitFor(
      () => attempt().then(() => null, (e: unknown) => e),
      (e) => e instanceof TransportError && e.kind === "host-key",
      { what: "the changed host key to be refused" },
    );
    expect((err as TransportError).message).toContain(`pinned ${pinned}`);
    expect((err as TransportError).message).toContain(`presented ${presented}`);
    expect(existsSync(path.join(sshd.workDir, "ran-after-key-change"))).toBe(false);
    // With the new key pinned (an admin confirmed it), the host is usable again.
    const repinned = new SshTransport({ ...target, hostKeyFingerprint: presented });
    expect((await repinned.run(["echo", "ok"])).stdout).toBe("ok\n");
  });
});
