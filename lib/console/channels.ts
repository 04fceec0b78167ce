import { redisPrefix } from "../redis";

/**
 * How the web processes and the worker that holds an environment's console talk, over Redis:
 *
 * - viewers publish the environment's id on `want` when they open a console and every
 *   few seconds while they watch; one worker (the holder of `owner`, a key with a short
 *   expiry it keeps renewing) opens the guest's console and bridges it;
 * - the bridge publishes what the console prints on `out` (numbered, and the last few
 *   kilobytes kept in `backlog` for viewers who come later) and its state changes (the
 *   last one kept in `state`);
 * - keystrokes are published on `in`; the bridge types them into the console.
 *
 * Every viewer reads the same `out` channel, so two viewers see the same session.
 */
export const consoleKeys = {
  want: () => `${redisPrefix}:console:want`,
  owner: (environmentId: string) => `${redisPrefix}:console:${environmentId}:owner`,
  out: (environmentId: string) => `${redisPrefix}:console:${environmentId}:out`,
  in: (environmentId: string) => `${redisPrefix}:console:${environmentId}:in`,
  seq: (environmentId: string) => `${redisPrefix}:console:${environmentId}:seq`,
  backlog: (environmentId: string) => `${redisPrefix}:console:${environmentId}:backlog`,
  /** The last status message, for viewers who join an open console. */
  state: (environmentId: string) => `${redisPrefix}:console:${environmentId}:state`,
};

/** What a console says to its viewers. */
export type ConsoleMessage =
  | { type: "output"; seq: number; data: string }
  | { type: "status"; state: "connected" | "closed" | "unavailable"; message: string };

/** Viewers say they still watch this often; a bridge nobody wanted for CONSOLE_IDLE_MS closes. */
export const CONSOLE_WANT_MS = 5_000;
export const CONSOLE_IDLE_MS = 20_000;
/** How long a worker's hold on a console lasts unless renewed (it renews every CONSOLE_WANT_MS). */
export const CONSOLE_OWNER_MS = 15_000;
/** Output chunks kept for viewers who open the console later (about a screenful or two). */
export const CONSOLE_BACKLOG_CHUNKS = 200;
/** The most a keystroke request may carry. */
export const CONSOLE_INPUT_MAX = 4096;
