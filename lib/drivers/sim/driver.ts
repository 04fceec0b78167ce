import { setTimeout as sleep } from "node:timers/promises";
import { env } from "../../env";
import { sshFingerprint } from "../../validation/ssh-fingerprint";
import { Readable } from "node:stream";
import { readSmallCopy } from "../disk-copy";
import { BACKUP_MARKER_FILE, StepError, type DeploySpec, type DiskCopy, type DiskSink, type HypervisorDriver, type MigrateIo, type MigrationResult, type NetworkPolicy, type ServiceIpRef, type SnapshotRef, type SnapshotTaken, type StepIo } from "../types";
import { SimConsole } from "./console";
import { checkRecipe, renderAccounts, renderSettings } from "../qemu/glue";
import { simUsage } from "./usage";
import type { SimHostState } from "./state";

/** What a simulated disk copy holds. */
type SimVolume = { volume: string; image: string; content: string | null; marker: string | null };

/**
 * The simulated hypervisor: realistic steps and log lines with configurable timing, and
 * failure injection per step (host config `failSteps: { glue: 1 }` fails the next glue
 * once). Host-side state is kept by the portal (SimHostState), so each step can check whether
 * its work is already done, exactly like a real driver checks `lvs` or `zoneadm list`.
 */
export class SimDriver implements HypervisorDriver {
  readonly kind = "sim" as const;
  /** A simulated guest moves live between sim hosts (and cold while stopped), as QEMU's and Xen's do. */
  readonly capabilities = { liveMigration: true, coldMove: false, cpuCap: true, sparseRoot: true, snapshots: true, resize: true, keepData: true };

  constructor(private readonly state: SimHostState) {}

  /** Synthetic counters as of `at` (the sampler's clock): ./usage.ts. */
  async usage(spec: DeploySpec, at: Date = new Date()) { return simUsage(spec, at); }

  private async pause(spec: DeploySpec, io: StepIo) {
    const ms = typeof spec.host.config.stepMs === "number" ? spec.host.config.stepMs : env.SIM_STEP_MS;
    if (ms > 0) await sleep(ms, undefined, { signal: io.signal });
  }

  /** Runs one simulated step: wait, maybe fail, then create or update the host-side object. */
  private async step(spec: DeploySpec, io: StepIo, step: string, kind: string, name: string, state: string, lines: string[]) {
    const existing = await this.state.get(spec.host.id, kind, name);
    if (existing && existing.state === state) {
      await io.log(`${kind} ${name} is already ${state} on ${spec.host.name}; nothing to do`);
      return;
    }
    for (const line of lines) await io.log(line);
    await this.pause(spec, io);
    if (await this.state.takeInjectedFailure(spec.host.id, step)) {
      throw new StepError(`${spec.host.name}: injected failure in step ${step} (sim host failure injection)`);
    }
    await this.state.put(spec.host.id, kind, name, state);
    await io.log(`${kind} ${name}: ${state}`);
  }

  resolveImage(spec: DeploySpec, io: StepIo) {
    const how = spec.image.source === "install-file" ? `install file ${spec.image.slug}.cfg` : `golden image ${spec.image.slug} (${spec.image.source})`;
    return this.step(spec, io, "resolve", "image-source", `${spec.image.slug}@${spec.host.name}`, "resolved", [`resolving ${how}`]);
  }

  packImage(spec: DeploySpec, io: StepIo) {
    return this.step(spec, io, "pack", "image-pack", `${spec.hostname}.tar`, "packed", [
      `packing ${spec.image.slug} (${spec.image.sizeMb} MB) for ${spec.hostname}`,
    ]);
  }

  async createStorage(spec: DeploySpec, io: StepIo) {
    if (spec.keepData && (await this.object(spec, "volume", spec.hostname))?.state === "kept") {
      return this.step(spec, io, "storage", "volume", spec.hostname, "created", [`keeping volume ${spec.hostname} and its data; the new image boots on it`]);
    }
    const how = spec.image.source === "copy" ? "full copy" : "copy-on-write clone";
    return this.step(spec, io, "storage", "volume", spec.hostname, "created", [
      `creating ${spec.flavor.diskGb} GiB volume ${spec.hostname} as ${how} of ${spec.image.slug}`,
      ...(spec.image.rootType ? [`zone root: ${spec.image.rootType} root`] : []),
    ]);
  }

