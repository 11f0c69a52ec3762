import * as assert from 'node:assert/strict';
import { contrastRatio, parseColor } from '../../../src/views/insights/contrast';

describe('views/insights: WCAG contrast of theme colours', () => {
  it('reads the colour forms a computed style and a canvas give back', () => {
    assert.deepEqual(parseColor('#0f4a85'), { r: 15, g: 74, b: 133, a: 1 });
    assert.deepEqual(parseColor('#FFF'), { r: 255, g: 255, b: 255, a: 1 });
    assert.deepEqual(parseColor('#00000080'), { r: 0, g: 0, b: 0, a: 128 / 255 });
    assert.deepEqual(parseColor('rgb(111, 195, 223)'), { r: 111, g: 195, b: 223, a: 1 });
    assert.deepEqual(parseColor('rgba(255, 255, 255, 0.5)'), { r: 255, g: 255, b: 255, a: 0.5 });
    assert.deepEqual(parseColor('rgb(10 20 30 / 25%)'), { r: 10, g: 20, b: 30, a: 0.25 });
    assert.equal(parseColor('CanvasPattern'), undefined);
    assert.equal(parseColor('#12345'), undefined);
  });

  it('gives the WCAG ratios: 21 for black on white, 1 for a colour on itself, symmetric', () => {
    assert.equal(contrastRatio('#000000', '#ffffff'), 21);
    assert.equal(contrastRatio('#ffffff', '#000000'), 21);
    assert.equal(contrastRatio('#3794ff', '#3794ff'), 1);
    // Reference values (WebAIM's checker): #777 on white 4.48, VS Code's HC light blue 3.59.
    assert.equal(contrastRatio('#777777', '#ffffff').toFixed(2), '4.48');
    assert.equal(contrastRatio('#1a85ff', '#ffffff').toFixed(2), '3.59');
  });

  it('composes a translucent colour over the background before comparing', () => {
    // Half-white on black looks like #808080 (ratio 5.3), not like white (21).
    const half = contrastRatio('rgba(255, 255, 255, 0.5)', '#000000');
    assert.ok(Math.abs(half - contrastRatio('#808080', '#000000')) < 0.05, String(half));
    assert.equal(contrastRatio('#ffffff00', '#000000'), 1);
  });

  it('refuses a colour it cannot read instead of guessing', () => {
    assert.throws(() => contrastRatio('[object CanvasPattern]', '#000000'), /cannot read the colour \[object CanvasPattern\]/);
    assert.throws(() => contrastRatio('#000000', 'transparent'), /cannot read the colour transparent/);
  });
});
