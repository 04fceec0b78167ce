import type { ReactNode } from "react";

/** The header row of a `table.table`: one column header per entry, in order. */
export function TableHead({ columns }: { columns: readonly ReactNode[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) => (
          <th key={i} scope="col">{c}</th>
        ))}
      </tr>
    </thead>
  );
}

