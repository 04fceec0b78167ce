import { createHash } from "node:crypto";
import type { GuestRecipe } from "../drivers/types";
import type { Recipe, RecipeContext, RecipeHostPlan } from "./types";
import { escapeHtml } from "./text";
import { readTarball } from "./tarball";
import { siteMaxBytes, webEnvNames, webForm, type WebParams } from "./web-form";

/**
 * "Web service": the guest serves HTTP on port 80 with content from the order: a page from a
 * title and a body (escaped HTML), or a site uploaded as a .tar.gz (at most 2 MiB; unpacked in
 * the guest after a second check that it holds no absolute path, no `..` and no link), or by
 * default a page that names the environment. /private/ asks for the user `admin` and a
 * password the portal makes at deploy time and shows its owner once; /cgi-bin/env shows the
 * service's environment variables the order set.
 *
 * QEMU guests run busybox `httpd` (the image's busybox has it). Xen guests get nginx and
 * Solaris zones Apache (svc:/network/http:apache2) from their golden images; those two
 * renderings were tested only against the host emulators (tests/emulators), never on a real
 * Xen or Solaris host.
 */



const files = {
  page: "/srv/www/index.html",
  site: "/etc/portal/web/site.tar.gz",
  conf: "/etc/portal/web/httpd.conf",
  env: "/srv/www/cgi-bin/env",
  privatePage: "/srv/www/private/index.html",
} as const;


/** The page from the order's title and body (paragraphs at blank lines), or one that names the environment. */
export function webPage(params: WebParams, ctx: Pick<RecipeContext, "hostname" | "environmentLabel">): string {
  const title = params.title?.trim() || ctx.hostname;
  const body = params.body?.trim()
    ? params.body.trim().split(/\r?\n\s*\r?\n/).map((p) => `<p>${escapeHtml(p.trim()).replace(/\r?\n/g, "<br>\n")}</p>`).join("\n")
    : `<p>This is ${escapeHtml(ctx.environmentLabel)}, a web service delivered by the environment portal.</p>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

/** The address the service is reached at: the order's network first, else the service network. */
function serviceAddress(ctx: RecipeContext): string {
  const a = ctx.addresses.find((x) => x.purpose === "production") ?? ctx.addresses[0];
  if (!a) throw new Error("web: the guest has no address");
  return a.ip;
}

/** The CGI script that shows the service's environment variables (only the ones the recipe allows). */
function envScript(): string {
  return `#!/bin/sh
echo "Content-Type: text/plain; charset=utf-8"
echo
${webEnvNames.map((n) => `[ -n "\${${n}+x}" ] && printf '%s\\n' "${n}=\${${n}}"`).join("\n")}
exit 0
`;
}

function privatePage(ctx: RecipeContext): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Private</title></head>
<body><h1>Private area of ${escapeHtml(ctx.hostname)}</h1><p>Only the owner knows the password.</p></body></html>
`;
}

function render(params: WebParams, ctx: RecipeContext): GuestRecipe {
  const ip = serviceAddress(ctx);
  const password = ctx.secrets.adminPassword;
  if (!password || !/^[A-Za-z0-9_-]{16,64}$/.test(password)) throw new Error("web: the private area's password is missing or malformed");
  const site = ctx.uploads.site;
  return {
    slug: web.slug,
    version: web.version,
    timeoutSeconds: web.timeoutSeconds,
    steps: web.steps.map((s) => s.name),
    files: [
      site ? { path: files.site, data: site, mode: 0o600 } : { path: files.page, data: webPage(params, ctx) },
      { path: files.conf, data: `/private:admin:${password}\n`, mode: 0o600 },
      { path: files.env, data: envScript(), mode: 0o755 },
      { path: files.privatePage, data: privatePage(ctx) },
    ],
    // POSIX sh, busybox: runs at every boot (the files above are put in place at every boot too).
    setup: `set -e
echo "step content"
mkdir -p /srv/www
if [ -f ${files.site} ]; then
  # Checked by the portal when the order was made; checked again here before anything is written.
  tar -tvzf ${files.site} > /tmp/site.list
  if grep -q '^[lhcbp]' /tmp/site.list; then echo "the site archive holds links or special files: refused"; exit 1; fi
  if awk '{ print $NF }' /tmp/site.list | grep -qE '^/|(^|/)[.][.](/|$)'; then echo "the site archive holds absolute paths or ..: refused"; exit 1; fi
  tar -xzof ${files.site} -C /srv/www
  echo "site unpacked into /srv/www: $(wc -l < /tmp/site.list) entries"
else
  echo "page written to ${files.page}"
fi
echo "step service"
# The order's variables for the service: KEY=value lines (names and values checked by the
# portal; values may hold spaces), exported one by one, never sourced as shell code.
while IFS='=' read -r key value; do [ -n "$key" ] && export "$key=$value"; done < /etc/portal/env
httpd -p 80 -h /srv/www -c ${files.conf}
echo "httpd serves /srv/www on port 80"
`,
    check: `wget -qO- http://127.0.0.1/ > /dev/null || exit 1
echo "url=http://${ip}/"
`,
  };
}

/**
 * Xen: written into the guest's mounted root before boot (nginx from the golden image,
 * started by systemd with the order's variables); zones: files under the zone's root, Apache
 * enabled with svcadm through zlogin. Emulator-tested only.
 */
