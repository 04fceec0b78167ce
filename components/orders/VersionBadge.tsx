/**
 * The image version an environment was built from, and "outdated" when its image has a newer
 * current version (a reinstall or a patch campaign brings it up to date).
 */
export function VersionBadge({ version, current, outdated }: { version: number | null; current?: number | null; outdated: boolean }) {
  if (version === null) return null;
  return (
    <span className="inline-flex flex-wrap items-center gap-1.5">
      <span data-testid="image-version" className="rounded bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-700">v{version}</span>
      {outdated ? (
        <span
          data-testid="outdated-badge"
          title={current ? `The image's current version is ${current}` : "The image has a newer version"}
          className="rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium whitespace-nowrap text-amber-800 ring-1 ring-amber-300 ring-inset"
        >
          outdated{current ? `: v${current} is current` : ""}
        </span>
      ) : null}
    </span>
  );
}
