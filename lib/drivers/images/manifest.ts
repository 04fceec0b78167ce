import path from "node:path";
import type { Transport } from "../transport/types";
import type { GoldenManifest, ManifestFile, PackManifest } from "./types";

/** Runs a program on the transport and fails with its stderr when it exits non-zero. */
export async function must(t: Transport, argv: readonly string[], what: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}) {
  const r = await t.run(argv, { timeoutMs: opts.timeoutMs ?? 300_000, signal: opts.signal });
  if (r.code !== 0) throw new Error(`${what} failed (${argv[0]} exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" | ") || "no message"}`);
  return r;
}

/** sha256 and size of one file on the transport's host (`sha256sum`, `stat`: argv, no shell). */
export async function fileDigest(t: Transport, file: string, signal?: AbortSignal): Promise<ManifestFile> {
  const sum = await must(t, ["sha256sum", "--", file], `checksum of ${path.basename(file)}`, { signal });
  const size = await must(t, ["stat", "-c", "%s", "--", file], `size of ${path.basename(file)}`, { signal });
  const sha256 = sum.stdout.trim().split(/\s+/)[0] ?? "";
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`sha256sum printed no checksum for ${file}`);
  return { sha256, size: Number(size.stdout.trim()) };
}

/** Digests of `names` inside `dir`. */
export async function digestFiles(t: Transport, dir: string, names: readonly string[], signal?: AbortSignal): Promise<Record<string, ManifestFile>> {
  const files: Record<string, ManifestFile> = {};
  for (const name of names) files[name] = await fileDigest(t, path.join(dir, name), signal);
  return files;
}

/** The parsed manifest.json in `dir`, or null when there is none or it is not readable JSON. */
export async function readManifest<M extends GoldenManifest | PackManifest>(t: Transport, dir: string): Promise<M | null> {
  const raw = await t.readFile(path.join(dir, "manifest.json"));
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw.toString("utf8")) as M;
    return parsed && typeof parsed === "object" && parsed.files && typeof parsed.files === "object" ? parsed : null;
  } catch {
    return null;
  }
}

export async function writeManifest(t: Transport, dir: string, manifest: GoldenManifest | PackManifest): Promise<void> {
  await t.writeFile(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Files of `dir` whose size or sha256 differ from the manifest, or that are missing, as
 * readable lines ("disk.qcow2: sha256 abc… expected def…"). Empty when everything matches.
 */
export async function verifyManifest(t: Transport, dir: string, manifest: { files: Record<string, ManifestFile> }, signal?: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(manifest.files)) {
    const file = path.join(dir, name);
    const exists = await t.run(["test", "-f", file], { signal });
    if (exists.code !== 0) {
      problems.push(`${name}: missing`);
      continue;
    }
    const got = await fileDigest(t, file, signal);
    if (got.size !== want.size) problems.push(`${name}: ${got.size} bytes, manifest says ${want.size}`);
    else if (got.sha256 !== want.sha256) problems.push(`${name}: sha256 ${got.sha256.slice(0, 12)}…, manifest says ${want.sha256.slice(0, 12)}…`);
  }
  return problems;
}
