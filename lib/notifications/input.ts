import { z } from "zod";
import { notificationEvents } from "../db/schema/enums";

/** Which kinds of event come by e-mail: `{ email: { "order.ready": true, "order.held": false } }`; kinds left out keep their setting. */
export const emailChoicesInput = z.strictObject({
  email: z.partialRecord(z.enum(notificationEvents), z.boolean(), { error: `Keys are kinds of event (${notificationEvents.join(", ")}), values true or false` }),
});
