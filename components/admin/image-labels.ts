import { formatSize, hostKindLabels, osLabels } from "../format";

export const sourceLabels: Record<string, string> = { "install-file": "Install file", clone: "Clone of a golden image", copy: "Full copy of a golden image" };
export const rootTypeLabels: Record<string, string> = { sparse: "Sparse root", whole: "Whole root" };

/** What an image is, in one line: OS, hypervisors, how it is built, purpose, size. */
export function imageSummary(i: { os: string; hostKinds: string[]; source: string; rootType: string | null; purpose: string; sizeMb: number; licensed: boolean }): string {
  return [
    osLabels[i.os] ?? i.os,
    i.hostKinds.map((k) => hostKindLabels[k] ?? k).join(", "),
    `${sourceLabels[i.source] ?? i.source}${i.rootType ? `, ${(rootTypeLabels[i.rootType] ?? i.rootType).toLowerCase()}` : ""}`,
    i.purpose,
    formatSize(i.sizeMb),
    ...(i.licensed ? ["licensed per CPU"] : []),
  ].join(" · ");
}
