/** The image library: golden builds, mk_image (resolve, pack) and unpack. Catalog registration is lib/catalog/register-images.ts. */
export * from "./types";
export { buildAllImages, buildGoldenImage, kernelPackage, type BuildResult } from "./build";
export { diskInfo, goldenFor, packImage, removeImageWork, resolveImage, unpackImage } from "./pipeline";
export { digestFiles, fileDigest, readManifest, verifyManifest } from "./manifest";
export { cacheDir, goldenDir, goldenPaths, packedDir, packKeyPattern, slugPattern } from "./store";
export { guestModules, initScript, qemuCatalogImages, recipeHash } from "./recipe";
