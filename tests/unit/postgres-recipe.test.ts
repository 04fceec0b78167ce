/** The database recipe: its parameters, the password's SCRAM verifier, what it puts into a guest, and the guest hooks' console lines. */
import { spawnSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildGlueArchive } from "@/lib/drivers/qemu/glue";
import { hookCommand, parseHookOutput } from "@/lib/drivers/guest-hooks";
import { zoneHookArgv } from "@/lib/drivers/zones/backup";
import { goldenOrders } from "../fixtures/plan-orders";
import { postgres } from "@/lib/recipes/postgres";
import { postgresParams } from "@/lib/recipes/postgres-form";
import { databaseSql, rotateSql, sqlLiteral, verifierLine } from "@/lib/recipes/postgres-sql";
import { newDatabasePassword, scramVerifier } from "@/lib/recipes/scram";
import type { RecipeContext } from "@/lib/recipes/types";
import { databasePasswordPattern, scramVerifierPattern } from "@/lib/validation/database";

const password = "Zq3pW8mLx2Rt7Vb4Nc6Kd9Hy";
const ctx: RecipeContext = {
  orderId: "00000000-0000-4000-8000-000000000001",
  orderName: "inventory db",
  hostname: "db-01",
  environmentLabel: "db-01",
  addresses: [{ ip: "10.20.0.5", purpose: "service" }, { ip: "10.30.0.5", purpose: "production" }],
  secrets: { password },
  uploads: {},
  settings: { sysctl: {}, env: {} },
};

/** Field -> messages, as the API's 422 would list them. */
function problems(input: unknown): Record<string, string[]> {
  const r = postgresParams.safeParse(input);
  if (r.success) return {};
  const out: Record<string, string[]> = {};
  for (const i of r.error.issues) (out[String(i.path[0] ?? "")] ??= []).push(i.message);
  return out;
}

describe("postgres recipe parameters", () => {
  it("takes lower-case identifiers for the database and its owner", () => {
    expect(postgresParams.parse({ database: "inventory", owner: "inv_app" })).toEqual({ database: "inventory", owner: "inv_app" });
    expect(postgresParams.parse({ database: "_a1", owner: "a".repeat(63) }).owner).toHaveLength(63);
  });

  it("refuses names PostgreSQL or a shell would read specially, and reserved ones, naming the field", () => {
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ database: "Inventory", owner: "app" }, "database", /lower-case/],
      [{ database: "inv-db", owner: "app" }, "database", /lower-case/],
      [{ database: "1db", owner: "app" }, "database", /lower-case/],
      [{ database: "db; drop table x", owner: "app" }, "database", /lower-case/],
      [{ database: "a".repeat(64), owner: "app" }, "database", /at most 63/],
      [{ database: "template1", owner: "app" }, "database", /every PostgreSQL server has/],
      [{ database: "postgres", owner: "app" }, "database", /every PostgreSQL server has/],
      [{ database: "db", owner: "postgres" }, "owner", /reserved/],
      [{ database: "db", owner: "public" }, "owner", /reserved/],
      [{ database: "db", owner: "pg_monitor" }, "owner", /pg_ are reserved/],
      [{ database: "db", owner: "app'--" }, "owner", /lower-case/],
      [{ database: "db", owner: "" }, "owner", /required/],
      [{ database: "db" }, "owner", /./],
    ];
    for (const [input, field, message] of bad) {
      const p = problems(input);
      expect(Object.keys(p), JSON.stringify(input)).toEqual([field]);
      expect(p[field]!.join(" "), JSON.stringify(input)).toMatch(message);
    }
    // Strict: a parameter the recipe does not have is refused too.
    expect(Object.keys(problems({ database: "db", owner: "app", password: "x" }))).toEqual([""]);
  });
});

