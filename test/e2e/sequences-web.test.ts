import { describeSequencesAndWeb } from './sequences-web-suite.js';

describeSequencesAndWeb('process');
