import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { recipeBySlug, recipes } from "@/lib/recipes";
import { recipeForms } from "@/lib/recipes/forms";
import { accountsInput, recipeOrderErrors, settingsInput, withUids } from "@/lib/recipes/order-input";
import { recipeProgress, reportedOutputs } from "@/lib/recipes/progress";
import { readTarball } from "@/lib/recipes/tarball";
import { web } from "@/lib/recipes/web";
import { webForm } from "@/lib/recipes/web-form";
import type { RecipeContext } from "@/lib/recipes/types";
import { buildGlueArchive } from "@/lib/drivers/qemu/glue";
import { describeRecipe } from "@/lib/recipes/describe";

const dir = mkdtempSync(path.join(tmpdir(), "recipes-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ctx: RecipeContext = {
  orderId: "00000000-0000-4000-8000-000000000001",
  orderName: "web-01",
  hostname: "web-01",
  environmentLabel: "environment web-01",
  addresses: [{ ip: "10.20.0.5", purpose: "service" }, { ip: "10.30.0.5", purpose: "production" }],
  secrets: { adminPassword: "AbCdEfGhIjKlMnOpQrStUvWx" },
  uploads: {},
  settings: { sysctl: {}, env: {} },
};

function tarball(name: string, build: (src: string) => string[], tarArgs: string[] = []): Buffer {
  const src = path.join(dir, name);
  mkdirSync(src, { recursive: true });
  const entries = build(src);
  const out = path.join(dir, `${name}.tar.gz`);
  execFileSync("tar", ["-czf", out, ...tarArgs, "-C", src, ...entries]);
  return readFileSync(out);
}

describe("the registry", () => {
  it("has one form per recipe, with the same slug, steps and settings (the browser reads the forms)", () => {
    expect(recipeForms.map((f) => f.slug)).toEqual(recipes.map((r) => r.slug));
    for (const r of recipes) {
      const form = recipeForms.find((f) => f.slug === r.slug)!;
      expect({ steps: form.steps, settings: form.settings, outputs: form.outputs, fields: form.fields }).toEqual({ steps: r.steps, settings: r.settings, outputs: r.outputs, fields: r.fields });
      // The QEMU guest reports the recipe's steps by name: names the console lines can carry.
      for (const s of r.steps) expect(s.name).toMatch(/^[a-z0-9_-]{1,40}$/);
    }
    expect(recipeBySlug("web")).toBe(web);
    expect(recipeBySlug("nope")).toBeNull();
  });

  it("describes a recipe's parameters as JSON Schema from its zod schema", () => {
    const d = describeRecipe(web);
    expect(d.parameters).toMatchObject({ type: "object", additionalProperties: false, properties: { title: { type: "string", maxLength: 120 }, body: { type: "string", maxLength: 20000 } } });
    expect(d.outputs).toEqual([expect.objectContaining({ name: "url", kind: "url" }), expect.objectContaining({ name: "adminPassword", kind: "secret" })]);
  });
});

describe("web service parameters", () => {
  it("takes a title and a body, or nothing; refuses long or control characters and unknown keys", () => {
    expect(webForm.params.parse({})).toEqual({});
    expect(webForm.params.parse({ title: "  Team  ", body: "a\n\nb" })).toEqual({ title: "Team", body: "a\n\nb" });
    expect(webForm.params.safeParse({ title: "x".repeat(121) }).success).toBe(false);
    expect(webForm.params.safeParse({ title: "a\u0000b" }).success).toBe(false);
    expect(webForm.params.safeParse({ body: "tab\tand\r\nbreaks" }).success).toBe(true);
    expect(webForm.params.safeParse({ body: "bell\u0007" }).success).toBe(false);
    expect(webForm.params.safeParse({ colour: "red" }).success).toBe(false);
  });

  it("names the field of each refusal, and allows only the recipe's settings", () => {
    const { errors, params } = recipeOrderErrors(webForm, {
      recipe: { title: "x".repeat(200), extra: 1 },
      settings: { sysctl: { "net.core.somaxconn": "1024", "kernel.panic": "1" }, env: { APP_MODE: "x", HOME: "/" } },
      uploads: { site: { name: "s.tar.gz", data: "A".repeat(Math.ceil((2 * 1024 * 1024 * 4) / 3) + 8) }, other: { name: "o", data: "aGk=" } },
    });
    expect(params).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(["recipe.extra", "recipe.title", "settings.env.HOME", "settings.sysctl.kernel.panic", "uploads.other", "uploads.site"]);
    expect(recipeOrderErrors(webForm, { recipe: { title: "ok" }, settings: { sysctl: { "net.core.somaxconn": "1024" }, env: { APP_MODE: "a b" } } })).toEqual({ errors: {}, params: { title: "ok" } });
    expect(Object.keys(recipeOrderErrors(null, { recipe: { title: "x" }, settings: { sysctl: {}, env: { APP_MODE: "x" } } }).errors)).toEqual(["recipe", "settings.env.APP_MODE"]);
  });

  it("checks accounts: names, reserved names, groups, keys; uids from 1001 in order", () => {
    const ok = accountsInput.parse([{ name: "alice", groups: ["deploy", "users"], sshKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b\n" }, { name: "bob" }]);
    expect(withUids(ok).map((a) => [a.name, a.uid, a.groups])).toEqual([["alice", 1001, ["deploy", "users"]], ["bob", 1002, []]]);
    const bad = (v: unknown) => accountsInput.safeParse(v).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(bad([{ name: "root" }])).toEqual(["0.name: This name is taken by the system; choose another"]);
    expect(bad([{ name: "a b" }])?.[0]).toMatch(/^0\.name: Use lowercase/);
    expect(bad([{ name: "alice", groups: ["sudo"] }])?.[0]).toMatch(/^0\.groups\.0: /);
    expect(bad([{ name: "alice", groups: ["bob"] }, { name: "bob" }])?.[0]).toMatch(/^0\.groups\.0: bob is the name of an account/);
    expect(bad([{ name: "alice", sshKeys: "sk-ssh-ed25519@openssh.com AAAAInNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIE1abcdefghijklmnopqrstuvwxyz0123456789AAAAAAAABHNzaDo=" }])?.[0]).toMatch(/^0\.sshKeys: /);
    expect(settingsInput.safeParse({ sysctl: { "net.core.somaxconn": "1`id`" } }).success).toBe(false);
    expect(settingsInput.safeParse({ env: { app_mode: "x" } }).success).toBe(false);
    expect(settingsInput.safeParse({ env: { APP_MODE: "line\nbreak" } }).success).toBe(false);
  });
});

describe("web service rendering for QEMU", () => {
  it("writes the page (escaped), the password file, the variables' page; setup names its steps; the check reports the URL", async () => {
    const r = web.render({ title: "<Team> & co", body: "one\n\ntwo <b>" }, ctx);
    const page = r.files.find((f) => f.path === "/srv/www/index.html")!.data.toString();
    expect(page).toContain("<title>&lt;Team&gt; &amp; co</title>");
    expect(page).toContain("<h1>&lt;Team&gt; &amp; co</h1>");
    expect(page).toContain("<p>one</p>\n<p>two &lt;b&gt;</p>");
    expect(r.files.find((f) => f.path === "/etc/portal/web/httpd.conf")).toEqual({ path: "/etc/portal/web/httpd.conf", data: "/private:admin:AbCdEfGhIjKlMnOpQrStUvWx\n", mode: 0o600 });
    expect(r.setup.match(/^echo "step (\w+)"$/gm)).toEqual(['echo "step content"', 'echo "step service"']);
    expect(r.setup).not.toMatch(/^\s*\.\s/m);
    expect(r.check).toContain('echo "url=http://10.30.0.5/"');
    expect(r).toMatchObject({ slug: "web", version: "1.0", timeoutSeconds: 60, steps: ["content", "service", "check"] });
    // The glue takes it (paths, names, modes).
    const archive = gunzipSync(await buildGlueArchive({ hostname: "web-01", nics: [], authorizedKeys: null, motd: "m", serviceIps: [], recipe: r }));
    expect(archive.toString("latin1")).toContain("portal/recipe/files/srv/www/cgi-bin/env");
  });

  it("by default serves a page that names the environment; an uploaded site replaces the page", () => {
    const page = web.render({}, ctx).files.find((f) => f.path === "/srv/www/index.html")!.data.toString();
    expect(page).toContain("<h1>web-01</h1>");
    expect(page).toContain("This is environment web-01");
    const site = Buffer.from("gz");
    const r = web.render({ title: "ignored" }, { ...ctx, uploads: { site } });
    expect(r.files.map((f) => f.path)).not.toContain("/srv/www/index.html");
    expect(r.files.find((f) => f.path === "/etc/portal/web/site.tar.gz")).toEqual({ path: "/etc/portal/web/site.tar.gz", data: site, mode: 0o600 });
  });

  it("refuses to render without a well-formed password", () => {
    expect(() => web.render({}, { ...ctx, secrets: {} })).toThrow(/password/);
    expect(() => web.render({}, { ...ctx, secrets: { adminPassword: "a:b" } })).toThrow(/password/);
  });
});

describe("site archives", () => {
  const limits = { maxBytes: 2 * 1024 * 1024, maxUnpackedBytes: 32 * 1024 * 1024, maxEntries: 100 };

  it("lists files and folders of a good archive", () => {
    const good = tarball("good", (src) => {
      mkdirSync(path.join(src, "css"));
      writeFileSync(path.join(src, "index.html"), "<h1>x</h1>");
      writeFileSync(path.join(src, "css", "a.css"), "h1{}");
      return ["."];
    });
    const r = readTarball(good, limits);
    expect("entries" in r && r.entries.map((e) => `${e.type} ${e.path}`).sort()).toEqual(["dir css", "file css/a.css", "file index.html"]);
    expect(web.checkUpload!("site", good)).toBeNull();
  });

  it("refuses absolute paths, .., links, other formats and too much", () => {
    const abs = tarball("abs", (src) => { writeFileSync(path.join(src, "x"), "x"); return ["x"]; }, ["--transform", "s,^,/srv/,", "--absolute-names"]);
    expect(readTarball(abs, limits)).toEqual({ problem: "/srv/x is an absolute path" });
    const up = tarball("up", (src) => { writeFileSync(path.join(src, "x"), "x"); return ["x"]; }, ["--transform", "s,^,a/../../,"]);
    expect(readTarball(up, limits)).toEqual({ problem: "a/../../x leads out of the site's folder (..)" });
    const link = tarball("link", (src) => { symlinkSync("/etc/passwd", path.join(src, "passwd")); return ["passwd"]; });
    expect(readTarball(link, limits)).toEqual({ problem: "passwd is a link; only files and folders are accepted" });
    const long = tarball("long", (src) => { const p = `${"d".repeat(90)}/${"e".repeat(90)}`; mkdirSync(path.join(src, "d".repeat(90))); writeFileSync(path.join(src, p), "x"); return [p]; }, ["--transform", "s,^,../,", "--format=gnu"]);
    expect("problem" in readTarball(long, limits) && readTarball(long, limits)).toMatchObject({ problem: expect.stringMatching(/leads out/) });
    expect(readTarball(Buffer.from("plain text"), limits)).toEqual({ problem: "the file is not gzip-compressed (a .tar.gz is expected)" });
    const big = tarball("big", (src) => { writeFileSync(path.join(src, "zeros"), Buffer.alloc(3 * 1024 * 1024)); return ["zeros"]; });
    expect(readTarball(big, { ...limits, maxUnpackedBytes: 1024 * 1024 })).toMatchObject({ problem: expect.stringMatching(/unpacks to more than 1048576 bytes/) });
    expect(readTarball(Buffer.alloc(10), { ...limits, maxBytes: 5 })).toMatchObject({ problem: expect.stringMatching(/at most 5 are accepted/) });
  });
});

describe("the recipe's progress from the guest's console", () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const steps = web.steps;

  it("starts a step at its line and ends it at the next; the check runs from setup's end to its verdict", () => {
    const lines = [
      { line: "portal-init: recipe web 1.0: setup", at: at(1) },
      { line: "portal-recipe: step content", at: at(2) },
      { line: "portal-recipe: step service", at: at(3) },
      { line: "portal-recipe: setup-exit 0", at: at(4) },
      { line: "portal-init: recipe web check: ok", at: at(6) },
      { line: "PORTAL-READY hostname=web-01 recipe=web/1.0 recipe-check=ok app.url=http://10.30.0.5/ users=alice", at: at(6) },
    ];
    expect(recipeProgress(steps, lines, "succeeded").map((s) => [s.name, s.status, s.startedAt, s.finishedAt])).toEqual([
      ["content", "succeeded", at(2), at(3)],
      ["service", "succeeded", at(3), at(4)],
      ["check", "succeeded", at(4), at(6)],
    ]);
    expect(reportedOutputs(lines)).toEqual({ url: "http://10.30.0.5/" });
  });

  it("marks the step that was running when setup failed, and leaves later ones pending", () => {
    const lines = [{ line: "portal-recipe: step content", at: at(1) }, { line: "portal-recipe: setup-exit 1", at: at(2) }];
    expect(recipeProgress(steps, lines, "failed").map((s) => s.status)).toEqual(["failed", "pending", "pending"]);
  });

  it("shows a running step while the guest is still at it, and a failed check", () => {
    expect(recipeProgress(steps, [{ line: "portal-recipe: step content", at: at(1) }], "running").map((s) => s.status)).toEqual(["running", "pending", "pending"]);
    const failedCheck = [{ line: "portal-recipe: step content", at: at(1) }, { line: "portal-recipe: step service", at: at(2) }, { line: "portal-recipe: setup-exit 0", at: at(3) }, { line: "portal-init: recipe web check: failed", at: at(63) }];
    expect(recipeProgress(steps, failedCheck, "failed").map((s) => s.status)).toEqual(["succeeded", "succeeded", "failed"]);
  });
});