  unpack(spec: DeploySpec, io: StepIo) {
    return this.step(spec, io, "unpack", "volume-content", spec.hostname, "unpacked", [`unpacking ${spec.hostname}.tar onto volume ${spec.hostname}`, "checksum verified"]);
  }

  configureNetwork(spec: DeploySpec, io: StepIo) {
    return this.step(
      spec, io, "networking", "nics", spec.hostname, "configured",
      spec.addresses.map((a) => `nic on ${a.bridge}: ${a.ip}/${a.cidr.split("/")[1]} mac ${a.mac} gateway ${a.gateway}`),
    );
  }

  glue(spec: DeploySpec, io: StepIo) {
    const cap = spec.flavor.cpuCap ? `, capped at ${spec.flavor.cpuCap} CPUs` : "";
    // The same checks as a real guest's glue; what would be written is recorded in the log.
    const accounts = spec.accounts ?? [];
    if (accounts.length) renderAccounts(accounts);
    if (spec.settings) renderSettings(spec.settings);
    if (spec.recipe) checkRecipe(spec.recipe);
    return this.step(spec, io, "glue", "glue", spec.hostname, "written", [
      `hostname ${spec.hostname}; ${spec.flavor.vcpus} vCPUs, ${spec.flavor.memoryMb} MiB${cap}`,
      spec.sshPublicKey ? `authorized_keys: owner's key ${sshFingerprint(spec.sshPublicKey)} installed` : "authorized_keys: owner has no key on file",
      ...accounts.map((a) => `account ${a.name} (uid ${a.uid})${a.groups.length ? ` in ${a.groups.join(",")}` : ""}${a.sshKeys ? `, ${a.sshKeys.split("\n").length} SSH key(s)` : ""}`),
      ...Object.entries(spec.settings?.sysctl ?? {}).map(([k, v]) => `sysctl ${k}=${v}`),
      ...(Object.keys(spec.settings?.env ?? {}).length ? [`service environment: ${Object.keys(spec.settings!.env).join(", ")}`] : []),
      ...(spec.recipe ? [`recipe ${spec.recipe.slug} ${spec.recipe.version}: ${spec.recipe.files.map((f) => f.path).join(", ")}; setup and check written`] : []),
    ]);
  }

  boot(spec: DeploySpec, io: StepIo) {
    return this.step(spec, io, "boot", "guest", spec.hostname, "running", [`starting ${spec.hostname} on ${spec.host.name}`]);
  }

  waitReady(spec: DeploySpec, io: StepIo) {
    // A simulated guest "runs" the recipe: its own steps appear as a real guest prints them.
    const recipe = spec.recipe
      ? [...(spec.recipe.steps ?? []).filter((s) => s !== "check").map((s) => `portal-recipe: step ${s}`), "portal-recipe: setup-exit 0", `portal-init: recipe ${spec.recipe.slug} check: ok`]
      : [];
    return this.step(spec, io, "wait_ready", "readiness", spec.hostname, "ready", [
      `waiting for ${spec.hostname} to answer`,
      ...recipe,
      ...spec.addresses.map((a) => `guest reports ${a.ip} (${a.mac})`),
    ]);
  }

  /** Lifecycle of a delivered environment: the simulated guest goes running / stopped. */
  start(spec: DeploySpec, io: StepIo) {
    return this.step(spec, io, "start", "guest", spec.hostname, "running", [`starting ${spec.hostname} on ${spec.host.name}`]);
  }

  stop(spec: DeploySpec, io: StepIo) {
    return this.step(spec, io, "stop", "guest", spec.hostname, "stopped", [`shutting down ${spec.hostname} (ACPI), waiting for it to power off`]);
  }

  /** A simulated snapshot: with memory when the simulated guest runs, like QEMU's savevm. */
  async takeSnapshot(spec: DeploySpec, tag: string, io: StepIo): Promise<SnapshotTaken> {
    const running = (await this.object(spec, "guest", spec.hostname))?.state === "running";
    await this.step(spec, io, "snapshot", "snapshot", `${spec.hostname}@${tag}`, running ? "taken-with-memory" : "taken", [
      `taking snapshot ${tag} of volume ${spec.hostname}${running ? " and the running guest's memory" : ""}`,
    ]);
    const taken = await this.object(spec, "snapshot", `${spec.hostname}@${tag}`);
    return { withMemory: taken?.state === "taken-with-memory", sizeBytes: null };
  }

