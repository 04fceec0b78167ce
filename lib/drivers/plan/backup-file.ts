/**
 * Where a Xen or zones host keeps a backup while the portal streams it back to its backup
 * store: an absolute path made of safe characters only (it is passed as an argument to the
 * host's shell pipelines, never spliced into them).
 */
export function assertBackupFile(file: string): void {
  if (!/^\/[A-Za-z0-9._/-]{1,200}\.gz$/.test(file) || file.split("/").includes("..")) throw new Error(`invalid backup file ${JSON.stringify(file.slice(0, 60))}`);
}
