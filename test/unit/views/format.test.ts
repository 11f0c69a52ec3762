import * as assert from 'node:assert/strict';
import { episodeLink, episodeMarkdown, episodeSummary, formatExecution, patternLink, patternMarkdown, truncate } from '../../../src/views/format';

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

describe('views/format: a sandbox result in the output channel', () => {
  it('gives the time of every kind that has one, the value, the place of an error and the console', () => {
    const ok = formatExecution({ kind: 'success', output: '{"a":1}', stdout: 'hi\n', stderr: '', executionTimeMs: 1.234 }, 'a.js');
    assert.match(ok, /^--- \S+ · a\.js\nsuccess in 1\.2 ms\nvalue: \{"a":1\}\nstdout:\nhi$/);
    const failed = formatExecution({ kind: 'error', errorType: 'runtime', message: 'x is not defined', line: 3, column: 5, stdout: '', stderr: 'warn\n', executionTimeMs: 2.06 }, 'a.js');
    assert.match(failed, /\nerror \(runtime\) after 2\.1 ms at line 3:5: x is not defined\nstderr:\nwarn$/);
    assert.match(formatExecution({ kind: 'timeout', elapsedMs: 5003, partialOutput: 'part' }, 'a.js'), /\ntimeout after 5003 ms\npartial output:\npart$/);
  });
});

describe('views/format: documents link episodes and patterns both ways', () => {
  it('links an episode to its patterns and a pattern to its evidence', () => {
    const pattern = { id: 'tool_sequence|debugging|web|run_tests>edit', kind: 'tool_sequence' as const, description: 'run_tests → edit [twice]', taskType: 'debugging' as const, domain: 'web', successRate: 0.75, occurrences: 4, evidence: ['ep_1'] };
    const episode = { id: 'ep_1', task: 'fix it', domain: 'web', taskType: 'debugging' as const, context: { tags: [] }, startedAt: '2026-01-01T00:00:00.000Z', steps: [] };
    const md = episodeMarkdown(episode, [pattern]);
    assert.match(md, /## Patterns \(1\)/);
    assert.ok(md.includes(`(${patternLink(pattern.id)})`));
    assert.ok(md.includes('run_tests → edit \\[twice\\]'));
    assert.equal(decodeURIComponent(patternLink(pattern.id).replace(/^\.\.\/pattern\/|\.md$/g, '')), pattern.id);
    const pmd = patternMarkdown(pattern, [episodeSummary({ ...episode, outcome: { type: 'success', verdict: 'ok' }, reward: 0.9 })]);
    assert.match(pmd, /success rate\*\*: 75% over 4 episodes/);
    assert.ok(pmd.includes(`[fix it](${episodeLink('ep_1')}) — success, reward 0.90`));
  });
});