  async revertSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<{ running: boolean }> {
    if (!(await this.object(spec, "snapshot", `${spec.hostname}@${snap.tag}`))) throw new StepError(`snapshot ${snap.tag} of ${spec.hostname} is not on ${spec.host.name}`);
    await io.log(`reverting volume ${spec.hostname} to snapshot ${snap.tag}${snap.withMemory ? " with the guest's memory" : ""}`);
    await this.pause(spec, io);
    if (await this.state.takeInjectedFailure(spec.host.id, "revert")) throw new StepError(`${spec.host.name}: injected failure in step revert (sim host failure injection)`);
    const guest = await this.object(spec, "guest", spec.hostname);
    const running = snap.withMemory || guest?.state === "running";
    await this.state.put(spec.host.id, "guest", spec.hostname, running ? "running" : "stopped");
    await io.log(`guest ${spec.hostname} back at snapshot ${snap.tag}; ${spec.addresses.map((a) => `${a.ip} (${a.mac})`).join(", ")} unchanged`);
    return { running };
  }

  async deleteSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<void> {
    const removed = await this.state.remove(spec.host.id, [{ kind: "snapshot", name: `${spec.hostname}@${snap.tag}` }]);
    await io.log(removed.length ? `removed snapshot ${snap.tag} of ${spec.hostname}` : `snapshot ${snap.tag} of ${spec.hostname} is already gone`);
  }

  /** Stop, change, start: what a real resize does, in simulated time. */
  async resize(spec: DeploySpec, from: DeploySpec["flavor"], io: StepIo): Promise<void> {
    await io.log(`shutting down ${spec.hostname} to resize it`);
    await this.state.put(spec.host.id, "guest", spec.hostname, "stopped");
    await io.log(`${from.vcpus} -> ${spec.flavor.vcpus} vCPUs, ${from.memoryMb} -> ${spec.flavor.memoryMb} MiB`);
    if (spec.flavor.diskGb > from.diskGb) await io.log(`growing volume ${spec.hostname} from ${from.diskGb} GiB to ${spec.flavor.diskGb} GiB`);
    await this.step(spec, io, "resize", "guest", spec.hostname, "running", [`starting ${spec.hostname} on ${spec.host.name}`]);
  }

  async halt(spec: DeploySpec, io: StepIo) {
    const guest = await this.object(spec, "guest", spec.hostname);
    if (!guest || guest.state === "stopped" || guest.state === "deleted") {
      // Cancelled before boot: there is no guest to stop, and none is recorded.
      await io.log(`guest ${spec.hostname} is not running on ${spec.host.name}; nothing to stop`);
      return;
    }
    return this.step(spec, io, "halt", "guest", spec.hostname, "stopped", [`stopping ${spec.hostname}`]);
  }

  async destroy(spec: DeploySpec, io: StepIo) {
    if (await this.object(spec, "guest", spec.hostname)) {
      await this.step(spec, io, "destroy", "guest", spec.hostname, "deleted", [`removing guest ${spec.hostname}`]);
    }
    if (await this.object(spec, "volume", spec.hostname)) {
      // A rebuild that keeps the data sets the volume aside (state "kept"); storage takes it back.
      if (spec.keepData) await this.step(spec, io, "destroy", "volume", spec.hostname, "kept", [`keeping volume ${spec.hostname} (its data) for the rebuild`]);
      else await this.step(spec, io, "destroy", "volume", spec.hostname, "deleted", [`removing volume ${spec.hostname}`]);
    }
    // What else was built for this environment goes with it; the host's image cache stays.
    const removed = await this.state.remove(spec.host.id, [
      { kind: "image-pack", name: `${spec.hostname}.tar` },
      ...[...(spec.keepData ? [] : ["volume-content"]), "nics", "glue", "readiness"].map((kind) => ({ kind, name: spec.hostname })),
    ]);
    await io.log(removed.length ? `removed ${removed.join(", ")} of ${spec.hostname}` : `nothing else of ${spec.hostname} left on ${spec.host.name}`);
  }

