/**
 * The shared libraries `ldd` names (the dynamic loader included; the vDSO is no file), and
 * those it could not find.
 */
export function lddLibraries(output: string): { libraries: string[]; missing: string[] } {
  const libraries: string[] = [];
  const missing: string[] = [];
  for (const line of output.split("\n")) {
    const lost = line.match(/^\s*(\S+)\s+=>\s+not found/);
    if (lost) {
      missing.push(lost[1]!);
      continue;
    }
    const found = line.match(/=>\s+(\/\S+)\s+\(0x/) ?? line.match(/^\s*(\/\S+)\s+\(0x/);
    if (found) libraries.push(found[1]!);
  }
  return { libraries, missing };
}
