import { getRedis, redisPrefix } from "../redis";
import { env } from "../env";
import { limitKeyFor } from "../http/client-address";

/**
 * Failed sign-ins are counted in Redis for 15 minutes from the last failure, twice: per
 * account (a password guessed on one account) and per client address (one password tried on
 * many accounts). A success clears the account's count only: signing in to one's own account
 * must not reset an address that is spraying others.
 */
const WINDOW_SECONDS = 15 * 60;

export type LoginLimit = "account" | "address";

function accountKey(email: string) {
  return `${redisPrefix}:login-fail:${email.toLowerCase()}`;
}

function addressKey(address: string) {
  return `${redisPrefix}:login-fail-addr:${limitKeyFor(address)}`;
}

/**
 * Which limit, if any, stops a sign-in to `email` from `address` now (null address: the
 * request's origin is unknown, only the account is limited).
 */
export async function loginBlocked(email: string, address: string | null): Promise<LoginLimit | null> {
  const redis = getRedis();
  const [forAccount, forAddress] = await Promise.all([redis.get(accountKey(email)), address ? redis.get(addressKey(address)) : null]);
  if (Number(forAddress) >= env.LOGIN_MAX_ATTEMPTS_PER_ADDRESS) return "address";
  if (Number(forAccount) >= env.LOGIN_MAX_ATTEMPTS) return "account";
  return null;
}

export async function recordLoginFailure(email: string, address: string | null): Promise<void> {
  const tx = getRedis().multi();
  for (const k of [accountKey(email), ...(address ? [addressKey(address)] : [])]) tx.incr(k).expire(k, WINDOW_SECONDS);
  await tx.exec();
}

export async function clearLoginFailures(email: string): Promise<void> {
  await getRedis().del(accountKey(email));
}