  /**
   * Simulated live migration: memory "copied" for a step's time while the guest runs, then a
   * short pause while it switches over; its objects (volume, NICs, snapshots) now live on the
   * target. An injected failure at "migrate" fails it before the switch: the guest keeps
   * running on its host. A rerun after the switch finds it on the target and is done.
   */
  async migrate(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    return this.move(spec, target, io, "running");
  }

  /** A stopped simulated guest's volume and configuration go to the target; it stays stopped. */
  async moveStopped(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    return this.move(spec, target, io, "stopped");
  }

  private async move(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo, expected: "running" | "stopped"): Promise<MigrationResult> {
    const live = expected === "running";
    if (target.kind !== "sim") throw new StepError(`${target.name} is a ${target.kind} host; a simulated guest moves only to another sim host`);
    if (target.id === spec.host.id) throw new StepError(`${spec.hostname} already runs on ${target.name}`);
    const started = Date.now();
    const here = await this.object(spec, "guest", spec.hostname);
    const there = await this.state.get(target.id, "guest", spec.hostname, { live: true });
    if (!here && there) {
      await io.log(`${spec.hostname} is already on ${target.name}; the move had finished`);
      return { mode: live ? "live" : "cold", totalMs: 0, downtimeMs: live ? 0 : null, transferredBytes: null };
    }
    if (here?.state !== expected) {
      throw new StepError(`${spec.hostname} is ${here?.state ?? "missing"} on ${spec.host.name}; ${live ? "only a running guest migrates live" : "a cold move takes a stopped guest"}`);
    }
    await io.progress(10, live ? `copying ${spec.flavor.memoryMb} MiB of memory to ${target.name} while ${spec.hostname} runs` : `copying volume ${spec.hostname} to ${target.name}`);
    await this.pause(spec, io);
    if (await this.state.takeInjectedFailure(spec.host.id, "migrate")) {
      throw new StepError(`${spec.host.name}: injected failure in step migrate (sim host failure injection); ${spec.hostname} keeps ${live ? "running" : "its place"} on ${spec.host.name}`);
    }
    // The switch: paused for the last pages (a few ms of simulated downtime), then on the target.
    const paused = Date.now();
    const objects = await this.state.objectsOf(spec.host.id, spec.hostname);
    for (const o of objects) await this.state.put(target.id, o.kind, o.name, o.state);
    await this.state.remove(spec.host.id, objects);
    const downtimeMs = live ? Date.now() - paused : null;
    await io.progress(100, `${spec.hostname} is on ${target.name}${live ? `, downtime ${downtimeMs} ms` : ", still stopped"}`);
    return { mode: live ? "live" : "cold", totalMs: Date.now() - started, downtimeMs, transferredBytes: live ? spec.flavor.memoryMb * 1048576 : null };
  }

  /** A simulated volume image: what the volume holds, as the sim knows it, and the marker a running guest wrote. */
  async exportDisk(spec: DeploySpec, io: StepIo, sink: DiskSink, opts: { marker?: string } = {}) {
    const volume = await this.object(spec, "volume", spec.hostname);
    if (!volume) throw new StepError(`volume ${spec.hostname} is missing on ${spec.host.name}`);
    const running = (await this.object(spec, "guest", spec.hostname))?.state === "running";
    const marker = running && opts.marker ? opts.marker : null;
    if (marker) await io.log(`marker written to ${BACKUP_MARKER_FILE} on the guest`);
    await io.log(`copying volume ${spec.hostname} (${spec.flavor.diskGb} GiB) from a snapshot`);
    await this.pause(spec, io);
    const content = await this.object(spec, "volume-content", spec.hostname);
    const bytes = Buffer.from(JSON.stringify({ volume: spec.hostname, image: spec.image.slug, content: content?.state ?? null, marker } satisfies SimVolume));
    const stored = await sink({ format: "sim-volume", stream: Readable.from([bytes]), compressed: false });
    return { ...stored, marker: marker !== null };
  }

