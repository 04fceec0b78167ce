import { randomUUID } from "node:crypto";
import { and, asc, count, eq, isNull, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, environments, evacuationMoves, evacuations, hosts, simObjects, type CapacityOverride, type Host, type HostCheck } from "../db/schema";
import { markUnchanged, writeAudit } from "../audit/write";
import { conflict, notFound, UserError } from "../errors";
import { encryptHostSecret } from "../drivers/transport/secrets";
import { inspectPrivateKey } from "./keys";
import { checkedHostConfig, visibleHostConfig } from "./config";
import { LOCAL_HOST, type HostRegistration, type HostUpdate } from "./input";
import { lockForTransaction } from "../db/locks";
import type { Actor } from "../auth/actor";
import { CPU_OVERCOMMIT, usageOfHost, usageOfHosts } from "../policy/placement";
import { afterTextKey, LIST_PER_PAGE, pageOf } from "../validation/cursor";

/**
 * What pages and API answers may show of a host: everything but the private key. Queries
 * that feed a page or a response select these columns only.
 */
const publicColumns = {
  id: hosts.id,
  name: hosts.name,
  kind: hosts.kind,
  address: hosts.address,
  port: hosts.port,
  sshUser: hosts.sshUser,
  sshPublicKey: hosts.sshPublicKey,
  hostKeyFingerprint: hosts.hostKeyFingerprint,
  maxConcurrency: hosts.maxConcurrency,
  state: hosts.state,
  features: hosts.features,
  tags: hosts.tags,
  cpuCapacity: hosts.cpuCapacity,
  memoryMbCapacity: hosts.memoryMbCapacity,
  diskGbCapacity: hosts.diskGbCapacity,
  capacityOverride: hosts.capacityOverride,
  lastCheck: hosts.lastCheck,
  config: hosts.config,
  ownerWorker: hosts.ownerWorker,
  createdAt: hosts.createdAt,
};

type PublicHostRow = { [K in keyof typeof publicColumns]: Host[K] };

function view(h: PublicHostRow) {
  return {
    id: h.id,
    name: h.name,
    kind: h.kind,
    address: h.address,
    state: h.state,
    features: h.features,
    tags: h.tags,
    capacity: { vcpus: h.cpuCapacity, memoryMb: h.memoryMbCapacity, diskGb: h.diskGbCapacity },
    /** The figures an admin set by hand (Test connection leaves them alone); {} when none. */
    capacityOverride: h.capacityOverride ?? {},
    connection:
      h.kind === "sim"
        ? null
        : {
            local: h.address === LOCAL_HOST,
            port: h.port,
            sshUser: h.sshUser,
            /** For ~sshUser/.ssh/authorized_keys on the host. */
            sshPublicKey: h.sshPublicKey,
            hostKeyFingerprint: h.hostKeyFingerprint,
            maxConcurrency: h.maxConcurrency,
          },
    /** Driver settings (volume group, paths, ...); null on sim hosts. */
    settings: h.kind === "sim" ? null : visibleHostConfig(h.config),
    lastCheck: h.lastCheck,
    /** The worker that alone runs this host's work (a local host's machine); null: any worker. */
    ownerWorker: h.ownerWorker,
    createdAt: h.createdAt,
  };
}

export type HostView = ReturnType<typeof view>;

function hostRows(db: Db) {
  return db.select(publicColumns).from(hosts).where(isNull(hosts.removedAt)).orderBy(asc(hosts.name), asc(hosts.id)).$dynamic();
}

/** The views of `rows` with what live environments use of each (the usage of those hosts only, or of all). */
async function withUsage(db: Db, rows: PublicHostRow[], all: boolean) {
  const byHost = await usageOfHosts(db, all ? null : rows.map((h) => h.id));
  return rows.map((h) => {
    const u = byHost.get(h.id);
    return {
      ...view(h),
      used: { environments: u?.environments ?? 0, vcpus: u?.vcpus ?? 0, memoryMb: u?.memoryMb ?? 0, diskGb: u?.diskGb ?? 0 },
    };
  });
}

/** Every registered host with capacity and what live environments use of it. */
export async function listHostsWithUsage(db: Db) {
  return withUsage(db, await hostRows(db), true);
}

