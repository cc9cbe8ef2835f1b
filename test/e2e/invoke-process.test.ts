import { describeInvocation } from './invoke-suite.js';

describeInvocation('process');
