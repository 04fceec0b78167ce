import { z } from "zod";
import { CONSOLE_INPUT_MAX } from "./channels";

/** Keystrokes for a console: POST /api/v1/environments/:id/console. */
export const consoleInput = z
  .object({
    data: z.string().min(1, "Send at least one character").max(CONSOLE_INPUT_MAX, `At most ${CONSOLE_INPUT_MAX} characters at a time`),
  })
  .strict();
