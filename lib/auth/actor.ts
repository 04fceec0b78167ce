import type { Role } from "../db/schema";

/** Who is acting: a signed-in user or the owner of an API token. */
export type Actor = { id: string; role: Role; email: string };
