/**
 * TEST EMULATOR, NOT THE REAL TOOLS: `nft -f FILE` / `nft list ruleset` and `sysctl` on a Xen
 * dom0. The ruleset is kept in $EMU_STATE/nft.json after a check of what nft(8) would refuse
 * in the portal's files (braces, a table, a hook line); sysctl keys in $EMU_STATE/sysctl.json.
 * Nothing is filtered or forwarded here.
 */
import { existsSync, readFileSync } from "node:fs";
import { fail, load, out, save } from "./state.mjs";

export function nft(args) {
  if (args[0] === "list" && args[1] === "ruleset") return out(load("nft", { text: "" }).text);
  if (args[0] !== "-f" || !args[1]) fail(`nft: unsupported by this test emulator: ${args.join(" ")}`, 1);
  if (!existsSync(args[1])) fail(`Error: Could not process rule: No such file or directory\n${args[1]}`, 1);
  const text = readFileSync(args[1], "utf8");
  const body = text.replace(/#.*$/gm, "");
  let depth = 0;
  for (const ch of body) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (depth < 0) fail(`${args[1]}: Error: syntax error, unexpected '}'`, 1);
  }
  if (depth !== 0) fail(`${args[1]}: Error: syntax error, unexpected end of file`, 1);
  const table = /table inet ([a-z_]+) \{/.exec(body);
  if (!table) fail(`${args[1]}: Error: no table`, 1);
  if (!/type filter hook forward priority filter; policy (drop|accept);/.test(body)) fail(`${args[1]}: Error: no base chain`, 1);
  for (const line of body.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("iifname"))) {
    if (!/^iifname "[A-Za-z0-9_.-]{1,15}" oifname "[A-Za-z0-9_.-]{1,15}" accept( comment "[^"]*")?$/.test(line)) fail(`${args[1]}: Error: syntax error: ${line}`, 1);
  }
  save("nft", { text, table: table[1] });
}

export function sysctl(args) {
  const values = load("sysctl", {});
  const rest = args.filter((a) => !["-q", "-w"].includes(a));
  if (args.includes("-n")) return out(String(values[rest.find((a) => a !== "-n")] ?? "0"));
  for (const kv of rest) {
    const [k, v] = kv.split("=");
    if (!/^[a-z0-9_.-]+$/.test(k) || v === undefined) fail(`sysctl: cannot stat /proc/sys/${k.replace(/\./g, "/")}: No such file or directory`, 255);
    values[k] = v;
    if (!args.includes("-q")) out(`${k} = ${v}`);
  }
  save("sysctl", values);
}
