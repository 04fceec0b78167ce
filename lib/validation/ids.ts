import { notFound } from "../errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a reference (path id, "id or slug/name" field) is a UUID. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A path id that must be a UUID; anything else is a 404 like an unknown id. */
export function uuidParam(value: string | undefined, what: string): string {
  if (!value || !isUuid(value)) throw notFound(what);
  return value;
}
