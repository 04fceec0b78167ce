import { DATE_FORMAT } from "@/lib/courses/input";
import { FieldError } from "../admin/useSchemaForm";

type Props = {
  id: string;
  name: string;
  label: string;
  value: string;
  onChange: (e: { target: { value: string } }) => void;
  error: string | undefined;
  className?: string;
};

/**
 * A day as the portal writes it everywhere, 2026-12-06. A text field, not type=date: the
 * browser's date field shows the reader's locale (12/06/2026 or 06.12.2026), never this form.
 */
export function DateField({ id, name, label, value, onChange, error, className }: Props) {
  return (
    <div>
      <label htmlFor={id} className="field-label">{label}</label>
      <input
        id={id}
        name={name}
        value={value}
        onChange={onChange}
        placeholder={DATE_FORMAT}
        pattern="\d{4}-\d{2}-\d{2}"
        autoComplete="off"
        spellCheck={false}
        aria-invalid={Boolean(error)}
        aria-describedby={error ? `${id}-error` : `${id}-hint`}
        className={`field-input font-mono ${className ?? ""}`}
      />
      {error ? <FieldError id={id} text={error} /> : <p id={`${id}-hint`} className="field-hint">{DATE_FORMAT}, e.g. 2026-12-06</p>}
    </div>
  );
}
