/**
 * `npm run smoke -- --stack NAME [--region R]`: smoke checks of a deployed CatalogStack
 * (dev/smoke.ts). Run with tsx: `tsx scripts/smoke.ts --stack CatalogStack`.
 */
import { smokeCli } from '../dev/smoke';

smokeCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
