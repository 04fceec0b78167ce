import { z } from "zod";
import type { RecipeForm } from "./types";

/**
 * The web service's form: what an order may ask of it. Browser-safe (the order form checks as
 * you type); the renderings are in ./web.ts.
 */

export const siteMaxBytes = 2 * 1024 * 1024;

/** Printable text, one line: no NUL or other control characters. */
const oneLine = /^[^\u0000-\u001f\u007f]*$/;
/** Printable text over lines: tabs and line breaks are the only control characters. */
const multiLine = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

export const webParams = z.strictObject({
  title: z
    .string({ message: "Title is text" })
    .trim()
    .max(120, "Title can have at most 120 characters")
    .regex(oneLine, "Title is one line of text, without control characters")
    .optional(),
  body: z
    .string({ message: "Body is text" })
    .max(20_000, "Body can have at most 20000 characters")
    .regex(multiLine, "Body is text, without control characters other than line breaks")
    .optional(),
});

export type WebParams = z.infer<typeof webParams>;

/** The service's environment variables an order may set (shown by /cgi-bin/env). */
export const webEnvNames = ["APP_ENV", "APP_MODE", "LOG_LEVEL", "SITE_CONTACT"];

export const webForm: RecipeForm<WebParams> = {
  slug: "web",
  version: "1.0",
  name: "Web service",
  description: "Serves HTTP on port 80: a page from a title and text, or your site uploaded as a .tar.gz; by default a page that names the environment.",
  images: ["web-qemu"],
  hostKinds: ["qemu", "sim", "xen", "zones"],
  params: webParams,
  fields: [
    { name: "title", label: "Page title", kind: "text", help: "Shown as the page's heading. Leave empty for the environment's name.", placeholder: "Team wiki" },
    { name: "body", label: "Page text", kind: "textarea", help: "Plain text; blank lines start paragraphs. Shown as written (no HTML)." },
    { name: "site", label: "Or upload a site (.tar.gz)", kind: "file", accept: ".tar.gz,.tgz,application/gzip", maxBytes: siteMaxBytes, help: "At most 2 MiB; files and folders only, relative paths. Replaces the page above." },
  ],
  steps: [
    { name: "content", label: "Put the site in place" },
    { name: "service", label: "Start the web server" },
    { name: "check", label: "Answer HTTP on port 80" },
  ],
  settings: {
    sysctl: ["net.core.somaxconn", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_time", "vm.swappiness"],
    env: webEnvNames,
  },
  outputs: [
    { name: "url", label: "Address", kind: "url", help: "Where the web service answers." },
    { name: "adminPassword", label: "Password of /private/ (user admin)", kind: "secret", help: "Shown once; keep it somewhere safe." },
  ],
  timeoutSeconds: 60,
};
