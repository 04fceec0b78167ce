import { z } from "zod";

/** Slugs name things in URLs and API bodies: lowercase letters, digits and inner hyphens. */
export const SLUG = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;

/** The slug of a catalog entry or network, as admins type it. */
export const slugField = z
  .string()
  .trim()
  .min(2, "Slug needs at least 2 characters")
  .max(40, "Slug can have at most 40 characters")
  .regex(SLUG, "Use lowercase letters, digits and hyphens; start and end with a letter or digit");

/** The name people read. */
export const displayNameField = z.string().trim().min(1, "Enter a name").max(100, "Name can have at most 100 characters");
