/**
 * An error whose message a user may read. Anything else is logged with context and shown as
 * a generic message with a request id.
 */
export class UserError extends Error {
  constructor(
    message: string,
    public readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503 = 400,
    public readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export const notFound = (what: string) => new UserError(`${what} not found`, 404);
export const forbidden = (why = "You are not allowed to do that") => new UserError(why, 403);
/** 409; with `field`, the message also shows under that field of the form. */
export const conflict = (why: string, field?: string) => new UserError(why, 409, field ? { [field]: [why] } : undefined);