function hostPlan(params: WebParams, ctx: RecipeContext, kind: "xen" | "zones"): RecipeHostPlan {
  const checkIp = (ctx.addresses.find((a) => a.purpose === "service") ?? ctx.addresses[0])?.ip ?? serviceAddress(ctx);
  const hashed = shaPassword(ctx.secrets.adminPassword ?? "");
  const docroot = kind === "xen" ? "/var/www/html" : "/var/apache2/2.2/htdocs";
  const site = ctx.uploads.site;
  const page = { path: `${docroot}/index.html`, content: webPage(params, ctx), mode: 0o644, description: "The order's page (title and body, HTML-escaped)" };
  const siteFile = site
    ? [{ path: "/var/lib/portal/site.tar.gz.b64", content: site.toString("base64"), mode: 0o600, description: "The uploaded site (.tar.gz, base64; checked when the order was made)" }]
    : [];
  // The site travels as base64 text (plan files are text) and is decoded in the guest with
  // openssl (Debian and Solaris 10 both have it; Solaris 10 has no base64), unpacked with GNU tar
  // (Solaris 10: /usr/sfw/bin/gtar, its own tar has no -z).
  const unpack = site
    ? [
        { argv: [kind === "xen" ? "openssl" : "/usr/sfw/bin/openssl", "base64", "-d", "-A", "-in", "/var/lib/portal/site.tar.gz.b64", "-out", "/var/lib/portal/site.tar.gz"], description: "Decode the uploaded site" },
        { argv: [kind === "xen" ? "tar" : "/usr/sfw/bin/gtar", "-xzof", "/var/lib/portal/site.tar.gz", "-C", docroot], description: `Unpack the site into ${docroot}` },
      ]
    : [];
  if (kind === "xen") {
    return {
      files: [
        ...(site ? siteFile : [page]),
        { path: "/etc/nginx/portal-private.htpasswd", content: `admin:${hashed}\n`, mode: 0o640, description: "Password of /private/ (user admin), as its SHA-1 hash" },
        {
          path: "/etc/nginx/sites-enabled/default",
          content: `server {\n  listen 80 default_server;\n  root ${docroot};\n  index index.html;\n  location /private/ {\n    auth_basic "private";\n    auth_basic_user_file /etc/nginx/portal-private.htpasswd;\n  }\n}\n`,
          mode: 0o644,
          description: "nginx: serve the site on port 80, /private/ behind the password",
        },
        { path: "/etc/systemd/system/nginx.service.d/portal-env.conf", content: "[Service]\nEnvironmentFile=-/etc/portal/env\n", mode: 0o644, description: "nginx gets the order's environment variables" },
      ],
      commands: [
        ...unpack,
        { argv: ["chown", "root:www-data", "/etc/nginx/portal-private.htpasswd"], description: "Only nginx reads the password file" },
        { argv: ["systemctl", "enable", "nginx.service"], description: "Start nginx at boot" },
      ],
      // From the dom0, which reaches the guest on its service address (as for SSH).
      check: { argv: ["wget", "-q", "-O", "-", "-T", "5", `http://${checkIp}/`], ready: "<h1>|<html", description: `The guest answers HTTP on ${checkIp} port 80` },
    };
  }
  return {
    files: [
      ...(site ? siteFile : [page]),
      { path: "/etc/apache2/2.2/conf.d/portal-private.conf", content: `<Location /private>\n  AuthType Basic\n  AuthName "private"\n  AuthUserFile /etc/apache2/2.2/portal-private.htpasswd\n  Require valid-user\n</Location>\n`, mode: 0o644, description: "Apache: /private/ behind the password" },
      { path: "/etc/apache2/2.2/portal-private.htpasswd", content: `admin:${hashed}\n`, mode: 0o640, description: "Password of /private/ (user admin), as its SHA-1 hash" },
    ],
    commands: [
      ...unpack,
      { argv: ["chgrp", "webservd", "/etc/apache2/2.2/portal-private.htpasswd"], description: "Only Apache reads the password file" },
      { argv: ["svcadm", "enable", "-s", "svc:/network/http:apache22"], description: "Start Apache and wait until it is online" },
    ],
    check: { argv: ["svcs", "-H", "-o", "state", "svc:/network/http:apache22"], ready: "^online", description: "Apache is online in the zone" },
  };
}

/** `{SHA}` form of a password for nginx's and Apache's password files (the value is random: no salt needed). */
function shaPassword(password: string): string {
  return `{SHA}${createHash("sha1").update(password).digest("base64")}`;
}

export const web: Recipe<WebParams> = {
  ...webForm,
  checkUpload(field, data) {
    if (field !== "site") return "this recipe takes no such file";
    const r = readTarball(data, { maxBytes: siteMaxBytes, maxUnpackedBytes: 16 * siteMaxBytes, maxEntries: 2000 });
    if ("problem" in r) return `The site archive is refused: ${r.problem}`;
    if (!r.entries.some((e) => e.type === "file")) return "The site archive holds no file";
    return null;
  },
  outputValue(name, { addresses }) {
    const a = addresses.find((x) => x.purpose === "production") ?? addresses[0];
    return name === "url" && a ? `http://${a.ip}/` : null;
  },
  render,
  hostPlan,
};
