import { getRedis, redisPrefix } from "../redis";
import { env } from "../env";

const WINDOW_SECONDS = 15 * 60;

function key(email: string) {
  return `${redisPrefix}:login-fail:${email.toLowerCase()}`;
}

/** True while the account has had too many failed sign-ins in the window. */
export async function loginBlocked(email: string): Promise<boolean> {
  const n = Number(await getRedis().get(key(email)));
  return n >= env.LOGIN_MAX_ATTEMPTS;
}

export async function recordLoginFailure(email: string): Promise<void> {
  const k = key(email);
  await getRedis().multi().incr(k).expire(k, WINDOW_SECONDS).exec();
}

export async function clearLoginFailures(email: string): Promise<void> {
  await getRedis().del(key(email));
}
