/**
 * `npm run redrive -- --stack NAME [--region R] [--dry-run] [--max N]`: replays what the cache
 * purges of a deployed stack gave up on (dev/redrive.ts).
 */
import { redriveCli } from '../dev/redrive';

redriveCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
