export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before anything else: every request from now on carries the address it came from.
  const { recordPeerAddresses } = await import("./lib/http/peer-address");
  recordPeerAddresses();
  const { bootstrapOrExit } = await import("./lib/bootstrap");
  await bootstrapOrExit();
}
