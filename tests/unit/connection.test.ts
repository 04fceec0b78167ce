/** How to connect, from what glue recorded: the production address, the command, and a warning without a key. */
import { describe, expect, it } from "vitest";
import { connectionOf, databaseEndpoint } from "@/lib/orders/connection";

const addresses = [
  { ip: "10.20.0.7", purpose: "service" },
  { ip: "10.30.0.7", purpose: "production" },
];
const key = { name: "alice@laptop", fingerprint: "SHA256:iVlRxRcMfi2ik2JF4Kc98cmxdBroV/GddPaI0GarcXI" };

describe("connectionOf", () => {
  it("uses the production address and the login glue set up, with the installed key", () => {
    expect(connectionOf("ready", { user: "root", keys: [key] }, addresses)).toEqual({ user: "root", address: "10.30.0.7", command: "ssh root@10.30.0.7", keys: [key] });
    expect(connectionOf("expiring", { user: "root", keys: [key] }, [addresses[0]])?.address).toBe("10.20.0.7");
  });

  it("warns when no key was installed, or when which one was not recorded", () => {
    expect(connectionOf("ready", { user: "root", keys: [] }, addresses)?.warning).toMatch(/^No SSH key was installed/);
    const unrecorded = connectionOf("ready", null, addresses);
    expect(unrecorded).toMatchObject({ user: "root", command: "ssh root@10.30.0.7", keys: [] });
    expect(unrecorded?.warning).toMatch(/^Which SSH key was installed was not recorded/);
  });

  it("is null before delivery, once it is being destroyed, and without an address", () => {
    for (const status of ["provisioning", "retiring", "retired", "failed"]) expect(connectionOf(status, { user: "root", keys: [key] }, addresses)).toBeNull();
    expect(connectionOf("ready", { user: "root", keys: [key] }, [])).toBeNull();
  });
});

describe("connection of a database environment", () => {
  it("adds host, port, database and user from the order's recipe, with a psql command line", () => {
    const endpoint = databaseEndpoint({ slug: "postgres", version: "1", params: { database: "inventory", owner: "inv_app" } });
    expect(endpoint).toEqual({ engine: "postgresql", port: 5432, database: "inventory", user: "inv_app" });
    const c = connectionOf("ready", { user: "root", keys: [key] }, addresses, endpoint);
    expect(c?.database).toEqual({
      engine: "postgresql", host: "10.30.0.7", port: 5432, database: "inventory", user: "inv_app",
      command: 'psql "host=10.30.0.7 port=5432 dbname=inventory user=inv_app"',
    });
    expect(c?.command).toBe("ssh root@10.30.0.7");
  });

  it("has none for other recipes, bare images, or parameters that no longer check", () => {
    expect(databaseEndpoint(null)).toBeNull();
    expect(databaseEndpoint({ slug: "web", version: "1.0", params: { title: "x" } })).toBeNull();
    expect(databaseEndpoint({ slug: "postgres", version: "1", params: { database: "a b", owner: "x" } })).toBeNull();
    expect(connectionOf("ready", { user: "root", keys: [key] }, addresses)?.database).toBeUndefined();
  });
});