/** Registered hosts by name, a page of `limit` after `cursor` (the previous page's nextCursor), for the API. */
export async function listHostsPage(db: Db, opts: { limit?: number; cursor?: string } = {}) {
  const limit = opts.limit ?? LIST_PER_PAGE;
  const after = afterTextKey(opts.cursor);
  const rows = await db
    .select(publicColumns)
    .from(hosts)
    .where(and(isNull(hosts.removedAt), after ? sql`(${hosts.name}, ${hosts.id}) > (${after[0]}, ${after[1]}::uuid)` : undefined))
    .orderBy(asc(hosts.name), asc(hosts.id))
    .limit(limit + 1);
  const page = pageOf(rows, limit, (h) => [h.name, h.id]);
  return { hosts: await withUsage(db, page.rows, false), nextCursor: page.nextCursor };
}

/** `perPage` registered hosts by name from `offset`, with their usage, and how many there are (the admin pages). */
export async function hostsPageAt(db: Db, opts: { offset: number; perPage: number }) {
  const [rows, [{ total }]] = await Promise.all([
    hostRows(db).offset(opts.offset).limit(opts.perPage),
    db.select({ total: count() }).from(hosts).where(isNull(hosts.removedAt)),
  ]);
  return { hosts: await withUsage(db, rows, false), total };
}

/** One registered host as pages and the API show it (no secret), or 404. */
export async function getHostView(db: Db, hostId: string): Promise<HostView> {
  const [row] = await db.select(publicColumns).from(hosts).where(and(eq(hosts.id, hostId), isNull(hosts.removedAt)));
  if (!row) throw notFound("Host");
  return view(row);
}

/** The full row, key included, for the server code that connects (never for a response). */
export async function getHostRow(db: Db, hostId: string): Promise<Host> {
  const [row] = await db.select().from(hosts).where(and(eq(hosts.id, hostId), isNull(hosts.removedAt)));
  if (!row) throw notFound("Host");
  return row;
}

/**
 * What a kind of host offers, shown beside it (Xen and QEMU move guests live; zones move
 * cold). QEMU moves guests live only between hosts of the portal's own machine (address
 * "local"): one reached over SSH offers VMs only (see featuresFor).
 */
const featuresOf: Record<HostRegistration["kind"], string[]> = {
  xen: ["vms", "live-migration"],
  qemu: ["vms", "live-migration"],
  zones: ["zones", "cold-move", "cpu-cap"],
};

function featuresFor(kind: HostRegistration["kind"], address: string): string[] {
  return kind === "qemu" && address !== LOCAL_HOST ? featuresOf.qemu.filter((f) => f !== "live-migration") : featuresOf[kind];
}

/** The key's public half and fingerprint; a key ssh2 cannot use is a 422 on the field. */
function checkedKey(privateKey: string) {
  const k = inspectPrivateKey(privateKey);
  if ("problem" in k) throw new UserError("Invalid input", 422, { privateKey: [k.problem] });
  return k;
}

/**
 * Registers a host (admins). It starts offline with no capacity: "Test connection" pins its
 * host key (unless given here) and discovers what it has; then an admin activates it.
 * The private key is stored encrypted and audited by its fingerprint only.
 */
export async function registerHost(db: Db, actor: Actor, input: HostRegistration): Promise<HostView> {
  const key = input.privateKey ? checkedKey(input.privateKey) : null;
  const config = checkedHostConfig(input.kind, {}, input.config ?? {});
  return db.transaction(async (tx) => {
    await lockForTransaction(tx, "hostName", input.name);
    const [taken] = await tx.select({ id: hosts.id }).from(hosts).where(and(eq(hosts.name, input.name), isNull(hosts.removedAt)));
    if (taken) throw conflict(`A host named ${input.name} is already registered`, "name");
    const id = randomUUID();
    const [row] = await tx
      .insert(hosts)
      .values({
        id,
        name: input.name,
        kind: input.kind,
        address: input.address,
        port: input.port,
        sshUser: input.sshUser ?? null,
        sshPrivateKey: input.privateKey ? encryptHostSecret(id, input.privateKey) : null,
        sshPublicKey: key?.publicKey ?? null,
        hostKeyFingerprint: input.hostKeyFingerprint ?? null,
        maxConcurrency: input.maxConcurrency,
        config,
        state: "offline",
        cpuCapacity: 0,
        memoryMbCapacity: 0,
        diskGbCapacity: 0,
        features: featuresFor(input.kind, input.address),
      })
      .returning(publicColumns);
    await writeAudit(tx, {
      actorId: actor.id,
      action: "host.register",
      targetType: "host",
      targetId: id,
      data: {
        name: row.name, kind: row.kind, address: row.address, port: row.port, sshUser: row.sshUser,
        keyFingerprint: key?.fingerprint ?? null, hostKeyFingerprint: row.hostKeyFingerprint, maxConcurrency: row.maxConcurrency,
        config: visibleHostConfig(config),
      },
    });
    return view(row);
  });
}

