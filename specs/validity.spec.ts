import { expect } from 'chai';
import { describeFamily, materialOf } from './support/runner.ts';

await describeFamily('validity', {
  'clock-skew-leaf': {
    once() {
      it('the leaf starts less than 5 minutes from now', () => {
        const [leaf] = materialOf('clock-skew-leaf').server.chain;
        const startsIn = (leaf?.certificate.notBefore.getTime() ?? 0) - Date.now();
        expect(startsIn)
          .to.be.above(0)
          .and.at.most(5 * 60 * 1000);
      });
    },
  },
});
