import path from "node:path";
import type { Transport } from "../transport/types";
import { must, readManifest, writeManifest } from "./manifest";
import { buildKeyOf, goldenPaths, versionPaths } from "./store";
import type { GoldenManifest } from "./types";

/**
 * Every build of a golden image is kept in the store under `versions/<slug>/<build key>/` (hard
 * links of the build's files, so keeping it costs no space while it is also the newest), so
 * that an environment can be built from an older version, or rolled back to it, after newer
 * builds replaced `golden/<slug>/`. The key comes from the files' checksums: the same build is
 * kept once, whatever the number of times it is built or registered.
 */

export type KeptBuild = { key: string; manifest: GoldenManifest };

/**
 * Keeps the build in `dir` (a golden folder with its manifest) under its key; nothing to do
 * when it is kept already. Returns its key.
 */
export async function keepBuild(t: Transport, store: string, dir: string, manifest: GoldenManifest): Promise<string> {
  const key = buildKeyOf(manifest.files);
  const kept = versionPaths(store, manifest.slug, key);
  const existing = await readManifest<GoldenManifest>(t, kept.dir);
  if (existing && buildKeyOf(existing.files) === key) return key;
  const staging = `${kept.dir}.keeping-${process.pid}`;
  await must(t, ["rm", "-rf", staging], "clearing a half-kept build");
  await must(t, ["mkdir", "-p", staging], "creating the build's folder in versions/");
  for (const name of Object.keys(manifest.files)) {
    const from = path.join(dir, name);
    // A hard link where the store is one file system; a copy otherwise.
    const linked = await t.run(["ln", "-f", from, path.join(staging, name)]);
    if (linked.code !== 0) await must(t, ["cp", "-f", from, path.join(staging, name)], `keeping ${name}`);
  }
  await writeManifest(t, staging, manifest);
  await must(t, ["rm", "-rf", kept.dir], "replacing a half-kept build");
  await must(t, ["mv", staging, kept.dir], "keeping the build");
  return key;
}

/** Keeps the newest build of `slug` (its golden folder) too, for stores built before versions were kept. */
export async function keepGoldenBuild(t: Transport, store: string, slug: string): Promise<KeptBuild | null> {
  const golden = goldenPaths(store, slug);
  const manifest = await readManifest<GoldenManifest>(t, golden.dir);
  if (!manifest || manifest.slug !== slug) return null;
  return { key: await keepBuild(t, store, golden.dir, manifest), manifest };
}
