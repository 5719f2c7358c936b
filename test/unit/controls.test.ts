// The operator's settings for retention and /stats, and the texts of /usage, /privacy and /stats in
// both languages.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { en } from '../../src/discord/locales/en.js';
import { ko } from '../../src/discord/locales/ko.js';
import type { UsageWindow } from '../../src/history/usage-ledger.js';

const minimal = { DISCORD_TOKEN: 'discord-token', OPENAI_API_KEY: 'sk-test' };

describe('retention and owner settings', () => {
  it('keeps history for ever and has no owners by default', () => {
    expect(parseConfig(minimal)).toMatchObject({ HISTORY_RETENTION_DAYS: 0, OWNER_IDS: [] });
  });

  it('reads a retention in days and comma-separated owner ids, as strings', () => {
    const config = parseConfig({ ...minimal, HISTORY_RETENTION_DAYS: '90', OWNER_IDS: '123456789012345678, 1234567890123456789' });
    expect(config.HISTORY_RETENTION_DAYS).toBe(90);
    expect(config.OWNER_IDS).toEqual(['123456789012345678', '1234567890123456789']);
  });

  it('refuses a negative retention and owner ids that are not Discord ids', () => {
    expect(() => parseConfig({ ...minimal, HISTORY_RETENTION_DAYS: '-1', OWNER_IDS: 'alice' })).toThrow(ConfigError);
    try {
      parseConfig({ ...minimal, HISTORY_RETENTION_DAYS: '-1', OWNER_IDS: 'alice' });
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/HISTORY_RETENTION_DAYS/);
      expect(problems).toMatch(/OWNER_IDS/);
    }
  });
});

const manyModels: UsageWindow = {
  people: 12,
  storedExchanges: 30,
  models: Array.from({ length: 11 }, (_, i) => ({ model: `model-${i}`, people: 1, requests: 2, promptTokens: 1000, completionTokens: 10, cachedTokens: 0 })),
};

describe('what the controls say', () => {
  it('/privacy says how long history is kept, with and without a retention', () => {
    for (const r of [en, ko]) {
      const kept = r.privacy({ sessionTtlMinutes: 60, retentionDays: 0 });
      const limited = r.privacy({ sessionTtlMinutes: 60, retentionDays: 14 });
      expect(kept).not.toContain('14');
      expect(limited).toContain('14');
      for (const text of [kept, limited]) {
        expect(text).toContain('/clear-history');
        expect(text).toContain('/logout');
        expect(text).toContain('60');
        expect(text.length).toBeLessThanOrEqual(2000);
      }
    }
  });

  it('/privacy tells people when the operator logs what they write', () => {
    expect(en.privacy({ sessionTtlMinutes: 60, retentionDays: 0, logsMessageContent: true })).not.toEqual(en.privacy({ sessionTtlMinutes: 60, retentionDays: 0 }));
    expect(ko.privacy({ sessionTtlMinutes: 60, retentionDays: 0, logsMessageContent: true })).not.toEqual(ko.privacy({ sessionTtlMinutes: 60, retentionDays: 0 }));
    // Where what people write goes, and whether a moderation check sees it first.
    for (const r of [en, ko]) {
      expect(r.privacy({ sessionTtlMinutes: 60, retentionDays: 0 })).toContain('OpenAI');
      expect(r.privacy({ sessionTtlMinutes: 60, retentionDays: 0, moderation: true })).not.toEqual(r.privacy({ sessionTtlMinutes: 60, retentionDays: 0 }));
    }
  });

  it('/stats fits one Discord message with many models, naming how many more there are', () => {
    for (const r of [en, ko]) {
      const text = [r.stats.section(r.stats.today, manyModels), r.stats.section(r.stats.last30Days, manyModels)].join('\n\n');
      expect(text.length).toBeLessThanOrEqual(2000);
      expect(text).toContain('model-7');
      expect(text).not.toContain('model-8');
      expect(text).toContain('3');
    }
    expect(en.stats.section(en.stats.today, manyModels)).toContain('3 more models');
  });

  it('/usage counts with thousands separators and says when the cap frees up', () => {
    const counts = { promptTokens: 12_000, completionTokens: 345, cachedTokens: 0, requests: 3 };
    expect(en.usage.today(counts)).toContain('12,345 tokens');
    expect(en.usage.window(500, 100_000, new Date(2_000_000_000_000))).toContain('<t:2000000000:R>');
    expect(ko.usage.today(counts)).toContain('12,345');
  });

  it('/help lists /stats only for owners and the retention only when it is set', () => {
    expect(en.help(60, 'm')).not.toContain('/stats');
    expect(en.help(60, 'm', { owner: true })).toContain('/stats');
    expect(en.help(60, 'm')).not.toContain(en.retentionNote(7));
    expect(en.help(60, 'm', { retentionDays: 7 })).toContain(en.retentionNote(7));
    expect(ko.help(60, 'm', { retentionDays: 7, owner: true })).toContain(ko.retentionNote(7));
  });
});