/**
 * Changes a host (admins): its state (draining hosts take no new environments; a host is
 * activated only once its host key is pinned and its capacity known), SSH settings, key
 * rotation, the pinned host key, the command limit, and on sim hosts failure injection.
 */
export async function updateHost(db: Db, actor: Actor, hostId: string, input: HostUpdate): Promise<HostView> {
  const host = await getHostRow(db, hostId);
  const isSim = host.kind === "sim";
  const isLocal = host.address === LOCAL_HOST;
  if (input.failSteps && !isSim) {
    throw new UserError("Failure injection exists only on sim hosts", 422, { failSteps: ["Only sim hosts inject failures"] });
  }
  const sshFields = (["port", "sshUser", "privateKey", "hostKeyFingerprint"] as const).filter((f) => input[f] !== undefined);
  if ((isSim || isLocal) && sshFields.length) {
    const why = isSim ? "Sim hosts have no SSH settings" : "A local host runs on the worker's machine and has no SSH settings";
    throw new UserError(why, 422, Object.fromEntries(sshFields.map((f) => [f, [why]])));
  }
  if (input.config && isSim) throw new UserError("Sim hosts have no driver settings", 422, { config: ["Sim hosts have no driver settings"] });
  const key = input.privateKey ? checkedKey(input.privateKey) : null;

  const set: Partial<typeof hosts.$inferInsert> = {};
  if (input.config) set.config = checkedHostConfig(host.kind, host.config, input.config);
  if (input.tags) set.tags = input.tags;
  if (input.port !== undefined) set.port = input.port;
  if (input.sshUser !== undefined) set.sshUser = input.sshUser;
  if (input.privateKey && key) {
    set.sshPrivateKey = encryptHostSecret(host.id, input.privateKey);
    set.sshPublicKey = key.publicKey;
  }
  if (input.hostKeyFingerprint !== undefined) set.hostKeyFingerprint = input.hostKeyFingerprint;
  if (input.maxConcurrency !== undefined) set.maxConcurrency = input.maxConcurrency;
  if (input.ownerWorker !== undefined) set.ownerWorker = input.ownerWorker;
  if (input.capacity) Object.assign(set, await capacityChange(db, host, input.capacity));
  if (input.failSteps) {
    const config = { ...host.config };
    const failSteps: Record<string, number> = {};
    for (const [step, n] of Object.entries(input.failSteps)) if (n && n > 0) failSteps[step] = n;
    if (Object.keys(failSteps).length) config.failSteps = failSteps;
    else delete config.failSteps;
    set.config = config;
  }
  if (input.state !== undefined) {
    if (input.state === "active" && host.state !== "active" && !isSim) {
      const pinned = isLocal || (set.hostKeyFingerprint !== undefined ? set.hostKeyFingerprint : host.hostKeyFingerprint);
      if (!pinned) throw new UserError("Run Test connection first: the host key is not pinned yet", 409, { state: ["Run Test connection first: the host key is not pinned yet"] });
      if ((set.cpuCapacity ?? host.cpuCapacity) === 0) throw new UserError("Run Test connection first: the host's capacity is not known yet", 409, { state: ["Run Test connection first: the host's capacity is not known yet"] });
    }
    set.state = input.state;
  }
  // Nothing asked for (a form saved unchanged): nothing to write or audit.
  if (Object.keys(set).length === 0) {
    markUnchanged();
    return getHostView(db, hostId);
  }
  const [row] = await db.update(hosts).set(set).where(eq(hosts.id, hostId)).returning(publicColumns);
  const { privateKey: _secret, config: _config, ...audited } = input;
  await writeAudit(db, {
    actorId: actor.id,
    action: "host.update",
    targetType: "host",
    targetId: hostId,
    data: {
      ...audited,
      ...(key ? { keyChanged: true, keyFingerprint: key.fingerprint } : {}),
      ...(set.config && input.config ? { config: visibleHostConfig(set.config) } : {}),
    },
    before: {
      state: host.state, failSteps: host.config.failSteps ?? {},
      ...(input.capacity ? { capacity: capacityOf(host), capacityOverride: host.capacityOverride ?? {} } : {}),
    },
    after: {
      state: row.state, failSteps: set.config?.failSteps ?? host.config.failSteps ?? {},
      ...(input.capacity ? { capacity: capacityOf(row), capacityOverride: row.capacityOverride ?? {} } : {}),
    },
  });
  return view(row);
}

