/**
 * The one function that turns an argument vector into a POSIX shell command line, for the one
 * place that needs it: an SSH exec request, which the remote user's shell parses. Every
 * argument is single-quoted (a single quote inside becomes '\''), so nothing in it is
 * interpreted. Callers still validate names against strict patterns before they get here;
 * NUL and newlines are refused outright, since no command a driver runs needs them.
 */
export function shellQuoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("empty command");
  return argv.map(shellQuote).join(" ");
}

export function shellQuote(arg: string): string {
  if (/[\0\n\r]/.test(arg)) throw new Error("refusing to quote an argument with NUL or a line break");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
