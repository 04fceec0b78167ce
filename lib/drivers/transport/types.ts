import type { Duplex, Readable } from "node:stream";

/**
 * How a driver reaches a host: run a program with arguments, write and read files. The local
 * transport runs on this machine; the SSH transport (ssh2) runs on a registered host. Argument
 * vectors are never joined into a shell string here; where a remote shell cannot be avoided
 * (an SSH exec request is one string), ./quote.ts is the one place that quotes.
 */
export type OutputStream = "stdout" | "stderr";

export type RunOptions = {
  /** Bytes for the program's standard input. */
  stdin?: string | Buffer;
  /** Kill the program and fail with a "timeout" TransportError after this long. */
  timeoutMs?: number;
  /** Abort (worker shutting down): kill the program and fail with an "aborted" TransportError. */
  signal?: AbortSignal;
  /** Every complete output line as it arrives (for the step log). */
  onLine?: (stream: OutputStream, line: string) => void;
};

export type RunResult = { code: number; stdout: string; stderr: string; durationMs: number };

export type TransportErrorKind = "timeout" | "aborted" | "connect" | "auth" | "host-key" | "spawn";

export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

export interface Transport {
  /** For logs and errors: "local" or "ssh portal@10.0.0.5:22". Never holds a secret. */
  readonly description: string;
  /** Runs argv[0] with the remaining arguments. A non-zero exit is a result, not an error. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  writeFile(path: string, content: string | Buffer, options?: { mode?: number }): Promise<void>;
  /** The file's bytes, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /** The bytes from `offset` to the end and the file's size, or null when it does not exist (to follow a growing log). */
  readFrom(path: string, offset: number): Promise<{ size: number; bytes: Buffer } | null>;
  /**
   * The file's bytes as a stream, for files too big to hold in memory (disk copies). Rejects
   * with a TransportError when the file cannot be opened; the stream fails if reading breaks.
   */
  readStream(path: string): Promise<Readable>;
  /**
   * Streams `source` into the file (parent directory created), under a temporary name renamed
   * into place at the end, so a reader never sees half a file and a broken stream leaves none.
   * Resolves with the number of bytes written.
   */
  writeStream(path: string, source: Readable, options?: { mode?: number; signal?: AbortSignal }): Promise<number>;
  /** A byte stream to a unix socket on the host (QMP, a guest's serial console). */
  openStream(socketPath: string): Promise<Duplex>;
  /**
   * Runs an interactive program (a guest's console: `xl console`, `zlogin -C`) on a terminal
   * where the host has one to give (SSH asks for a pty): writing is typing, reading is its
   * output. Ending or destroying the stream ends the program.
   */
  openCommand(argv: readonly string[]): Promise<Duplex>;
  close(): Promise<void>;
}
