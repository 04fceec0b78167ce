import { Duplex } from "node:stream";

/**
 * The simulated guest's serial console: a tiny shell with line editing that knows a few
 * commands (echo, hostname, uname, ls /data, help), so the Console tab can be used and
 * tested without a real guest. Nothing it runs touches the worker's machine.
 */
export class SimConsole extends Duplex {
  private line = "";
  private readonly prompt: string;
  private readonly watch: NodeJS.Timeout;

  /** `running` is asked every second: the console ends when the guest stops, as a real one does. */
  constructor(
    private readonly hostname: string,
    running: () => Promise<boolean>,
  ) {
    super();
    this.prompt = `root@${hostname}:~# `;
    this.watch = setInterval(() => {
      void running().then(
        (yes) => {
          if (yes) return;
          this.out("\r\n[the guest powered off]\r\n");
          this.push(null);
          this.destroy();
        },
        () => {},
      );
    }, 1000);
    this.watch.unref();
  }

  _destroy(err: Error | null, done: (err?: Error | null) => void) {
    clearInterval(this.watch);
    done(err);
  }

  _read() {}

  _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void) {
    for (const ch of chunk.toString("utf8")) this.key(ch);
    done();
  }

  _final(done: () => void) {
    this.push(null);
    done();
  }

  private out(text: string) {
    this.push(text);
  }

  private key(ch: string) {
    if (ch === "\r" || ch === "\n") {
      this.out("\r\n");
      const command = this.line;
      this.line = "";
      const reply = this.run(command.trim());
      if (reply) this.out(`${reply.replace(/\n/g, "\r\n")}\r\n`);
      this.out(this.prompt);
    } else if (ch === "\x7f" || ch === "\b") {
      if (this.line) {
        this.line = this.line.slice(0, -1);
        this.out("\b \b");
      }
    } else if (ch === "\x03") {
      this.line = "";
      this.out(`^C\r\n${this.prompt}`);
    } else if (ch >= " " && this.line.length < 1024) {
      this.line += ch;
      this.out(ch);
    }
  }

  private run(command: string): string {
    const [name, ...args] = command.split(/\s+/);
    switch (name) {
      case "":
        return "";
      case "echo":
        return args.join(" ");
      case "hostname":
        return this.hostname;
      case "uname":
        return args.includes("-a") ? `Linux ${this.hostname} 6.1.0-sim #1 SMP simulated x86_64 GNU/Linux` : "Linux";
      case "ls":
        if (args[0] === "/data" || args[0] === "/data/") return "lost+found";
        return args.length ? `ls: ${args[0]}: No such file or directory` : "";
      case "help":
        return "A simulated guest. Commands: echo, hostname, uname [-a], ls /data, help";
      default:
        return `sh: ${name}: not found`;
    }
  }
}
