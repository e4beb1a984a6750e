/**
 * `npm run dev`: the local dev server (dev/server.ts) on the sample's route table, or another
 * one with --routes. Run with tsx: `tsx scripts/dev.ts [--port 3000] [--redis URL] ...`.
 */
import { runDevCli } from '../dev/main';

runDevCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
