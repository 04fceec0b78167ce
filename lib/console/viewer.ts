import type { Actor } from "../auth/actor";
import { markUnchanged, writeAudit, type AuditSource } from "../audit/write";
import { detachedFromRequest, type Db } from "../db/client";
import { environmentForOwner } from "../lifecycle/actions";
import { onChannel } from "../pipeline/subscriptions";
import { UserError } from "../errors";
import { getRedis } from "../redis";
import { CONSOLE_BACKLOG_CHUNKS, CONSOLE_WANT_MS, consoleKeys, type ConsoleMessage } from "./channels";

/*
 * The web side of a guest's console: watching its output, typing into it; only for the owner
 * or an admin, as starting and stopping. The worker's side is ./bridge.ts.
 */

/**
 * Watches the console: `onMessage` gets the recent output first, then what follows, each
 * chunk once and in order; the worker is asked (now and while watching) to keep the console
 * open. Opening is audited here, closing by the returned function.
 */
export async function watchConsole(
  db: Db,
  actor: Actor,
  environmentId: string,
  source: AuditSource,
  onMessage: (m: ConsoleMessage) => void,
): Promise<() => Promise<void>> {
  const env = await environmentForOwner(db, actor, environmentId);
  const openedAt = Date.now();
  await writeAudit(db, { actorId: actor.id, action: "console.open", targetType: "environment", targetId: env.id, data: { order: env.orderId } });
  // Subscribe first, then read the backlog: live chunks that arrive meanwhile wait, and those
  // the backlog already held are dropped by their number.
  let lastSeq = 0;
  let early: ConsoleMessage[] | null = [];
  const deliver = (m: ConsoleMessage) => {
    if (m.type === "output") {
      if (m.seq <= lastSeq) return;
      lastSeq = m.seq;
    }
    onMessage(m);
  };
  const unsubscribe = await onChannel(consoleKeys.out(env.id), (text) => {
    const m = parse(text);
    if (!m) return;
    if (early) early.push(m);
    else deliver(m);
  });
  const [backlog, state] = await Promise.all([
    getRedis().lrange(consoleKeys.backlog(env.id), -CONSOLE_BACKLOG_CHUNKS, -1),
    getRedis().get(consoleKeys.state(env.id)),
  ]).catch((err: unknown) => {
    unsubscribe();
    throw err;
  });
  for (const text of [...backlog, ...(state ? [state] : [])]) {
    const m = parse(text);
    if (m) deliver(m);
  }
  for (const m of early) deliver(m);
  early = null;
  const ask = () => void getRedis().publish(consoleKeys.want(), env.id).catch(() => {});
  ask();
  const keepAsking = setInterval(ask, CONSOLE_WANT_MS);
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAsking);
    unsubscribe();
    await detachedFromRequest(() =>
      writeAudit(db, {
        actorId: actor.id, action: "console.close", targetType: "environment", targetId: env.id,
        data: { order: env.orderId, seconds: Math.round((Date.now() - openedAt) / 1000) }, source,
      }),
    ).catch((err: Error) => console.error(`[console] could not audit the close of console ${env.id}:`, err.message));
  };
}

/** Types `data` into the console (and asks for it to be opened if nobody holds it yet). */
export async function typeIntoConsole(db: Db, actor: Actor, environmentId: string, data: string): Promise<void> {
  const env = await environmentForOwner(db, actor, environmentId);
  await limitConsoleInput(actor, env.id);
  // Keystrokes are never recorded (they may be a password typed at a prompt): the console's
  // opening and closing are what the audit log holds.
  markUnchanged();
  const redis = getRedis();
  await redis.publish(consoleKeys.want(), env.id);
  await redis.publish(consoleKeys.in(env.id), JSON.stringify({ data }));
}

function parse(text: string): ConsoleMessage | null {
  try {
    const m = JSON.parse(text) as ConsoleMessage;
    return m && (m.type === "output" || m.type === "status") ? m : null;
  } catch {
    return null;
  }
}

/** Keystroke requests a user may send to one console in CONSOLE_RATE_WINDOW_S (a fast typist sends a few per second). */
const CONSOLE_RATE_MAX = 150;
const CONSOLE_RATE_WINDOW_S = 10;

/** Counts a keystroke request; a UserError 429 once the user has sent too many. */
async function limitConsoleInput(actor: Actor, environmentId: string): Promise<void> {
  const key = `${consoleKeys.in(environmentId)}:rate:${actor.id}`;
  const [[, count]] = (await getRedis().multi().incr(key).expire(key, CONSOLE_RATE_WINDOW_S, "NX").exec()) as [[null, number]];
  if (count > CONSOLE_RATE_MAX) throw new UserError(`Too many keystroke requests: at most ${CONSOLE_RATE_MAX} in ${CONSOLE_RATE_WINDOW_S} seconds; wait a moment`, 429);
}