const capacityColumns = { vcpus: "cpuCapacity", memoryMb: "memoryMbCapacity", diskGb: "diskGbCapacity" } as const;
const capacityWords = { vcpus: (n: number) => `${n} vCPUs`, memoryMb: (n: number) => `${n} MiB memory`, diskGb: (n: number) => `${n} GiB disk` };

function capacityOf(h: Pick<Host, "cpuCapacity" | "memoryMbCapacity" | "diskGbCapacity">) {
  return { vcpus: h.cpuCapacity, memoryMb: h.memoryMbCapacity, diskGb: h.diskGbCapacity };
}

/**
 * The columns a capacity override changes: a figure sets the capacity and keeps it over Test
 * connection; null hands it back to discovery (the last test's figure, if there was one).
 * Refused (409) below what the host's environments already use: drain the host instead.
 */
async function capacityChange(db: Db, host: Host, change: NonNullable<HostUpdate["capacity"]>): Promise<Partial<typeof hosts.$inferInsert>> {
  const override: CapacityOverride = { ...(host.capacityOverride ?? {}) };
  const set: Partial<typeof hosts.$inferInsert> = {};
  const used = await usageOfHost(db, host.id);
  const fields: Record<string, string[]> = {};
  for (const key of ["vcpus", "memoryMb", "diskGb"] as const) {
    const value = change[key];
    if (value === undefined) continue;
    if (value === null) {
      delete override[key];
      const discovered = host.lastCheck?.facts?.[key];
      if (discovered !== undefined) set[capacityColumns[key]] = discovered;
      continue;
    }
    // vCPUs are promised CPU_OVERCOMMIT times over; memory and disk are not.
    const room = key === "vcpus" ? value * CPU_OVERCOMMIT : value;
    if (room < used[key]) {
      fields[key] = [`Its environments already use ${capacityWords[key](used[key])}${key === "vcpus" ? ` (${CPU_OVERCOMMIT} per CPU)` : ""}; drain the host instead of shrinking it below that`];
    }
    override[key] = value;
    set[capacityColumns[key]] = value;
  }
  if (Object.keys(fields).length) throw new UserError(`${host.name}: ${Object.values(fields).flat().join("; ")}`, 409, Object.fromEntries(Object.entries(fields).map(([k, v]) => [`capacity.${k}`, v])));
  set.capacityOverride = Object.keys(override).length ? override : null;
  return set;
}

/**
 * Removes a host (admins). Refused while environments live on it. A host that never had an
 * environment is deleted; one with history is kept as removed (its key wiped), so the old
 * environments still say where they ran, and its name can be registered again.
 */
