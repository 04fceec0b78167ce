import { DATE_TIME_EXAMPLE, parseDateTime } from "@/lib/validation/date-time";
import { formatDateTime } from "../format";

/**
 * A date and time typed as the portal prints it (`2026-12-06 11:59`, UTC), instead of the
 * browser's date picker, which shows the browser's locale (12/06/2026, 11:59 AM). A value that
 * reads as a moment is shown in that form; anything else as it was typed, with `error`.
 */
export function DateTimeField({ name, label, value, error }: { name: string; label: string; value: string | Date | undefined; error?: string }) {
  const id = `${name}-time`;
  const at = typeof value === "string" && value.trim() ? parseDateTime(value) : value;
  // formatDateTime's form without the zone the label names.
  const shown = at instanceof Date ? formatDateTime(at).replace(/ UTC$/, "") : (value as string | undefined) ?? "";
  return (
    <div>
      <label htmlFor={id} className="field-label">{label} (UTC)</label>
      <input
        id={id}
        name={name}
        type="text"
        defaultValue={shown}
        placeholder={DATE_TIME_EXAMPLE}
        autoComplete="off"
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-note`}
        className="field-input font-mono"
      />
      {error ? <p id={`${id}-note`} className="field-error">{error}</p> : <p id={`${id}-note`} className="field-hint">YYYY-MM-DD HH:MM, or a day</p>}
    </div>
  );
}
