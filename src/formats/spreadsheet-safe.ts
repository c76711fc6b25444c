/**
 * CSV cells a spreadsheet would run as a formula (OWASP "CSV Injection"): a cell starting
 * with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`, which
 * spreadsheets show as text and do not evaluate. Every CSV Muster writes for people to open
 * (an import's error report) passes its text cells through here.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** The cell as a spreadsheet will show it, never run it. */
export function spreadsheetSafe(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}