describe("SCRAM-SHA-256 verifier", () => {
  it("matches RFC 7677's example exchange (user / pencil)", () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
    const verifier = scramVerifier("pencil", salt);
    const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier)!;
    expect(m[1]).toBe("W22ZaJ0SNY7soEsUEjb6gQ==");
    const storedKey = Buffer.from(m[2]!, "base64");
    const serverKey = Buffer.from(m[3]!, "base64");
    const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    // The server's signature in the RFC is made with ServerKey ...
    expect(createHmac("sha256", serverKey).update(authMessage).digest("base64")).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    // ... and the client's proof, undone with StoredKey, gives back a ClientKey whose hash is StoredKey.
    const proof = Buffer.from("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "base64");
    const signature = createHmac("sha256", storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
    expect(createHash("sha256").update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  it("has a fresh salt each time and the form the guests check", () => {
    const a = scramVerifier(password);
    const b = scramVerifier(password);
    expect(a).not.toBe(b);
    for (const v of [a, b]) expect(v).toMatch(scramVerifierPattern);
  });

  it("new passwords are 24 letters and digits, different each time", () => {
    const seen = new Set(Array.from({ length: 50 }, () => newDatabasePassword()));
    expect(seen.size).toBe(50);
    for (const p of seen) expect(p).toMatch(/^[A-Za-z0-9]{24}$/);
    for (const p of seen) expect(p).toMatch(databasePasswordPattern);
  });
});

describe("SQL the recipe sends", () => {
  const verifier = scramVerifier(password);

  it("quotes values as literals only when their form admits no quote", () => {
    expect(sqlLiteral("inv_app", /^[a-z_]+$/, "x")).toBe("'inv_app'");
    for (const v of ["it's", "a\\b", "a\nb"]) expect(() => sqlLiteral(v, /^.*$/s, "x")).toThrow(/unexpected form/);
    expect(() => sqlLiteral("abc", /^[0-9]+$/, "x")).toThrow(/unexpected form/);
    expect(() => verifierLine("SCRAM-SHA-256$4096:x'; DROP ROLE postgres; --")).toThrow(/unexpected form/);
    expect(verifierLine(verifier)).toBe(`\\set verifier '${verifier}'`);
  });

  it("makes the owner and the database only when missing, with the verifier, never the password", () => {
    const sql = databaseSql("inventory", "inv_app", verifier);
    expect(sql).toContain("\\set owner 'inv_app'\n\\set db 'inventory'\n");
    expect(sql).toContain(`\\set verifier '${verifier}'`);
    expect(sql).toMatch(/format\('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :'verifier'\) WHERE NOT EXISTS/);
    expect(sql).toMatch(/format\('CREATE DATABASE %I OWNER %I', :'db', :'owner'\) WHERE NOT EXISTS/);
    expect(sql).not.toContain(password);
    expect(() => databaseSql("template0", "inv_app", verifier)).toThrow(/every PostgreSQL server has/);
    expect(() => databaseSql("inventory", "inv_app", password)).toThrow(/verifier/);
    expect(rotateSql("inv_app")).toContain("format('ALTER ROLE %I PASSWORD %L', :'owner', :'verifier')\\gexec");
  });
});

describe("postgres recipe on QEMU guests", () => {
  const recipe = postgres.render({ database: "inventory", owner: "inv_app" }, ctx);

  it("sets the cluster up in its own steps and checks it with pg_isready and a query", () => {
    expect(recipe).toMatchObject({ slug: "postgres", version: "1", steps: ["initdb", "start", "database", "check"] });
    const steps = [...recipe.setup.matchAll(/echo "step (\w+)"/g)].map((m) => m[1]);
    expect(steps).toEqual(["initdb", "start", "database"]);
    expect(recipe.setup).toContain("initdb -D $PGDATA.new -U postgres -E UTF8 --locale=C --auth-local=peer --auth-host=scram-sha-256");
    expect(recipe.setup).toContain("mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm");
    expect(recipe.check).toContain("pg_isready -q -h 127.0.0.1 -p 5432");
    expect(recipe.check.trim().split("\n").at(-1)).toBe('echo "port=5432 database=inventory user=inv_app"');
    const settings = recipe.files.find((f) => f.path === "/etc/portal/postgres/postgresql.conf")!.data.toString();
    expect(settings).toContain("listen_addresses = '127.0.0.1,10.20.0.5,10.30.0.5'");
    expect(settings).toMatch(/timezone = 'UTC'[\s\S]*lc_messages = 'C'[\s\S]*dynamic_shared_memory_type = posix/);
    const hba = recipe.files.find((f) => f.path === "/etc/portal/postgres/pg_hba.conf")!.data.toString();
    expect(hba).toMatch(/^host\s+all\s+all\s+samenet\s+scram-sha-256$/m);
    expect(hba).not.toMatch(/trust|md5|password\s*$/m);
  });

  it("puts only the verifier into the guest, in a file only root reads, inside the glue archive", async () => {
    expect(JSON.stringify(recipe)).not.toContain(password);
    const sqlFile = recipe.files.find((f) => f.path === "/etc/portal/postgres/database.sql")!;
    expect(sqlFile.mode).toBe(0o600);
    const archive = gunzipSync(await buildGlueArchive({ hostname: "db-01", nics: [], authorizedKeys: null, motd: "x", serviceIps: [], recipe }));
    const listing = spawnSync("cpio", ["-tv", "--quiet"], { input: archive }).stdout.toString();
    expect(listing).toMatch(/^-rw------- .* portal\/recipe\/files\/etc\/portal\/postgres\/database\.sql$/m);
    expect(listing).toMatch(/^-rwx------ .* portal\/recipe\/files\/etc\/portal\/hooks\/set-password$/m);
    expect(archive.toString("latin1")).not.toContain(password);
  });

  it("refuses a password it could not have made, and bad names", () => {
    expect(() => postgres.render({ database: "inventory", owner: "inv_app" }, { ...ctx, secrets: {} })).toThrow(/password is missing/);
    expect(() => postgres.render({ database: "inventory", owner: "inv_app" }, { ...ctx, secrets: { password: "short" } })).toThrow(/malformed/);
    expect(() => postgres.render({ database: "x y", owner: "inv_app" }, ctx)).toThrow(/database name/);
  });
});

describe("guest hooks on the console", () => {
  it("types the hook with its argument and input in single quotes, framed by lines only the shell can make", () => {
    expect(hookCommand("quiesce", { arg: "freeze" })).toBe("echo hook-$((40+1))-start; /etc/portal/hooks/quiesce 'freeze' < /dev/null 2>&1; echo hook-$((40+2))-$?");
    const v = scramVerifier(password);
    expect(hookCommand("set-password", { input: v })).toBe(`echo hook-$((40+1))-start; echo '${v}' | /etc/portal/hooks/set-password 2>&1; echo hook-$((40+2))-$?`);
    for (const input of ["a'b", "a b", "$(reboot)", "a;b", "a\nb"]) expect(() => hookCommand("set-password", { input })).toThrow(/not allowed/);
  });

  it("runs a zone's hook through zlogin as one quoted line; its input never on the command line", () => {
    const zone = goldenOrders["zone-postgres-recipe"]!;
    expect(zoneHookArgv(zone, "quiesce", "freeze")).toEqual(["zlogin", "zone-pgdb", "/etc/portal/hooks/quiesce freeze"]);
    expect(zoneHookArgv(zone, "set-password")).toEqual(["zlogin", "zone-pgdb", "/etc/portal/hooks/set-password"]);
    expect(() => zoneHookArgv(zone, "quiesce", "freeze; reboot")).toThrow(/not allowed/);
  });

  it("reads the exit code and the output between the frame lines, not the echo of the command", () => {
    const typed = hookCommand("quiesce", { arg: "freeze" });
    const printed = `${typed.slice(0, 60)}\r\n${typed.slice(60)}\r\nhook-41-start\r\nquiesce: CHECKPOINT done, /data frozen\r\nhook-42-0\r\nroot@db-01:/# `;
    expect(parseHookOutput(printed)).toEqual({ code: 0, output: "quiesce: CHECKPOINT done, /data frozen" });
    expect(parseHookOutput(`${typed}\r\nhook-41-start\r\nsh: /etc/portal/hooks/quiesce: not found\r\nhook-42-127\r\n`)?.code).toBe(127);
    expect(parseHookOutput(`${typed}\r\nhook-41-start\r\n`)).toBeNull();
  });
});
