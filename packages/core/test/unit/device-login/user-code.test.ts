import { describe, expect, it } from 'vitest';
import { deviceKeyName, normalizeUserCode, USER_CODE_FORMAT } from '../../../src/device-login/index.js';

describe('user codes', () => {
  it.each([
    ['BCDF-GHJK', 'BCDF-GHJK'],
    ['bcdf-ghjk', 'BCDF-GHJK'],
    [' bcdfghjk ', 'BCDF-GHJK'],
    ['BCDF GHJK', 'BCDF-GHJK'],
    ['BCDF-GHJ', null],
    ['BCDO-GHJK', null], // no O: it reads as 0
    ['BCDF-GHJK-X', null],
    ['<script>', null],
  ])('%j → %s', (raw, expected) => {
    expect(normalizeUserCode(raw)).toBe(expected);
  });

  it('the format excludes look-alikes and vowels', () => {
    for (const c of 'AEIOU01L') expect(USER_CODE_FORMAT.test(`${c}BCD-FGHJ`)).toBe(false);
  });

  it('keys are named after the device, within the portal’s 100 characters', () => {
    expect(deviceKeyName('lab-box-7')).toBe('CLI · lab-box-7');
    expect(deviceKeyName(null)).toBe('CLI · unknown host');
    expect(deviceKeyName('h'.repeat(300))).toHaveLength(100);
  });
});
