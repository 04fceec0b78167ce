/**
 * A real OpenLDAP server (Debian's slapd) on loopback for tests: its own slapd.conf, database
 * and TLS certificate (from its own throw-away CA) in a temporary directory, listening on
 * ldap:// (StartTLS offered) and ldaps://, with the memberof overlay so that user entries carry
 * memberOf like Active Directory's. Nothing here imports lib/.
 *
 *   const slapd = await startSlapd({ port: 3381, ldapsPort: 3382, suffix: "dc=lab,dc=example", ldif });
 *   // slapd.url, slapd.ldapsUrl, slapd.caFile, slapd.rootDn, slapd.rootPassword
 *   await slapd.modify("dn: cn=physics,...\nchangetype: modify\nadd: member\nmember: uid=carol,...\n");
 *   await slapd.stop();
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { portOpen, waitFor } from "../../scripts/lib.mjs";

export const SLAPD = "/usr/sbin/slapd";
export const LDAPADD = "/usr/bin/ldapadd";
export const LDAPMODIFY = "/usr/bin/ldapmodify";

export type RunningSlapd = {
  url: string;
  ldapsUrl: string;
  /** PEM file of the CA that signed the server's certificate (for 127.0.0.1 and localhost). */
  caFile: string;
  rootDn: string;
  rootPassword: string;
  /** Applies LDIF changes (changetype: modify/add/delete) as the directory's manager, with ldapmodify. */
  modify(ldif: string): Promise<void>;
  log(): string;
  stop(): Promise<void>;
};

function run(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(file)} exited ${code}:\n${out}`))));
    child.stdin.end(input ?? "");
  });
}

/** A CA and a server certificate for 127.0.0.1/localhost signed by it, valid for a day. */
function makeCertificates(dir: string) {
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=portal test directory CA"]);
  openssl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
  writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "server.ext"]);
}

export async function startSlapd(opts: { port: number; ldapsPort: number; suffix: string; ldif: string }): Promise<RunningSlapd> {
  for (const port of [opts.port, opts.ldapsPort]) {
    if (await portOpen("127.0.0.1", port)) throw new Error(`port ${port} is taken: slapd for the tests cannot listen there`);
  }
  if (!/^(dc=[a-z0-9-]+,?)+$/.test(opts.suffix)) throw new Error(`suffix ${opts.suffix}: dc=...,dc=... only`);
  const dir = mkdtempSync(path.join(os.tmpdir(), `portal-slapd-${opts.port}-`));
  mkdirSync(path.join(dir, "data"));
  makeCertificates(dir);
  const rootDn = `cn=manager,${opts.suffix}`;
  const rootPassword = "manager-password";
  const conf = path.join(dir, "slapd.conf");
  writeFileSync(
    conf,
    [
      "include /etc/ldap/schema/core.schema",
      "include /etc/ldap/schema/cosine.schema",
      "include /etc/ldap/schema/inetorgperson.schema",
      "include /etc/ldap/schema/nis.schema",
      `pidfile ${dir}/slapd.pid`,
      "modulepath /usr/lib/ldap",
      "moduleload back_mdb",
      "moduleload memberof",
      `TLSCACertificateFile ${dir}/ca.pem`,
      `TLSCertificateFile ${dir}/server.pem`,
      `TLSCertificateKeyFile ${dir}/server.key`,
      "database mdb",
      "maxsize 16777216",
      `suffix "${opts.suffix}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${rootPassword}`,
      `directory ${dir}/data`,
      // Passwords are only ever compared (bind); everything else is readable by signed-in
      // accounts only, so the portal has to search with its own service account.
      "access to attrs=userPassword by anonymous auth by * none",
      "access to * by users read by * none",
      "overlay memberof",
      "memberof-group-oc groupOfNames",
      "memberof-member-ad member",
      "memberof-memberof-ad memberOf",
      "memberof-refint TRUE",
      "",
    ].join("\n"),
  );
  const url = `ldap://127.0.0.1:${opts.port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${opts.ldapsPort}`;
  let log = "";
  // -d 0: stay in the foreground (the test owns the process), logging nothing but errors.
  const child: ChildProcess = spawn(SLAPD, ["-d", "0", "-f", conf, "-h", `${url}/ ${ldapsUrl}/`], { stdio: ["ignore", "pipe", "pipe"] });
  for (const s of [child.stdout!, child.stderr!]) s.on("data", (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const listening = await waitFor(async () => child.exitCode === null && (await portOpen("127.0.0.1", opts.port)) && (await portOpen("127.0.0.1", opts.ldapsPort)), { timeoutMs: 15_000, intervalMs: 100 });
  if (!listening) {
    await stop();
    throw new Error(`slapd did not listen on ${opts.port} and ${opts.ldapsPort} within 15 s:\n${log}`);
  }
  const asManager = ["-x", "-H", url, "-D", rootDn, "-w", rootPassword];
  try {
    // Online (not slapadd), so that the memberof overlay writes the users' memberOf.
    await run(LDAPADD, asManager, opts.ldif);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    ldapsUrl,
    caFile: path.join(dir, "ca.pem"),
    rootDn,
    rootPassword,
    modify: async (ldif) => void (await run(LDAPMODIFY, asManager, ldif)),
    log: () => log,
    stop,
  };
}
