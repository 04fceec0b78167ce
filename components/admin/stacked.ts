/**
 * Classes for a `table.table` that becomes one card per row on phones instead of scrolling
 * sideways: the header row is left to screen readers, and each cell shows its column's name
 * (its data-label) in a margin to the left of its value. Every cell of such a table carries a
 * data-label.
 */
export const stackedOnPhones =
  "max-sm:block max-sm:[&_thead]:sr-only max-sm:[&_td:empty]:hidden max-sm:[&_tbody]:block max-sm:[&_tr]:block max-sm:[&_tr]:py-2 " +
  "max-sm:[&_td]:relative max-sm:[&_td]:block max-sm:[&_td]:py-1 max-sm:[&_td]:pl-28 max-sm:[&_td]:before:absolute max-sm:[&_td]:before:top-1.5 " +
  "max-sm:[&_td]:before:left-4 max-sm:[&_td]:before:w-20 max-sm:[&_td]:before:font-sans max-sm:[&_td]:before:text-xs max-sm:[&_td]:before:text-slate-500 max-sm:[&_td]:before:content-[attr(data-label)]";
