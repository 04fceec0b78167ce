export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { bootstrap } = await import("./lib/bootstrap");
  try {
    await bootstrap();
  } catch (err) {
    console.error("[portal] could not start:", err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
