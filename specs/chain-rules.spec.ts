import { describeFamily } from './support/runner.ts';

await describeFamily('chain-rules');
