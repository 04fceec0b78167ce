/** One day in milliseconds: lease lengths, course ends and invitation lifetimes count in days. */
export const DAY_MS = 24 * 3600 * 1000;

/** One hour in milliseconds: delivery promises and holds count in hours. */
export const HOUR_MS = 3600 * 1000;
