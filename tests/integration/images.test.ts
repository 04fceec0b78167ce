import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureQemuHosts } from "@/lib/db/seed";
import { hosts, images } from "@/lib/db/schema";
import { buildGlueArchive, guestKernelAppend, parseReadyLine } from "@/lib/drivers/qemu/glue";
import { LocalTransport } from "@/lib/drivers/transport/local";
import { StepError } from "@/lib/drivers/types";
import { buildAllImages, buildGoldenImage, type BuildResult } from "@/lib/drivers/images/build";
import { diskInfo, packImage, resolveImage, unpackImage } from "@/lib/drivers/images/pipeline";
import { registerBuiltImages } from "@/lib/catalog/register-images";
import { goldenPaths } from "@/lib/drivers/images/store";
import { bootPortal, order, unique, waitFor, waitForOrder } from "../helpers/portal";
import { setupQemuHosts } from "../helpers/qemu-hosts";
import { startWorkers } from "@/workers/runtime";
import { ensureTestImages, testImageStore } from "../helpers/images";

const t = new LocalTransport();
const io = { log: () => {} };
const store = testImageStore;
const work = mkdtempSync(path.join(os.tmpdir(), "portal-images-"));
let built: BuildResult[];
const guests: ChildProcess[] = [];
// Packs go to the shared store: unique keys per run, removed afterwards.
const run = randomBytes(3).toString("hex");

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

beforeAll(async () => {
  built = await ensureTestImages();
}, 180_000);

afterAll(() => {
  for (const g of guests) g.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
  for (const k of ["clone", "copy", "bad", "boot"]) rmSync(path.join(store, "packed", `${k}-test-${run}`), { recursive: true, force: true });
});

