/** One day in milliseconds: lease lengths, course ends and invitation lifetimes count in days. */
export const DAY_MS = 24 * 3600 * 1000;
