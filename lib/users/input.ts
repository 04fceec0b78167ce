import { z } from "zod";
import { roles, type Role } from "../db/schema/enums";

export { roles, type Role };

/** A new user, as the admin form and POST /api/v1/users send it (the form loads this too). */
export const newUserInput = z.strictObject({
  email: z.string().trim().toLowerCase().email("Enter a valid e-mail address").max(200),
  name: z.string().trim().min(1, "Enter a name").max(100),
  role: z.enum(roles, { message: "Role is one of admin, approver, customer, student" }),
  password: z.string().min(8, "Password needs at least 8 characters").max(200),
  group: z.string().trim().min(1).max(100).optional(),
});

export type NewUser = z.infer<typeof newUserInput>;