  /** A simulated boot of the copy on a network of its own; the marker is what the copy holds. */
  async verifyDisk(spec: DeploySpec, disk: DiskCopy, probe: string, io: StepIo) {
    if (disk.format !== "sim-volume") throw new StepError(`a ${disk.format} disk cannot be booted on a sim host`);
    const saved = JSON.parse((await readSmallCopy(disk)).toString("utf8")) as SimVolume;
    await io.log(`booting throwaway guest verify-${probe} from the copy of volume ${saved.volume} on an isolated network`);
    await this.pause(spec, io);
    if (await this.state.takeInjectedFailure(spec.host.id, "verify")) throw new StepError(`${spec.host.name}: injected failure in step verify (sim host failure injection)`);
    await io.log(`verify-${probe} reports ready; removed again`);
    return { marker: saved.marker };
  }

  /** Stops the simulated guest, writes the volume back, starts the guest again. */
  async importDisk(spec: DeploySpec, disk: DiskCopy, io: StepIo) {
    if (disk.format !== "sim-volume") throw new StepError(`a ${disk.format} disk cannot be restored on a sim host`);
    const saved = JSON.parse((await readSmallCopy(disk)).toString("utf8")) as SimVolume;
    await io.log(`stopping ${spec.hostname}; writing volume ${saved.volume} back`);
    await this.state.put(spec.host.id, "guest", spec.hostname, "stopped");
    await this.pause(spec, io);
    if (await this.state.takeInjectedFailure(spec.host.id, "restore")) throw new StepError(`${spec.host.name}: injected failure in step restore (sim host failure injection)`);
    await this.state.put(spec.host.id, "volume-content", spec.hostname, saved.content ?? "unpacked");
    await this.state.put(spec.host.id, "guest", spec.hostname, "running");
    await io.log(`guest ${spec.hostname} running again from the restored volume`);
  }

  /** A simulated shell on a running guest's console. */
  async openConsole(spec: DeploySpec) {
    const guest = await this.object(spec, "guest", spec.hostname);
    if (guest?.state !== "running") throw new StepError(`${spec.hostname} is not running on ${spec.host.name}; start it to use its console`);
    return new SimConsole(spec.hostname, async () => (await this.object(spec, "guest", spec.hostname))?.state === "running");
  }

  /** The simulated guest takes the address (object `service-ip <ip>` on the host says which guest holds it). */
  async attachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo) {
    const guest = await this.object(spec, "guest", spec.hostname);
    if (guest?.state !== "running") throw new StepError(`${spec.hostname} is not running on ${spec.host.name}; a service IP is attached to a running guest`);
    if (!spec.addresses.some((a) => a.network === sip.network)) throw new StepError(`${spec.hostname} has no NIC on network ${sip.network}`);
    return this.step(spec, io, "attach_ip", "service-ip", sip.ip, `on ${spec.hostname}`, [`adding ${sip.ip}/32 to ${spec.hostname}'s NIC on ${sip.network}`, `gratuitous ARP for ${sip.ip}`]);
  }

  async detachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo) {
    const held = await this.object(spec, "service-ip", sip.ip);
    if (held?.state !== `on ${spec.hostname}`) return void (await io.log(`${sip.ip} is not on ${spec.hostname}; nothing to take off`));
    await io.log(`removing ${sip.ip}/32 from ${spec.hostname}`);
    await this.pause(spec, io);
    if (await this.state.takeInjectedFailure(spec.host.id, "detach_ip")) throw new StepError(`${spec.host.name}: injected failure in step detach_ip (sim host failure injection)`);
    await this.state.remove(spec.host.id, [{ kind: "service-ip", name: sip.ip }]);
  }

  /** The simulated host forwards only between the routed pairs: recorded as the object `network-policy forward`. */
  async applyNetworkPolicy(host: DeploySpec["host"], policy: NetworkPolicy, io: StepIo) {
    const routed = policy.routes.map(([a, b]) => `${a}<->${b}`).join(",") || "none";
    await this.state.put(host.id, "network-policy", "forward", `routed:${routed}`);
    await io.log(`${host.name}: networks kept apart; routed pairs: ${routed}`);
  }

  private object(spec: DeploySpec, kind: string, name: string) {
    return this.state.get(spec.host.id, kind, name, { live: true });
  }
}
