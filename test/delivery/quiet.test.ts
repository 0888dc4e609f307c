import { describe, expect, it } from 'vitest';
import { inQuietHours } from '../../src/delivery/quiet.js';

const at = (iso: string) => Date.parse(iso);

describe('quiet hours', () => {
  const night = { from: 23 * 60, to: 7 * 60, zone: 'Asia/Almaty', breaking: false };

  it('run past midnight on the chat’s own clock', () => {
    // Almaty is UTC+5.
    expect(inQuietHours(night, at('2026-12-01T18:30:00Z'))).toBe(true); // 23:30
    expect(inQuietHours(night, at('2026-12-01T23:00:00Z'))).toBe(true); // 04:00
    expect(inQuietHours(night, at('2026-12-02T02:00:00Z'))).toBe(false); // 07:00, over
    expect(inQuietHours(night, at('2026-12-01T12:00:00Z'))).toBe(false); // 17:00
  });

  it('within one day, and none at all', () => {
    const lunch = { from: 12 * 60, to: 13 * 60, zone: 'UTC', breaking: true };
    expect(inQuietHours(lunch, at('2026-12-01T12:59:00Z'))).toBe(true);
    expect(inQuietHours(lunch, at('2026-12-01T13:00:00Z'))).toBe(false);
    expect(inQuietHours(null, at('2026-12-01T12:30:00Z'))).toBe(false);
  });
});
