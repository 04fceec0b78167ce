import { z } from "zod";
import { hostPath } from "../plan/validate";

/**
 * A QEMU host's driver settings (hosts.config) as admins set them on the Hosts page or with
 * PATCH /api/v1/hosts/:id. Client-safe (zod and the shared path pattern only). The driver
 * reads them in ./host.ts; every key is optional:
 *
 * - workDir: where guests live (`<workDir>/guests/<name>/`, staging below it); required before
 *   the first order. On an SSH host the SSH user must be able to create it.
 * - imageStore: the image store on the host (golden images, packed images); default the
 *   portal's IMAGE_STORE_DIR. The SSH user must be able to read the golden images and write
 *   `packed/`.
 * - network: "user" for QEMU's user-mode network; "bridge" (default) uses bridges and taps in
 *   a network namespace when the login user is root, else falls back to user mode.
 * - storageDir: the file system "Test connection" measures for free disk space.
 */
const ms = (what: string, max: number) => z.number().int(`${what}: whole milliseconds`).min(1, `${what}: at least 1 ms`).max(max, `${what}: at most ${max} ms`);
const port = z.number().int("a port number").min(1024, "ports from 1024").max(65535, "ports up to 65535");

export const qemuHostConfig = z.object({
  workDir: hostPath("workDir").optional(),
  imageStore: hostPath("imageStore").optional(),
  storageDir: hostPath("storageDir").optional(),
  network: z.enum(["bridge", "user"], "network: bridge or user").optional(),
  accel: z.enum(["tcg", "kvm"], "accel: tcg or kvm").optional(),
  readyTimeoutMs: ms("readyTimeoutMs", 3_600_000).optional(),
  stopGraceMs: ms("stopGraceMs", 600_000).optional(),
  migrationPorts: z.tuple([port, port]).refine(([a, b]) => a <= b, "migrationPorts: [first, last] with first <= last").optional(),
  migrationMaxBandwidth: z.number().int("bytes per second").min(1_048_576, "at least 1 MiB/s").optional(),
});

export type QemuHostConfig = z.infer<typeof qemuHostConfig>;