describe("golden image build", () => {
  it("holds a Debian kernel, an initramfs and a qcow2 disk whose sha256 and sizes match the manifest", async () => {
    const golden = built.find((b) => b.slug === "linux-qemu")!;
    expect(golden.manifest.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    expect(golden.manifest.recipeHash).toMatch(/^[0-9a-f]{64}$/);
    const dir = goldenPaths(store, "linux-qemu").dir;
    expect(Object.keys(golden.manifest.files).sort()).toEqual(["disk.qcow2", "initramfs.cpio.gz", "vmlinuz"]);
    for (const [name, f] of Object.entries(golden.manifest.files)) {
      expect(sha256(path.join(dir, name)), name).toBe(f.sha256);
      expect(readFileSync(path.join(dir, name)).length, name).toBe(f.size);
    }
    // bzImage magic "HdrS" at 0x202; gzip magic on the initramfs; qcow2 magic "QFI\xfb".
    expect(readFileSync(path.join(dir, "vmlinuz")).subarray(0x202, 0x206).toString("latin1")).toBe("HdrS");
    expect(readFileSync(path.join(dir, "initramfs.cpio.gz")).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect((await diskInfo(t, path.join(dir, "disk.qcow2"))).format).toBe("qcow2");
    // Every catalog image of the recipe has its folder with the same files.
    expect(built.map((b) => b.slug).sort()).toEqual(["linux-qemu", "linux-qemu-copy", "linux-qemu-install", "linux-qemu-postgres", "web-qemu"]);
    for (const b of built) expect(b.manifest.files["disk.qcow2"]!.sha256).toBe(golden.manifest.files["disk.qcow2"]!.sha256);
  });

  it("the database image is the base image's kernel, disk and initramfs, followed by a PostgreSQL 15 layer", async () => {
    const base = built.find((b) => b.slug === "linux-qemu")!;
    const pg = built.find((b) => b.slug === "linux-qemu-postgres")!;
    expect(pg.manifest.files.vmlinuz!.sha256).toBe(base.manifest.files.vmlinuz!.sha256);
    expect(pg.manifest.recipeHash).not.toBe(base.manifest.recipeHash);
    const baseBytes = readFileSync(path.join(goldenPaths(store, "linux-qemu").dir, "initramfs.cpio.gz"));
    const pgBytes = readFileSync(path.join(goldenPaths(store, "linux-qemu-postgres").dir, "initramfs.cpio.gz"));
    expect(pgBytes.subarray(0, baseBytes.length).equals(baseBytes)).toBe(true);
    const layer = spawnSync("sh", ["-c", "gzip -dc | cpio -t --quiet"], { input: pgBytes.subarray(baseBytes.length) });
    expect(layer.status, layer.stderr.toString()).toBe(0);
    const names = layer.stdout.toString().trim().split("\n");
    for (const f of ["postgres", "initdb", "pg_ctl", "psql", "pg_isready", "pg_dump"]) expect(names).toContain(`usr/lib/postgresql/15/bin/${f}`);
    expect(names).toEqual(expect.arrayContaining(["usr/lib/postgresql/15/lib/plpgsql.so", "usr/share/postgresql/15/postgres.bki", "usr/share/zoneinfo/UTC", "usr/share/zoneinfo/Etc/UTC"]));
    // Manual pages and other extensions stay out; libraries the base image has are not repeated.
    expect(names.filter((n) => n.includes("/man/") || /extension\/(?!plpgsql)/.test(n))).toEqual([]);
    expect(names).not.toContain("lib64/ld-linux-x86-64.so.2");
    // A reasonable size: under 40 MiB compressed for the whole initramfs.
    expect(pg.manifest.files["initramfs.cpio.gz"]!.size).toBeLessThan(40 * 1024 * 1024);
  });

  it("without PostgreSQL on the build host the database image is left out, saying what to install; the others are built", async () => {
    const hidden: LocalTransport = Object.create(t);
    hidden.readFile = (file: string) => (file.startsWith("/usr/lib/postgresql/") ? Promise.resolve(null) : t.readFile(file));
    const lines: string[] = [];
    const results = await buildAllImages(hidden, store, { log: (l) => void lines.push(l) });
    expect(results.map((r) => r.slug).sort()).toEqual(["linux-qemu", "linux-qemu-copy", "linux-qemu-install", "web-qemu"]);
    expect(lines.join("\n")).toMatch(/golden image linux-qemu-postgres NOT built: \/usr\/lib\/postgresql\/15\/bin\/postgres not found: install the Debian package postgresql-15/);
  });

  it("a second build reuses the store's copy; a damaged file makes it rebuild", async () => {
    const again = await buildGoldenImage(t, store, io, { slug: "linux-qemu" });
    expect(again.reused).toBe(true);
    expect(again.manifest.builtAt).toBe(built[0]!.manifest.builtAt);

    // A private store with the same build (and the shared package cache): damage the kernel.
    const own = path.join(work, "store");
    await t.run(["mkdir", "-p", path.join(own, "golden")]);
    await t.run(["cp", "-a", goldenPaths(store, "linux-qemu").dir, path.join(own, "golden", "linux-qemu")]);
    await t.run(["ln", "-s", path.join(store, "cache"), path.join(own, "cache")]);
    appendFileSync(path.join(own, "golden", "linux-qemu", "vmlinuz"), "x");
    const lines: string[] = [];
    const rebuilt = await buildGoldenImage(t, own, { log: (l) => void lines.push(l) }, { slug: "linux-qemu" });
    expect(rebuilt.reused).toBe(false);
    expect(lines.join("\n")).toMatch(/does not match its manifest \(vmlinuz: /);
    expect(sha256(path.join(own, "golden", "linux-qemu", "vmlinuz"))).toBe(rebuilt.manifest.files.vmlinuz!.sha256);
    expect(rebuilt.manifest.files.vmlinuz!.sha256).toBe(built[0]!.manifest.files.vmlinuz!.sha256);
  }, 120_000);

  it("registers the built images in the catalog as QEMU images with their size and checksum", async () => {
    const { db } = await bootPortal();
    const registered = await registerBuiltImages(db, t, store);
    expect(registered.map((r) => r.slug).sort()).toEqual(["linux-qemu", "linux-qemu-copy", "linux-qemu-install", "linux-qemu-postgres", "web-qemu"]);
    const [row] = await db.select().from(images).where(eq(images.slug, "linux-qemu"));
    expect(row).toMatchObject({ name: "Linux (QEMU)", os: "linux", hostKinds: ["qemu"], source: "clone", checksum: built[0]!.manifest.files["disk.qcow2"]!.sha256 });
    expect(row!.artifact?.kernelVersion).toBe(built[0]!.manifest.kernelVersion);
    const bytes = Object.values(built[0]!.manifest.files).reduce((n, f) => n + f.size, 0);
    expect(row!.sizeMb).toBe(Math.ceil(bytes / 1048576));
    const [copy] = await db.select().from(images).where(eq(images.slug, "linux-qemu-copy"));
    expect(copy!.source).toBe("copy");
    // The web service (the golden image with the web recipe) and the PostgreSQL database (its own image with the postgres recipe).
    const withRecipe = (await db.select().from(images)).filter((i) => i.recipeSlug).map((i) => [i.slug, i.recipeSlug]).sort();
    expect(withRecipe).toEqual([["linux-qemu-postgres", "postgres"], ["web-qemu", "web"]]);
    const [database] = await db.select().from(images).where(eq(images.slug, "linux-qemu-postgres"));
    expect(database).toMatchObject({ name: "PostgreSQL database (QEMU)", purpose: "database", version: `Debian kernel ${built[0]!.manifest.kernelVersion}, busybox, PostgreSQL 15` });
    // Registering again updates, it does not duplicate.
    expect((await registerBuiltImages(db, t, store)).every((r) => !r.created)).toBe(true);
  });

  it("a portal with QEMU gets two local QEMU hosts with their own work folders, once", async () => {
    const { db } = await bootPortal();
    const dataDir = path.join(work, "data");
    expect(await ensureQemuHosts(db, dataDir)).toEqual(["qemu-1", "qemu-2"]);
    expect(await ensureQemuHosts(db, dataDir)).toEqual([]);
    const rows = await db.select().from(hosts).where(eq(hosts.kind, "qemu"));
    expect(rows.map((h) => [h.name, h.address, h.state, (h.config as { workDir?: string }).workDir]).sort()).toEqual([
      ["qemu-1", "local", "active", path.join(dataDir, "hosts", "qemu-1")],
      ["qemu-2", "local", "active", path.join(dataDir, "hosts", "qemu-2")],
    ]);
    // The sample catalog's sim stand-ins are not offered on QEMU hosts: only built images are.
    const qemuImages = (await db.select().from(images)).filter((i) => i.hostKinds.includes("qemu")).map((i) => i.slug).sort();
    expect(qemuImages).toEqual(["linux-qemu", "linux-qemu-copy", "linux-qemu-install", "linux-qemu-postgres", "web-qemu"]);
  });
});

describe("mk_image resolve and pack, mk_virtual unpack", () => {
  it("clone: a qcow2 overlay on the golden disk, packed as a tar, unpacked with the backing file intact", async () => {
    const staging = path.join(work, "clone-staging");
    const guest = path.join(work, "clone-guest");
    const resolved = await resolveImage(t, store, { slug: "linux-qemu", source: "clone", diskGb: 2 }, staging, io);
    const info = await diskInfo(t, resolved.disk);
    expect(info.backingFile).toBe(goldenPaths(store, "linux-qemu").disk);
    expect(info.virtualSize).toBe(2 * 1024 ** 3);
    // Idempotent: resolving again leaves the disk alone.
    const before = sha256(resolved.disk);
    await resolveImage(t, store, { slug: "linux-qemu", source: "clone", diskGb: 2 }, staging, io);
    expect(sha256(resolved.disk)).toBe(before);

    const packed = await packImage(t, store, `clone-test-${run}`, staging, { slug: "linux-qemu", source: "clone" }, io);
    expect(packed.format).toBe("tar");
    expect(Object.keys(packed.files)).toEqual(["image.tar"]);
    expect(sha256(path.join(store, "packed", `clone-test-${run}`, "image.tar"))).toBe(packed.files["image.tar"]!.sha256);

    const out = await unpackImage(t, store, `clone-test-${run}`, guest, io);
    expect((await diskInfo(t, out.disk)).backingFile).toBe(goldenPaths(store, "linux-qemu").disk);
    expect(sha256(out.kernel)).toBe(built[0]!.manifest.files.vmlinuz!.sha256);
    expect(sha256(out.initramfs)).toBe(built[0]!.manifest.files["initramfs.cpio.gz"]!.sha256);
  });

  it("copy: a full disk without backing file, packed compressed with qemu-img convert -c", async () => {
    const staging = path.join(work, "copy-staging");
    const resolved = await resolveImage(t, store, { slug: "linux-qemu-copy", source: "copy", diskGb: 1 }, staging, io);
    const info = await diskInfo(t, resolved.disk);
    expect(info.backingFile).toBeNull();
    expect(info.virtualSize).toBe(1024 ** 3);
    // The golden disk's label is in the copy.
    const raw = path.join(work, "copy.raw");
    await t.run(["qemu-img", "convert", "-O", "raw", resolved.disk, raw]);
    expect(readFileSync(raw).subarray(0, 64).toString("latin1")).toMatch(/^PORTAL-GOLDEN-DISK slug=linux-qemu /);
    rmSync(raw);

    const packed = await packImage(t, store, `copy-test-${run}`, staging, { slug: "linux-qemu-copy", source: "copy" }, io);
    expect(packed.format).toBe("qcow2");
    expect(Object.keys(packed.files).sort()).toEqual(["disk.qcow2", "initramfs.cpio.gz", "vmlinuz"]);
    const out = await unpackImage(t, store, `copy-test-${run}`, path.join(work, "copy-guest"), io);
    expect((await diskInfo(t, out.disk)).backingFile).toBeNull();
  });

  it("install-file: a fresh empty disk of the flavor's size with the recipe's kernel", async () => {
    const resolved = await resolveImage(t, store, { slug: "linux-qemu-install", source: "install-file", diskGb: 3 }, path.join(work, "inst-staging"), io);
    const info = await diskInfo(t, resolved.disk);
    expect(info.backingFile).toBeNull();
    expect(info.virtualSize).toBe(3 * 1024 ** 3);
    expect(sha256(resolved.kernel)).toBe(built[0]!.manifest.files.vmlinuz!.sha256);
  });

  it("a packed file changed after packing is refused on unpack with the file named, and nothing is unpacked", async () => {
    const staging = path.join(work, "bad-staging");
    await resolveImage(t, store, { slug: "linux-qemu-copy", source: "copy", diskGb: 1 }, staging, io);
    await packImage(t, store, `bad-test-${run}`, staging, { slug: "linux-qemu-copy", source: "copy" }, io);
    appendFileSync(path.join(store, "packed", `bad-test-${run}`, "disk.qcow2"), Buffer.from("tampered"));
    const guest = path.join(work, "bad-guest");
    const failure = await unpackImage(t, store, `bad-test-${run}`, guest, io).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StepError);
    expect((failure as Error).message).toMatch(/checksum mismatch in the packed image of bad-test-[0-9a-f]+, refusing to unpack: disk\.qcow2: /);
    expect(existsSync(guest)).toBe(false);
    // A missing pack says what is missing.
    await expect(unpackImage(t, store, "never-packed", guest, io)).rejects.toThrow(/no packed image for never-packed/);
  });

  it("an image not built in the store is a clear step error for clones", async () => {
    const empty = path.join(work, "empty-store");
    await expect(resolveImage(t, empty, { slug: "linux-qemu", source: "clone", diskGb: 1 }, path.join(work, "x"), io)).rejects.toThrow(
      /image linux-qemu is not built in the image store .* run `npm run images:build`/,
    );
  });
});

describe("the guest boots from the unpacked image with its glue", () => {
  it("prints PORTAL-READY with its hostname, NICs and disk, and answers `status` with a growing uptime", async () => {
    const staging = path.join(work, "boot-staging");
    const dir = path.join(work, "boot");
    await resolveImage(t, store, { slug: "linux-qemu", source: "clone", diskGb: 1 }, staging, io);
    await packImage(t, store, `boot-test-${run}`, staging, { slug: "linux-qemu", source: "clone" }, io);
    const art = await unpackImage(t, store, `boot-test-${run}`, dir, io);
    const glue = await buildGlueArchive({
      hostname: "img-boot-1",
      nics: [
        { mac: "02:00:00:1e:00:07", ip: "10.30.0.7", prefix: 24, gateway: "10.30.0.1", purpose: "production" },
        { mac: "02:00:00:14:00:07", ip: "10.20.0.7", prefix: 24, gateway: null, purpose: "service" },
      ],
      authorizedKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm3 test@portal",
      motd: "order for tests",
      serviceIps: [],
    });
    const initrd = path.join(dir, "initrd.gz");
    writeFileSync(initrd, Buffer.concat([readFileSync(art.initramfs), glue]));
    const sock = path.join(dir, "serial.sock");
    const q = spawn("qemu-system-x86_64", [
      "-machine", "q35,accel=tcg", "-m", "256", "-smp", "1", "-no-reboot", "-display", "none", "-monitor", "none",
      "-kernel", art.kernel, "-initrd", initrd, "-append", guestKernelAppend,
      "-drive", `file=${art.disk},if=virtio,format=qcow2`, "-device", "virtio-rng-pci",
      "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,mac=02:00:00:1e:00:07",
      "-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1,mac=02:00:00:14:00:07",
      "-chardev", `socket,id=ser0,path=${sock},server=on,wait=off`, "-serial", "chardev:ser0",
    ], { stdio: "ignore" });
    guests.push(q);
    await waitFor(async () => existsSync(sock), Boolean, { timeoutMs: 10_000, what: "the serial socket" });
    const console_ = createConnection(sock);
    let text = "";
    console_.on("data", (d: Buffer) => (text += d.toString()));
    // Complete lines only: a line still arriving would parse with its NICs missing.
    const readyLines = () => text.split(/\r?\n/).slice(0, -1).map(parseReadyLine).filter((r) => r !== null);
    const [first] = await waitFor(async () => readyLines(), (l) => l.length >= 1, { timeoutMs: 60_000, intervalMs: 100, what: "PORTAL-READY" });
    expect(first).toEqual({
      hostname: "img-boot-1",
      uptimeSeconds: expect.any(Number),
      diskBytes: 1024 ** 3,
      nics: [{ mac: "02:00:00:1e:00:07", ip: "10.30.0.7", prefix: 24 }, { mac: "02:00:00:14:00:07", ip: "10.20.0.7", prefix: 24 }],
      serviceIps: [],
      // Its blank disk became an ext4 filesystem at /data; its SSH server listens.
      dataBytes: expect.any(Number),
      ssh: { port: 22, hostKey: expect.stringMatching(/^SHA256:/) },
    });
    expect(first!.dataBytes).toBeGreaterThan(0.9 * 1024 ** 3);
    expect(first!.dataBytes).toBeLessThanOrEqual(1024 ** 3);
    expect(text).toContain("portal-init: default route via 10.30.0.1");
    expect(text).toContain("portal-init: authorized_keys installed for root");
    expect(text).toContain("portal-init: disk /dev/vda is blank: making an ext4 filesystem for /data");
    // Ask again a little later: the same guest, a larger uptime.
    await waitFor(async () => {
      console_.write("status\n");
      return readyLines();
    }, (l) => l.length >= 2 && l.at(-1)!.uptimeSeconds > first!.uptimeSeconds, { timeoutMs: 20_000, intervalMs: 500, what: "a second PORTAL-READY" });
    console_.destroy();
    q.kill("SIGKILL");
  }, 90_000);
});

describe("each disk mode through the portal", () => {
  it("orders of the copy and install-file images are delivered: a full disk copy, and a fresh disk, each booted and ready", async () => {
    const { db, admin } = await bootPortal();
    // Two hosts: placement puts the two orders on different ones (most free memory first).
    const qemu = await setupQemuHosts(db, 2);
    const worker = await startWorkers();
    try {
      const [copy, fresh] = await Promise.all([
        order(db, admin, { image: "linux-qemu-copy", flavor: "small", name: unique("cp") }),
        order(db, admin, { image: "linux-qemu-install", flavor: "small", name: unique("inst") }),
      ]);
      const views = await Promise.all([copy, fresh].map((o) => waitForOrder(db, o.id, undefined, 240_000)));
      for (const v of views) expect(v.status, JSON.stringify(v.steps.filter((s) => s.status === "failed"))).toBe("ready");
      const [copyView, freshView] = views;
      const resolveLog = (v: (typeof views)[number]) => v.steps.find((s) => s.name === "resolve")!.log.map((l) => l.line).join("\n");
      expect(resolveLog(copyView!)).toContain("(full copy)");
      expect(resolveLog(freshView!)).toContain("install file: fresh 10G disk");
      const imageDisk = (v: (typeof views)[number]) => path.join(qemu.guestDir(v.environment!.host, v.environment!.hostname), "image", "disk.qcow2");
      // The copy carries the golden disk's content without a backing file; the install-file disk starts empty.
      for (const v of views) expect((await diskInfo(t, imageDisk(v!))).backingFile).toBeNull();
      const firstBytes = async (file: string) => {
        const raw = path.join(work, `${path.basename(path.dirname(path.dirname(file)))}.raw`);
        await t.run(["qemu-img", "convert", "-U", "-O", "raw", file, raw]);
        const fd = openSync(raw, "r");
        const buf = Buffer.alloc(64);
        readSync(fd, buf, 0, 64, 0);
        closeSync(fd);
        const head = buf.toString("latin1");
        rmSync(raw);
        return head;
      };
      expect(await firstBytes(imageDisk(copyView!))).toMatch(/^PORTAL-GOLDEN-DISK slug=linux-qemu /);
      expect(await firstBytes(imageDisk(freshView!))).toBe("\0".repeat(64));
    } finally {
      await worker.stop();
      await qemu.cleanup();
    }
  }, 300_000);
});