export async function removeHost(db: Db, actor: Actor, hostId: string): Promise<{ id: string; name: string; removed: "deleted" | "retired" }> {
  return db.transaction(async (tx) => {
    const [host] = await tx.select({ id: hosts.id, name: hosts.name }).from(hosts).where(and(eq(hosts.id, hostId), isNull(hosts.removedAt))).for("update");
    if (!host) throw notFound("Host");
    const [live] = await tx
      .select({ n: count() })
      .from(environments)
      .where(and(eq(environments.hostId, hostId), ne(environments.state, "deleted")));
    if (live.n > 0) {
      throw conflict(`${host.name} still has ${live.n} environment${live.n === 1 ? "" : "s"}; drain it and wait until they are retired or moved`);
    }
    // Environments that lived on it, and moves from or to it (an evacuated host holds none now), are its history.
    const [history] = await tx.select({ n: count() }).from(environments).where(eq(environments.hostId, hostId));
    const [moves] = await tx
      .select({ n: count() })
      .from(environmentActions)
      .where(or(eq(environmentActions.fromHostId, hostId), eq(environmentActions.targetHostId, hostId)));
    const [evacuated] = await tx.select({ n: count() }).from(evacuations).where(eq(evacuations.hostId, hostId));
    const [planned] = await tx
      .select({ n: count() })
      .from(evacuationMoves)
      .where(or(eq(evacuationMoves.fromHostId, hostId), eq(evacuationMoves.targetHostId, hostId)));
    let removed: "deleted" | "retired";
    if (history.n + moves.n + evacuated.n + planned.n === 0) {
      await tx.delete(simObjects).where(eq(simObjects.hostId, hostId));
      await tx.delete(hosts).where(eq(hosts.id, hostId));
      removed = "deleted";
    } else {
      await tx
        .update(hosts)
        .set({ removedAt: new Date(), state: "offline", sshPrivateKey: null })
        .where(eq(hosts.id, hostId));
      removed = "retired";
    }
    await writeAudit(tx, { actorId: actor.id, action: "host.remove", targetType: "host", targetId: hostId, data: { name: host.name, removed } });
    return { id: hostId, name: host.name, removed };
  });
}

/**
 * Stores what a "Test connection" found: the check itself, the host key when this was the
 * first contact, and the discovered capacity when it succeeded.
 */
export async function recordHostCheck(
  db: Db,
  actor: Actor,
  hostId: string,
  check: HostCheck,
  opts: { pinHostKey: string | null },
): Promise<HostView> {
  const set: Partial<typeof hosts.$inferInsert> = { lastCheck: check };
  if (opts.pinHostKey) set.hostKeyFingerprint = opts.pinHostKey;
  if (check.ok && check.facts) {
    // Figures an admin set by hand stay; the discovered ones remain visible in lastCheck.
    const [current] = await db.select({ override: hosts.capacityOverride }).from(hosts).where(eq(hosts.id, hostId));
    const override = current?.override ?? {};
    if (override.vcpus === undefined) set.cpuCapacity = check.facts.vcpus;
    if (override.memoryMb === undefined) set.memoryMbCapacity = check.facts.memoryMb;
    if (override.diskGb === undefined) set.diskGbCapacity = check.facts.diskGb;
  }
  // Pin only if nobody pinned a key meanwhile (two admins testing at once).
  const where = opts.pinHostKey ? and(eq(hosts.id, hostId), isNull(hosts.hostKeyFingerprint)) : eq(hosts.id, hostId);
  let [row] = await db.update(hosts).set(set).where(where).returning(publicColumns);
  if (!row) {
    delete set.hostKeyFingerprint;
    [row] = await db.update(hosts).set({ lastCheck: { ...check, ok: false, facts: null, error: "another test pinned a host key meanwhile; test again" } }).where(eq(hosts.id, hostId)).returning(publicColumns);
  }
  await writeAudit(db, {
    actorId: actor.id,
    action: "host.test",
    targetType: "host",
    targetId: hostId,
    data: {
      ok: check.ok,
      error: check.error,
      presentedHostKey: check.presentedHostKey,
      pinnedHostKey: opts.pinHostKey,
      capacity: check.ok && check.facts ? { vcpus: check.facts.vcpus, memoryMb: check.facts.memoryMb, diskGb: check.facts.diskGb } : null,
    },
  });
  return view(row);
}

/** Failure injection per sim host, for the admin page. */
export async function hostFailureInjection(db: Db) {
  const rows = await db.select({ id: hosts.id, config: hosts.config }).from(hosts);
  return new Map(rows.map((r) => [r.id, r.config.failSteps ?? {}]));
}
