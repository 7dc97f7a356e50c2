import { Command, CommanderError } from 'commander';
import { registerAll } from './commands/index.js';

const program = new Command('wvo')
  .description('Zero-downtime blue/green upgrades for an MCP orchestrator')
  .version(process.env.npm_package_version ?? '0.1.0')
  .showHelpAfterError()
  // Usage errors exit 2 (DESIGN §10); commander's own default is 1.
  .exitOverride((error: CommanderError) => {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') process.exit(0);
    process.exit(2);
  });

await registerAll(program);
await program.parseAsync(process.argv);
