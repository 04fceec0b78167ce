/**
 * The Xen test host image (`npm run xen:build`, and tests/helpers/xen-host.ts when it is
 * missing): what it is built from, where it is kept, and the build itself
 * (scripts/xen/build-host.sh does the work as root).
 *
 * Kept in a cache folder outside the repository (XEN_IMAGE_CACHE, default
 * /var/cache/portal-xen) so that every clone on the machine reuses it: one folder per key,
 * the key a hash of the inputs (the Xen and kernel package versions apt would take, busybox
 * and Dropbear of the build host, the build, init and guest scripts). A build for other
 * inputs goes into a new folder; older folders are removed once it succeeds.
 */
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalTransport } from "../../lib/drivers/transport/local";
import { kernelPackage } from "../../lib/drivers/images/build";

const here = path.dirname(fileURLToPath(import.meta.url));
export const xenCacheDir = path.resolve(process.env.XEN_IMAGE_CACHE ?? "/var/cache/portal-xen");
/** The Debian packages of the hypervisor and the dom0 tools (same source package, same version). */
export const xenPackage = "xen-hypervisor-4.17-amd64";
const scripts = ["build-host.sh", "dom0-initramfs.sh", "dom0-init.sh", "guest-init.sh", "hotplug-block.sh", "hotplug-vif-bridge.sh"];
/** What a finished build holds (besides manifest.json). */
export const xenImageFiles = ["xen", "vmlinuz", "dom0-initrd.gz", "dom0.qcow2"] as const;

export type XenImage = {
  dir: string;
  key: string;
  xenVersion: string;
  kernelPackage: string;
  builtAt: string;
  buildSeconds: number;
  bytes: number;
};

function sh(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", (err) => resolve({ code: 127, stdout, stderr: String(err) }));
    p.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The candidate version apt would install of `pkg` (bookworm-security's when newer). */
async function candidate(pkg: string): Promise<string> {
  const r = await sh(["apt-cache", "policy", pkg]);
  const v = r.stdout.match(/Candidate:\s*(\S+)/)?.[1];
  if (!v || v === "(none)") throw new Error(`apt knows no ${pkg}: run \`apt-get update\` as root (the Debian mirror and bookworm-security must be in apt's sources)`);
  return v;
}

/** The Debian mirrors of apt's sources (deb822 or one-line), main and security. */
export function debianMirrors(): { main: string; security: string } {
  const texts = ["/etc/apt/sources.list", ...(existsSync("/etc/apt/sources.list.d") ? readdirSync("/etc/apt/sources.list.d").map((f) => path.join("/etc/apt/sources.list.d", f)) : [])]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, "utf8"));
  const uris = texts.flatMap((t) => [...t.matchAll(/^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(https?:\/\/\S+)/gm)].map((m) => m[1]!.replace(/\/$/, "")));
  return {
    main: uris.find((u) => !u.includes("security")) ?? "http://deb.debian.org/debian",
    security: uris.find((u) => u.includes("security")) ?? "http://deb.debian.org/debian-security",
  };
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The inputs of a build and their key. */
export async function xenImageInputs() {
  const t = new LocalTransport();
  const kernel = await kernelPackage(t, { log: () => {} });
  const inputs = {
    v: 1,
    xen: await candidate(xenPackage),
    kernel,
    kernelVersion: await candidate(kernel),
    busybox: sha256("/bin/busybox"),
    dropbear: sha256("/usr/sbin/dropbear"),
    scripts: Object.fromEntries(scripts.map((s) => [s, sha256(path.join(here, s))])),
  };
  return { inputs, key: createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 16) };
}

function bytesOf(dir: string): number {
  return xenImageFiles.reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
}

/** The finished build for the current inputs, or null. */
export async function findXenImage(): Promise<XenImage | null> {
  const { key } = await xenImageInputs();
  const dir = path.join(xenCacheDir, key);
  const manifest = path.join(dir, "manifest.json");
  if (!existsSync(manifest) || !xenImageFiles.every((f) => existsSync(path.join(dir, f)))) return null;
  return JSON.parse(readFileSync(manifest, "utf8")) as XenImage;
}

/**
 * The image for the current inputs: the cached one, or a new build (as root; some minutes:
 * debootstrap and the Xen tools come from the Debian mirror). `log` gets the build's lines.
 */
export async function ensureXenImage(log: (line: string) => void = (l) => console.log(l), opts: { force?: boolean } = {}): Promise<XenImage & { reused: boolean }> {
  const { inputs, key } = await xenImageInputs();
  const dir = path.join(xenCacheDir, key);
  if (!opts.force) {
    const found = await findXenImage();
    if (found) return { ...found, reused: true };
  }
  if (process.getuid?.() !== 0) throw new Error("building the Xen test host image needs root (debootstrap, chroot, mknod): run `npm run xen:build` as root");
  for (const [bin, pkg] of [["debootstrap", "debootstrap"], ["qemu-img", "qemu-utils"], ["cpio", "cpio"], ["mke2fs", "e2fsprogs"]]) {
    if ((await sh(["sh", "-c", `command -v ${bin}`])).code !== 0) throw new Error(`${bin} is not installed: apt-get install -y ${pkg}`);
  }
  mkdirSync(xenCacheDir, { recursive: true });
  const lock = path.join(xenCacheDir, ".build-lock");
  try {
    mkdirSync(lock);
  } catch {
    if (Date.now() - statSync(lock).mtimeMs < 30 * 60_000) throw new Error(`another Xen image build runs (${lock}); wait for it, or remove the folder if it was killed`);
    rmSync(lock, { recursive: true, force: true });
    mkdirSync(lock);
  }
  const started = Date.now();
  const building = `${dir}.building`;
  const work = path.join(xenCacheDir, `work-${process.pid}`);
  try {
    const mirrors = debianMirrors();
    log(`[xen:build] building ${key} (xen ${inputs.xen}, ${inputs.kernel} ${inputs.kernelVersion}) into ${xenCacheDir}`);
    rmSync(building, { recursive: true, force: true });
    const code = await new Promise<number>((resolve) => {
      const p = spawn("bash", [path.join(here, "build-host.sh"), building, work, inputs.xen, inputs.kernel, mirrors.main, mirrors.security], { stdio: ["ignore", "pipe", "pipe"] });
      const lines = (d: Buffer) => d.toString().split("\n").filter(Boolean).forEach(log);
      p.stdout.on("data", lines);
      p.stderr.on("data", lines);
      p.on("close", (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new Error(`scripts/xen/build-host.sh failed (exit ${code}; see the lines above)`);
    const image: XenImage = {
      dir,
      key,
      xenVersion: inputs.xen,
      kernelPackage: inputs.kernel,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 1000),
      bytes: bytesOf(building),
    };
    writeFileSync(path.join(building, "manifest.json"), JSON.stringify({ ...image, inputs }, null, 2) + "\n");
    rmSync(dir, { recursive: true, force: true });
    renameSync(building, dir);
    for (const old of readdirSync(xenCacheDir)) {
      if (old !== key && !old.startsWith(".")) rmSync(path.join(xenCacheDir, old), { recursive: true, force: true });
    }
    return { ...image, reused: false };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(building, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}
