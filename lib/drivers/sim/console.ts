import { Duplex } from "node:stream";

/**
 * The simulated guest's serial console: a tiny shell with line editing that knows a few
 * commands (echo, hostname, uname, ls /data, stty size and stty rows R cols C, help), so the
 * Console tab can be used and tested without a real guest. Like a serial line it starts at
 * 24 rows and 80 columns, whatever the viewer's window. Nothing it runs touches the worker's
 * machine.
 */
export class SimConsole extends Duplex {
  private line = "";
  private size = { rows: 24, cols: 80 };
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

  /** `stty size` answers "rows cols"; `stty rows R cols C` (or `columns C`) sets them, as on a Linux serial line. */
  private stty(args: string[]): string {
    if (args.length === 1 && args[0] === "size") return `${this.size.rows} ${this.size.cols}`;
    const next = { ...this.size };
    for (let i = 0; i < args.length; i += 2) {
      const n = Number(args[i + 1]);
      if (!/^\d{1,4}$/.test(args[i + 1] ?? "") || n < 1) return `stty: invalid argument '${args[i + 1] ?? ""}'`;
      if (args[i] === "rows") next.rows = n;
      else if (args[i] === "cols" || args[i] === "columns") next.cols = n;
      else return `stty: invalid argument '${args[i]}'`;
    }
    if (!args.length) return `speed 115200 baud; rows ${this.size.rows}; columns ${this.size.cols}; line = 0;`;
    this.size = next;
    return "";
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
      case "stty":
        return this.stty(args);
      case "help":
        return "A simulated guest. Commands: echo, hostname, uname [-a], ls /data, stty size, stty rows R cols C, help";
      default:
        return `sh: ${name}: not found`;
    }
  }
}
