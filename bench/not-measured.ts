/**
 * A report section whose bench has not run yet: records the gap (`bench:report` lists them) and
 * returns the section's placeholder text.
 */
export function notMeasured(heading: string, resultsFile: string, script: string, report: { gaps: string[] }): string {
  report.gaps.push(`${resultsFile} is missing: run \`npm run ${script}\``);
  return `## ${heading}\n\nNot measured yet: run \`npm run ${script}\`.\n`;
}
