import { createHash } from "node:crypto";
import path from "node:path";
import type { Transport } from "../transport/types";
import { gzipCpio, parentDirs, type CpioEntry } from "./cpio";
import { lddLibraries } from "./ldd";

/**
 * The PostgreSQL layer of the database image (`linux-qemu-postgres`): Debian's PostgreSQL 15
 * server and client programs, taken from the build host (package postgresql-15) with every
 * shared library they load, the server's share folder and the UTC zone file. The image's
 * initramfs is the base image's (unchanged, so linux-qemu boots as before) followed by this
 * layer as a second gzip'd cpio archive: the kernel unpacks both into one root.
 *
 * What is left out, to keep the layer small: the manual pages, contrib's and every extension
 * but PL/pgSQL (initdb installs it), the other programs of the package (pg_basebackup,
 * pg_upgrade, pgbench...), JIT (llvmjit, off unless configured) and every time zone but UTC.
 * The server keeps its paths (/usr/lib/postgresql/15, /usr/share/postgresql/15): it finds its
 * share folder and $libdir relative to its own program, as Debian built it. ICU, which
 * Debian's server is linked with, is most of the size (libicudata alone is 30 MiB).
 *
 * The account the server runs as, shared memory (/dev/shm) and the data folder on /data are
 * the recipe's work at boot (lib/recipes/postgres.ts), not the image's.
 */
export const postgresMajor = 15;
export const postgresPackage = `postgresql-${postgresMajor}`;
export const postgresBin = `/usr/lib/postgresql/${postgresMajor}/bin`;
export const postgresLib = `/usr/lib/postgresql/${postgresMajor}/lib`;
export const postgresShare = `/usr/share/postgresql/${postgresMajor}`;

/** Server, cluster set-up and the clients the recipe, its checks and the owner use. */
export const postgresPrograms = ["postgres", "initdb", "pg_ctl", "psql", "pg_isready", "pg_dump"].map((p) => `${postgresBin}/${p}`);
/** Server modules initdb loads: PL/pgSQL and the Snowball stemmers of the text search configurations. */
export const postgresModules = ["plpgsql.so", "dict_snowball.so"].map((m) => `${postgresLib}/${m}`);
/** Parts of the share folder left out (relative to it); extension/ keeps PL/pgSQL's files only. */
const shareLeftOut = (rel: string) => rel.startsWith("man/") || rel.startsWith("contrib/") || (rel.startsWith("extension/") && !rel.startsWith("extension/plpgsql"));
/** The server's time zone (`timezone = 'UTC'`) from the build host's tzdata. */
export const zoneFiles = ["/usr/share/zoneinfo/Etc/UTC"];
export const zoneLinks = [{ path: "/usr/share/zoneinfo/UTC", target: "Etc/UTC" }];

export type LayerFile = { path: string; data: Buffer; sha256: string; mode: number };

/**
 * The layer's files read from the build host: programs and modules with the libraries `ldd`
 * names for them (those the base image already holds at the same path are left out), the
 * share folder and the zone file. Fails with what to install when something is missing.
 */
export async function postgresLayerFiles(t: Transport, inBase: ReadonlySet<string>, signal?: AbortSignal): Promise<LayerFile[]> {
  const files = new Map<string, LayerFile>();
  const add = async (file: string, mode: number, whenMissing: string) => {
    if (files.has(file) || inBase.has(file)) return;
    const data = await t.readFile(file);
    if (!data) throw new Error(whenMissing);
    files.set(file, { path: file, data, sha256: createHash("sha256").update(data).digest("hex"), mode });
  };
  const missing = `not found: install the Debian package ${postgresPackage} (apt-get install -y ${postgresPackage}) to build the database image`;
  for (const program of [...postgresPrograms, ...postgresModules]) {
    await add(program, 0o755, `${program} ${missing}`);
    const r = await t.run(["ldd", program], { signal });
    const { libraries, missing: lost } = lddLibraries(r.stdout);
    if (lost.length) throw new Error(`${program} needs ${lost.join(", ")}, not installed on the build host: reinstall ${postgresPackage}`);
    if (r.code !== 0 || libraries.length === 0) throw new Error(`ldd ${program} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    for (const lib of libraries) await add(lib, 0o755, `${lib} (loaded by ${program}) is not readable on the build host`);
  }
  const share = await t.run(["find", postgresShare, "-type", "f"], { signal });
  if (share.code !== 0) throw new Error(`${postgresShare} ${missing}`);
  const shared = share.stdout.split("\n").filter(Boolean).sort().filter((f) => !shareLeftOut(path.posix.relative(postgresShare, f)));
  for (const f of shared) await add(f, 0o644, `${f} is not readable on the build host`);
  for (const f of zoneFiles) await add(f, 0o644, `${f} not found: install the Debian package tzdata`);
  return [...files.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The layer as a gzip'd newc archive: folders first, then files and the zone links. */
export function postgresLayer(files: readonly LayerFile[]): Buffer {
  const paths = [...files.map((f) => f.path), ...zoneLinks.map((l) => l.path)].map((p) => p.replace(/^\/+/, ""));
  return gzipCpio([
    ...parentDirs(paths).map((d): CpioEntry => ({ type: "dir", path: d })),
    ...files.map((f): CpioEntry => ({ type: "file", path: f.path.replace(/^\/+/, ""), data: f.data, mode: f.mode })),
    ...zoneLinks.map((l): CpioEntry => ({ type: "symlink", path: l.path.replace(/^\/+/, ""), target: l.target })),
  ]);
}

/** The database image's fingerprint: the base image's recipe hash and every file of the layer. */
export function postgresLayerHash(baseRecipeHash: string, files: readonly LayerFile[]): string {
  return createHash("sha256")
    .update(JSON.stringify({ v: 1, base: baseRecipeHash, files: files.map((f) => [f.path, f.sha256, f.mode]), links: zoneLinks }))
    .digest("hex");
}
