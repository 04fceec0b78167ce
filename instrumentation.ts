export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { bootstrapOrExit } = await import("./lib/bootstrap");
  await bootstrapOrExit();
}
