import * as assert from 'node:assert/strict';
import { truncate } from '../../../src/views/format';

describe('views/format: labels', () => {
  it('keeps text that fits, on one line', () => {
    assert.equal(truncate('  fix the\n flaky   test ', 40), 'fix the flaky test');
  });

  it('cuts long text at a word boundary, never mid-word, within the limit', () => {
    const text = 'Refactor the configuration loader so that environment overrides are applied after defaults';
    for (let max = 12; max < text.length; max += 7) {
      const label = truncate(text, max);
      assert.ok(label.length <= max, `${label.length} > ${max}`);
      assert.ok(label.endsWith('…'));
      const head = label.slice(0, -1);
      assert.ok(text.startsWith(head), label);
      assert.equal(text[head.length], ' ', `cut mid-word at ${max}: "${label}"`);
    }
  });

  it('drops trailing punctuation before the ellipsis and cuts a single over-long word', () => {
    assert.equal(truncate('parse, validate, and store the records', 17), 'parse, validate…');
    assert.equal(truncate('supercalifragilisticexpialidocious', 10), 'supercali…');
  });
});
