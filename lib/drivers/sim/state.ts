/**
 * What the simulated hypervisor keeps on its "host": objects (image caches, volumes, guests)
 * with a state, and failures an admin injected per step. The portal stores them in its
 * database (lib/pipeline/drivers.ts); the driver only sees this interface.
 */
export type SimObject = { kind: string; name: string; state: string };

export interface SimHostState {
  /** Consumes one injected failure for `step` on the host, atomically; true when there was one. */
  takeInjectedFailure(hostId: string, step: string): Promise<boolean>;
  /** The object, or null; `live` leaves out deleted ones. */
  get(hostId: string, kind: string, name: string, opts?: { live?: boolean }): Promise<SimObject | null>;
  /** Creates or updates the object (a deleted one that comes back counts as created again). */
  put(hostId: string, kind: string, name: string, state: string): Promise<void>;
  /**
   * The live objects that belong to guest `guest` on the host: its volume, NICs, glue and
   * guest (named `guest`), its packed image (`guest.tar`) and its snapshots (`guest@<tag>`).
   */
  objectsOf(hostId: string, guest: string): Promise<SimObject[]>;
  /** Marks the named objects deleted; returns the kinds of those that were not already. */
  remove(hostId: string, objects: { kind: string; name: string }[]): Promise<string[]>;
}
